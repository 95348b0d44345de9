"""`w.chaos`: the faults AWS has no API for.

A task's container crashing or being OOM-killed, an app that stops passing health checks,
the service scheduler (the seed's "Manager") crashing, hanging or coming back, an EC2
instance or a whole Availability Zone failing; and, as AWS FIS injects them, CPU stress, a
blackholed port, network latency and packet loss in a task (model/verbs/faults.py) and `aws:ecs:drain-container-instances`, a
shortcut that drains a container instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecsim.model.ecs.capacity import FARGATE_SPOT
from ecsim.model.ecs.cluster import Cluster
from ecsim.model.ecs.draining import SETTABLE
from ecsim.model.ecs.enums import ContainerInstanceStatus, ControllerStatus, DesiredStatus
from ecsim.model.ecs.lifecycle import OOM_REASON, SIGKILL_EXIT
from ecsim.model.ecs.service import Service
from ecsim.model.ecs.task import Task
from ecsim.model.errors import (
    ClusterNotFoundException,
    InvalidParameterException,
    ServiceNotFoundException,
)
from ecsim.model.verbs import catalog, faults
from ecsim.model.verbs.spec import check

if TYPE_CHECKING:
    from ecsim.model.ec2.instances import Instance, Instances
    from ecsim.model.ec2.zones import Zones
    from ecsim.model.ecs.backend import EcsBackend

TaskRef = str | dict[str, Any]


class Chaos:
    """The verbs; the backends they call make the changes."""

    def __init__(self, backend: EcsBackend, instances: Instances, zones: Zones) -> None:
        self._backend = backend
        self._instances = instances
        self._zones = zones

    # --- lookups --------------------------------------------------------------------------

    def task(self, ref: str | dict[str, Any]) -> Task:
        """A task by ID, ARN, IP address or a DescribeTasks dict."""
        if isinstance(ref, dict):
            ref = str(ref.get("taskArn", ""))
        key = ref.rsplit("/", 1)[-1]
        for cluster in self._backend.clusters.values():
            task = cluster.tasks.get(key)
            if task is not None:
                return task
        for cluster in self._backend.clusters.values():
            for task in cluster.tasks.values():
                if task.ip == ref and not task.stopped:
                    return task
        raise InvalidParameterException(f"The referenced task was not found: {ref}")

    def _cluster(self, ref: str) -> Cluster:
        cluster = self._backend.clusters.get(ref.rsplit("/", 1)[-1])
        if cluster is None:
            raise ClusterNotFoundException("Cluster not found.")
        return cluster

    def _services(self, cluster: str, service: str | None) -> tuple[Cluster, list[Service]]:
        c = self._cluster(cluster)
        if service is None:
            return c, list(c.services.values())
        svc = c.services.get(service.rsplit("/", 1)[-1])
        if svc is None:
            raise ServiceNotFoundException("Service not found.")
        return c, [svc]

    # --- tasks ----------------------------------------------------------------------------

    def kill_task(self, task: TaskRef, reason: str | None = None) -> None:
        """The essential container exits: code 1 (crash, the default) or 137 with
        OutOfMemoryError (oom)."""
        reason = check(catalog.KILL_TASK, {"task": task, "reason": reason})["reason"]
        t = self.task(task)
        if not t.alive:
            raise InvalidParameterException(
                f"Task {t.id} has no running container to kill (lastStatus {t.last_status.value})."
            )
        if reason == "oom":
            self._backend.lifecycle.container_exited(t, SIGKILL_EXIT, OOM_REASON)
        else:
            self._backend.lifecycle.container_exited(t, 1, None)

    def interrupt_spot(self, task: TaskRef) -> None:
        """A Fargate Spot interruption of a task on FARGATE_SPOT
        (docs/behaviour.md, "Fargate capacity providers")."""
        check(catalog.INTERRUPT_SPOT, {"task": task})
        t = self.task(task)
        if t.capacity_provider != FARGATE_SPOT:
            raise InvalidParameterException(
                f"Task {t.id} does not run on FARGATE_SPOT: only Fargate Spot tasks are "
                "interrupted."
            )
        if t.desired_status is DesiredStatus.STOPPED:
            raise InvalidParameterException(
                f"Task {t.id} is already stopping (lastStatus {t.last_status.value})."
            )
        self._backend.interrupt_spot(t)

    def set_app_health(self, task: TaskRef, healthy: bool) -> None:
        """The app starts (True) or stops (False) passing its health checks."""
        check(catalog.SET_APP_HEALTH, {"task": task, "healthy": healthy})
        self._backend.set_app_health(self.task(task), bool(healthy))

    # The FIS task faults: a parameter left out (or None) takes its default, and every one is
    # checked against its limits, as declared in model/verbs/catalog.py (e.g. `duration`: 300 s
    # unless given, at most 12 hours).

    def stress_cpu(
        self, task: TaskRef, percent: float | None = None, duration: float | None = None
    ) -> None:
        """FIS `aws:ecs:task-cpu-stress`: a stressor takes `percent` of the task's CPU."""
        a = check(catalog.STRESS_CPU, {"task": task, "percent": percent, "duration": duration})
        faults.stress_cpu(self._backend, self.task(task), a["percent"], a["duration"])

    def blackhole_port(
        self, task: TaskRef, port: int | None = None, duration: float | None = None
    ) -> None:
        """FIS `aws:ecs:task-network-blackhole-port`: inbound TCP to `port` (default: the
        container's) is dropped."""
        a = check(catalog.BLACKHOLE_PORT, {"task": task, "port": port, "duration": duration})
        faults.blackhole_port(self._backend, self.task(task), a["port"], a["duration"])

    def delay_network(
        self, task: TaskRef, delay: float | None = None, duration: float | None = None
    ) -> None:
        """FIS `aws:ecs:task-network-latency`: the task's answers take `delay` seconds more."""
        a = check(catalog.DELAY_NETWORK, {"task": task, "delay": delay, "duration": duration})
        faults.delay_network(self._backend, self.task(task), a["delay"], a["duration"])

    def lose_packets(
        self, task: TaskRef, percent: float | None = None, duration: float | None = None
    ) -> None:
        """FIS `aws:ecs:task-network-packet-loss`: `percent` of the task's packets are lost;
        an answer lost is sent again after TCP's retransmission timeout."""
        a = check(catalog.LOSE_PACKETS, {"task": task, "percent": percent, "duration": duration})
        faults.lose_packets(self._backend, self.task(task), a["percent"], a["duration"])

    # --- the service scheduler ------------------------------------------------------------

    def _set_controller(self, cluster: str, service: str | None, status: ControllerStatus) -> None:
        verb = {
            ControllerStatus.CRASHED: catalog.CRASH_CONTROLLER,
            ControllerStatus.STUCK: catalog.HANG_CONTROLLER,
            ControllerStatus.ACTIVE: catalog.RESTORE_CONTROLLER,
        }[status]
        check(verb, {"cluster": cluster, "service": service})
        c, services = self._services(cluster, service)
        self._backend.set_controller(c, services[0] if service is not None else None, status)

    def crash_controller(self, cluster: str, service: str | None = None) -> None:
        """The scheduler of one service (or of the whole cluster) stops: nothing heals."""
        self._set_controller(cluster, service, ControllerStatus.CRASHED)

    def hang_controller(self, cluster: str, service: str | None = None) -> None:
        """The scheduler is stuck: alive, but it makes no progress (like a stuck stack)."""
        self._set_controller(cluster, service, ControllerStatus.STUCK)

    def restore_controller(self, cluster: str, service: str | None = None) -> None:
        """The scheduler comes back and converges to the desired state."""
        self._set_controller(cluster, service, ControllerStatus.ACTIVE)

    # --- deployment lifecycle hooks ------------------------------------------------------

    def set_hook_outcome(
        self, cluster: str, service: str, outcome: str | None = None, stage: str | None = None
    ) -> None:
        """What the service's lifecycle hooks answer from now on: SUCCEEDED, FAILED (the
        default) or TIMED_OUT, at one stage or (None) at every stage without its own
        (docs/behaviour.md, "Lifecycle hooks")."""
        a = check(
            catalog.SET_HOOK_OUTCOME,
            {"cluster": cluster, "service": service, "outcome": outcome, "stage": stage},
        )
        _, services = self._services(cluster, service)
        self._backend.set_hook_outcome(services[0], a["outcome"], a["stage"])

    # --- infrastructure -------------------------------------------------------------------

    def _instance(self, instance: str) -> Instance:
        """An EC2 instance by its ID, or by its container instance's ID or ARN."""
        instances = self._instances.instances
        inst = instances.get(instance)
        if inst is None:
            inst = instances.get(self._backend.agent.instance_of(instance) or "")
        if inst is None:
            raise InvalidParameterException(f"Unknown instance: {instance}")
        return inst

    def fail_instance(self, instance: str) -> None:
        """An EC2 instance (ID or container-instance ARN) is terminated; its tasks stop."""
        check(catalog.FAIL_INSTANCE, {"instance": instance})
        self._instances.terminate(self._instance(instance))

    def drain_instance(self, instance: str) -> None:
        """The container instance of an EC2 instance (ID or container-instance ARN) is set to
        DRAINING, as AWS FIS's `aws:ecs:drain-container-instances` does: the same as
        UpdateContainerInstancesState with status DRAINING."""
        check(catalog.DRAIN_INSTANCE, {"instance": instance})
        ci = self._backend.agent.container_instances.get(self._instance(instance).id)
        if ci is None or ci.status not in SETTABLE:
            raise InvalidParameterException(
                f"Instance {instance} has no ACTIVE container instance to drain."
            )
        cluster = self._cluster(ci.cluster_arn)
        self._backend.draining.set_status(cluster, ci, ContainerInstanceStatus.DRAINING)

    def fail_az(self, az: str) -> None:
        """An Availability Zone is cut off: its tasks and instances become unreachable."""
        check(catalog.FAIL_AZ, {"az": az})
        self._zones.set_up(az, False)

    def restore_az(self, az: str) -> None:
        """An Availability Zone comes back."""
        check(catalog.RESTORE_AZ, {"az": az})
        self._zones.set_up(az, True)
