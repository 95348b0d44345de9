"""Services and their deployments, as DescribeServices shows them
(docs/behaviour.md, "The service scheduler")."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsim.model.ecs.capacity import Strategy as CapacityStrategy
from ecsim.model.ecs.enums import (
    ControllerStatus,
    DeploymentStatus,
    LaunchType,
    RolloutState,
    ServiceStatus,
    TaskStatus,
)
from ecsim.model.ecs.strategy import Strategy
from ecsim.model.ecs.taskdef import TaskDefinition
from ecsim.sim import Timer

if TYPE_CHECKING:
    from ecsim.model.ecs.cluster import Cluster
    from ecsim.model.ecs.task import Task

# bound once: on Python 3.11 reading an enum member off its class goes through
# `EnumType.__getattr__`'s hook (about 0.1 us), and every reconcile asks `effective_controller`
_ACTIVE = ControllerStatus.ACTIVE

MAX_EVENTS = 100  # DescribeServices: the 100 latest events (docs/behaviour.md, "Service events")


@dataclass
class CircuitBreaker:
    enable: bool = False
    rollback: bool = False
    reset_on_healthy_task: bool = True
    threshold_type: str = "BOUNDED_PERCENT"
    threshold_value: float = 50.0

    def threshold(self, desired: int, lo: int, hi: int) -> int:
        """Failed tasks that trip the breaker (docs/behaviour.md, "Deployment circuit breaker"):
        ceil(value% x desired), clamped."""
        if self.threshold_type == "COUNT":
            return max(1, int(self.threshold_value))
        raw = math.ceil(desired * self.threshold_value / 100.0)
        if self.threshold_type == "UNBOUNDED_PERCENT":
            return max(1, raw)
        return min(max(raw, lo), hi)


@dataclass(frozen=True)
class DeploymentAlarms:
    """`deploymentConfiguration.alarms`: the CloudWatch alarms that fail a deployment when
    they go into ALARM, and whether it then rolls back (docs/behaviour.md, "Deployment
    alarms")."""

    alarm_names: tuple[str, ...] = ()
    enable: bool = False
    rollback: bool = False


@dataclass
class DeploymentConfiguration:
    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    circuit_breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    # ROLLING, or BLUE_GREEN / LINEAR / CANARY with their bake times and lifecycle hooks
    # (docs/behaviour.md, "Blue/green, linear and canary deployments")
    strategy: Strategy = field(default_factory=Strategy)
    alarms: DeploymentAlarms | None = None  # None: never given (DescribeServices omits it)

    @property
    def watched_alarms(self) -> tuple[str, ...]:
        """The alarms a deployment watches: none unless `alarms.enable`."""
        return self.alarms.alarm_names if self.alarms is not None and self.alarms.enable else ()

    def min_healthy(self, desired: int) -> int:
        """Tasks that must stay RUNNING and healthy: ceil(desired x min%)
        (docs/behaviour.md, "Rolling update bounds")."""
        return math.ceil(desired * self.minimum_healthy_percent / 100.0 - 1e-9)

    def max_tasks(self, desired: int) -> int:
        """Tasks allowed in RUNNING or PENDING: floor(desired x max%)
        (docs/behaviour.md, "Rolling update bounds")."""
        return math.floor(desired * self.maximum_percent / 100.0 + 1e-9)


@dataclass
class Deployment:
    id: str
    task_definition: TaskDefinition
    desired_count: int
    created_at: float
    updated_at: float
    launch_type: LaunchType
    network_configuration: dict[str, Any]
    status: DeploymentStatus = DeploymentStatus.PRIMARY
    rollout_state: RolloutState = RolloutState.IN_PROGRESS
    rollout_state_reason: str = ""
    failed_tasks: int = 0
    had_healthy_task: bool = False
    is_rollback: bool = False
    # the service's capacity provider strategy when it started; empty: its launch type
    capacity_provider_strategy: CapacityStrategy = ()
    # the target group its tasks register in, for each of the service's target groups that
    # has an alternate (advancedConfiguration); not listed: the group itself
    target_group_of: dict[str, str] = field(default_factory=dict)
    # deployment alarms (alarm_watch.py): the alarms in ALARM when it started, which do not
    # fail it until they leave ALARM; when its bake time ends, once set
    ignored_alarms: set[str] = field(default_factory=set)
    bake_until: float | None = None


@dataclass
class Service:
    arn: str
    name: str
    cluster: Cluster
    task_definition: TaskDefinition
    desired_count: int
    launch_type: LaunchType
    network_configuration: dict[str, Any]
    load_balancers: list[dict[str, Any]]
    deployment_configuration: DeploymentConfiguration
    health_check_grace_period: int
    created_at: float
    created_by: str
    status: ServiceStatus = ServiceStatus.ACTIVE
    deployments: list[Deployment] = field(default_factory=list)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    controller: ControllerStatus = ControllerStatus.ACTIVE
    tasks: dict[str, Task] = field(default_factory=dict)
    last_completed: Deployment | None = None
    # scheduler state
    wakeup: Timer | None = None
    start_failures: int = 0
    throttled_until: float = 0.0
    launched_at: deque[float] = field(default_factory=deque)  # launches in the rate's window
    last_messages: dict[str, float] = field(default_factory=dict)
    steady: bool = False
    changed: bool = True  # something the scheduler watches changed since its last full look
    # Every target the scheduler registered and has not deregistered yet, with its task: kept
    # after the task is forgotten (stopped_retention), so that its target is deregistered
    # whatever happened while the scheduler was down
    # (docs/behaviour.md, "Target group reconciliation").
    targets: dict[tuple[str, str, int], Task] = field(default_factory=dict)
    # members of CreateService / UpdateService kept as given and answered back (api.py)
    extra: dict[str, Any] = field(default_factory=dict)
    # as given to CreateService / UpdateService (placement.py); empty: ECS's default
    placement_strategy: list[dict[str, str]] = field(default_factory=list)
    placement_constraints: list[dict[str, str]] = field(default_factory=list)
    # Availability Zone rebalancing (rebalancing.py): the setting, whether an operation is
    # under way, and the task it started that has yet to become healthy
    az_rebalancing: str = "DISABLED"
    # FARGATE / FARGATE_SPOT with base and weight, instead of the launch type (capacity.py)
    capacity_provider_strategy: CapacityStrategy = ()
    # which tags its new tasks get (docs/behaviour.md, "Tags"): `propagateTags` (SERVICE,
    # TASK_DEFINITION or NONE) and `enableECSManagedTags`
    propagate_tags: str = "NONE"
    managed_tags: bool = False
    rebalancing: bool = False
    rebalance_task: str | None = None
    # Blue/green: for each target group with an alternate, the one production traffic goes
    # to now (the groups swap at each completed shift), and what its lifecycle hooks answer,
    # by stage ("" : every stage) (docs/behaviour.md, "Lifecycle hooks")
    live_groups: dict[str, str] = field(default_factory=dict)
    hook_outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    def deployment(self, deployment_id: str | None) -> Deployment | None:
        """The deployment with this ID, or None (a loop, not `next()` over a generator: the
        scheduler asks it for every task of every full reconcile)."""
        for d in self.deployments:
            if d.id == deployment_id:
                return d
        return None

    def live_tasks(self) -> list[Task]:
        """Tasks not yet STOPPED, oldest first."""
        return [t for t in self.tasks.values() if not t.stopped]

    def count(self, status: TaskStatus, deployment: Deployment | None = None) -> int:
        return sum(
            1
            for t in self.tasks.values()
            if t.last_status is status and (deployment is None or t.deployment_id == deployment.id)
        )

    def running_count(self, deployment: Deployment | None = None) -> int:
        return self.count(TaskStatus.RUNNING, deployment)

    def pending_count(self, deployment: Deployment | None = None) -> int:
        """PROVISIONING, PENDING and ACTIVATING tasks that are still meant to run."""
        return sum(
            1
            for t in self.tasks.values()
            if t.is_starting
            and t.desired_status == "RUNNING"
            and (deployment is None or t.deployment_id == deployment.id)
        )

    @property
    def effective_controller(self) -> ControllerStatus:
        """The service's own scheduler status, or its cluster's when the whole cluster is down."""
        if self.controller is not _ACTIVE:
            return self.controller
        return self.cluster.controller_status

    @property
    def target_group_arns(self) -> list[str]:
        return [lb["targetGroupArn"] for lb in self.load_balancers if lb.get("targetGroupArn")]

    def advanced(self) -> list[tuple[str, dict[str, Any]]]:
        """(target group, advancedConfiguration) of each load balancer that has one."""
        return [
            (lb["targetGroupArn"], lb["advancedConfiguration"])
            for lb in self.load_balancers
            if lb.get("advancedConfiguration")
        ]

    def other_group(self, tg_arn: str) -> str:
        """The group of the pair (a load balancer's target group and its alternate) that
        production traffic does not go to now."""
        for primary, config in self.advanced():
            alternate = config["alternateTargetGroupArn"]
            live = self.live_groups.get(primary, primary)
            if tg_arn == primary:
                return alternate if live == primary else primary
        return tg_arn


@dataclass(frozen=True)
class ServiceUpdate:
    """What one UpdateService call asks for, checked; None: unchanged."""

    task_definition: TaskDefinition
    force_new_deployment: bool
    desired_count: int | None
    network_configuration: dict[str, Any] | None
    load_balancers: list[dict[str, Any]] | None
    deployment_configuration: DeploymentConfiguration | None
    health_check_grace_period: int | None
    placement_strategy: list[dict[str, str]]
    placement_constraints: list[dict[str, str]]
    az_rebalancing: str | None
    propagate_tags: str | None = None
    managed_tags: bool | None = None
    capacity_provider_strategy: CapacityStrategy | None = None
    # members kept as given and answered back (api.py: platformVersion, enableExecuteCommand)
    echoed: dict[str, Any] = field(default_factory=dict)
