"""Time series folded from a world's event stream (`w.events()`): tasks per service by state,
targets per target group by health state, answers per second by status and by source, the
share of a service's production and test listener rules each target group gets
(`ForwardWeightsChanged`), and the lifecycle stage of a service's traffic-shifting deployment
(its service events).

Every series is a step function in scenario time (seconds since the scenario started): it
holds a value from one change to the next. Changes at the same instant collapse into one, so
a series never shows a state that lasted no time at all.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ecsim.model.events import (
    Event,
    ForwardWeightsChanged,
    RequestsCompleted,
    ScalingActivity,
    ServiceEvent,
    TargetHealthChanged,
    TaskStateChanged,
)
from ecsim.scenario.conditions import NO_STAGE, STAGES

PENDING_STATES = ("PROVISIONING", "PENDING", "ACTIVATING")
ENTERED_STAGE = "entered lifecycle stage "  # ecsim's event (model/ecs/messages.py)
RULE_ROLES = ("production", "test")
TARGET_STATES = ("initial", "healthy", "unhealthy", "draining", "unused", "unavailable")


def arn_name(arn: str) -> str:
    """`home-tg` for a target group ARN, `home-alb` for a load balancer ARN."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    if parts[0] == "targetgroup":
        return parts[1]
    if parts[0] == "loadbalancer":
        return parts[2]
    return parts[-1]


@dataclass
class Series:
    """A step function: `values[i]` holds from `times[i]` until `times[i + 1]`."""

    initial: float = 0.0
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def set(self, t: float, value: float) -> None:
        if self.times and self.times[-1] == t:
            before = self.values[-2] if len(self.values) > 1 else self.initial
            if before == value:
                self.times.pop()
                self.values.pop()
            else:
                self.values[-1] = value
            return
        if self.value_at(t) == value:
            return
        self.times.append(t)
        self.values.append(value)

    def value_at(self, t: float) -> float:
        i = bisect.bisect_right(self.times, t) - 1
        return self.values[i] if i >= 0 else self.initial

    def changes(self, a: float, b: float) -> list[tuple[float, float]]:
        """(time, value) at `a` and at every change in (a, b]."""
        out = [(a, self.value_at(a))]
        lo = bisect.bisect_right(self.times, a)
        hi = bisect.bisect_right(self.times, b)
        out += list(zip(self.times[lo:hi], self.values[lo:hi], strict=True))
        return out

    def lowest(self, a: float, b: float) -> float:
        return min(v for _, v in self.changes(a, b))

    def highest(self, a: float, b: float) -> float:
        return max(v for _, v in self.changes(a, b))

    def first_where(
        self, a: float, b: float, pred: Callable[[float], bool]
    ) -> tuple[float, float] | None:
        """The first (time, value) in [a, b] where `pred(value)` holds."""
        return next(((t, v) for t, v in self.changes(a, b) if pred(v)), None)

    def last_became(self, a: float, b: float, pred: Callable[[float], bool]) -> float | None:
        """The instant in [a, b] since which `pred` has held up to `b`, or None if not at `b`."""
        changes = self.changes(a, b)
        if not pred(changes[-1][1]):
            return None
        since = changes[-1][0]
        for t, v in reversed(changes):
            if not pred(v):
                break
            since = t
        return since


def combine(series: Iterable[Series], fn: Callable[[list[float]], float]) -> Series:
    """A series whose value is `fn` of the others' values, at every instant any changes."""
    parts = list(series)
    out = Series(initial=fn([s.initial for s in parts]))
    for t in sorted({t for s in parts for t in s.times}):
        out.set(t, fn([s.value_at(t) for s in parts]))
    return out


