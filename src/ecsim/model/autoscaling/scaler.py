"""Target tracking of ECS services' desired count (docs/behaviour.md, "Service auto scaling").

Once a minute (`autoscaling.period`), for each registered service, each policy reads its
metric's datapoint for the minute that ended and updates its two alarms, as the alarms target
tracking creates do: `AlarmHigh` when the last 3 datapoints are above the target value,
`AlarmLow` when the last 15 are below 90 % of it (settings). A missing datapoint breaks both
runs: no scaling on insufficient data [ECSDG:service-autoscaling-targettracking].

The capacity a policy asks for is `ceil(desired x metric / target)`: proportional, rounded up,
so a scale-out adds enough and a scale-in never leaves the metric above the target. Several
policies: scale out if any asks, to the largest; scale in only if all ask, to the largest
[AAS put-scaling-policy: "precedence to the policy that provides the largest capacity"].
The result stays within [MinCapacity, MaxCapacity] and is set with ECS's UpdateService.

Cooldowns (default 300 s for ECS; docs/behaviour.md, "Service auto scaling"): during a scale-out
cooldown, the capacity
the initiating scale-out added counts: a policy's ask is computed from the capacity before
that scale-out and acts only if it is larger than the capacity now. A scale-in waits for its
cooldown, which a scale-out ends. No scale-in while an ECS deployment is in progress
[ECSDG:service-autoscaling-targettracking]. Choice where AWS gives no formula: scale-in uses
the same proportional formula; its 15-minute alarm and its cooldown make it gradual.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ecsim.model.autoscaling.metrics import PredefinedMetric, datapoint
from ecsim.model.autoscaling.target_alarms import policy_alarms, recent
from ecsim.model.ecs import quotas
from ecsim.model.ecs.enums import RolloutState, ServiceStatus
from ecsim.model.events import ScalingActivity

if TYPE_CHECKING:
    from ecsim.model.autoscaling.metrics import Sources
    from ecsim.model.cloudwatch.alarms import Alarms
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.api import EcsApi
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.service import Service
    from ecsim.sim import Timer

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
_MOST = 2**53  # the largest capacity a policy asks for (see `_ask`)


@dataclass
class TargetTrackingPolicy:
    name: str
    arn: str
    target_value: float
    metric: PredefinedMetric
    resource_label: str | None
    scale_out_cooldown: float
    scale_in_cooldown: float
    disable_scale_in: bool
    alarm_high: str
    alarm_low: str
    created_at: float
    config: dict[str, object]  # as given, for DescribeScalingPolicies
    datapoints: deque[float | None] = field(default_factory=deque)  # bounded by the api


@dataclass
class ScalableTarget:
    resource_id: str  # service/<cluster>/<service>
    cluster: str
    service: str
    min_capacity: int
    max_capacity: int
    role_arn: str
    created_at: float
    suspended: dict[str, bool]
    arn: str
    policies: dict[str, TargetTrackingPolicy] = field(default_factory=dict)
    last_out: float = -math.inf
    out_base: int = 0  # the capacity before the scale-out that started the cooldown
    last_in: float = -math.inf


class Scaler:
    """The scalable targets of a world and the minute by minute evaluation of their policies."""

    def __init__(
        self,
        ctx: SimContext,
        ecs: EcsApi,
        backend: EcsBackend,
        sources: Sources,
        alarms: Alarms,
    ) -> None:
        self.ctx = ctx
        self.ecs = ecs
        self.backend = backend
        self.sources = sources
        self.alarms = alarms  # where its policies' two alarms show (target_alarms.py)
        self.targets: dict[str, ScalableTarget] = {}
        self.activities: list[ScalingActivity] = []
        self._timer: Timer | None = None

    def service(self, target: ScalableTarget) -> Service | None:
        cluster = self.backend.clusters.get(target.cluster)
        svc = cluster.services.get(target.service) if cluster is not None else None
        return svc if svc is not None and svc.status is ServiceStatus.ACTIVE else None

    def register(
        self,
        target: ScalableTarget,
        min_capacity: int,
        max_capacity: int,
        role_arn: str | None,
        suspended: dict[str, bool],
    ) -> None:
        """RegisterScalableTarget, new or again: the range, the role, what is suspended; an
        active service's capacity is brought into the range at once (`clamp`)."""
        target.min_capacity, target.max_capacity = min_capacity, max_capacity
        if role_arn is not None:
            target.role_arn = role_arn
        target.suspended.update(suspended)
        self.targets[target.resource_id] = target
        self.clamp(target)

    def deregister(self, resource_id: str) -> None:
        """DeregisterScalableTarget: its policies go with it, and their alarms."""
        target = self.targets.pop(resource_id)
        for policy in target.policies.values():
            self.alarms.delete_managed([policy.alarm_high, policy.alarm_low])

    def put_policy(
        self, target: ScalableTarget, policy: TargetTrackingPolicy
    ) -> TargetTrackingPolicy:
        """PutScalingPolicy: a new policy, or an update that keeps the ARN, the alarms and
        their datapoints. Evaluation starts at the next minute."""
        old = target.policies.get(policy.name)
        if old is not None:
            policy.arn, policy.alarm_high, policy.alarm_low = old.arn, old.alarm_high, old.alarm_low
            policy.created_at, policy.datapoints = old.created_at, old.datapoints
        target.policies[policy.name] = policy
        for alarm in policy_alarms(self.ctx, self.sources, target, policy):
            self.alarms.put_managed(alarm)
        self.start()
        return policy

    def delete_policy(self, target: ScalableTarget, name: str) -> None:
        policy = target.policies.pop(name)
        self.alarms.delete_managed([policy.alarm_high, policy.alarm_low])

    def start(self) -> None:
        """Evaluate at the end of every minute from now on (once)."""
        if self._timer is None:
            period = self.ctx.settings.autoscaling.period
            first = (math.floor(self.ctx.now / period) + 1) * period
            self._timer = self.ctx.at(first, self._tick)

    def _tick(self) -> None:
        period = self.ctx.settings.autoscaling.period
        now = self.ctx.now
        self._timer = self.ctx.at(now + period, self._tick)
        self.sources.dataplane.flush()  # every request of the minute is counted
        for target in list(self.targets.values()):
            svc = self.service(target)
            if svc is None or not target.policies:
                continue
            self._evaluate(target, svc, now - period)

    def _evaluate(self, target: ScalableTarget, svc: Service, t0: float) -> None:
        settings = self.ctx.settings.autoscaling
        now = self.ctx.now
        desired = svc.desired_count
        outs: list[tuple[int, TargetTrackingPolicy]] = []
        ins: list[tuple[int, TargetTrackingPolicy]] = []
        in_cooldown_out = now < target.last_out + max(
            (p.scale_out_cooldown for p in target.policies.values()), default=0.0
        )
        for policy in target.policies.values():
            value = datapoint(self.sources, svc, policy.metric, policy.resource_label, t0)
            policy.datapoints.append(value)
            for alarm, n in (
                (policy.alarm_high, settings.scale_out_datapoints),
                (policy.alarm_low, settings.scale_in_datapoints),
            ):
                self.alarms.evaluate_managed(
                    alarm, recent(policy.datapoints, n, t0, settings.period)
                )
            high = _run(policy.datapoints, settings.scale_out_datapoints)
            low = _run(policy.datapoints, settings.scale_in_datapoints)
            if value is None:
                continue
            if high and all(v is not None and v > policy.target_value for v in high):
                base = target.out_base if in_cooldown_out else desired
                outs.append((_ask(base, value, policy.target_value), policy))
            elif (
                low
                and not policy.disable_scale_in
                and all(
                    v is not None and v < policy.target_value * settings.scale_in_threshold
                    for v in low
                )
            ):
                ins.append((_ask(desired, value, policy.target_value), policy))
            else:
                ins.append((desired, policy))  # this policy does not agree to scale in
        if outs and not target.suspended["DynamicScalingOutSuspended"]:
            ask, policy = max(outs, key=lambda o: o[0])
            new = _within(ask, target)
            if new > desired:
                if not in_cooldown_out:
                    target.out_base = desired
                target.last_out = now
                target.last_in = -math.inf  # a scale-out ends the scale-in cooldown
                self._scale(target, svc, policy, policy.alarm_high, desired, new)
            return
        if (
            not ins
            or len(ins) < len(target.policies)
            or target.suspended["DynamicScalingInSuspended"]
        ):
            return
        ask, policy = max(ins, key=lambda o: o[0])
        new = _within(ask, target)
        cooling = now < target.last_in + policy.scale_in_cooldown
        if new < desired and not cooling and not _deploying(svc):
            target.last_in = now
            self._scale(target, svc, policy, policy.alarm_low, desired, new)

    def _scale(
        self,
        target: ScalableTarget,
        svc: Service,
        policy: TargetTrackingPolicy,
        alarm: str,
        old: int,
        new: int,
    ) -> None:
        cause = f"monitor alarm {alarm} in state ALARM triggered policy {policy.name}"
        self._set(target, old, new, cause, policy.name, alarm)

    def _set(
        self, target: ScalableTarget, old: int, new: int, cause: str, policy: str, alarm: str
    ) -> None:
        """Set the service's desired count through ECS and record the activity."""
        self.ecs.update_service(cluster=target.cluster, service=target.service, desiredCount=new)
        event = ScalingActivity(
            self.ctx.now,
            resource_id=target.resource_id,
            activity_id=self.ctx.ids.uuid(),
            policy=policy,
            alarm=alarm,
            from_count=old,
            to_count=new,
            description=f"Setting desired count to {new}.",
            cause=cause,
        )
        self.activities.append(event)
        self.ctx.emit(event)

    def clamp(self, target: ScalableTarget) -> None:
        """RegisterScalableTarget: an active service's capacity is brought into the range, as
        an activity ("It also initiates scaling activities when you modify the maximum or
        minimum size", Application Auto Scaling user guide)."""
        svc = self.service(target)
        if svc is None:
            return
        old = svc.desired_count
        new = _within(old, target)
        if new == old:
            return
        which = "minimum" if new > old else "maximum"
        self._set(target, old, new, f"{which} capacity was set to {new}", "", "")


def _ask(capacity: int, value: float, target: float) -> int:
    """`ceil(capacity x value / target)`, what a policy asks for (at most 2**53: a target
    value of 1e-100 is in AWS's range)."""
    ratio = capacity * value / target
    if not math.isfinite(ratio) or ratio > _MOST:
        return _MOST
    return math.ceil(ratio - 1e-9)


def _within(capacity: int, target: ScalableTarget) -> int:
    """`capacity` brought within [MinCapacity, MaxCapacity] and never above ECS's tasks per
    service quota, whatever MaxCapacity says: AWS's RegisterScalableTarget takes a large
    maximum, but "service quotas might impose lower limits" (docs/behaviour.md, "Service
    auto scaling")."""
    highest = min(target.max_capacity, quotas.TASKS_PER_SERVICE)
    return min(max(capacity, target.min_capacity), highest)


def _run(points: deque[float | None], n: int) -> list[float | None]:
    """The last n datapoints (n >= 1), or [] while there are fewer."""
    n = max(1, n)
    return list(points)[-n:] if len(points) >= n else []


def _deploying(svc: Service) -> bool:
    return len(svc.deployments) > 1 or any(
        d.rollout_state is RolloutState.IN_PROGRESS for d in svc.deployments
    )
