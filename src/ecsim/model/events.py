"""The typed event records: everything that happens in a world, with its simulated time.

The browser stream, the CLI timeline, the metrics and the reports all fold these records.
Records are immutable and carry only plain values, so two runs can be compared byte for byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


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
class DeploymentChanged(Event):
    cluster: str
    service: str
    deployment_id: str
    status: str
    rollout_state: str
    reason: str = ""


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
class TrafficChanged(Event):
    load_balancer: str
    rate: float


@dataclass(frozen=True, slots=True)
class RequestsCompleted(Event):
    """The requests of one load balancer answered during [time - period, time)."""

    load_balancer: str
    period: float
    by_status: dict[str, int] = field(default_factory=dict)
    by_target: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
