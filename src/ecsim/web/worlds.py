"""The worlds a browser can see: the main (shared) world, and worlds of one's own.

The main world is the one the AWS API, the ALB's ports and every browser without a world of
its own share. A browser takes a private world with one click (`POST /ecsim/ui/world`); with
`ecsim serve --classroom` every browser gets one from the start. A private world is the seed's
architecture with its own clock, speed, scenario and tour, reachable only by its owner: the
server gives it an unguessable token in an HttpOnly, SameSite=Strict cookie, and the page's
stream and commands go to the world the cookie names (no cookie, or one naming no world: the
main world). It is advanced by the pool's fair slicing (`ecsim.live.pool`), and bounded:

- at most `limit` private worlds per server (the next browser is told the class is full and
  stays on the main world);
- one idle for `idle` wall seconds (no browser connected, no command) is dropped;
- each accepts at most `COMMANDS_PER_SECOND` commands a second (a burst of `COMMAND_BURST`),
  `BROWSERS_PER_WORLD` browsers at once, and clients sending at most `MAX_RATE` requests/s.

In a classroom the main world's clock is the server's: a browser cannot pause, step, speed up
or reset it (nor load a scenario into it), so nothing a browser does stops the clock of the
main world or of another learner's world.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ecsim.live.pool import Pool
from ecsim.live.runtime import LiveWorld
from ecsim.web.hub import Hub
from ecsim.web.tours import LiveScenario, Session, demo_world

COOKIE = "ecsim_world"
LIMIT = 40  # private worlds per server
IDLE = 600.0  # wall seconds without a browser or a command before a private world is dropped
REAP_EVERY = 5.0  # wall seconds between two looks for idle worlds
COMMANDS_PER_SECOND = 10.0
COMMAND_BURST = 30.0
BROWSERS_PER_WORLD = 8
MAX_RATE = 10_000.0  # requests/s the clients of a private world may send (the page's slider)
# what a browser may not do to the main world of a classroom: its clock is the server's
CLOCK_COMMANDS = frozenset(
    {"pause", "resume", "speed", "step", "reset", "scenario", "scenario_next"}
)


@dataclass
class Bucket:
    """A token bucket: `rate` commands a second, bursts of `burst`."""

    rate: float = COMMANDS_PER_SECOND
    burst: float = COMMAND_BURST
    tokens: float = COMMAND_BURST
    at: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Place:
    """One world the page can show, with its hub; `token` None for the main world."""

    live: LiveWorld
    hub: Hub
    token: str | None = None
    classroom: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    bucket: Bucket = field(default_factory=Bucket)

    @property
    def private(self) -> bool:
        return self.token is not None

    def refusal(self, cmd: Any, args: Any) -> str | None:
        """Why this command may not run here (None: it may)."""
        if self.private:
            if not self.bucket.take():
                return "Too many commands: a world of one's own takes at most 10 a second."
            if cmd == "rate" and isinstance(args, dict):
                rps = args.get("rps")
                if isinstance(rps, int | float) and rps > MAX_RATE:
                    return f"A world of one's own takes at most {MAX_RATE:,.0f} requests/s."
        elif self.classroom and cmd in CLOCK_COMMANDS:
            return (
                "In a classroom the shared world's clock is the server's: take a world of "
                "your own to pause, step, reset or play a scenario."
            )
        return None


class Worlds:
    """The main world and the private ones of one server."""

    def __init__(
        self,
        main: LiveWorld,
        scenario: LiveScenario | None = None,
        classroom: bool = False,
        limit: int = LIMIT,
        idle: float = IDLE,
    ) -> None:
        hub = Hub(main, Session(scenario, seed=main.seed if scenario is None else 0))
        hub.place = {"kind": "shared", "classroom": classroom}
        main.notices.append(hub.external)
        self.main = Place(main, hub, classroom=classroom)
        self.classroom = classroom
        self.limit = limit
        self.idle = idle
        self.private: dict[str, Place] = {}
        self.pool = Pool()
        self._reaper: asyncio.Task[None] | None = None

    def ensure_started(self) -> None:
        self.main.hub.ensure_started()
        self.pool.start()
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap(), name="ecsim-reap")

    def find(self, token: str | None) -> Place:
        """The world a cookie names, else the main world."""
        if token:
            for key, place in self.private.items():
                if hmac.compare_digest(key, token):
                    place.last_seen = time.monotonic()
                    return place
        return self.main

    def create(self) -> Place | None:
        """A new private world (the seed's architecture, at the main world's speed), or None
        when the server has `limit` already."""
        if len(self.private) >= self.limit:
            return None
        token = secrets.token_urlsafe(32)
        main = self.main.live
        live = LiveWorld(demo_world, seed=self.main.hub.session.seed, speed=main.clock.speed)
        hub = Hub(live, Session(seed=live.seed))
        hub.place = {"kind": "private", "classroom": self.classroom}
        hub.pace = lambda: self.pool.pace(token)
        place = Place(live, hub, token, self.classroom)
        self.private[token] = place
        self.pool.add(token, live)
        hub.ensure_started()
        return place

    async def drop(self, token: str) -> None:
        place = self.private.pop(token, None)
        if place is None:
            return
        await place.hub.stop()
        await self.pool.remove(token)
        for client in list(place.hub.clients):
            client.queue.put_nowait(CLOSE)

    def census(self) -> dict[str, Any]:
        return {"private": len(self.private), "limit": self.limit, "classroom": self.classroom}

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY)
            now = time.monotonic()
            for token, place in list(self.private.items()):
                if place.hub.clients:
                    place.last_seen = now
                elif now - place.last_seen > self.idle:
                    await self.drop(token)

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for token in list(self.private):
            await self.drop(token)
        await self.pool.stop()
        await self.main.hub.stop()


CLOSE = "\x00close"  # in a client's queue: the world is gone, close the stream
