"""A task: one running copy of a task definition, with its ENI, its containers and its app.

The task is also the endpoint behind its IP: the load balancer's probes and requests reach
the app through `probe()` and `mode`. The lifecycle that moves a task through its states
lives in `lifecycle.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from ecsim.model.ec2.network import Subnet
from ecsim.model.ecs.enums import (
    STARTING,
    DesiredStatus,
    HealthStatus,
    LaunchType,
    TaskStatus,
    TaskStopCode,
)
from ecsim.model.ecs.profile import AppProfile, HealthBehaviour
from ecsim.model.ecs.taskdef import TaskDefinition
from ecsim.model.elbv2.health import ProbeResult, Reason, answered
from ecsim.sim import Timer

if TYPE_CHECKING:
    from ecsim.model.ecs.cluster import ContainerInstance
    from ecsim.model.ecs.service import Service

REFUSED_AFTER = 0.001  # a refused TCP connection is answered at once
# Enum members that every probe and every pass of the service scheduler test for, bound once:
# on Python 3.11 reading a member off its class goes through `EnumType.__getattr__`'s hook
# (about 0.1 us, a quarter of a passing probe).
_PASSING = HealthBehaviour.PASSING
_STOPPED = TaskStatus.STOPPED
_UNKNOWN = HealthStatus.UNKNOWN


class EndpointMode(Enum):
    """How the address of a task answers right now; constant between two kernel events."""

    SERVING = "serving"  # the app answers requests
    REFUSED = "refused"  # nothing listens (not up yet, shutting down, exited): TCP RST
    HANGING = "hanging"  # the app accepts but never answers
    UNREACHABLE = "unreachable"  # no route (AZ cut off, ENI gone): connections time out


@dataclass
class Container:
    name: str
    image: str
    essential: bool
    last_status: str = "PENDING"
    exit_code: int | None = None
    reason: str | None = None
    health_status: HealthStatus = HealthStatus.UNKNOWN


@dataclass(slots=True)
class Task:
    arn: str
    id: str
    cluster_arn: str
    cluster_name: str
    task_definition: TaskDefinition
    launch_type: LaunchType
    group: str
    started_by: str | None
    subnet: Subnet
    created_at: float
    containers: list[Container]
    service: Service | None = None
    deployment_id: str | None = None
    capacity_provider: str | None = None  # FARGATE or FARGATE_SPOT, if launched by a strategy
    container_instance: ContainerInstance | None = None
    ip: str | None = None
    public_ip: bool = False  # awsvpcConfiguration.assignPublicIp ENABLED
    address_reserved: bool = False  # placement counted an address for it (backend.py)
    eni_id: str | None = None
    mac: str | None = None
    attachment_status: str = "PRECREATED"
    last_status: TaskStatus = TaskStatus.PROVISIONING
    desired_status: DesiredStatus = DesiredStatus.RUNNING
    stop_code: str | None = None
    stopped_reason: str | None = None
    times: dict[str, float] = field(default_factory=dict)
    version: int = 1
    # the app behind the address
    app_up_at: float | None = None
    listening: bool = False
    alive: bool = False
    reachable: bool = True
    health_override: bool | None = None
    health_failures: int = 0
    # scheduler bookkeeping
    ever_running: bool = False
    replacing: bool = False
    replace_reason: str = ""
    replace_code: TaskStopCode = TaskStopCode.SERVICE_SCHEDULER_INITIATED
    counted_failure: bool = False
    draining: set[tuple[str, str, int]] = field(default_factory=set)
    registrations: set[tuple[str, str, int]] = field(default_factory=set)
    timers: list[Timer] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)
    # FIS-style faults (model/verbs/faults.py): CPU taken by a stressor (percent), ports whose
    # inbound traffic is dropped, seconds the network adds to every answer, share of its
    # packets lost
    cpu_stress: float = 0.0
    blackholed_ports: frozenset[int] = frozenset()
    network_delay: float = 0.0
    packet_loss: float = 0.0
    faults: dict[str, tuple[Timer, Callable[[], None]]] = field(default_factory=dict)

    @property
    def az(self) -> str:
        return self.subnet.az

    @property
    def port(self) -> int | None:
        return self.task_definition.first_port

    @property
    def profile(self) -> AppProfile:
        return self.task_definition.profile

    @property
    def capacity(self) -> float:
        """Requests per second the app serves now: under a CPU stressor it gets half of what
        the stressor takes (model/verbs/faults.py)."""
        return self.profile.capacity * (1.0 - self.cpu_stress / 200.0)

    def mode_on(self, port: int | None) -> EndpointMode:
        """How the task answers a connection to `port`: a blackholed port never answers."""
        if port is not None and port in self.blackholed_ports:
            return EndpointMode.UNREACHABLE
        return self.mode

    @property
    def is_starting(self) -> bool:
        return self.last_status in STARTING

    @property
    def stopped(self) -> bool:
        return self.last_status is _STOPPED

    @property
    def essential(self) -> Container:
        """The essential container: its exit stops the task, its health is the task's."""
        for c in self.containers:
            if c.essential:
                return c
        return self.containers[0]

    @property
    def health_status(self) -> HealthStatus:
        """Task `healthStatus`: that of its essential container, UNKNOWN without a check."""
        return self.essential.health_status if self.essential_checked else _UNKNOWN

    @property
    def essential_checked(self) -> bool:
        return self.task_definition.health_check is not None

    @property
    def mode(self) -> EndpointMode:
        if not self.reachable or self.eni_id is None:
            return EndpointMode.UNREACHABLE
        if not self.listening:
            return EndpointMode.REFUSED
        if self.profile.hang:
            return EndpointMode.HANGING
        return EndpointMode.SERVING

    def app_healthy(self, now: float) -> bool:
        """Whether the app's health-check path answers OK now."""
        if self.health_override is not None:
            return self.health_override
        return self.profile.health_passes(now - (self.app_up_at or now))

    def probe(self, now: float, port: int, path: str, timeout: float, matcher: str) -> ProbeResult:
        """One ALB health check against this task
        (docs/behaviour.md, "Target health checks", "Target health states and reasons").

        `mode_on(port)` and `app_healthy(now)` written out: a large fleet makes over a million
        probes an hour."""
        if port in self.blackholed_ports or not self.reachable or self.eni_id is None:
            return ProbeResult(False, Reason.TIMEOUT, duration=timeout)  # UNREACHABLE
        if not self.listening:  # REFUSED
            return ProbeResult(False, Reason.FAILED_HEALTH_CHECKS, duration=REFUSED_AFTER)
        td = self.task_definition
        profile = td.profile
        if profile.hang:  # HANGING
            return ProbeResult(False, Reason.TIMEOUT, duration=timeout)
        if port != td.first_port:
            return ProbeResult(False, Reason.FAILED_HEALTH_CHECKS, duration=REFUSED_AFTER)
        # The health-check path is a light endpoint with its own answer time
        # (`ecsim.health.latency`); slower than the timeout is a timeout, however healthy.
        answer = profile.health_latency + self.network_delay
        if answer >= timeout:
            return ProbeResult(False, Reason.TIMEOUT, duration=timeout)
        healthy = self.health_override
        if healthy is None:
            healthy = profile.health is _PASSING or profile.health_passes(
                now - (self.app_up_at or now)
            )
        return answered(matcher, 200 if healthy else profile.health_code, answer)
