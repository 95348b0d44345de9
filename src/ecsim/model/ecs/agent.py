"""The ECS container agent on EC2 instances: it joins a cluster when its instance boots, and
its tasks stop when the instance is gone.

How a cluster gets instances is the real one: `w.ec2.run_instances(..., UserData=
"#!/bin/bash\\necho ECS_CLUSTER=home >> /etc/ecs/ecs.config")`. After the instance boots the
agent registers a container instance with the cluster named by `ECS_CLUSTER` (or `default`).
CPU and memory follow the instance type; the agent reserves a little memory for the OS, as
on the ECS-optimized AMI (docs/behaviour.md, "EC2 container instances").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecsim.model.ec2.instances import INSTANCE_TYPES, OS_RESERVED_MEMORY, Instance
from ecsim.model.ecs.cluster import ContainerInstance
from ecsim.model.ecs.enums import ContainerInstanceStatus

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend


class EcsAgent:
    """The agents of every instance of the region (an `InstanceObserver`)."""

    def __init__(self, backend: EcsBackend) -> None:
        self.backend = backend
        self.ctx = backend.ctx
        self.container_instances: dict[str, ContainerInstance] = {}  # by EC2 instance ID

    def instance_running(self, inst: Instance) -> None:
        backend = self.backend
        cluster = backend.clusters.get(inst.cluster)
        if cluster is None or cluster.status != "ACTIVE":
            return
        vcpu, mem = INSTANCE_TYPES[inst.instance_type]
        ids = self.ctx.ids
        ci = ContainerInstance(
            arn=ids.ecs_arn(f"container-instance/{cluster.name}/{ids.hex(32)}"),
            instance_id=inst.id,
            cluster_arn=cluster.arn,
            subnet=inst.subnet,
            instance_type=inst.instance_type,
            cpu=vcpu * 1024,
            memory=int(mem * (1 - OS_RESERVED_MEMORY)),
            registered_at=self.ctx.now,
        )
        cluster.instances[ci.arn] = ci
        self.container_instances[inst.id] = ci
        for svc in cluster.active_services():
            backend.scheduler.poke(svc)

    def instance_terminated(self, inst: Instance, reason: str | None) -> None:
        """The tasks on the instance stop with it (docs/behaviour.md, "Stop codes and reasons")."""
        ci = self.container_instances.get(inst.id)
        if ci is None:
            return
        ci.status = ContainerInstanceStatus.INACTIVE
        ci.agent_connected = False
        backend = self.backend
        cluster = backend.clusters.get(ci.cluster_arn.rsplit("/", 1)[-1])
        if cluster is None:
            return
        for task_id in sorted(ci.tasks):
            task = cluster.tasks.get(task_id)
            if task is not None:
                backend.lifecycle.host_lost(
                    task, reason or f"Host EC2 (instance {inst.id}) terminated."
                )
        for svc in cluster.active_services():
            backend.scheduler.poke(svc)

    def instance_of(self, ref: str) -> str | None:
        """The EC2 instance ID of a container instance, by its ARN or ID."""
        return next(
            (iid for iid, ci in self.container_instances.items() if ref in (ci.arn, ci.id)),
            None,
        )
