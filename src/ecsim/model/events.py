"""The typed event records: everything that happens in a world, with its simulated time.

The browser stream, the CLI timeline, the metrics and the reports all fold these records.
Records are immutable and give only plain values, so two runs can be compared byte for byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at simulated time `time` (seconds since the world began)."""

    time: float

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True, slots=True)
class TaskStateChanged(Event):
    cluster: str
    task_arn: str
    task_id: str
    group: str
    last_status: str
    desired_status: str
    ip: str | None = None
    availability_zone: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    exit_code: int | None = None
    health_status: str = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class TargetHealthChanged(Event):
    target_group_arn: str
    target_id: str
    port: int
    state: str
    reason: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceEvent(Event):
    """An ECS service event as DescribeServices shows it, in AWS's own wording."""

    cluster: str
    service: str
    id: str
    message: str


@dataclass(frozen=True, slots=True)
class ServiceChanged(Event):
    """A service was created, updated or deleted, or changed status (ACTIVE/DRAINING/INACTIVE)."""

    cluster: str
    service: str
    status: str
    desired_count: int
    task_definition: str


@dataclass(frozen=True, slots=True)
class ForwardWeightsChanged(Event):
    """ECS shifted traffic: a listener rule's forward action has these (target group ARN,
    weight) pairs now (docs/behaviour.md, "Blue/green, linear and canary deployments")."""

    rule: str
    weights: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class DeploymentChanged(Event):
    cluster: str
    service: str
    deployment_id: str
    status: str
    rollout_state: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ScalingActivity(Event):
    """Application Auto Scaling changed a service's desired count (DescribeScalingActivities)."""

    resource_id: str  # service/<cluster>/<service>
    activity_id: str
    policy: str
    alarm: str
    from_count: int
    to_count: int
    description: str
    cause: str


@dataclass(frozen=True, slots=True)
class AlarmStateChanged(Event):
    """A CloudWatch alarm's state was set: by its evaluation or by SetAlarmState."""

    alarm: str
    old_state: str
    new_state: str
    reason: str


@dataclass(frozen=True, slots=True)
class ControllerStatusChanged(Event):
    """The service scheduler of a service crashed, hung or came back (ecsim's own)."""

    cluster: str
    service: str
    status: str


@dataclass(frozen=True, slots=True)
class InfrastructureChanged(Event):
    """An instance or an Availability Zone failed or came back."""

    resource: str
    state: str


@dataclass(frozen=True, slots=True)
class TaskFaultChanged(Event):
    """A fault injected into a task (an AWS FIS action) started or ended."""

    cluster: str
    task_arn: str
    task_id: str
    action: str  # the FIS action, e.g. aws:ecs:task-cpu-stress
    active: bool
    detail: str
    duration: float = 0.0  # started: planned (s); ended: how long it lasted


@dataclass(frozen=True, slots=True)
class TrafficChanged(Event):
    load_balancer: str
    rate: float


class RequestCounts(Protocol):
    """Where a `RequestsCompleted` record reads its counts: a row that never changes."""

    def record(self, row: int) -> tuple[dict[str, int], dict[str, int], dict[str, int]]: ...


class _Given:
    """Counts given as dicts: kept as copies, handed out as copies (a record never changes)."""

    __slots__ = ("counts",)

    def __init__(self, counts: tuple[dict[str, int], dict[str, int], dict[str, int]]) -> None:
        self.counts = tuple(dict(c) for c in counts)

    def record(self, row: int) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        a, b, c = self.counts
        return dict(a), dict(b), dict(c)


class RequestsCompleted(Event):
    """The requests of one load balancer answered during [time - period, time): how many
    by HTTP status, by target IP and by who answered (`elb` or `target`).

    There is one per load balancer and simulated second, so the data plane's records do not
    keep dicts: they read a sealed row of its statistics (`RequestCounts`) on each access,
    and cost about 130 bytes in the log. Records built with dicts keep those."""

    __slots__ = ("_counts", "_row", "load_balancer", "period")

    load_balancer: str
    period: float
    _counts: RequestCounts
    _row: int

    def __init__(
        self,
        time: float,
        load_balancer: str,
        period: float,
        by_status: dict[str, int] | None = None,
        by_target: dict[str, int] | None = None,
        by_source: dict[str, int] | None = None,
        *,
        counts: RequestCounts | None = None,
        row: int = 0,
    ) -> None:
        if counts is None:
            counts = _Given((by_status or {}, by_target or {}, by_source or {}))
        # a call each, not a loop: one record per second and load balancer
        _set = object.__setattr__
        _set(self, "time", time)
        _set(self, "load_balancer", load_balancer)
        _set(self, "period", period)
        _set(self, "_counts", counts)
        _set(self, "_row", row)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    __delattr__ = __setattr__  # type: ignore[assignment]

    @property
    def by_status(self) -> dict[str, int]:
        return self._counts.record(self._row)[0]

    @property
    def by_target(self) -> dict[str, int]:
        return self._counts.record(self._row)[1]

    @property
    def by_source(self) -> dict[str, int]:
        return self._counts.record(self._row)[2]

    def to_dict(self) -> dict[str, Any]:
        by_status, by_target, by_source = self._counts.record(self._row)
        return {
            "type": self.kind,
            "time": self.time,
            "load_balancer": self.load_balancer,
            "period": self.period,
            "by_status": by_status,
            "by_target": by_target,
            "by_source": by_source,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestsCompleted):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.time, self.load_balancer))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"RequestsCompleted({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _requests_completed,
            (self.time, self.load_balancer, self.period, self._counts, self._row),
        )


def _requests_completed(
    time: float, load_balancer: str, period: float, counts: RequestCounts, row: int
) -> RequestsCompleted:
    return RequestsCompleted(time, load_balancer, period, counts=counts, row=row)
