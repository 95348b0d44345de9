"""The simulation context every component of a world receives: the kernel and its clock, the
IDs, the random streams, the settings and the event log.

It is what components share, and all they share: a component gets the context and the
collaborators it uses (the ELB backend, the network, ...) from `World`, which only wires them.
Nothing here knows about ECS or load balancers.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from ecsim.model.aws.ids import Clock, Ids
from ecsim.model.events import Event
from ecsim.model.settings import Settings
from ecsim.sim import Kernel, Streams, Timer

_time = attrgetter("time")


class EventLog:
    """Every record of a world, in time order, and one list per kind.

    The records of the data plane are dated at the end of their bucket, which may be before
    the instant they are sealed, so a record may be inserted before the last one. The lists
    per kind let a reader of one kind (CloudWatch and auto scaling read the health records
    every minute) skip the rest of the log.
    """

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._by_kind: dict[str, list[Event]] = {}
        self.subscribers: list[Callable[[Event], None]] = []

    def emit(self, event: Event) -> None:
        # written out for both lists: the data plane emits a record per second and load
        # balancer
        t = event.time
        log = self._events
        if log and t < log[-1].time:
            log.insert(bisect.bisect_right(log, t, key=_time), event)
        else:
            log.append(event)
        same = self._by_kind.get(event.kind)
        if same is None:
            same = self._by_kind[event.kind] = []
        if same and t < same[-1].time:
            same.insert(bisect.bisect_right(same, t, key=_time), event)
        else:
            same.append(event)
        for subscriber in self.subscribers:
            subscriber(event)

    def emit_many(self, events: list[Event]) -> None:
        """`emit` each of `events` (of one kind, in time order), in order: laid at the end
        of both lists at once when none is dated before the last record (the data plane's
        records of a seal, a second's worth per load balancer)."""
        if not events:
            return
        t = events[0].time
        log = self._events
        same = self._by_kind.get(events[0].kind)
        if (log and t < log[-1].time) or (same and t < same[-1].time):
            for event in events:
                self.emit(event)
            return
        log += events
        if same is None:
            self._by_kind[events[0].kind] = list(events)
        else:
            same += events
        for event in events:
            for subscriber in self.subscribers:
                subscriber(event)

    def events(
        self, since: float | None = None, kind: str | type[Event] | None = None
    ) -> list[Event]:
        """The records (oldest first), from `since` on, optionally of one kind."""
        if kind is None:
            out = self._events
        else:
            out = self._by_kind.get(kind if isinstance(kind, str) else kind.__name__, [])
        if since is not None:
            return out[bisect.bisect_left(out, since, key=lambda e: e.time) :]
        return list(out)


@dataclass
class SimContext:
    """What every component of one world shares. Same seed, same calls: same records."""

    seed: int
    region: str
    settings: Settings
    clock: Clock
    kernel: Kernel = field(default_factory=Kernel)
    log: EventLog = field(default_factory=EventLog)
    streams: Streams = field(init=False)
    ids: Ids = field(init=False)

    def __post_init__(self) -> None:
        self.streams = Streams(self.seed)
        self.ids = Ids(self.streams.scalar("ids"), self.region)

    @classmethod
    def create(
        cls, seed: int, region: str, settings: Settings | None, epoch: datetime
    ) -> SimContext:
        return cls(seed, region, settings or Settings(), Clock(epoch))

    @property
    def now(self) -> float:
        """The simulated clock, in seconds since the world began."""
        return self.kernel.now

    def emit(self, event: Event) -> None:
        self.log.emit(event)

    def emit_many(self, events: list[Event]) -> None:
        self.log.emit_many(events)

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.kernel.after(delay, fn, *args)

    def at(self, time: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.kernel.at(time, fn, *args)
