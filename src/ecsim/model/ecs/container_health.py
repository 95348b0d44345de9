"""Container health checks: the task definition's `healthCheck`, run by the agent
(docs/behaviour.md, "Container health checks").

A check runs every `interval` seconds from container start and passes when the app is up and
its health path answers OK within `timeout`. `retries` consecutive failures make the container
UNHEALTHY; during `startPeriod` failures do not count and one success makes it HEALTHY. Docker
HEALTHCHECKs baked into the image are ignored; only the task definition's check counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecsim.model.errors import ClientException

# (default, low, high) per field (botocore `HealthCheck`).
LIMITS = {
    "interval": (30, 5, 300),
    "timeout": (5, 2, 60),
    "retries": (3, 1, 10),
    "startPeriod": (0, 0, 300),
}


@dataclass(frozen=True, slots=True)
class ContainerHealthCheck:
    interval: float
    timeout: float
    retries: int
    start_period: float

    @classmethod
    def parse(cls, raw: Any) -> ContainerHealthCheck | None:
        """The check of a container definition, or None; ClientException when invalid."""
        if raw is None:
            return None
        if not isinstance(raw, dict) or not raw.get("command"):
            raise ClientException("healthCheck.command should not be null or empty.")
        values: dict[str, int] = {}
        for name, (default, lo, hi) in LIMITS.items():
            value = raw.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ClientException(
                    f"healthCheck.{name} must be an integer between {lo} and {hi}; got {value!r}."
                )
            values[name] = value
        return cls(values["interval"], values["timeout"], values["retries"], values["startPeriod"])
