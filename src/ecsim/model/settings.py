"""The model's tunable numbers, with their sources (docs/behaviour.md, "Settings index").

AWS documents few durations; where the sources give observed examples or a simulator
suggestion, the default follows it and the source is named beside the field. Every choice
where sources disagree is a field here, so a user can pick the other reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

Range = tuple[float, float]


@dataclass(frozen=True)
class TaskTimings:
    """Seconds spent in each task state, uniform in the range
    (docs/behaviour.md, "Task state durations")."""

    # Fargate: PROVISIONING 5-25 s (ENI create+attach), PENDING incl. pull 5-30 s
    # (ecsim's suggestion, docs/behaviour.md, "Task state durations";
    # the aws-cli example shows created -> RUNNING in 23.7 s).
    fargate_provisioning: Range = (5.0, 15.0)
    fargate_pending: Range = (6.0, 15.0)
    # EC2 with a cached image: a few seconds (docs/behaviour.md, "Task state durations").
    ec2_provisioning: Range = (0.5, 2.0)
    ec2_pending: Range = (1.0, 4.0)
    # ACTIVATING: container start and load-balancer registration
    # (docs/behaviour.md, "Task lifecycle").
    activating: Range = (1.0, 3.0)
    # DEPROVISIONING: ENI detach and delete, 20-35 s on Fargate
    # (observed; docs/behaviour.md, "Task state durations").
    fargate_deprovisioning: Range = (20.0, 35.0)
    ec2_deprovisioning: Range = (1.0, 3.0)
    # How long a STOPPED task stays describable: at least 1 hour
    # (docs/behaviour.md, "Stopped task retention").
    stopped_retention: float = 3600.0


@dataclass(frozen=True)
class SchedulerSettings:
    """The ECS service scheduler (docs/behaviour.md, "The service scheduler")."""

    # Delay between an observed change (task exit, unhealthy target, UpdateService) and the
    # scheduler acting on it. Not documented; the observed StopTask -> "has started" gap was 18 s.
    reaction: Range = (2.0, 6.0)
    # Periodic reconciliation even when nothing changed.
    interval: float = 15.0
    # Circuit breaker threshold clamp: 3 (API reference since Oct 2024) or 10 (2023 guide).
    circuit_breaker_min_threshold: int = 3
    circuit_breaker_max_threshold: int = 200
    # Start-failure throttle: the delay grows to 27 min (live guide; 15 min before 2023).
    start_throttle_max: float = 27 * 60.0
    start_throttle_first: float = 60.0
    # Identical service events are suppressed for 6 hours (docs/behaviour.md, "Service events").
    event_dedup: float = 6 * 3600.0
    # Since 23 Oct 2023 the scheduler starts a replacement and waits for it to be healthy before
    # stopping an unhealthy task (docs/behaviour.md, "Unhealthy task replacement"); False restores
    # the older stop-first order.
    start_replacement_first: bool = True
    # Tasks without LB or container health check count as healthy 40 s after RUNNING
    # (docs/behaviour.md, "Healthy for the scheduler").
    healthy_without_checks_after: float = 40.0
    # A lifecycle hook's Lambda answers (SUCCEEDED or FAILED) this long after ECS invokes it
    # (docs/behaviour.md, "Lifecycle hooks"); AWS documents no duration.
    hook_duration: float = 5.0


@dataclass(frozen=True)
class ElbSettings:
    """The load balancer's own timings (docs/behaviour.md, "The Application Load Balancer")."""

    # Elb.RegistrationInProgress lasts a few seconds before the first health check.
    registration: Range = (2.0, 4.0)
    # ELB-generated answers (502 on a refused connection, 503) take about this long.
    elb_answer_latency: float = 0.001
    # 504 when the target does not accept a connection within 10 s
    # (docs/behaviour.md, "ALB-generated answers").
    connect_timeout: float = 10.0
    # Load balancer provisioning before State.Code becomes "active".
    provisioning: Range = (30.0, 60.0)
    # Fail-open also includes targets still in `initial` (AWS is silent; reports say 503 when
    # every target is initial, so the default is False).
    fail_open_includes_initial: bool = False


@dataclass(frozen=True)
class AutoScalingSettings:
    """Service auto scaling with target tracking (docs/behaviour.md, "Service auto scaling")."""

    # ECS publishes service CPU and memory every minute; ALB metrics are per minute too.
    period: float = 60.0
    # The alarms target tracking creates (not in the API docs; what AWS shows for the alarms
    # it manages): out after 3 datapoints above the target, in after 15 below 90 % of it.
    scale_out_datapoints: int = 3
    scale_in_datapoints: int = 15
    scale_in_threshold: float = 0.9
    # ScaleOutCooldown / ScaleInCooldown when the policy gives none (ECS services: 300 s).
    cooldown: float = 300.0
    # CPU of a task that serves no request, percent of its reservation (choice: the app's CPU
    # grows with the requests it serves, reaching 100 % at its `ecsim.capacity`).
    cpu_idle_percent: float = 2.0


@dataclass(frozen=True)
class Ec2Settings:
    # Boot of an ECS-optimized instance until its agent registers with the cluster.
    instance_boot: Range = (40.0, 90.0)


@dataclass(frozen=True)
class Settings:
    """All tunables of a world."""

    tasks: TaskTimings = field(default_factory=TaskTimings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    elb: ElbSettings = field(default_factory=ElbSettings)
    ec2: Ec2Settings = field(default_factory=Ec2Settings)
    autoscaling: AutoScalingSettings = field(default_factory=AutoScalingSettings)
    # Width of the buckets the traffic statistics are kept in (seconds).
    stats_period: float = 1.0

    def with_overrides(self, overrides: dict[str, dict[str, Any]]) -> Settings:
        """A copy with `{"scheduler": {"interval": 5}}`-style overrides applied."""
        changes: dict[str, Any] = {}
        groups = {f.name for f in fields(self)}
        for group, values in overrides.items():
            if group not in groups:
                raise ValueError(
                    f"unknown settings group {group!r}; expected one of {sorted(groups)}"
                )
            current = getattr(self, group)
            if not isinstance(values, dict):
                changes[group] = values
                continue
            known = {f.name for f in fields(current)}
            for key in values:
                if key not in known:
                    raise ValueError(
                        f"unknown setting {group}.{key}; expected one of {sorted(known)}"
                    )
            changes[group] = replace(
                current, **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            )
        return replace(self, **changes)
