"""A small discrete-event kernel: a simulated clock and a heap of timed callbacks.

Simulated time only moves here. Callbacks scheduled for the same instant run in the order
they were scheduled, so a run is a pure function of what was scheduled: no wall clock, no
thread, no global state.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any


class Timer:
    """A scheduled callback that can be cancelled before it fires."""

    __slots__ = ("args", "callback", "cancelled", "time")

    def __init__(self, time: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.time = time
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Kernel:
    """The simulated clock (seconds since the world began) and its agenda."""

    def __init__(self) -> None:
        self.now = 0.0
        self._agenda: list[tuple[float, int, Timer]] = []
        self._seq = 0

    def at(self, time: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` at simulated `time` (not before now)."""
        if math.isnan(time):
            raise ValueError("cannot schedule at NaN")
        return self._push(max(time, self.now), callback, args)

    def after(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` `delay` simulated seconds from now."""
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        time = self.now + delay
        if math.isnan(time):
            raise ValueError("cannot schedule at NaN")
        # `at`'s clamp, in one call less (health checks schedule some ten thousand an hour)
        return self._push(max(time, self.now), callback, args)

    def _push(self, time: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> Timer:
        timer = Timer(time, callback, args)
        seq = self._seq
        self._seq = seq + 1
        heapq.heappush(self._agenda, (time, seq, timer))
        return timer

    def next_time(self) -> float:
        """The time of the next pending callback, or +inf when the agenda is empty."""
        agenda = self._agenda
        while agenda and agenda[0][2].cancelled:
            heapq.heappop(agenda)
        return agenda[0][0] if agenda else math.inf

    def step(self, until: float) -> bool:
        """Run the next callback due at or before `until`; False when there is none."""
        agenda = self._agenda
        while agenda and agenda[0][2].cancelled:
            heapq.heappop(agenda)
        if (agenda[0][0] if agenda else math.inf) > until:
            return False
        time, _, timer = heapq.heappop(agenda)
        self.now = time
        timer.callback(*timer.args)
        return True

    def run_until(self, until: float) -> None:
        """Run every callback due up to `until`, then set the clock to `until`."""
        if until < self.now:
            raise ValueError(f"time cannot go back: now={self.now}, until={until}")
        while self.step(until):
            pass
        self.now = until

    def __len__(self) -> int:
        return sum(1 for _, _, t in self._agenda if not t.cancelled)
