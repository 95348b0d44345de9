"""EC2 instances for the EC2 launch type: they boot, and their ECS agent joins a cluster.

How a cluster gets instances is the real one: `w.ec2.run_instances(..., UserData=
"#!/bin/bash\\necho ECS_CLUSTER=home >> /etc/ecs/ecs.config")`. After booting (settings
`ec2.instance_boot`) the agent registers a container instance with the cluster named by
`ECS_CLUSTER` (or `default`). CPU and memory follow the instance type; the agent reserves a
little memory for the OS, as on the ECS-optimized AMI.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecsim.model.ec2.network import Subnet
from ecsim.model.ecs.cluster import ContainerInstance
from ecsim.model.ecs.enums import ContainerInstanceStatus
from ecsim.model.events import InfrastructureChanged

if TYPE_CHECKING:
    from ecsim.model.world import World

# vCPUs and MiB of memory per instance type.
INSTANCE_TYPES: dict[str, tuple[int, int]] = {
    "t3.micro": (2, 1024),
    "t3.small": (2, 2048),
    "t3.medium": (2, 4096),
    "t3.large": (2, 8192),
    "m5.large": (2, 8192),
    "m5.xlarge": (4, 16384),
    "m5.2xlarge": (8, 32768),
    "c5.large": (2, 4096),
    "c5.xlarge": (4, 8192),
    "c5.2xlarge": (8, 16384),
    "r5.large": (2, 16384),
    "m6i.large": (2, 8192),
}
OS_RESERVED_MEMORY = 0.05


@dataclass
class Instance:
    id: str
    instance_type: str
    image_id: str
    subnet: Subnet
    private_ip: str
    launched_at: float
    cluster: str
    state: str = "pending"
    container_instance: ContainerInstance | None = None


def cluster_from_user_data(user_data: str | None) -> str:
    text = user_data or ""
    try:
        decoded = base64.b64decode(text, validate=True).decode()
        text = decoded if "ECS_CLUSTER" in decoded else text
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    m = re.search(r"ECS_CLUSTER=([A-Za-z0-9_-]+)", text)
    return m.group(1) if m else "default"


class Instances:
    def __init__(self, world: World) -> None:
        self.world = world
        self.instances: dict[str, Instance] = {}
        self._rng = world.streams.scalar("ec2")

    def launch(
        self, instance_type: str, image_id: str, subnet: Subnet, user_data: str | None
    ) -> Instance:
        iid = self.world.ids.resource("i")
        ip = self.world.net.allocate_ip(subnet, owner=iid)
        inst = Instance(
            iid,
            instance_type,
            image_id,
            subnet,
            ip,
            self.world.now,
            cluster_from_user_data(user_data),
        )
        self.instances[iid] = inst
        boot = self._rng.uniform(*self.world.settings.ec2.instance_boot)
        self.world.kernel.after(boot, self._booted, inst)
        self.world.emit(InfrastructureChanged(self.world.now, iid, "pending"))
        return inst

    def _booted(self, inst: Instance) -> None:
        if inst.state != "pending":
            return
        inst.state = "running"
        self.world.emit(InfrastructureChanged(self.world.now, inst.id, "running"))
        backend = self.world.ecs.backend
        cluster = backend.clusters.get(inst.cluster)
        if cluster is None or cluster.status != "ACTIVE":
            return
        vcpu, mem = INSTANCE_TYPES[inst.instance_type]
        ci = ContainerInstance(
            arn=self.world.ids.ecs_arn(
                f"container-instance/{cluster.name}/{self.world.ids.hex(32)}"
            ),
            instance_id=inst.id,
            cluster_arn=cluster.arn,
            subnet=inst.subnet,
            instance_type=inst.instance_type,
            cpu=vcpu * 1024,
            memory=int(mem * (1 - OS_RESERVED_MEMORY)),
            registered_at=self.world.now,
        )
        cluster.instances[ci.arn] = ci
        inst.container_instance = ci
        for svc in cluster.active_services():
            backend.scheduler.poke(svc)

    def terminate(self, inst: Instance, reason: str | None = None) -> None:
        """The instance goes away; the tasks on it stop with it
        (docs/behaviour.md, "Stop codes and reasons")."""
        if inst.state in ("shutting-down", "terminated"):
            return
        inst.state = "terminated"
        self.world.emit(InfrastructureChanged(self.world.now, inst.id, "terminated"))
        self.world.net.release_ip(inst.subnet, inst.private_ip)
        ci = inst.container_instance
        if ci is None:
            return
        ci.status = ContainerInstanceStatus.INACTIVE
        ci.agent_connected = False
        backend = self.world.ecs.backend
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
