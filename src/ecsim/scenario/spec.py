"""A loaded scenario: the world to build, the timeline of calls, and the expectations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ecsim.scenario import limits
from ecsim.scenario.conditions import Condition

Bound = float | str  # seconds since the start, a step name, or "end"


@dataclass(frozen=True)
class Where:
    """Where something was written: for messages that point back at the file."""

    file: str
    line: int | None
    field: str


@dataclass(frozen=True)
class Step:
    """One call of `w.ecs`, `w.elbv2`, `w.ec2`, `w.application_autoscaling`, `w.chaos` or
    `w.traffic`, once or repeated."""

    do: str
    args: dict[str, Any]
    where: Where
    at: float | None = None
    every: float | None = None
    start: float = 0.0
    until: float | None = None
    times: int | None = None
    name: str | None = None
    expect_error: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.do

    def count(self, duration: float) -> int:
        """How many times this step runs within [0, duration] (`occurrences`, not listed)."""
        if self.at is not None:
            return 1 if self.at <= duration else 0
        assert self.every is not None
        end = duration if self.until is None else min(self.until, duration)
        if self.start > end + 1e-9:
            return 0
        if self.every <= 0:
            return 1  # (as `occurrences`; the loader refuses a period below limits.MIN_EVERY)
        n = math.floor((end + 1e-9 - self.start) / self.every) + 1
        return n if self.times is None else min(n, self.times)

    def occurrences(self, duration: float) -> list[float]:
        """The scenario times this step runs at, within [0, duration]."""
        if self.at is not None:
            return [self.at] if self.at <= duration else []
        assert self.every is not None
        end = duration if self.until is None else min(self.until, duration)
        out: list[float] = []
        t = self.start
        while t <= end + 1e-9 and (self.times is None or len(out) < self.times):
            out.append(t)
            if self.every <= 0:
                break
            t = self.start + self.every * len(out)
        return out


@dataclass(frozen=True)
class Expectation:
    """Something that must hold: a condition (`that`) or a service event that must appear."""

    text: str
    where: Where
    condition: Condition | None = None
    event: str | None = None
    service: str | None = None
    at: float | None = None
    between: tuple[Bound, Bound] | None = None
    within: float | None = None
    of: str | None = None
    note: str | None = None


@dataclass
class Scenario:
    name: str
    file: str
    duration: float
    world: dict[str, Any]
    seed: int = 0
    summary: str = ""
    explanation: str = ""
    start: str = "steady"
    settings: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    lines: dict[str, int | None] = field(default_factory=dict)

    def too_many_calls(self, duration: float) -> tuple[Step, int, int] | None:
        """The step by which a run of `duration` makes more than `limits.MAX_CALLS` calls,
        with its count and the count of all steps up to it; None when the run makes fewer."""
        total = 0
        for step in self.steps:
            n = step.count(duration)
            total += n
            if total > limits.MAX_CALLS:
                return step, n, total
        return None

    def services(self) -> list[str]:
        names = [str(s["name"]) for s in self.world.get("services", [])]
        for step in self.steps:
            if step.do == "ecs.create_service" and isinstance(step.args.get("serviceName"), str):
                names.append(step.args["serviceName"])
        return list(dict.fromkeys(names))

    def target_groups(self) -> list[str]:
        return [str(t["name"]) for t in self.world.get("target_groups", [])]

    def load_balancers(self) -> list[str]:
        return [str(lb["name"]) for lb in self.world.get("load_balancers", [])]


INFINITY = math.inf
