"""A World: one simulated AWS region with ECS, ELBv2 and EC2, driven in simulated time.

    w = World(seed=7)
    w.ecs.create_cluster(clusterName="home")
    w.advance(60)

Everything that changes state goes through `w.ecs`, `w.elbv2`, `w.ec2`,
`w.application_autoscaling` (boto3 names and shapes) or through `w.chaos` and `w.traffic` (what AWS has no API for). Every change is
recorded as a typed event (`w.events()`); `w.cloudwatch` reads the ALB's metrics from them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ecsim.model.autoscaling.api import ApplicationAutoScalingApi
from ecsim.model.aws.ids import DEFAULT_EPOCH, Clock, Ids
from ecsim.model.cloudwatch.api import CloudWatch
from ecsim.model.dataplane.engine import DataPlane
from ecsim.model.demo import build_demo
from ecsim.model.ec2.api import Ec2Api
from ecsim.model.ec2.instances import Instances
from ecsim.model.ec2.network import Network
from ecsim.model.ecs.api import EcsApi
from ecsim.model.ecs.task import Task
from ecsim.model.elbv2.api import Elbv2Api
from ecsim.model.elbv2.backend import ElbBackend
from ecsim.model.elbv2.health import ProbeResult, Reason
from ecsim.model.events import Event
from ecsim.model.settings import Settings
from ecsim.model.verbs.chaos import Chaos
from ecsim.model.verbs.traffic import Traffic
from ecsim.sim import Kernel, Streams

REGION = "us-east-1"


class World:
    """One simulated region. Same seed, same calls: same events, IDs and timings."""

    def __init__(
        self,
        seed: int = 0,
        *,
        settings: Settings | None = None,
        region: str = REGION,
        epoch: datetime = DEFAULT_EPOCH,
        record_requests: bool = False,
    ) -> None:
        self.seed = seed
        self.region = region
        self.settings = settings or Settings()
        self.kernel = Kernel()
        self.streams = Streams(seed)
        self.ids = Ids(self.streams.scalar("ids"), region)
        self.clock = Clock(epoch)
        self._events: list[Event] = []
        self._by_kind: dict[str, list[Event]] = {}  # the same records, one list per kind
        self.subscribers: list[Callable[[Event], None]] = []
        self.net = Network(self.ids, region)
        self.endpoints: dict[str, Task] = {}
        self.elb = ElbBackend(self)
        self.dataplane = DataPlane(self, record_requests=record_requests)
        self.instances = Instances(self)
        self.ec2 = Ec2Api(self)
        self.elbv2 = Elbv2Api(self)
        self.ecs = EcsApi(self)
        self.chaos = Chaos(self)
        self.traffic = Traffic(self)
        self.cloudwatch = CloudWatch(self)
        self.application_autoscaling = ApplicationAutoScalingApi(self)

    # --- time -----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The simulated clock, in seconds since the world began."""
        return self.kernel.now

    def advance(self, seconds: float) -> None:
        """Run `seconds` of simulated time."""
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative time: {seconds}")
        self.run_until(self.now + seconds)

    def run_until(self, time: float) -> None:
        self.kernel.run_until(time)
        self.dataplane.flush()

    # --- events ---------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Record an event. The log stays in time order: the records of the data plane are
        dated at the end of their bucket, which may be before the instant they are sealed.
        Each kind also has a list of its own, so that reading one kind (the health records
        CloudWatch and auto scaling read every minute) does not walk the whole log."""
        for log in (self._events, self._by_kind.setdefault(event.kind, [])):
            if log and event.time < log[-1].time:
                log.insert(bisect.bisect_right(log, event.time, key=lambda e: e.time), event)
            else:
                log.append(event)
        for subscriber in self.subscribers:
            subscriber(event)

    def events(
        self, since: float | None = None, kind: str | type[Event] | None = None
    ) -> list[Event]:
        """The event records (oldest first), from `since` on, optionally of one kind."""
        if kind is None:
            out = self._events
        else:
            out = self._by_kind.get(kind if isinstance(kind, str) else kind.__name__, [])
        if since is not None:
            return out[bisect.bisect_left(out, since, key=lambda e: e.time) :]
        return list(out)

    # --- the network as the ALB sees it ---------------------------------------------------

    def probe(self, ip: str, port: int, path: str, timeout: float, matcher: str) -> ProbeResult:
        """One health-check probe to ip:port (the answer of whatever owns that address)."""
        endpoint = self.endpoints.get(ip)
        if endpoint is None:
            return ProbeResult(False, Reason.TIMEOUT, duration=timeout)
        return endpoint.probe(self.now, port, path, timeout, matcher)

    @classmethod
    def demo(cls, seed: int = 0, *, desired: int = 3, rate: float = 5.0, **kwargs: Any) -> World:
        """The seed's architecture, built through the public API and already steady, with a
        client load of `rate` requests per second. `kwargs` go to `World(...)`."""
        return build_demo(cls(seed, **kwargs), desired=desired, rate=rate)
