"""A World: one simulated AWS region with ECS, ELBv2 and EC2, driven in simulated time.

    w = World(seed=7)
    w.ecs.create_cluster(clusterName="home")
    w.advance(60)

Everything that changes state goes through `w.ecs`, `w.elbv2`, `w.ec2`,
`w.application_autoscaling` (boto3 names and shapes) or through `w.chaos` and `w.traffic`
(what AWS has no API for). Every change is recorded as a typed event (`w.events()`);
`w.cloudwatch` reads the ALB's metrics from them.

This module is the composition root and nothing else: it builds each component with the
simulation context and the collaborators it uses, and connects the observers (who learns of
routing, zone, instance and target-health changes). No component imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ecsim.model.autoscaling.api import ApplicationAutoScalingApi
from ecsim.model.autoscaling.metrics import Sources
from ecsim.model.autoscaling.scaler import Scaler
from ecsim.model.aws.ids import DEFAULT_EPOCH, Clock, Ids
from ecsim.model.cloudwatch.alarms import Alarms
from ecsim.model.cloudwatch.api import CloudWatch
from ecsim.model.context import SimContext
from ecsim.model.dataplane.engine import DataPlane
from ecsim.model.demo import build_demo
from ecsim.model.ec2.api import Ec2Api
from ecsim.model.ec2.instances import Instances
from ecsim.model.ec2.network import Network
from ecsim.model.ec2.zones import Zones
from ecsim.model.ecs.api import EcsApi
from ecsim.model.ecs.backend import EcsBackend
from ecsim.model.ecs.task import Task
from ecsim.model.elbv2.api import Elbv2Api
from ecsim.model.elbv2.backend import ElbBackend
from ecsim.model.elbv2.endpoints import Endpoints
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
        ctx = self.ctx = SimContext.create(seed, region, settings, epoch)
        # the network, its zones and instances (EC2)
        self.net = Network(ctx.ids, region)
        self.zones = Zones(ctx, self.net)
        self.instances = Instances(ctx, self.net)
        # the load balancers and what they reach (ELBv2), and the requests (the data plane)
        self.endpoints: Endpoints[Task] = Endpoints()
        self.elb = ElbBackend(ctx, self.endpoints)
        self._dataplane = DataPlane(ctx, self.elb, self.endpoints, record_requests=record_requests)
        self.endpoints.observe(self._dataplane)
        # ECS
        self.ecs_backend = EcsBackend(ctx, self.elb, self.endpoints, self.net)
        self.elb.health_listeners.append(self.ecs_backend.target_health_changed)
        self.instances.observers.append(self.ecs_backend.agent)
        self.zones.observers += [self.endpoints, self.ecs_backend]
        # the faces: AWS's APIs and ecsim's own verbs
        self.ec2 = Ec2Api(ctx, self.net, self.instances)
        self.elbv2 = Elbv2Api(ctx, self.elb, self.net, self.instances)
        self.ecs = EcsApi(ctx, self.ecs_backend, self.elb, self.net)
        self.chaos = Chaos(self.ecs_backend, self.instances, self.zones)
        self.traffic = Traffic(self.elb, self._dataplane)
        self.cloudwatch = CloudWatch(ctx, self.elbv2, self._dataplane)
        # CloudWatch alarms: read from CloudWatch's metrics; the ECS backend watches the
        # deployment alarms (docs/behaviour.md, "Deployment alarms")
        self.alarms = Alarms(ctx, self.cloudwatch)
        self.cloudwatch.alarms = self.alarms
        self.ecs_backend.alarm_watch.watch = self.alarms
        self.alarms.observers.append(self.ecs_backend.alarm_watch.alarm_changed)
        sources = Sources(ctx.settings, self.elb, self._dataplane, self.cloudwatch)
        self.scaler = Scaler(ctx, self.ecs, self.ecs_backend, sources, self.alarms)
        self.application_autoscaling = ApplicationAutoScalingApi(ctx, self.ecs_backend, self.scaler)

    @property
    def dataplane(self) -> DataPlane:
        """The requests through the load balancers."""
        return self._dataplane

    @dataplane.setter
    def dataplane(self, dataplane: DataPlane) -> None:
        """Put another data plane in (the tests' per-request reference model), before any
        traffic: every component that routes or reads requests uses it from now on."""
        self.endpoints.replace_observer(self._dataplane, dataplane)
        self._dataplane = dataplane
        self.traffic.dataplane = dataplane
        self.cloudwatch.dataplane = dataplane
        self.scaler.sources = replace(self.scaler.sources, dataplane=dataplane)

    # --- the context, as a world's users read it ------------------------------------------

    @property
    def seed(self) -> int:
        return self.ctx.seed

    @property
    def region(self) -> str:
        return self.ctx.region

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def kernel(self) -> Kernel:
        return self.ctx.kernel

    @property
    def streams(self) -> Streams:
        return self.ctx.streams

    @property
    def ids(self) -> Ids:
        return self.ctx.ids

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def subscribers(self) -> list[Callable[[Event], None]]:
        """Called with every record as it is made."""
        return self.ctx.log.subscribers

    # --- time -----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The simulated clock, in seconds since the world began."""
        return self.ctx.now

    def advance(self, seconds: float) -> None:
        """Run `seconds` of simulated time."""
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative time: {seconds}")
        self.run_until(self.now + seconds)

    def run_until(self, time: float) -> None:
        self.ctx.kernel.run_until(time)
        self.dataplane.flush()

    # --- events ---------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Record an event."""
        self.ctx.emit(event)

    def events(
        self, since: float | None = None, kind: str | type[Event] | None = None
    ) -> list[Event]:
        """The event records (oldest first), from `since` on, optionally of one kind."""
        return self.ctx.log.events(since, kind)

    @classmethod
    def demo(cls, seed: int = 0, *, desired: int = 3, rate: float = 5.0, **kwargs: Any) -> World:
        """The seed's architecture, built through the public API and already steady, with a
        client load of `rate` requests per second. `kwargs` go to `World(...)`."""
        return build_demo(cls(seed, **kwargs), desired=desired, rate=rate)
