"""The live world: a World advanced in slices paced to the wall clock times a speed factor.

One asyncio task owns the pacing. Commands from the browser, the AWS API and the ALB's HTTP
port run on the same event loop between slices (the world is never touched from another
thread), so no locks are needed and every command sees a consistent world. The events of each
slice are handed to subscribers (one asyncio queue per browser) as one batch.

An error that escapes the simulation (a bug: what AWS would show is modelled, never raised)
does not stop the clock: it is logged with its traceback (logger `ecsim.live`), `status()`
shows it under `error` (the page shows it beside the clock), and time goes on past the
callback that raised. `reset` clears it, and starts the clock again if it had stopped.
(docs/behaviour.md, "Internal errors in the live server")
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecsim.model.events import Event
from ecsim.model.verbs import catalog
from ecsim.model.verbs.spec import check
from ecsim.model.world import World

SLICE = 0.1  # wall seconds between two advances of the world
MAX_LAG = 1.0  # wall seconds of simulated work one slice may catch up on
QUEUE_LIMIT = 256  # batches a slow subscriber may fall behind before it is dropped
ERRORS_PER_RUN = 100  # errors one advance may go past before it leaves the rest for later
LOGGED_ERRORS = 64  # distinct errors logged with their traceback; repeats are only counted
# A step (`advance_sliced`) runs in pieces of about this many wall seconds of simulated work,
# and lets the event loop serve everything else between two pieces.
STEP_BUDGET = 0.005
FIRST_PIECE = 1.0  # simulated seconds of a step's first piece; the next ones adapt to the budget

log = logging.getLogger("ecsim.live")


@dataclass
class Batch:
    """What happened during one slice: the new simulated time and the events."""

    now: float
    events: list[Event]
    reset: bool = False


@dataclass
class Clock:
    """Pacing state: simulated time runs at `speed` x wall time unless paused."""

    speed: float = 1.0
    paused: bool = False
    anchor_wall: float = field(default_factory=time.monotonic)
    anchor_sim: float = 0.0

    def target(self, wall: float) -> float:
        if self.paused:
            return self.anchor_sim
        return self.anchor_sim + (wall - self.anchor_wall) * self.speed

    def wall_at(self, sim: float) -> float:
        """The wall instant (`time.monotonic()`) at which simulated time reaches `sim`, at this
        speed; infinite while paused."""
        if self.paused:
            return math.inf
        return self.anchor_wall + (sim - self.anchor_sim) / self.speed

    def rebase(self, sim: float, wall: float) -> None:
        self.anchor_sim, self.anchor_wall = sim, wall


class LiveWorld:
    """A world shared by every adapter of one `ecsim serve`."""

    def __init__(self, factory: Callable[[int], World], seed: int = 0, speed: float = 1.0) -> None:
        self._factory = factory
        self.seed = seed
        self.world = factory(seed)
        self.clock = Clock(speed=_check_speed(speed))
        self.clock.rebase(self.world.now, time.monotonic())
        self._pending: list[Event] = []
        self._subscribers: set[asyncio.Queue[Batch]] = set()
        self._task: asyncio.Task[None] | None = None
        self.slice_seconds: list[float] = []  # wall time spent advancing, per slice (recent)
        self.listeners: list[Callable[[LiveWorld], None]] = []
        # Told, in a few words, of each change an adapter other than the page made (an AWS
        # API call, ecsim's own API): the page says someone else changed the world.
        self.notices: list[Callable[[str], None]] = []
        # The adapters' real ports: {"port", "loadBalancer", "listenerPort"} per ALB port.
        self.real_ports: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None  # the last error that escaped the world
        self._logged: set[str] = set()
        self._waiters: list[asyncio.Future[None]] = []  # `moved()` callers
        self._stepping = asyncio.Lock()  # one step at a time
        self._steps: set[asyncio.Task[None]] = set()  # the page's steps, run in the background
        self._frozen = False  # `freeze_heap`: the long-lived objects sit out full collections
        self._attach()

    # --- memory -----------------------------------------------------------------------------

    def freeze_heap(self) -> None:
        """Keep the objects alive now (the server's modules, botocore's models, the world as
        built) out of Python's full garbage collections for as long as this world lives.

        Under load (thousands of requests a second on an ALB port) a full collection comes
        every few seconds and scans every object of the process: 100 ms and more in which
        nothing is answered, the p99 of every client. Frozen objects are not scanned; what is
        made later still is. A reset unfreezes them, so the old world can be collected, and
        freezes the new one (`ecsim serve` calls this once it is up; the tests' servers do
        not)."""
        gc.collect()
        gc.freeze()
        self._frozen = True

    # --- the loop -------------------------------------------------------------------------

    def _attach(self) -> None:
        self.world.subscribers.append(self._pending.append)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ecsim-live")

    @property
    def running(self) -> bool:
        """Whether the pacing task is alive (paused or not)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        for step in list(self._steps):
            step.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._wake()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SLICE)
            try:
                self.tick()
            except Exception as e:  # the clock must outlive any one bad slice
                self._failed(e)

    def tick(self, wall: float | None = None) -> None:
        """Advance the world to where the wall clock says it should be, and publish."""
        self._advance_to_wall(time.monotonic() if wall is None else wall)
        self._wake()
        self.publish()

    def catch_up(self) -> None:
        """Advance the world to where the wall clock says it should be now, between two
        slices (an adapter that needs the present, e.g. the ALB port answering a request);
        the next slice publishes what happened."""
        if self._advance_to_wall(time.monotonic()):
            self._wake()

    def _advance_to_wall(self, wall: float) -> bool:
        target = self.clock.target(wall)
        if target <= self.world.now:
            return False
        limit = self.world.now + MAX_LAG * self.clock.speed
        if target > limit:  # too far behind: let simulated time slip rather than stall
            self.clock.rebase(limit, wall)
            target = limit
        began = time.perf_counter()
        self._run_until(target)
        self._record_slice(time.perf_counter() - began)
        return True

    async def moved(self, timeout: float) -> None:
        """Wait until the next slice (or an advance, a reset, the end of the loop), at most
        `timeout` wall seconds. (Not `asyncio.wait_for`: on Python 3.11 it can swallow the
        waiting task's cancellation when the wait ends at the same moment, and a task that
        waits in a loop then never stops.)"""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(max(timeout, 0.0), _done, waiter)
        try:
            await waiter
        finally:
            timer.cancel()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _run_until(self, target: float) -> None:
        """Run the world to `target`. An error escaping a callback is recorded (`_failed`) and
        the run goes on after that callback (the kernel has already taken it off its agenda),
        up to `ERRORS_PER_RUN` errors; what is left then waits for the next slice."""
        for _ in range(ERRORS_PER_RUN):
            try:
                self.world.run_until(target)
                return
            except Exception as e:
                self._failed(e)
                if self.world.now >= target:
                    return

    def _failed(self, e: Exception) -> None:
        """Log an error that escaped the world (its traceback the first time it is seen) and
        show it in `status()`; the clock goes on."""
        text = f"{type(e).__name__}: {e}"
        count = self.error["count"] + 1 if self.error is not None else 1
        self.error = {"message": text, "at": self.world.now, "count": count}
        if text not in self._logged and len(self._logged) < LOGGED_ERRORS:
            self._logged.add(text)
            log.error(
                "internal error in the simulation at t=%.3f s; the clock goes on",
                self.world.now,
                exc_info=e,
            )
        self.publish(force=True)

    def _record_slice(self, seconds: float) -> None:
        self.slice_seconds.append(seconds)
        if len(self.slice_seconds) > 600:
            del self.slice_seconds[:300]

    def publish(self, reset: bool = False, force: bool = False) -> None:
        """Hand the events since the last batch to every subscriber (an empty batch too when
        `force`, so the browsers see the status change)."""
        if not self._pending and not reset and not force:
            return
        batch = Batch(self.world.now, self._pending[:], reset)
        self._pending.clear()
        for queue in list(self._subscribers):
            if queue.qsize() >= QUEUE_LIMIT:
                self._subscribers.discard(queue)  # a stalled reader must not hold the world
                continue
            queue.put_nowait(batch)

    # --- subscribers ----------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[Batch]:
        queue: asyncio.Queue[Batch] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Batch]) -> None:
        self._subscribers.discard(queue)

    # --- time control ---------------------------------------------------------------------

    def pause(self) -> None:
        self.clock.rebase(self.world.now, time.monotonic())
        self.clock.paused = True

    def resume(self) -> None:
        self.clock.rebase(self.world.now, time.monotonic())
        self.clock.paused = False

    def set_speed(self, speed: float) -> None:
        self.clock.rebase(self.world.now, time.monotonic())
        self.clock.speed = _check_speed(speed)

    def advance(self, seconds: float) -> None:
        """Step: run `seconds` of simulated time at once (paused or not), within the limits
        of `catalog.ADVANCE`."""
        seconds = check(catalog.ADVANCE, {"seconds": seconds})["seconds"]
        self._run_until(self.world.now + seconds)
        self.clock.rebase(self.world.now, time.monotonic())
        self._wake()
        self.publish()

    async def advance_sliced(self, seconds: float) -> None:
        """`advance`, without holding the event loop: the `seconds` run in pieces of about
        `STEP_BUDGET` wall seconds of simulated work each (a piece's simulated length adapts
        to what the last one cost), and between two pieces the loop answers requests and
        the page gets the new records. Steps run one at a time, in turn; a reset ends one
        where it got to, and so does cancelling it (a server that stops)."""
        seconds = check(catalog.ADVANCE, {"seconds": seconds})["seconds"]
        async with self._stepping:
            world = self.world
            end = world.now + seconds
            piece = FIRST_PIECE
            # The objects alive now (the server's modules, botocore's models, the world so
            # far) sit out the step's full garbage collections, which would otherwise scan
            # them all inside one piece (about 0.1 s in a test process); they are collectable
            # again once the step ends.
            frozen = self._frozen  # already out of the way (`freeze_heap`)
            if not frozen:
                gc.freeze()
            try:
                while world is self.world and world.now < end:
                    began = time.perf_counter()
                    world.run_until(min(end, world.now + piece))
                    piece = _next_piece(piece, time.perf_counter() - began, seconds)
                    self.publish()
                    await asyncio.sleep(0)
            finally:
                if not frozen:
                    gc.unfreeze()
                if world is self.world:
                    self.clock.rebase(world.now, time.monotonic())
                    self.publish()

    def step(self, seconds: float) -> None:
        """The page's step: `advance_sliced` in the background on the running event loop (the
        command is answered at once, the slices follow as batches); `advance` without a loop."""
        seconds = check(catalog.ADVANCE, {"seconds": seconds})["seconds"]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.advance(seconds)
            return
        task = loop.create_task(self.advance_sliced(seconds), name="ecsim-step")
        self._steps.add(task)
        task.add_done_callback(self._stepped)

    def _stepped(self, task: asyncio.Task[None]) -> None:
        self._steps.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a step of the live world failed", exc_info=task.exception())

    def reset(self, seed: int | None = None, factory: Callable[[int], World] | None = None) -> None:
        """A fresh world (same factory and seed unless given)."""
        if seed is not None:
            seed = check(catalog.RESET, {"seed": seed})["seed"]
        if factory is not None:
            self._factory = factory
        if seed is not None:
            self.seed = seed
        if self._frozen:
            gc.unfreeze()  # the old world may go; the new one is frozen below
        self.world = self._factory(self.seed)
        if self._frozen:
            self.freeze_heap()
        self._pending.clear()
        self._attach()
        self.error = None
        self._logged.clear()
        self.clock.rebase(self.world.now, time.monotonic())
        if self._task is not None and self._task.done():
            self.start()  # the pacing task had stopped: a fresh world gets a running clock
        for listener in self.listeners:
            listener(self)
        self._wake()
        self.publish(reset=True)

    def status(self) -> dict[str, Any]:
        recent = self.slice_seconds[-50:]
        return {
            "now": self.world.now,
            "speed": self.clock.speed,
            "paused": self.clock.paused,
            "seed": self.seed,
            "sliceMs": round(1000 * sum(recent) / len(recent), 3) if recent else 0.0,
            "running": self.running,
            "error": dict(self.error) if self.error is not None else None,
        }


def _done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _next_piece(piece: float, spent: float, most: float) -> float:
    """The simulated length of a step's next piece: the last one's scaled to `STEP_BUDGET`
    wall seconds (at most 4 times longer or shorter), between 1 ms and the whole step."""
    factor = 4.0 if spent <= 0 else min(4.0, max(0.25, STEP_BUDGET / spent))
    return min(most, max(0.001, piece * factor))


def _check_speed(speed: float) -> float:
    """`speed` within the limits of `catalog.SPEED` (else a ParameterError, a ValueError)."""
    return float(check(catalog.SPEED, {"speed": speed})["speed"])
