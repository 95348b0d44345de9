"""A loaded sweep: the base scenario, the grid of parameter points (each one a scenario
already checked), the seeds and the metrics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ecsim.scenario.spec import Scenario, Where
from ecsim.sweep.metrics import UNITS, Metric, Value

FIXED = ("sweep", "point", "seed_index", "seed")  # the first columns of every row


@dataclass(frozen=True)
class Parameter:
    name: str
    path: str
    values: tuple[Any, ...]
    where: Where  # the parameter in the sweep file


@dataclass(frozen=True)
class Condition:
    """`p95 latency_p99 < 200`: a statistic of a column over a point's runs, compared."""

    stat: str
    column: str
    op: str
    value: float
    text: str


@dataclass(frozen=True)
class Conclusion:
    compare: tuple[str, ...] = ()
    minimize: str | None = None
    where: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Point:
    """One combination of parameter values, and the scenario it makes."""

    index: int
    values: dict[str, Value]
    scenario: Scenario


@dataclass
class Sweep:
    name: str
    file: str
    question: str
    base: str  # the base scenario's name
    seed: int
    seeds: int
    parameters: list[Parameter]
    metrics: list[Metric]
    points: list[Point]
    digest: str  # of what the runs depend on (not `seeds`): runs.csv's key (--resume)
    conclusion: Conclusion | None = None
    lines: dict[str, int | None] = field(default_factory=dict)

    def columns(self) -> list[str]:
        """The table's columns: the run's key, the parameters, its error, the metrics."""
        metric_columns: list[str] = []
        for point in self.points:
            for m in self.metrics:
                metric_columns += m.columns(point.scenario)
        return [
            *FIXED,
            *(p.name for p in self.parameters),
            "error",
            *dict.fromkeys(metric_columns),
        ]

    def metric_columns(self) -> list[str]:
        return self.columns()[len(FIXED) + len(self.parameters) + 1 :]

    def unit(self, column: str) -> str:
        """The unit of a metric column (`ms`, `s`, `%`, `h`), or "" for a count."""
        for m in self.metrics:
            if column == m.name or column.startswith(m.name + "["):
                return UNITS.get(m.metric, "")
        return ""

    def runs(self) -> int:
        return len(self.points) * self.seeds


def run_seed(seed: int, seed_index: int) -> int:
    """The world seed of every run with this seed index: from the sweep's seed and the index
    alone (never from a worker, a clock or the order runs finish in), the same at every
    point, so points are compared on the same draws (common random numbers)."""
    digest = hashlib.blake2b(f"ecsim-sweep:{seed}:{seed_index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # 0 .. 2^63 - 1
