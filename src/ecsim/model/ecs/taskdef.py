"""Task definitions: families of immutable revisions, each with its application profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ecsim.model.ecs.container_health import ContainerHealthCheck
from ecsim.model.ecs.profile import AppProfile


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
