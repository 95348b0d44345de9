"""Clusters and the EC2 container instances that join them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ecsim.model.ecs.capacity import Strategy
from ecsim.model.ecs.enums import ContainerInstanceStatus, ControllerStatus

if TYPE_CHECKING:
    from ecsim.model.ec2.network import Subnet
    from ecsim.model.ecs.service import Service
    from ecsim.model.ecs.task import Task


@dataclass
class ContainerInstance:
    """An EC2 instance whose ECS agent registered with a cluster."""

    arn: str
    instance_id: str
    cluster_arn: str
    subnet: Subnet
    instance_type: str
    cpu: int
    memory: int
    registered_at: float
    status: ContainerInstanceStatus = ContainerInstanceStatus.ACTIVE
    agent_connected: bool = True
    tasks: set[str] = field(default_factory=set)
    used_cpu: int = 0
    used_memory: int = 0

    @property
    def az(self) -> str:
        return self.subnet.az

    @property
    def id(self) -> str:
        """The container instance ID: the last part of its ARN."""
        return self.arn.rsplit("/", 1)[-1]

    @property
    def draining(self) -> bool:
        return self.status is ContainerInstanceStatus.DRAINING

    def fits(self, cpu: int, memory: int) -> bool:
        return self.used_cpu + cpu <= self.cpu and self.used_memory + memory <= self.memory


@dataclass
class Cluster:
    arn: str
    name: str
    created_at: float
    status: str = "ACTIVE"
    services: dict[str, Service] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    instances: dict[str, ContainerInstance] = field(default_factory=dict)
    controller_status: ControllerStatus = ControllerStatus.ACTIVE
    settings: list[dict[str, str]] = field(default_factory=list)
    # PutClusterCapacityProviders (docs/behaviour.md, "Capacity providers")
    capacity_providers: list[str] = field(default_factory=list)
    default_strategy: Strategy = ()

    def active_services(self) -> list[Service]:
        return [s for s in self.services.values() if s.status == "ACTIVE"]
