"""Container instance draining: UpdateContainerInstancesState's effect on the cluster.

A container instance set to DRAINING gets no new task (placement takes ACTIVE instances
only, `EcsBackend.place`). Its service tasks leave it: those not yet RUNNING are stopped at
once; RUNNING ones are replaced by the service scheduler as it replaces the tasks of an
older deployment, within `maximumPercent` and `minimumHealthyPercent` (which bind a DRAINING
instance's tasks too, docs/behaviour.md, "Rolling update bounds"; the scheduler side is
in `ServiceScheduler._roll`). Standalone tasks (RunTask) are not touched. Set ACTIVE again,
the instance takes new tasks; nothing moves back to it. (ECS Developer Guide, "Draining
Amazon ECS container instances"; API reference of UpdateContainerInstancesState.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecsim.model.ecs.enums import ContainerInstanceStatus, ControllerStatus, DesiredStatus
from ecsim.model.events import InfrastructureChanged

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.cluster import Cluster, ContainerInstance
    from ecsim.model.ecs.task import Task

# The statuses UpdateContainerInstancesState accepts (botocore: "The only valid values for
# this action are ACTIVE and DRAINING").
SETTABLE = (ContainerInstanceStatus.ACTIVE, ContainerInstanceStatus.DRAINING)


def on_draining_instance(task: Task) -> bool:
    """Whether the task sits on a container instance that is DRAINING."""
    ci = task.container_instance
    return ci is not None and ci.draining


class InstanceDraining:
    """Sets container instances ACTIVE or DRAINING and starts moving service tasks off."""

    def __init__(self, backend: EcsBackend) -> None:
        self.backend = backend
        self.ctx = backend.ctx

    def set_status(
        self, cluster: Cluster, instance: ContainerInstance, status: ContainerInstanceStatus
    ) -> None:
        """Change an ACTIVE or DRAINING instance's status (a repeat changes nothing)."""
        assert status in SETTABLE and instance.status in SETTABLE
        if instance.status is status:
            return
        instance.status = status
        self.ctx.emit(
            InfrastructureChanged(self.ctx.now, instance.arn.split(":", 5)[5], status.value)
        )
        if status is ContainerInstanceStatus.DRAINING:
            self._stop_pending(cluster, instance)
        for svc in cluster.active_services():
            self.backend.scheduler.poke(svc)

    def _stop_pending(self, cluster: Cluster, instance: ContainerInstance) -> None:
        """Service tasks on the instance that are not RUNNING yet stop at once (the service
        scheduler does it: a crashed or stuck one leaves them until it is back)."""
        leaving: dict[str, list[Task]] = {}
        for task_id in sorted(instance.tasks):
            task = cluster.tasks.get(task_id)
            if (
                task is None
                or task.service is None
                or not task.is_starting
                or task.desired_status is not DesiredStatus.RUNNING
                or task.service.effective_controller is not ControllerStatus.ACTIVE
            ):
                continue
            leaving.setdefault(task.service.name, []).append(task)
        for name, tasks in leaving.items():
            self.backend.scheduler.stop_drained(cluster.services[name], tasks)
