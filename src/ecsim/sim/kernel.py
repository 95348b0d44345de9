"""A small discrete-event kernel: a simulated clock and an agenda of timed callbacks.

Simulated time only moves here. Callbacks scheduled for the same instant run in the order
they were scheduled, so a run is a pure function of what was scheduled: no wall clock, no
thread, no global state.

The agenda is a heap, plus a queue per fixed delay for callbacks that many components
schedule again and again with the same delay (health checks every 30 s, the scheduler's
reconcile every 15 s; see `Kernel.every`). The heap holds (time, sequence, timer) entries, the
queues their timers (which know their time and sequence), and the earliest of all runs next, so
the order is the one the heap alone would give.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from typing import Any

_Entry = tuple[float, int, "Timer"]


class Timer:
    """A scheduled callback that can be cancelled before it fires."""

    __slots__ = ("args", "callback", "cancelled", "repeats", "seq", "time")

    def __init__(
        self,
        time: float,
        callback: Callable[..., Any],
        args: tuple[Any, ...],
        repeats: bool = False,
    ) -> None:
        self.time = time
        self.callback = callback
        self.args = args
        self.cancelled = False
        self.repeats = repeats  # see Kernel.periodic
        self.seq = 0  # the kernel's count of schedulings when it was scheduled (ties)

    def cancel(self) -> None:
        self.cancelled = True


class Kernel:
    """The simulated clock (seconds since the world began) and its agenda."""

    def __init__(self) -> None:
        self.now = 0.0
        self._agenda: list[_Entry] = []
        self._lanes: dict[float, deque[Timer]] = {}
        self._seq = 0
        self._heads = 0  # counts schedulings that may have made a new first entry

    def at(self, time: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` at simulated `time` (not before now)."""
        if math.isnan(time):
            raise ValueError("cannot schedule at NaN")
        timer = Timer(max(time, self.now), callback, args)
        heapq.heappush(self._agenda, (timer.time, self._seq, timer))
        self._seq += 1
        self._heads += 1
        return timer

    def after(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` `delay` simulated seconds from now."""
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        return self.at(self.now + delay, callback, *args)

    def every(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """`after(delay, callback, *args)`, for a delay used again and again (a period).

        Callbacks scheduled with the same delay are due in the order they were scheduled
        (the clock never goes back and rounding `now + delay` is monotonic in `now`), so they
        wait in a first-in first-out queue of that delay, and run in batches (see `step`):
        cheap where the heap of a large fleet's health checks costs microseconds each. They
        run exactly when and in the order `after` would run them."""
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        return self._enqueue(Timer(self.now, callback, args), delay)

    def periodic(self, delay: float, callback: Callable[..., float | None], *args: Any) -> Timer:
        """Run `callback(*args)` `delay` seconds from now, and again as long as it answers
        a delay: the same timer, scheduled as `every(answer, callback, *args)` would (a
        health check answers the interval of its next). Cancelling the timer ends it."""
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        return self._enqueue(Timer(self.now, callback, args, repeats=True), delay)

    def _enqueue(self, timer: Timer, delay: float) -> Timer:
        """Schedule `timer` `delay` seconds from now: in the queue of that delay, or in the
        heap for a delay no queue takes."""
        timer.time = when = self.now + delay
        if not 0 < delay < math.inf:  # a zero delay could run forever within one batch
            if math.isnan(when):
                raise ValueError("cannot schedule at NaN")
            timer.time = when = max(when, self.now)
            heapq.heappush(self._agenda, (when, self._seq, timer))
        else:
            lane = self._lanes.get(delay)
            if lane is None:
                lane = self._lanes[delay] = deque()
            timer.seq = self._seq
            lane.append(timer)
            if len(lane) > 1:
                self._seq += 1
                return timer
        self._seq += 1
        self._heads += 1
        return timer

    def _next(self, besides: float | None = None) -> tuple[float, int, float | None]:
        """The time and sequence of the earliest pending callback (of all queues but the
        one of delay `besides`; +inf when there is none), and the delay of the queue it
        waits in (None: the heap)."""
        agenda = self._agenda
        while agenda and agenda[0][2].cancelled:
            heapq.heappop(agenda)
        time, seq = (agenda[0][0], agenda[0][1]) if agenda else (math.inf, 0)
        source = None
        for delay, lane in self._lanes.items():
            if delay == besides:
                continue
            while lane and lane[0].cancelled:
                lane.popleft()
            if lane:
                head = lane[0]
                if head.time < time or (head.time == time and head.seq < seq):
                    time, seq, source = head.time, head.seq, delay
        return time, seq, source

    def next_time(self) -> float:
        """The time of the next pending callback, or +inf when the agenda is empty."""
        return self._next()[0]

    def step(self, until: float) -> bool:
        """Run the next callback due at or before `until`; False when there is none.

        A callback of a fixed-delay queue (`every`) runs with those after it in its queue that
        are due before anything else: a batch in one step (each at its own instant)."""
        time, _, source = self._next()
        if time > until:
            return False
        if source is None:
            _, _, timer = heapq.heappop(self._agenda)
            self.now = time
            if timer.repeats:
                delay = timer.callback(*timer.args)
                if delay is not None and not timer.cancelled:
                    self._enqueue(timer, delay)
            else:
                timer.callback(*timer.args)
            return True
        self._run_lane(source, until)
        return True

    def _run_lane(self, period: float, until: float) -> None:
        """Run the entries of `lane` while each is due by `until` and comes before every
        entry elsewhere (`bound`). A callback that schedules a new first entry somewhere
        (`_heads`) makes the batch look again at what comes next."""
        lane = self._lanes[period]
        heads = self._heads
        btime, bseq, _ = self._next(besides=period)
        while lane:
            timer = lane.popleft()
            now = timer.time
            if now > until or (now >= btime and (now > btime or timer.seq > bseq)):
                lane.appendleft(timer)
                return
            if timer.cancelled:
                continue
            self.now = now
            if timer.repeats:
                delay = timer.callback(*timer.args)
                if delay == period and not timer.cancelled:
                    timer.time = now + delay
                    timer.seq = self._seq
                    lane.append(timer)
                    self._seq += 1
                elif delay is not None and not timer.cancelled:
                    self._enqueue(timer, delay)
            else:
                timer.callback(*timer.args)
            if self._heads != heads:
                heads = self._heads
                btime, bseq, _ = self._next(besides=period)

    def run_until(self, until: float) -> None:
        """Run every callback due up to `until`, then set the clock to `until`."""
        if until < self.now:
            raise ValueError(f"time cannot go back: now={self.now}, until={until}")
        while self.step(until):
            pass
        self.now = until

    def __len__(self) -> int:
        pending = sum(1 for _, _, t in self._agenda if not t.cancelled)
        return pending + sum(1 for lane in self._lanes.values() for t in lane if not t.cancelled)
