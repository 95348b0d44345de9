"""ECS vocabulary; every value is AWS's own string (botocore ecs/2014-11-13;
docs/behaviour.md, "Tasks", "The service scheduler")."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """Task `lastStatus`, in lifecycle order (docs/behaviour.md, "Task lifecycle")."""

    PROVISIONING = "PROVISIONING"
    PENDING = "PENDING"
    ACTIVATING = "ACTIVATING"
    RUNNING = "RUNNING"
    DEACTIVATING = "DEACTIVATING"
    STOPPING = "STOPPING"
    DEPROVISIONING = "DEPROVISIONING"
    STOPPED = "STOPPED"


STARTING = (TaskStatus.PROVISIONING, TaskStatus.PENDING, TaskStatus.ACTIVATING)


class DesiredStatus(StrEnum):
    RUNNING = "RUNNING"
    PENDING = "PENDING"
    STOPPED = "STOPPED"


class TaskStopCode(StrEnum):
    TASK_FAILED_TO_START = "TaskFailedToStart"
    ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
    USER_INITIATED = "UserInitiated"
    SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"
    SPOT_INTERRUPTION = "SpotInterruption"
    TERMINATION_NOTICE = "TerminationNotice"
    INFRASTRUCTURE_HEALTH = "InfrastructureHealth"


class LaunchType(StrEnum):
    EC2 = "EC2"
    FARGATE = "FARGATE"


class ContainerInstanceStatus(StrEnum):
    """A container instance's `status` (botocore `ContainerInstance.status`): ACTIVE takes
    tasks, DRAINING takes none and has its service tasks moved away, INACTIVE is gone
    (terminated or deregistered)."""

    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"
    INACTIVE = "INACTIVE"


class ServiceStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"
    INACTIVE = "INACTIVE"


class DeploymentStatus(StrEnum):
    PRIMARY = "PRIMARY"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class RolloutState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ControllerStatus(StrEnum):
    """ecsim's own: the state of a service's scheduler (the seed's "Manager")."""

    ACTIVE = "ACTIVE"
    CRASHED = "CRASHED"
    STUCK = "STUCK"


class HealthStatus(StrEnum):
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    UNKNOWN = "UNKNOWN"
