"""Task definitions: families of immutable revisions, each with its application profile."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ecsim.model import errors
from ecsim.model.ecs import quotas
from ecsim.model.ecs.container_health import ContainerHealthCheck
from ecsim.model.ecs.profile import AppProfile

# "1024", "1 vCPU", "0.25 vcpu" (CPU) or "512", "1GB", "1 GB" (memory): a number, perhaps with
# its unit; 32 characters at most (no number of a thousand digits to convert).
_SIZE = re.compile(r"^\s*(\d{1,24}(?:\.\d{1,6})?)\s*([A-Za-z]*)\s*$")


@dataclass
class TaskDefinition:
    arn: str
    family: str
    revision: int
    container_definitions: list[dict[str, Any]]
    network_mode: str
    requires_compatibilities: list[str]
    cpu: str | None
    memory: str | None
    profile: AppProfile
    registered_at: float
    status: str = "ACTIVE"
    deregistered_at: float | None = None
    delete_requested_at: float | None = None  # DeleteTaskDefinitions
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def family_revision(self) -> str:
        return f"{self.family}:{self.revision}"

    @property
    def essential_container(self) -> dict[str, Any]:
        """The container whose exit stops the task (the first essential one)."""
        for c in self.container_definitions:
            if c.get("essential", True):
                return c
        return self.container_definitions[0]

    def container_port(self, name: str | None = None) -> int | None:
        for c in self.container_definitions:
            if name is None or c.get("name") == name:
                for m in c.get("portMappings", []):
                    if "containerPort" in m:
                        return int(m["containerPort"])
        return None

    @cached_property
    def first_port(self) -> int | None:
        """`container_port()`, computed once (a revision never changes; every probe of a
        task asks for its port)."""
        return self.container_port()

    @cached_property
    def health_check(self) -> ContainerHealthCheck | None:
        """The essential container's `healthCheck`, if it has one."""
        return ContainerHealthCheck.parse(self.essential_container.get("healthCheck"))

    @property
    def stop_timeout(self) -> float:
        """Seconds between SIGTERM and SIGKILL: container `stopTimeout`, default 30
        (docs/behaviour.md, "Stopping a task")."""
        value = self.essential_container.get("stopTimeout")
        return float(value) if value is not None else 30.0

    def task_cpu(self) -> int:
        """CPU units the task reserves (task-level, else the sum of its containers)."""
        if self.cpu:
            return _units(self.cpu, 1024)
        return sum(int(c.get("cpu", 0)) for c in self.container_definitions)

    def task_memory(self) -> int:
        if self.memory:
            return _units(self.memory, 1024)
        return sum(
            int(c.get("memory") or c.get("memoryReservation") or 0)
            for c in self.container_definitions
        )


def _units(value: str, per: int) -> int:
    """`"256"`, `"0.25 vCPU"`, `"1 GB"` -> CPU units or MiB."""
    text = value.strip().lower()
    for suffix in ("vcpu", "gb"):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)].strip()) * per)
    return int(float(text))


def _size(value: str, unit: str, per: int) -> int | None:
    """`value` (a task-level `cpu` or `memory`) in CPU units or MiB, or None when it is not
    one: a whole number of them, or a number of `unit`s (vCPU, GB) converted."""
    found = _SIZE.match(value) if len(value) <= 32 else None
    if found is None:
        return None
    number, suffix = float(found.group(1)), found.group(2).lower()
    if suffix == unit:
        number *= per
    elif suffix or not number.is_integer():
        return None
    return int(number)


def fargate_requires(field: str) -> str:
    """RegisterTaskDefinition for Fargate without a task-level `cpu` (or `memory`): AWS's
    words name the one missing (docs/behaviour.md, "Wording audit")."""
    return f"Fargate requires that '{field}' be defined at the task level."


def task_size(cpu: str | None, memory: str | None, fargate: bool) -> tuple[str | None, str | None]:
    """RegisterTaskDefinition's task-level `cpu` and `memory` as registered: converted to CPU
    units and MiB ("1 vCPU" -> "1024", "2 GB" -> "2048"), as AWS converts them; a ClientException
    in AWS's words for a value AWS refuses (docs/behaviour.md, "ECS quotas"). On Fargate the
    pair must be one of `quotas.FARGATE_TASK_SIZES`; on EC2 the CPU is within
    `quotas.EC2_TASK_CPU`."""
    units = None if cpu is None else _size(cpu, "vcpu", 1024)
    mib = None if memory is None else _size(memory, "gb", 1024)
    if cpu is not None and (
        units is None
        or (not fargate and not quotas.EC2_TASK_CPU[0] <= units <= quotas.EC2_TASK_CPU[1])
    ):
        raise errors.ClientException("Invalid 'cpu' setting for task.")
    if memory is not None and (mib is None or mib <= 0):
        raise errors.ClientException("Invalid 'memory' setting for task.")
    if fargate and mib not in quotas.FARGATE_TASK_SIZES.get(units or 0, ()):
        raise errors.ClientException("No Fargate configuration exists for given values.")
    return (None if units is None else str(units)), (None if mib is None else str(mib))
