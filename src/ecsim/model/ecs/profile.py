"""The application inside a task: how fast it starts, answers, fails and passes health checks.

AWS knows nothing of this; ecsim reads it from the container definition's `dockerLabels`
(keys starting with `ecsim.`) so that a plain `register_task_definition` can describe a good
revision and a bad one:

| label | meaning | default |
|---|---|---|
| `ecsim.startup` | seconds from container start until the app answers | `2s` |
| `ecsim.start` | `ok`, `crash` (exits with code 1 right after starting), `pull-error` (never starts: CannotPullContainerError) | `ok` |
| `ecsim.crash-after` | the essential container exits with code 1 this long after it starts | never |
| `ecsim.latency.median` | median answer time (lognormal) | `20ms` |
| `ecsim.latency.sigma` | lognormal shape (log-space standard deviation) | `0.4` |
| `ecsim.error-rate` | fraction of requests the app answers with 500 | `0` |
| `ecsim.capacity` | requests per second one task serves before it queues | `200` |
| `ecsim.memory` | memory in use, percent of the task's reservation (ECS `MemoryUtilization`) | `30` |
| `ecsim.health` | `passing`, `failing`, `failing-after:<duration>`, `flapping:<duration>` | `passing` |
| `ecsim.health.code` | HTTP status the health check path answers while failing | `503` |
| `ecsim.health.latency` | how long the health-check path takes to answer | `5ms` |
| `ecsim.shutdown` | seconds the app takes to exit after SIGTERM, or `ignore` (SIGKILL after stopTimeout) | `1s` |
| `ecsim.hang` | `true`: the app accepts connections but never answers (504s, health-check timeouts) | `false` |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeVar

from ecsim.model.durations import parse_duration

LABEL_PREFIX = "ecsim."
_E = TypeVar("_E", bound=StrEnum)


class StartBehaviour(StrEnum):
    OK = "ok"
    CRASH = "crash"
    PULL_ERROR = "pull-error"


class HealthBehaviour(StrEnum):
    PASSING = "passing"
    FAILING = "failing"
    FAILING_AFTER = "failing-after"
    FLAPPING = "flapping"


@dataclass(frozen=True, slots=True)
class AppProfile:
    startup: float = 2.0
    start: StartBehaviour = StartBehaviour.OK
    crash_after: float | None = None
    latency_median: float = 0.020
    latency_sigma: float = 0.4
    error_rate: float = 0.0
    capacity: float = 200.0
    memory: float = 30.0
    health: HealthBehaviour = HealthBehaviour.PASSING
    health_period: float = 0.0
    health_code: int = 503
    health_latency: float = 0.005
    shutdown: float | None = 1.0
    hang: bool = False

    def health_passes(self, age: float) -> bool:
        """Whether the health-check path answers OK `age` seconds after the app came up."""
        if self.health is HealthBehaviour.PASSING:
            return True
        if self.health is HealthBehaviour.FAILING:
            return False
        if self.health is HealthBehaviour.FAILING_AFTER:
            return age < self.health_period
        return math.floor(age / self.health_period) % 2 == 0

    @property
    def log_mu(self) -> float:
        return math.log(self.latency_median)


class ProfileError(ValueError):
    """A label of the `ecsim.` family has a value that cannot be read."""


def _number(key: str, value: str, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ProfileError(f"dockerLabels[{key!r}] must be a number, got {value!r}") from None
    if not lo <= x <= hi:
        raise ProfileError(f"dockerLabels[{key!r}] must be between {lo} and {hi}, got {value!r}")
    return x


def _duration(key: str, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as e:
        raise ProfileError(f"dockerLabels[{key!r}]: {e}") from None


def _choice(key: str, value: str, enum: type[_E]) -> _E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ProfileError(
            f"dockerLabels[{key!r}] must be one of {allowed}; got {value!r}"
        ) from None


def profile_from_labels(labels: dict[str, str]) -> AppProfile:
    """The profile the `ecsim.*` labels describe; other labels are the app's own business."""
    values: dict[str, Any] = {}
    for key, raw in labels.items():
        if not key.startswith(LABEL_PREFIX):
            continue
        value = str(raw).strip()
        name = key[len(LABEL_PREFIX) :]
        if name == "startup":
            values["startup"] = _duration(key, value)
        elif name == "start":
            values["start"] = _choice(key, value, StartBehaviour)
        elif name == "crash-after":
            values["crash_after"] = _duration(key, value)
        elif name == "latency.median":
            median = _duration(key, value if value[-1:].isalpha() else value + "ms")
            if median <= 0:
                raise ProfileError(f"dockerLabels[{key!r}] must be above 0, got {value!r}")
            values["latency_median"] = median
        elif name == "latency.sigma":
            values["latency_sigma"] = _number(key, value, 0.0, 3.0)
        elif name == "error-rate":
            values["error_rate"] = _number(key, value, 0.0, 1.0)
        elif name == "capacity":
            values["capacity"] = _number(key, value, 0.001, 1e9)
        elif name == "memory":
            values["memory"] = _number(key, value, 0.0, 100.0)
        elif name == "health":
            kind, _, period = value.partition(":")
            health = _choice(key, kind, HealthBehaviour)
            needs_period = health in (HealthBehaviour.FAILING_AFTER, HealthBehaviour.FLAPPING)
            if needs_period != bool(period):
                raise ProfileError(
                    f"dockerLabels[{key!r}]: write passing, failing, failing-after:<duration> "
                    f"or flapping:<duration>; got {value!r}"
                )
            values["health"] = health
            if period:
                seconds = _duration(key, period)
                if seconds <= 0:
                    raise ProfileError(f"dockerLabels[{key!r}]: the period must be above 0")
                values["health_period"] = seconds
        elif name == "health.latency":
            values["health_latency"] = _duration(
                key, value if value[-1:].isalpha() else value + "ms"
            )
        elif name == "health.code":
            values["health_code"] = int(_number(key, value, 100, 599))
        elif name == "shutdown":
            values["shutdown"] = None if value == "ignore" else _duration(key, value)
        elif name == "hang":
            if value not in ("true", "false"):
                raise ProfileError(f"dockerLabels[{key!r}] must be true or false, got {value!r}")
            values["hang"] = value == "true"
        else:
            raise ProfileError(
                f"unknown label {key!r}; ecsim reads startup, start, crash-after, latency.median, "
                "latency.sigma, error-rate, capacity, memory, health, health.code, health.latency, "
                "shutdown, hang"
            )
    return replace(AppProfile(), **values)
