"""The ECS control plane's state: clusters, task definitions, tasks, services, instances.

`EcsApi` (api.py) turns boto3-shaped calls into calls here; the scheduler and the lifecycle
do the work in simulated time.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ecsim.model.ec2.network import Subnet
from ecsim.model.ecs import messages as msg
from ecsim.model.ecs.cluster import Cluster, ContainerInstance
from ecsim.model.ecs.draining import InstanceDraining, on_draining_instance
from ecsim.model.ecs.enums import (
    ContainerInstanceStatus,
    ControllerStatus,
    DeploymentStatus,
    DesiredStatus,
    LaunchType,
    RolloutState,
    ServiceStatus,
    TaskStatus,
    TaskStopCode,
)
from ecsim.model.ecs.lifecycle import TaskLifecycle
from ecsim.model.ecs.placement import select
from ecsim.model.ecs.scheduler import START_FAILURES_BEFORE_THROTTLE, ServiceScheduler
from ecsim.model.ecs.service import Deployment, Service
from ecsim.model.ecs.task import Container, Task
from ecsim.model.ecs.taskdef import TaskDefinition
from ecsim.model.elbv2.health import TargetHealthState
from ecsim.model.elbv2.resources import Target, TargetGroup
from ecsim.model.events import DeploymentChanged, ServiceChanged

if TYPE_CHECKING:
    from ecsim.model.world import World


class EcsBackend:
    def __init__(self, world: World) -> None:
        self.world = world
        self.clusters: dict[str, Cluster] = {}
        self.task_definitions: dict[str, list[TaskDefinition]] = {}
        self.lifecycle = TaskLifecycle(world, self)
        self.scheduler = ServiceScheduler(self)
        self.draining = InstanceDraining(self)
        # Only the random placement strategy draws from it: a stream of its own, so that
        # worlds without it draw exactly what they drew before strategies were modelled.
        self.placement_rng = world.streams.scalar("placement")
        self._registrations: dict[tuple[str, str, int], Task] = {}
        world.elb.health_listeners.append(self._target_health_changed)

    # --- lifecycle hooks (lifecycle.Hooks) ------------------------------------------------

    def activating(self, task: Task) -> None:
        if task.service is not None:
            self.scheduler.register(task.service, task)

    def deactivate(self, task: Task) -> None:
        if task.service is not None:
            self.scheduler.deregister(task.service, task)

    def changed(self, task: Task) -> None:
        svc = task.service
        if task.last_status is TaskStatus.STOPPED:
            self.world.kernel.after(self.world.settings.tasks.stopped_retention, self._purge, task)
            if task.container_instance is not None:
                self._release_instance(task)
        if svc is None or svc.effective_controller is not ControllerStatus.ACTIVE:
            return  # a crashed or stuck scheduler observes nothing
        if task.last_status is TaskStatus.RUNNING:
            svc.start_failures = 0
        if (
            task.desired_status is DesiredStatus.STOPPED
            and not task.counted_failure
            and task.stop_code
            in (TaskStopCode.ESSENTIAL_CONTAINER_EXITED, TaskStopCode.TASK_FAILED_TO_START)
        ):
            if not task.ever_running:
                self._start_failed(svc)
            self.scheduler.task_failed(svc, task, "tasks failed to start")
        self.scheduler.poke(svc)

    def _start_failed(self, svc: Service) -> None:
        """The delay between launches grows while tasks keep failing to start
        (docs/behaviour.md, "Start-failure throttling")."""
        svc.start_failures += 1
        if svc.start_failures < START_FAILURES_BEFORE_THROTTLE:
            return
        s = self.world.settings.scheduler
        steps = svc.start_failures - START_FAILURES_BEFORE_THROTTLE
        delay = min(s.start_throttle_first * 2.0**steps, s.start_throttle_max)
        svc.throttled_until = self.world.now + delay
        self.scheduler.event(svc, msg.start_impaired(svc.name), dedupe=True)

    def _purge(self, task: Task) -> None:
        cluster = self.clusters.get(task.cluster_name)
        if cluster is not None:
            cluster.tasks.pop(task.id, None)
        if task.service is not None:
            task.service.tasks.pop(task.id, None)

    def index_registration(self, task: Task, tg_arn: str, port: int) -> None:
        assert task.ip is not None
        self._registrations[(tg_arn, task.ip, port)] = task

    def _target_health_changed(
        self, tg: TargetGroup, target: Target, state: TargetHealthState
    ) -> None:
        key = (tg.arn, target.id, target.port)
        task = self._registrations.get(key)
        if task is None:
            return
        if (
            state is TargetHealthState.UNUSED
            and target.reason is not None
            and target.reason.value == "Target.NotRegistered"
        ):
            del self._registrations[key]
            self.lifecycle.target_drained(task, key)
        if task.service is not None:
            self.scheduler.poke(task.service)

    # --- tasks ----------------------------------------------------------------------------

    def new_task(
        self,
        cluster: Cluster,
        td: TaskDefinition,
        subnet: Subnet,
        group: str,
        started_by: str | None,
        launch_type: LaunchType,
        instance: ContainerInstance | None = None,
    ) -> Task:
        task_id = self.world.ids.task_id()
        containers = [
            Container(c["name"], str(c.get("image", "")), bool(c.get("essential", True)))
            for c in td.container_definitions
        ]
        task = Task(
            arn=self.world.ids.ecs_arn(f"task/{cluster.name}/{task_id}"),
            id=task_id,
            cluster_arn=cluster.arn,
            cluster_name=cluster.name,
            task_definition=td,
            launch_type=launch_type,
            group=group,
            started_by=started_by,
            subnet=subnet,
            created_at=self.world.now,
            containers=containers,
            container_instance=instance,
        )
        cluster.tasks[task_id] = task
        if instance is not None:
            instance.tasks.add(task_id)
            instance.used_cpu += td.task_cpu()
            instance.used_memory += td.task_memory()
        return task

    def _release_instance(self, task: Task) -> None:
        instance = task.container_instance
        if instance is not None and task.id in instance.tasks:
            instance.tasks.discard(task.id)
            instance.used_cpu -= task.task_definition.task_cpu()
            instance.used_memory -= task.task_definition.task_memory()

    # --- placement ------------------------------------------------------------------------

    def subnets_of(self, network_configuration: dict[str, Any]) -> list[Subnet]:
        ids = network_configuration.get("awsvpcConfiguration", {}).get("subnets", [])
        return [self.world.net.subnets[i] for i in ids if i in self.world.net.subnets]

    def place(
        self,
        cluster: Cluster,
        td: TaskDefinition,
        launch_type: LaunchType,
        network_configuration: dict[str, Any],
        peers: list[Task],
        strategy: list[dict[str, str]] | None = None,
        constraints: list[dict[str, str]] | None = None,
    ) -> tuple[Subnet, ContainerInstance | None] | str:
        """Where the next task goes, or why it cannot be placed
        (docs/behaviour.md, "Default placement and scale-in", "Task placement").

        Fargate balances over the subnets' AZs; EC2 takes the instances that fit, then those
        that satisfy the task definition's and the call's placement constraints, then applies
        the placement strategy (placement.py); without one, the AZ with the fewest tasks of
        the group, then the instance with the fewest.
        """
        per_az = Counter(t.az for t in peers)
        subnets = [
            s
            for s in self.subnets_of(network_configuration)
            if self.world.net.azs[s.az].up and s.available > 0
        ]
        if launch_type is LaunchType.FARGATE:
            if not subnets:
                return "No Fargate capacity is available in the service's subnets"
            subnet = min(subnets, key=lambda s: (per_az[s.az], subnets.index(s)))
            return subnet, None
        instances = [
            i
            for i in cluster.instances.values()
            if i.status is ContainerInstanceStatus.ACTIVE
            and i.agent_connected
            and self.world.net.azs[i.az].up
        ]
        if not instances:
            return "No Container Instances were found in your cluster."
        fitting = [i for i in instances if i.fits(td.task_cpu(), td.task_memory())]
        if not fitting:
            closest = min(instances, key=lambda i: i.used_cpu)
            lacking = "CPU units" if closest.used_cpu + td.task_cpu() > closest.cpu else "memory"
            return (
                f"The closest matching (container-instance {closest.arn.rsplit('/', 1)[1]}) "
                f"has insufficient {lacking} available."
            )
        every = list(td.extra.get("placementConstraints") or []) + list(constraints or [])
        chosen = select(fitting, peers, strategy or None, every, self.placement_rng)
        if isinstance(chosen, str):
            return chosen
        instance = chosen
        same_az = [s for s in subnets if s.az == instance.az]
        return (same_az[0] if same_az else instance.subnet), instance

    def place_service_task(self, svc: Service, d: Deployment) -> Task | None:
        # Tasks leaving a DRAINING instance do not count for the balance: the new task is
        # placed to balance the tasks that stay.
        peers = [t for t in svc.live_tasks() if not on_draining_instance(t)]
        where = self.place(
            svc.cluster,
            d.task_definition,
            d.launch_type,
            d.network_configuration,
            peers,
            svc.placement_strategy,
            svc.placement_constraints,
        )
        if isinstance(where, str):
            if d.launch_type is LaunchType.EC2 and not where.startswith("No Container"):
                self.scheduler.event(svc, msg.no_instance_fits(svc.name, where), dedupe=True)
            else:
                self.scheduler.event(
                    svc, msg.unable_to_place(svc.name, where.rstrip(".")), dedupe=True
                )
            return None
        subnet, instance = where
        task = self.new_task(
            svc.cluster,
            d.task_definition,
            subnet,
            f"service:{svc.name}",
            d.id,
            d.launch_type,
            instance,
        )
        task.service = svc
        task.deployment_id = d.id
        svc.tasks[task.id] = task
        return task

    # --- services -------------------------------------------------------------------------

    def start_deployment(
        self,
        svc: Service,
        td: TaskDefinition,
        deployment_id: str | None = None,
        rollback: bool = False,
    ) -> Deployment:
        now = self.world.now
        for old in svc.deployments:
            if old.status is DeploymentStatus.PRIMARY:
                old.status = DeploymentStatus.ACTIVE
                self.scheduler.deployment_changed(svc, old)
        d = Deployment(
            id=deployment_id or self.world.ids.deployment_id(),
            task_definition=td,
            desired_count=svc.desired_count,
            created_at=now,
            updated_at=now,
            launch_type=svc.launch_type,
            network_configuration=svc.network_configuration,
            is_rollback=rollback,
        )
        d.rollout_state_reason = f"ECS deployment {d.id} in progress."
        svc.deployments = [d] + [x for x in svc.deployments if x.id != d.id]
        svc.task_definition = td
        svc.start_failures = 0
        svc.throttled_until = 0.0
        svc.steady = False
        self.world.emit(
            DeploymentChanged(
                now,
                svc.cluster.name,
                svc.name,
                d.id,
                d.status.value,
                d.rollout_state.value,
                d.rollout_state_reason,
            )
        )
        self.service_changed(svc)
        self.scheduler.poke(svc)
        return d

    def service_changed(self, svc: Service) -> None:
        """Record the service's desired state as it stands now."""
        self.world.emit(
            ServiceChanged(
                self.world.now,
                svc.cluster.name,
                svc.name,
                svc.status.value,
                svc.desired_count,
                svc.task_definition.arn,
            )
        )

    def service_inactive(self, svc: Service) -> None:
        svc.status = ServiceStatus.INACTIVE
        for d in svc.deployments:
            if d.rollout_state is RolloutState.IN_PROGRESS:
                d.rollout_state = RolloutState.COMPLETED
        if svc.wakeup is not None:
            svc.wakeup.cancel()
            svc.wakeup = None
        self.service_changed(svc)

    def stop_task(self, task: Task, reason: str) -> None:
        self.lifecycle.stop(task, TaskStopCode.USER_INITIATED, reason)
        if task.service is not None:
            self.scheduler.poke(task.service)
