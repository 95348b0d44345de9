"""The kernel's fixed-delay queues (`Kernel.every`, `Kernel.periodic`) run callbacks exactly when
and in the order one heap of (time, scheduling order) would: the same instants, ties broken by
scheduling order, cancellations honoured, whatever `until` cuts the run into."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from typing import Any

import pytest

from ecsim.sim import Kernel, Timer


class HeapKernel:
    """The kernel as it was before the queues: one heap; `periodic` reschedules itself."""

    def __init__(self) -> None:
        self.now = 0.0
        self._agenda: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def at(self, time: float, callback: Callable[..., Any], *args: Any) -> Timer:
        timer = Timer(max(time, self.now), callback, args)
        heapq.heappush(self._agenda, (timer.time, next(self._seq), timer))
        return timer

    def after(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        return self.at(self.now + delay, callback, *args)

    every = after

    def periodic(self, delay: float, callback: Callable[..., Any], *args: Any) -> Repeating:
        return Repeating(self, delay, callback, args)

    def run_until(self, until: float) -> None:
        while self._agenda:
            while self._agenda and self._agenda[0][2].cancelled:
                heapq.heappop(self._agenda)
            if not self._agenda or self._agenda[0][0] > until:
                break
            time, _, timer = heapq.heappop(self._agenda)
            self.now = time
            timer.callback(*timer.args)
        self.now = until


class Repeating:
    """A periodic callback on the heap kernel: after each run that answers a delay, one more
    timer that far on."""

    def __init__(
        self, kernel: HeapKernel, delay: float, callback: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        self.kernel, self.callback, self.args = kernel, callback, args
        self.cancelled = False
        self.timer = kernel.after(delay, self.run)

    def run(self) -> None:
        answer = self.callback(*self.args)
        if answer is not None and not self.cancelled:
            self.timer = self.kernel.after(answer, self.run)

    def cancel(self) -> None:
        self.cancelled = True
        self.timer.cancel()


def play(kernel: Any, seed: int) -> list[tuple[float, str]]:
    """Random callbacks that schedule others (fixed delays that tie often, one-off delays,
    absolute times), cancel some, and stop repeating at random; the order they ran in."""
    rng = random.Random(seed)
    log: list[tuple[float, str]] = []
    timers: list[Any] = []
    delays = [0.5, 1.0, 1.5, 2.0, 30.0]
    names = itertools.count()

    def fire(name: str) -> float | None:
        log.append((kernel.now, name))
        roll = rng.random()
        if roll < 0.3:
            schedule()
        elif roll < 0.4 and timers:
            rng.choice(timers).cancel()
        if name.startswith("p"):
            return rng.choice(delays) if rng.random() < 0.9 else None
        return None

    def schedule() -> None:
        if len(log) > 3000:
            return
        kind = rng.choice(["at", "after", "every", "every", "periodic", "periodic"])
        name = f"{kind[0]}{next(names)}"
        if kind == "at":
            timers.append(kernel.at(kernel.now + rng.choice([0.0, 0.25, 1.0, 2.0]), fire, name))
        elif kind == "after":
            timers.append(kernel.after(rng.uniform(0, 3), fire, name))
        elif kind == "every":
            timers.append(kernel.every(rng.choice(delays), fire, name))
        else:
            timers.append(kernel.periodic(rng.choice(delays), fire, name))

    for _ in range(40):
        schedule()
    t = 0.0
    while t < 200:
        t += rng.choice([0.5, 1.0, 3.7, 10.0])
        kernel.run_until(t)
    return log


@pytest.mark.parametrize("seed", range(12))
def test_the_queues_run_callbacks_in_the_heaps_order(seed: int) -> None:
    expected = play(HeapKernel(), seed)
    assert len(expected) > 200
    assert play(Kernel(), seed) == expected


def test_a_periodic_timer_runs_until_cancelled_or_it_answers_none() -> None:
    k = Kernel()
    runs: list[float] = []

    def tick() -> float | None:
        runs.append(k.now)
        return 10.0 if len(runs) < 3 else None

    k.periodic(5.0, tick)
    k.run_until(100)
    assert runs == [5.0, 15.0, 25.0]
    runs.clear()
    timer = k.periodic(5.0, lambda: runs.append(k.now) or 5.0)
    k.run_until(112)
    timer.cancel()
    k.run_until(200)
    assert runs == [105.0, 110.0]
    assert len(k) == 0


def test_step_runs_what_is_due_and_no_further() -> None:
    k = Kernel()
    seen: list[str] = []
    k.every(2.0, seen.append, "a")
    k.every(2.0, seen.append, "b")
    k.after(2.0, seen.append, "c")
    k.every(2.0, seen.append, "d")
    assert k.next_time() == 2.0
    assert not k.step(1.0)
    while k.step(2.0):
        pass
    assert seen == ["a", "b", "c", "d"]
    assert k.now == 2.0