class Fold:
    """Folds events (in time order) into the series a report and the expectations read."""

    def __init__(self, t0: float = 0.0) -> None:
        self.t0 = t0
        self._tasks: dict[str, tuple[str, str]] = {}  # task ARN -> (service, lastStatus)
        self._targets: dict[str, dict[str, str]] = defaultdict(dict)  # tg -> target -> state
        self.tasks: dict[str, dict[str, Series]] = {}  # service -> RUNNING/PENDING -> series
        self.desired: dict[str, Series] = {}
        self.targets: dict[str, dict[str, Series]] = {}  # tg -> state -> series
        self.answers: dict[str, dict[int, Counter[str]]] = {}  # lb -> second -> status -> n
        self.sources: dict[str, dict[int, Counter[str]]] = {}
        self.service_events: list[ServiceEvent] = []
        self.scaling_activities: list[ScalingActivity] = []
        self.rule_roles: dict[str, str] = {}  # rule ARN -> production | test (`watch_rule`)
        self.weights: dict[str, dict[str, Series]] = {r: {} for r in RULE_ROLES}  # role -> tg
        self.stages: dict[str, Series] = {}  # service -> index in STAGES

    def fold(self, events: Iterable[Event]) -> Fold:
        for e in events:
            self.add(e)
        return self

    def service_series(self, service: str) -> dict[str, Series]:
        return self.tasks.setdefault(service, {"RUNNING": Series(), "PENDING": Series()})

    def target_series(self, tg: str) -> dict[str, Series]:
        return self.targets.setdefault(tg, {s: Series() for s in (*TARGET_STATES, "registered")})

    def watch_rule(self, arn: str, role: str, weights: list[tuple[str, int]]) -> None:
        """A service's production or test listener rule, with its weights as they are now
        (before any change the events show)."""
        self.rule_roles[arn] = role
        for tg, share in _shares(weights).items():
            self.weights[role].setdefault(tg, Series()).initial = share

    def set_desired(self, t: float, service: str, count: int) -> None:
        self.desired.setdefault(service, Series()).set(t - self.t0, float(count))
        self.service_series(service)

    def add(self, e: Event) -> None:
        t = e.time - self.t0
        if isinstance(e, TaskStateChanged):
            if not e.group.startswith("service:"):
                return
            service = e.group.split(":", 1)[1]
            self._tasks[e.task_arn] = (service, e.last_status)
            counts = Counter(s for svc, s in self._tasks.values() if svc == service)
            series = self.service_series(service)
            series["RUNNING"].set(t, counts["RUNNING"])
            series["PENDING"].set(t, sum(counts[s] for s in PENDING_STATES))
        elif isinstance(e, TargetHealthChanged):
            tg = arn_name(e.target_group_arn)
            states = self._targets[tg]
            key = f"{e.target_id}:{e.port}"
            if e.state == "unused" and e.reason == "Target.NotRegistered":
                states.pop(key, None)
            else:
                states[key] = e.state
            counts = Counter(states.values())
            series = self.target_series(tg)
            for state in TARGET_STATES:
                series[state].set(t, counts[state])
            series["registered"].set(t, len(states))
        elif isinstance(e, RequestsCompleted):
            lb = arn_name(e.load_balancer)
            second = math.floor(t - e.period + 1e-9)
            self.answers.setdefault(lb, defaultdict(Counter))[second].update(e.by_status)
            self.sources.setdefault(lb, defaultdict(Counter))[second].update(e.by_source)
        elif isinstance(e, ForwardWeightsChanged):
            role = self.rule_roles.get(e.rule)
            if role is not None:
                shares = _shares(list(e.weights))
                for tg in sorted({*shares, *self.weights[role]}):
                    self.weights[role].setdefault(tg, Series()).set(t, shares.get(tg, 0.0))
        elif isinstance(e, ServiceEvent):
            self.service_events.append(e)
            _, found, stage = e.message.rstrip(".").partition(ENTERED_STAGE)
            if found and stage in STAGES:
                self.stages.setdefault(e.service, Series(initial=NO_STAGE)).set(
                    t, float(STAGES.index(stage))
                )
        elif isinstance(e, ScalingActivity):
            self.scaling_activities.append(e)

    # --- reading --------------------------------------------------------------------------

    def metric(self, metric: str, subject: str) -> Series:
        """The series of a state metric (see conditions.py) of a service or target group."""
        if metric == "desired_count":
            return self.desired.get(subject, Series())
        if metric == "lifecycle_stage":
            return self.stages.get(subject, Series(initial=NO_STAGE))
        if metric in ("production_weight", "test_weight"):
            role = metric.removesuffix("_weight")
            return self.weights[role].get(subject, Series())
        if metric in ("running_count", "pending_count"):
            key = "RUNNING" if metric == "running_count" else "PENDING"
            return self.service_series(subject)[key]
        state = metric.removesuffix("_targets")
        return self.target_series(subject)[state]

    def answers_per_second(self, lb: str | None = None) -> dict[int, Counter[str]]:
        """Answers by status per second of scenario time, of one load balancer or of all."""
        out: dict[int, Counter[str]] = defaultdict(Counter)
        for name, per_second in self.answers.items():
            if lb is None or name == lb:
                for second, counts in per_second.items():
                    out[second].update(counts)
        return dict(sorted(out.items()))


def _shares(weights: list[tuple[str, int]]) -> dict[str, float]:
    """{target group name: % of the rule's traffic} for a forward action's (ARN, weight)
    pairs; all 0 when every weight is 0."""
    total = sum(w for _, w in weights)
    return {arn_name(arn): (100.0 * w / total if total else 0.0) for arn, w in weights}
