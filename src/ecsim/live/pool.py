"""Private worlds: many live worlds advanced by one task on the server's event loop, fairly.

The main world paces itself (`LiveWorld.start`); the worlds of a pool do not: every `SLICE`
the pool advances each of them in turn, starting from a different one each time, and lets the
event loop serve everything else (the main world, the AWS API, the ALB's ports, the browsers)
between two of them. Together they may use `SHARE` of each slice's wall time. While they use
less, each runs at its speed; beyond that, each gets an equal part, and a world whose slices
cost more than its part lately advances that much less (its simulated time slips, as the main
world's does beyond `MAX_LAG`) rather than take the others' time. `pace(key)` says how much of
its speed a world got lately.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from ecsim.live.runtime import SLICE, LiveWorld

SHARE = 0.5  # of each slice's wall time, at most, for all the worlds of a pool together
MEMORY = 0.3  # weight of the last slice in a world's wall time per slice


class Pool:
    """The worlds of one server that are not the main one, keyed by an opaque key."""

    def __init__(self, share: float = SHARE) -> None:
        self.share = share
        self.worlds: dict[str, LiveWorld] = {}
        self._spent: dict[str, float] = {}  # wall seconds per slice, smoothed
        self._pace: dict[str, float] = {}  # simulated / wanted, over the last slices
        self._turn = 0
        self._task: asyncio.Task[None] | None = None

    def add(self, key: str, live: LiveWorld) -> None:
        self.worlds[key] = live
        self._spent[key] = 0.0
        self._pace[key] = 1.0

    async def remove(self, key: str) -> None:
        live = self.worlds.pop(key, None)
        self._spent.pop(key, None)
        self._pace.pop(key, None)
        if live is not None:
            await live.stop()

    def pace(self, key: str) -> float:
        """The share of its speed the world got over the last slices (1.0: all of it)."""
        return self._pace.get(key, 1.0)

    # --- the loop -------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ecsim-pool")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for key in list(self.worlds):
            await self.remove(key)

    async def _run(self) -> None:
        while True:
            began = time.monotonic()
            keys = list(self.worlds)
            if keys:
                self._turn = (self._turn + 1) % len(keys)
                budget = self.share * SLICE / len(keys)
                for key in keys[self._turn :] + keys[: self._turn]:
                    live = self.worlds.get(key)
                    if live is not None:
                        self.advance(key, live, budget)
                    await asyncio.sleep(0)  # everything else, between two worlds
            await asyncio.sleep(max(0.0, SLICE - (time.monotonic() - began)))

    def busy(self) -> bool:
        """Whether the worlds' slices cost more, together, than their share of a slice."""
        return sum(self._spent.values()) > self.share * SLICE

    def advance(self, key: str, live: LiveWorld, budget: float) -> None:
        """One slice of one world: all it is due, unless the pool is busy and its slices
        cost more than `budget` wall seconds lately; then that much less (its clock slips)."""
        wall = time.monotonic()
        before = live.world.now
        wanted = live.clock.target(wall) - before
        spent_lately = self._spent.get(key, 0.0)
        if wanted > 0 and spent_lately > budget and self.busy():
            live.clock.rebase(before + wanted * budget / spent_lately, wall)
        began = time.perf_counter()
        try:
            live.tick(wall)
        except Exception as e:  # the pool must outlive any one bad world
            live._failed(e)  # the runtime's own record of an escaped error
        spent = time.perf_counter() - began
        self._spent[key] = (1 - MEMORY) * spent_lately + MEMORY * spent
        if wanted > 0:
            got = min(1.0, (live.world.now - before) / wanted)
            self._pace[key] = 0.8 * self._pace.get(key, 1.0) + 0.2 * got
