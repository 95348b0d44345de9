"""EC2 instances: they boot and they terminate; what runs on them learns of both.

`w.ec2.run_instances(..., UserData=...)` launches one; after booting (settings
`ec2.instance_boot`) it is running, and its observers (the ECS agent, `ecs/agent.py`, which
joins the cluster named in the user data) are told; when it terminates, they are told too.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ecsim.model.ec2.network import Network, Subnet
from ecsim.model.events import InfrastructureChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext

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


def cluster_from_user_data(user_data: str | None) -> str:
    text = user_data or ""
    try:
        decoded = base64.b64decode(text, validate=True).decode()
        text = decoded if "ECS_CLUSTER" in decoded else text
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    m = re.search(r"ECS_CLUSTER=([A-Za-z0-9_-]+)", text)
    return m.group(1) if m else "default"


class InstanceObserver(Protocol):
    """Told when an instance is up and running, and when it is gone."""

    def instance_running(self, inst: Instance) -> None: ...
    def instance_terminated(self, inst: Instance, reason: str | None) -> None: ...


class Instances:
    """The region's EC2 instances: their one writer."""

    def __init__(self, ctx: SimContext, net: Network) -> None:
        self.ctx = ctx
        self.net = net
        self.instances: dict[str, Instance] = {}
        self.observers: list[InstanceObserver] = []
        self._rng = ctx.streams.scalar("ec2")

    def launch(
        self, instance_type: str, image_id: str, subnet: Subnet, user_data: str | None
    ) -> Instance:
        iid = self.ctx.ids.resource("i")
        ip = self.net.allocate_ip(subnet, owner=iid)
        inst = Instance(
            iid,
            instance_type,
            image_id,
            subnet,
            ip,
            self.ctx.now,
            cluster_from_user_data(user_data),
        )
        self.instances[iid] = inst
        boot = self._rng.uniform(*self.ctx.settings.ec2.instance_boot)
        self.ctx.after(boot, self._booted, inst)
        self.ctx.emit(InfrastructureChanged(self.ctx.now, iid, "pending"))
        return inst

    def _booted(self, inst: Instance) -> None:
        if inst.state != "pending":
            return
        inst.state = "running"
        self.ctx.emit(InfrastructureChanged(self.ctx.now, inst.id, "running"))
        for observer in self.observers:
            observer.instance_running(inst)

    def terminate(self, inst: Instance, reason: str | None = None) -> None:
        """The instance goes away, and whatever ran on it
        (docs/behaviour.md, "Stop codes and reasons")."""
        if inst.state in ("shutting-down", "terminated"):
            return
        inst.state = "terminated"
        self.ctx.emit(InfrastructureChanged(self.ctx.now, inst.id, "terminated"))
        self.net.release_ip(inst.subnet, inst.private_ip)
        for observer in self.observers:
            observer.instance_terminated(inst, reason)
