"""The ECS control plane's state: clusters, task definitions, tasks, services, instances.

`EcsApi` (api.py) turns boto3-shaped calls into calls here; the scheduler and the lifecycle
do the work in simulated time.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ecsim.model.aws.tags import TagStore
from ecsim.model.ec2.network import Subnet
from ecsim.model.ecs import capacity
from ecsim.model.ecs import messages as msg
from ecsim.model.ecs import records as rec
from ecsim.model.ecs.account import AccountSettings
from ecsim.model.ecs.agent import EcsAgent
from ecsim.model.ecs.alarm_watch import DeploymentAlarmWatch
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
from ecsim.model.ecs.faults import TaskFaults
from ecsim.model.ecs.lifecycle import TaskLifecycle
from ecsim.model.ecs.placement import select
from ecsim.model.ecs.records import DeploymentRecords, ServiceDeploymentRecord
from ecsim.model.ecs.scheduler import START_FAILURES_BEFORE_THROTTLE, ServiceScheduler
from ecsim.model.ecs.service import Deployment, Service, ServiceUpdate
from ecsim.model.ecs.tagging import launch_tags
from ecsim.model.ecs.task import Container, Task
from ecsim.model.ecs.taskdef import TaskDefinition
from ecsim.model.ecs.traffic_shift import TrafficShifts
from ecsim.model.elbv2.health import TargetHealthState
from ecsim.model.elbv2.resources import Target, TargetGroup
from ecsim.model.events import ControllerStatusChanged, DeploymentChanged, ServiceChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ec2.network import Network
    from ecsim.model.elbv2.backend import ElbBackend
    from ecsim.model.elbv2.endpoints import Endpoints


class EcsBackend:
    """The one writer of clusters, task definitions, services, deployments, tasks and the
    service scheduler's state. It pokes the scheduler whenever something the scheduler
    watches changes, and tells the ELBv2 side (`endpoints`) of every change of what a task's
    address answers."""

    def __init__(
        self, ctx: SimContext, elb: ElbBackend, endpoints: Endpoints[Task], net: Network
    ) -> None:
        self.ctx = ctx
        self.elb = elb
        self.endpoints = endpoints
        self.net = net
        self.clusters: dict[str, Cluster] = {}
        self.task_definitions: dict[str, list[TaskDefinition]] = {}
        self.tags = TagStore()  # of every ECS resource, by ARN (docs/behaviour.md, "Tags")
        # (docs/behaviour.md, "Service deployment records")
        self.records = DeploymentRecords(ctx)
        self.account = AccountSettings()  # (docs/behaviour.md, "Account settings")
        # the CloudWatch alarms deployments watch (docs/behaviour.md, "Deployment alarms")
        self.alarm_watch = DeploymentAlarmWatch(self)
        self.lifecycle = TaskLifecycle(ctx, self, net, endpoints)
        self.scheduler = ServiceScheduler(self)
        # (docs/behaviour.md, "Blue/green, linear and canary deployments")
        self.shifts = TrafficShifts(self)
        self.draining = InstanceDraining(self)
        self.agent = EcsAgent(self)
        self.faults = TaskFaults(ctx, endpoints)
        # Only the random placement strategy draws from it: a stream of its own, so that
        # worlds without it draw exactly what they drew before strategies were modelled.
        self.placement_rng = ctx.streams.scalar("placement")
        self._registrations: dict[tuple[str, str, int], Task] = {}
        # Addresses promised to tasks still PROVISIONING, per subnet: placement counts them,
        # so it does not send more tasks to a subnet than it has addresses for
        # (docs/behaviour.md, "Subnet address exhaustion").
        self._reserved: Counter[str] = Counter()

    # --- lifecycle hooks (lifecycle.Hooks) ------------------------------------------------

    def activating(self, task: Task) -> None:
        if task.service is not None:
            self.scheduler.register(task.service, task)

    def deactivate(self, task: Task) -> None:
        if task.service is not None:
            self.scheduler.deregister(task.service, task)

    def changed(self, task: Task) -> None:
        svc = task.service
        if task.address_reserved and task.last_status is not TaskStatus.PROVISIONING:
            task.address_reserved = False  # it has its address now, or never will
            self._reserved[task.subnet.id] -= 1
        if task.last_status is TaskStatus.STOPPED:
            self.ctx.after(self.ctx.settings.tasks.stopped_retention, self._purge, task)
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
                if task.ip is None and task.stopped_reason == msg.no_free_address(
                    task.subnet.id, task.public_ip
                ):
                    self.scheduler.event(
                        svc, msg.unable_to_place(svc.name, task.stopped_reason), dedupe=True
                    )
            self.scheduler.task_failed(svc, task, "tasks failed to start")
        self.scheduler.poke(svc)

    def _start_failed(self, svc: Service) -> None:
        """The delay between launches grows while tasks keep failing to start
        (docs/behaviour.md, "Start-failure throttling")."""
        svc.start_failures += 1
        if svc.start_failures < START_FAILURES_BEFORE_THROTTLE:
            return
        s = self.ctx.settings.scheduler
        steps = svc.start_failures - START_FAILURES_BEFORE_THROTTLE
        delay = min(s.start_throttle_first * 2.0**steps, s.start_throttle_max)
        svc.throttled_until = self.ctx.now + delay
        self.scheduler.event(svc, msg.start_impaired(svc.name), dedupe=True)

    def _purge(self, task: Task) -> None:
        self.tags.drop(task.arn)
        cluster = self.clusters.get(task.cluster_name)
        if cluster is not None:
            cluster.tasks.pop(task.id, None)
        if task.service is not None:
            task.service.tasks.pop(task.id, None)
            if task.registrations:  # still registered: the scheduler was down since it stopped
                self.scheduler.poke(task.service)

    def index_registration(self, task: Task, tg_arn: str, port: int) -> None:
        assert task.ip is not None
        self._registrations[(tg_arn, task.ip, port)] = task

    def target_health_changed(
        self, tg: TargetGroup, target: Target, state: TargetHealthState
    ) -> None:
        """A target's health changed (a `HealthListener` of the ELBv2 backend): a task's
        target finished draining, or the scheduler has something to look at."""
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
        public_ip: bool = False,
    ) -> Task:
        """A new PROVISIONING task where placement put it; an address of `subnet` is counted
        as taken from now on (`free_addresses`)."""
        task_id = self.ctx.ids.task_id()
        containers = [
            Container(c["name"], str(c.get("image", "")), bool(c.get("essential", True)))
            for c in td.container_definitions
        ]
        task = Task(
            arn=self.ctx.ids.ecs_arn(f"task/{cluster.name}/{task_id}"),
            id=task_id,
            cluster_arn=cluster.arn,
            cluster_name=cluster.name,
            task_definition=td,
            launch_type=launch_type,
            group=group,
            started_by=started_by,
            subnet=subnet,
            created_at=self.ctx.now,
            containers=containers,
            container_instance=instance,
            public_ip=public_ip,
            address_reserved=True,
        )
        self._reserved[subnet.id] += 1
        cluster.tasks[task_id] = task
        if instance is not None:
            instance.tasks.add(task_id)
            instance.used_cpu += td.task_cpu()
            instance.used_memory += td.task_memory()
        return task

    def run_task(
        self,
        task: Task,
        overrides: dict[str, Any],
        tags: dict[str, str],
        propagate: str = "NONE",
        managed: bool = False,
        capacity_provider: str | None = None,
    ) -> None:
        """RunTask: a standalone task, placed (`new_task`), gets its tags (and its capacity
        provider, with a strategy) and starts its lifecycle."""
        task.overrides = overrides
        task.capacity_provider = capacity_provider
        propagated = (
            self.tags.of(task.task_definition.arn) if propagate == "TASK_DEFINITION" else {}
        )
        self.tags.set(task.arn, launch_tags(propagated, tags, managed, task.cluster_name))
        self.lifecycle.launch(task)

    def _release_instance(self, task: Task) -> None:
        instance = task.container_instance
        if instance is not None and task.id in instance.tasks:
            instance.tasks.discard(task.id)
            instance.used_cpu -= task.task_definition.task_cpu()
            instance.used_memory -= task.task_definition.task_memory()

    # --- tags -----------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """TagResource: `tags` added to those of `arn`, a key it has taking the new value."""
        self.tags.set(arn, tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        self.tags.remove(arn, keys)

    # --- placement ------------------------------------------------------------------------

    def subnets_of(self, network_configuration: dict[str, Any]) -> list[Subnet]:
        ids = network_configuration.get("awsvpcConfiguration", {}).get("subnets", [])
        return [self.net.subnets[i] for i in ids if i in self.net.subnets]

    def free_addresses(self, subnet: Subnet) -> int:
        """The subnet's free addresses that no task placed there is about to take."""
        return subnet.available - self._reserved[subnet.id]

    def place(
        self,
        cluster: Cluster,
        td: TaskDefinition,
        launch_type: LaunchType,
        network_configuration: dict[str, Any],
        peers: list[Task],
        strategy: list[dict[str, str]] | None = None,
        constraints: list[dict[str, str]] | None = None,
        overcommit: bool = False,
    ) -> tuple[Subnet, ContainerInstance | None] | str:
        """Where the next task goes, or why it cannot be placed
        (docs/behaviour.md, "Default placement and scale-in", "Task placement").

        Fargate balances over the subnets' AZs, among the subnets with an address no task
        placed before has claimed (docs/behaviour.md, "Subnet address exhaustion"); when none
        has one, the task is not placed, unless `overcommit` (RunTask: the task is created
        and fails to start). EC2 takes the instances that fit, then those that satisfy the
        task definition's and the call's placement constraints, then applies the placement
        strategy (placement.py); without one, the AZ with the fewest tasks of the group, then
        the instance with the fewest.
        """
        per_az = Counter(t.az for t in peers)
        reachable = [s for s in self.subnets_of(network_configuration) if self.net.azs[s.az].up]
        subnets = [s for s in reachable if self.free_addresses(s) > 0]
        if launch_type is LaunchType.FARGATE:
            if not subnets and reachable:
                full = min(reachable, key=lambda s: (per_az[s.az], reachable.index(s)))
                if overcommit:
                    return full, None
                return msg.no_free_address(full.id, assigns_public_ip(network_configuration))
            if not subnets:
                return "No Fargate capacity is available in the service's subnets"
            subnet = min(subnets, key=lambda s: (per_az[s.az], subnets.index(s)))
            return subnet, None
        instances = [
            i
            for i in cluster.instances.values()
            if i.status is ContainerInstanceStatus.ACTIVE
            and i.agent_connected
            and self.net.azs[i.az].up
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
        # Only the tasks that stay count for the balance: not those being stopped (desired
        # STOPPED), replaced (unhealthy) or leaving a DRAINING instance
        # (docs/behaviour.md, "Default placement and scale-in").
        peers = [
            t
            for t in svc.live_tasks()
            if t.desired_status is DesiredStatus.RUNNING
            and not t.replacing
            and not on_draining_instance(t)
        ]
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
            assigns_public_ip(d.network_configuration),
        )
        task.service = svc
        task.deployment_id = d.id
        if d.capacity_provider_strategy:  # (docs/behaviour.md, "Fargate capacity providers")
            task.capacity_provider = capacity.choose(
                d.capacity_provider_strategy,
                (
                    t.capacity_provider or ""
                    for t in svc.tasks.values()
                    if t.deployment_id == d.id
                    and not t.stopped
                    and t.desired_status is DesiredStatus.RUNNING
                ),
            )
        svc.tasks[task.id] = task
        source = {"SERVICE": svc.arn, "TASK_DEFINITION": d.task_definition.arn}
        propagated = (
            self.tags.of(source[svc.propagate_tags]) if svc.propagate_tags in source else {}
        )
        self.tags.set(
            task.arn,
            launch_tags(propagated, {}, svc.managed_tags, svc.cluster.name, svc.name),
        )
        return task

    # --- clusters and task definitions -----------------------------------------------------

    def add_cluster(self, cluster: Cluster, tags: dict[str, str] | None = None) -> None:
        """CreateCluster; without a containerInsights setting, a new cluster gets the
        account's (docs/behaviour.md, "Account settings")."""
        if not any(s.get("name") == "containerInsights" for s in cluster.settings):
            insights = self.account.effective("containerInsights")
            cluster.settings = [*cluster.settings, {"name": "containerInsights", "value": insights}]
        self.clusters[cluster.name] = cluster
        self.tags.set(cluster.arn, tags or {})

    def deactivate_cluster(self, cluster: Cluster) -> None:
        cluster.status = "INACTIVE"

    def update_cluster_settings(self, cluster: Cluster, settings: dict[str, str]) -> None:
        """UpdateCluster `settings` (docs/behaviour.md, "Cluster settings")."""
        kept = [s for s in cluster.settings if s.get("name") not in settings]
        cluster.settings = kept + [{"name": k, "value": v} for k, v in settings.items()]

    def put_cluster_capacity_providers(
        self, cluster: Cluster, providers: list[str], strategy: capacity.Strategy
    ) -> None:
        """(docs/behaviour.md, "Capacity providers")"""
        cluster.capacity_providers = list(providers)
        cluster.default_strategy = strategy

    def put_account_setting(self, name: str, value: str, principal: str | None) -> None:
        """PutAccountSetting (a principal's), or PutAccountSettingDefault (None: the
        account's default) (docs/behaviour.md, "Account settings")."""
        if principal is None:
            self.account.defaults[name] = value
        else:
            self.account.own[(principal, name)] = value

    def add_task_definition(self, td: TaskDefinition, tags: dict[str, str] | None = None) -> None:
        self.task_definitions.setdefault(td.family, []).append(td)
        self.tags.set(td.arn, tags or {})

    def deregister_task_definition(self, td: TaskDefinition) -> None:
        td.status = "INACTIVE"
        td.deregistered_at = self.ctx.now

    def delete_task_definition(self, td: TaskDefinition) -> None:
        """DeleteTaskDefinitions: an INACTIVE revision goes DELETE_IN_PROGRESS
        (docs/behaviour.md, "Deleting task definitions")."""
        if td.status != "DELETE_IN_PROGRESS":
            td.status = "DELETE_IN_PROGRESS"
            td.delete_requested_at = self.ctx.now

    # --- services -------------------------------------------------------------------------

    def add_service(self, svc: Service, tags: dict[str, str] | None = None) -> None:
        """CreateService: the service exists and its first deployment starts."""
        svc.cluster.services[svc.name] = svc
        self.tags.drop(svc.arn)  # a service created again under an INACTIVE one's name
        self.tags.set(svc.arn, tags or {})
        self.shifts.place(svc)
        self.start_deployment(svc, svc.task_definition)

    def update_service(self, svc: Service, update: ServiceUpdate) -> None:
        """UpdateService: record the new desired state. A new task definition, network,
        load balancers or placement (or `forceNewDeployment`) start a new deployment; the
        rest (desired count, deployment configuration, grace period, AZ rebalancing) does
        not, and the scheduler converges to it."""
        td = update.task_definition
        if update.load_balancers is not None:
            self.shifts.abort(svc)
            svc.load_balancers = update.load_balancers
            svc.live_groups = {}
            self.shifts.place(svc)
        if update.deployment_configuration is not None:
            svc.deployment_configuration = update.deployment_configuration
        if update.health_check_grace_period is not None:
            svc.health_check_grace_period = update.health_check_grace_period
        new_strategy = (
            update.capacity_provider_strategy is not None
            and update.capacity_provider_strategy != svc.capacity_provider_strategy
        )
        new_deployment = (
            update.force_new_deployment
            or td is not svc.task_definition
            or update.network_configuration is not None
            or update.load_balancers is not None
            or new_strategy
        )
        if update.capacity_provider_strategy is not None:
            svc.capacity_provider_strategy = update.capacity_provider_strategy
        svc.placement_strategy = update.placement_strategy
        svc.placement_constraints = update.placement_constraints
        if update.az_rebalancing is not None:
            svc.az_rebalancing = update.az_rebalancing
        if update.propagate_tags is not None:
            svc.propagate_tags = update.propagate_tags
        if update.managed_tags is not None:
            svc.managed_tags = update.managed_tags
        svc.extra.update(update.echoed)
        if update.network_configuration is not None:
            svc.network_configuration = update.network_configuration
        if update.desired_count is not None:
            svc.desired_count = update.desired_count
            svc.primary.desired_count = update.desired_count
            svc.steady = False
        if new_deployment:
            self.start_deployment(svc, td)
        else:
            self.service_changed(svc)
            self.scheduler.poke(svc)

    def delete_service(self, svc: Service, running: bool) -> None:
        """DeleteService: DRAINING while it has tasks or registered targets (the scheduler
        stops the tasks and deregisters the targets), then INACTIVE
        (docs/behaviour.md, "Deleting a service", "Target group reconciliation")."""
        svc.desired_count = 0
        svc.status = ServiceStatus.DRAINING
        for d in svc.deployments:
            d.desired_count = 0
        self.service_changed(svc)
        if not running and not svc.targets:
            self.service_inactive(svc)
        else:  # the scheduler stops the tasks and deregisters every target first
            self.scheduler.poke(svc, 0.0)

    def start_deployment(
        self,
        svc: Service,
        td: TaskDefinition,
        deployment_id: str | None = None,
        rollback: bool = False,
    ) -> Deployment:
        now = self.ctx.now
        self.shifts.abort(svc)  # a shift under way gives production back to blue first
        running = {t.deployment_id for t in svc.live_tasks()}
        for old in svc.deployments:
            if old.status is DeploymentStatus.PRIMARY:
                old.status = DeploymentStatus.ACTIVE
                self.scheduler.deployment_changed(svc, old)
        d = Deployment(
            id=deployment_id or self.ctx.ids.deployment_id(),
            task_definition=td,
            desired_count=svc.desired_count,
            created_at=now,
            updated_at=now,
            launch_type=svc.launch_type,
            network_configuration=svc.network_configuration,
            is_rollback=rollback,
            capacity_provider_strategy=svc.capacity_provider_strategy,
            target_group_of={p: svc.live_groups.get(p, p) for p, _ in svc.advanced()},
        )
        d.rollout_state_reason = f"ECS deployment {d.id} in progress."
        self.alarm_watch.started(svc, d)
        svc.deployments = [d] + [x for x in svc.deployments if x.id != d.id]
        self.records.started(svc, d, rollback)
        # Blue/green, linear and canary shift traffic from a completed revision that still
        # runs; a rollback, a service's first deployment and a ROLLING service do not
        # (docs/behaviour.md, "Blue/green, linear and canary deployments").
        blue = svc.last_completed
        if (
            svc.deployment_configuration.strategy.shifts_traffic
            and not rollback
            and blue is not None
            and blue.id in running
        ):
            self.shifts.start(svc, d, reconcile=len(running - {d.id}) > 1)
        svc.task_definition = td
        svc.start_failures = 0
        svc.throttled_until = 0.0
        svc.steady = False
        self.ctx.emit(
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

    def alarm_fired(self, svc: Service, d: Deployment) -> list[str]:
        """The deployment alarms of `svc` that fail deployment `d` now (in ALARM, and not
        already when `d` started); empty when none does, or when the service has no
        deployment alarms enabled (docs/behaviour.md, "Deployment alarms"). Any deployment
        strategy asks it at its checkpoints; the rolling update also fails at once when one
        of them goes into ALARM (`alarm_watch.alarm_changed`)."""
        return self.alarm_watch.fired(svc, d)

    def service_changed(self, svc: Service) -> None:
        """Record the service's desired state as it stands now."""
        self.ctx.emit(
            ServiceChanged(
                self.ctx.now,
                svc.cluster.name,
                svc.name,
                svc.status.value,
                svc.desired_count,
                svc.task_definition.arn,
            )
        )

    def stop_service_deployment(self, record: ServiceDeploymentRecord) -> None:
        """StopServiceDeployment (ROLLBACK): the deployment under way fails and the service
        rolls back to its last completed deployment, as the circuit breaker's rollback does
        (docs/behaviour.md, "Service deployment records")."""
        self._roll_back_record(record, rec.USER_ROLLBACK)

    def roll_back(self, svc: Service, reason: str) -> bool:
        """The deployment under way fails and the service rolls back to its last completed
        deployment: a lifecycle hook failed or timed out (docs/behaviour.md, "Lifecycle
        hooks"). Deployment alarms fail a deployment through `alarm_watch`. False: nothing to roll
        back (no deployment under way, or none completed before it)."""
        record = self.records.current(svc)
        previous = svc.last_completed
        if (
            record is None
            or record.status != rec.IN_PROGRESS
            or previous is None
            or previous.id == record.deployment_id
        ):
            return False
        d = svc.deployment(record.deployment_id)
        if d is not None:
            self.scheduler.event(svc, msg.deployment_failed(svc.name, d.id, reason.rstrip(".")))
        self._roll_back_record(record, reason)
        return True

    def _roll_back_record(self, record: ServiceDeploymentRecord, reason: str) -> None:
        svc = record.service
        previous = svc.last_completed
        assert previous is not None
        self.records.rollback_requested(record, reason)
        d = svc.deployment(record.deployment_id)
        if d is not None and d.rollout_state is RolloutState.IN_PROGRESS:
            d.rollout_state = RolloutState.FAILED
            d.rollout_state_reason = record.status_reason or ""
            self.scheduler.deployment_changed(svc, d)
        self.scheduler.event(svc, msg.rolling_back(svc.name, previous.id))
        self.start_deployment(
            svc, previous.task_definition, deployment_id=previous.id, rollback=True
        )

    def service_inactive(self, svc: Service) -> None:
        svc.status = ServiceStatus.INACTIVE
        self.shifts.service_gone(svc)
        self.records.service_inactive(svc)
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

    def interrupt_spot(self, task: Task) -> None:
        """A Fargate Spot interruption; the service launches a replacement at once."""
        self.lifecycle.spot_interrupted(task)
        if task.service is not None:
            self.scheduler.poke(task.service)

    def set_hook_outcome(self, svc: Service, outcome: str, stage: str | None) -> None:
        """What the service's lifecycle hooks answer from now on, at one stage or (None) at
        every stage without its own (docs/behaviour.md, "Lifecycle hooks")."""
        svc.hook_outcomes[stage or ""] = outcome

    def set_app_health(self, task: Task, healthy: bool) -> None:
        """The app starts (True) or stops (False) passing its health checks."""
        task.health_override = healthy

    # --- the service scheduler itself -----------------------------------------------------

    def set_controller(
        self, cluster: Cluster, service: Service | None, status: ControllerStatus
    ) -> None:
        """The scheduler of one service, or of the whole cluster, crashes, hangs or comes
        back. Back, it looks at its services at once; crashed or stuck, it forgets its
        planned wakeups."""
        now = self.ctx.now
        if service is None:
            cluster.controller_status = status
            services = list(cluster.services.values())
            for svc in services:
                if status is ControllerStatus.ACTIVE:
                    svc.controller = ControllerStatus.ACTIVE
        else:
            service.controller = status
            services = [service]
        for svc in services:
            self.ctx.emit(
                ControllerStatusChanged(now, cluster.name, svc.name, svc.effective_controller.value)
            )
            if svc.effective_controller is ControllerStatus.ACTIVE:
                self.scheduler.poke(svc)
            elif svc.wakeup is not None:
                svc.wakeup.cancel()
                svc.wakeup = None

    # --- Availability Zones (a `ZoneObserver`) ----------------------------------------------

    def zone_will_change(self, az: str) -> None:
        """Nothing to settle: the ELBv2 side settles the requests."""

    def zone_changed(self, az: str, up: bool) -> None:
        """A zone is cut off or back: its tasks are unreachable or reachable again, its
        instances' agents lose or regain their connection, and every service looks again."""
        for task in [t for c in self.clusters.values() for t in c.tasks.values() if t.az == az]:
            if task.stopped:
                continue
            task.reachable = up
            if not up and task.ip is not None:
                self.endpoints.unreachable(task.ip)
        for cluster in self.clusters.values():
            for ci in cluster.instances.values():
                if ci.az == az and (not up or ci.status is not ContainerInstanceStatus.INACTIVE):
                    ci.agent_connected = up
            for svc in cluster.active_services():
                self.scheduler.poke(svc)


def assigns_public_ip(network_configuration: dict[str, Any]) -> bool:
    """Whether the tasks' network interfaces get a public IP (`assignPublicIp`)."""
    awsvpc = network_configuration.get("awsvpcConfiguration", {})
    return bool(awsvpc.get("assignPublicIp") == "ENABLED")
