"""What a sweep collects from each run: one row of plain values per run.

| metric | columns | from |
|---|---|---|
| availability, requests, rps, latency_p50, latency_p99, from_elb, from_target, status_502, status_5xx, ... | that name (or the `name` given) | the run's traffic statistics, over the whole run or a window (`between`) |
| errors | status_5xx, status_500, status_502, status_503, status_504, status_000 | 5xx by code, and failed connections |
| time_to_detect | time_to_detect[<fault step>] | seconds from each fault until a target first goes out of rotation (healthy to unhealthy, or draining when ECS deregistered it first) |
| time_to_recover | time_to_recover[<fault step>] | seconds from each fault until every service runs its desired count with as many healthy targets (`scenario.summary.faults`) |
| deployment_duration | deployment_duration[<step>] | seconds from each ecs.update_service / create_service step until the deployment it started is COMPLETED (or FAILED) |
| tasks_launched | tasks_launched | tasks that started during the run |
| task_hours | task_hours | hours of tasks from launch to STOPPED (the cost) |
| expectations_met | expectations_met | the scenario's expectations that hold |

A per-fault (per-step) column is named by the step's name (or its operation), `#2`, `#3`
for its later runs; a value is empty (None) when it did not happen (no target went out of
rotation, the service never recovered, the deployment did not finish in the run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsim.model.events import DeploymentChanged, TargetHealthChanged, TaskStateChanged
from ecsim.scenario.conditions import STATUS_METRIC, TRAFFIC_METRICS
from ecsim.scenario.operations import FAULTS
from ecsim.scenario.runner import Result, occurrences
from ecsim.scenario.spec import Bound, Scenario, Step
from ecsim.scenario.summary import faults
from ecsim.scenario.traffic_window import metric as traffic_metric

Value = int | float | str | bool | None

ERROR_CODES = ("500", "502", "503", "504", "000")
DEPLOYS = ("ecs.update_service", "ecs.create_service")
OUT_OF_ROTATION = ("unhealthy", "draining", "unused", "unavailable")
FRACTIONS = ("availability", "rps", "latency_p50", "latency_p99")
EVENT_METRICS = ("time_to_detect", "time_to_recover", "deployment_duration")
RUN_METRICS = ("errors", "tasks_launched", "task_hours", "expectations_met")
ALL = (
    "availability",
    "requests",
    "errors",
    "latency_p50",
    "latency_p99",
    "time_to_detect",
    "time_to_recover",
    "deployment_duration",
    "tasks_launched",
    "task_hours",
    "expectations_met",
)
UNITS = {
    "availability": "%",
    "latency_p50": "ms",
    "latency_p99": "ms",
    "time_to_detect": "s",
    "time_to_recover": "s",
    "deployment_duration": "s",
    "task_hours": "h",
    "rps": "/s",
}


def known(name: str) -> bool:
    return (
        name in TRAFFIC_METRICS
        or STATUS_METRIC.match(name) is not None
        or name in EVENT_METRICS
        or name in RUN_METRICS
    )


def names() -> list[str]:
    """The metric names, for messages (`status_NNN` stands for every status)."""
    return [*TRAFFIC_METRICS, "status_NNN", "status_5xx", *EVENT_METRICS, *RUN_METRICS]


def unit(column: str) -> str:
    """The unit of a column (`ms`, `s`, `%`, `h`), or "" for a count."""
    base = column.split("[", 1)[0]
    return UNITS.get(base, "")


def windowed(name: str) -> bool:
    """Whether the metric is counted over a window of traffic (and takes `between`)."""
    return name in TRAFFIC_METRICS or STATUS_METRIC.match(name) is not None


@dataclass(frozen=True)
class Metric:
    """One metric as a sweep file asks for it."""

    metric: str
    name: str  # its column (or the prefix of its columns)
    between: tuple[Bound, Bound] | None = None

    def columns(self, scenario: Scenario) -> list[str]:
        if self.metric == "errors":
            return ["status_5xx", *(f"status_{c}" for c in ERROR_CODES)]
        if self.metric in EVENT_METRICS:
            do = DEPLOYS if self.metric == "deployment_duration" else FAULTS
            return [f"{self.name}[{label}]" for label, _ in labelled(scenario, do)]
        return [self.name]


def labelled(scenario: Scenario, kinds: Any) -> list[tuple[str, float]]:
    """(column label, scenario time) of each run of the steps whose operation is in `kinds`,
    in time order: the step's name, with `#2`, `#3` for its later runs."""
    out: list[tuple[str, float]] = []
    seen: dict[str, int] = {}
    for t, _, step in occurrences(scenario, scenario.duration):
        if step.do in kinds:
            out.append((_label(step, seen), t))
    return out


def _label(step: Step, seen: dict[str, int]) -> str:
    seen[step.label] = seen.get(step.label, 0) + 1
    n = seen[step.label]
    return step.label if n == 1 else f"{step.label}#{n}"


def collect(result: Result, metrics: list[Metric]) -> dict[str, Value]:
    """The columns of `metrics` for one finished run."""
    row: dict[str, Value] = {}
    reader = _Reader(result)
    for m in metrics:
        row.update(reader.read(m))
    return row


class _Reader:
    def __init__(self, result: Result) -> None:
        self.r = result
        self.times = {
            step.name: t
            for t, _, step in reversed(occurrences(result.scenario, result.end))
            if step.name
        }
        self._whole: dict[str, Any] | None = None

    def bound(self, b: Bound) -> float:
        if b == "end":
            return self.r.end
        if isinstance(b, str):
            return self.times.get(b, self.r.end)
        return min(b, self.r.end)

    def stats(self, between: tuple[Bound, Bound] | None) -> dict[str, Any]:
        if between is None:
            if self._whole is None:
                self._whole = self.r.traffic(0.0, self.r.end)
            return self._whole
        a, b = self.bound(between[0]), self.bound(between[1])
        return self.r.traffic(a, max(a, b))

    def read(self, m: Metric) -> dict[str, Value]:
        if windowed(m.metric):
            value = traffic_metric(self.stats(m.between), m.metric)
            if value is not None and m.metric not in FRACTIONS:
                return {m.name: int(value)}  # a count
            return {m.name: _round(value, 4)}
        read: Callable[[Metric], dict[str, Value]] = getattr(self, m.metric)
        return read(m)

    # --- run metrics ----------------------------------------------------------------------

    def errors(self, m: Metric) -> dict[str, Value]:
        stats = self.stats(m.between)
        out: dict[str, Value] = {"status_5xx": int(traffic_metric(stats, "status_5xx") or 0)}
        for code in ERROR_CODES:
            out[f"status_{code}"] = int(stats["by_status"].get(code, 0))
        return out

    def tasks_launched(self, m: Metric) -> dict[str, Value]:
        first: dict[str, float] = {}
        for e in self.r.world.events(kind=TaskStateChanged):
            if isinstance(e, TaskStateChanged):
                first.setdefault(e.task_arn, e.time)
        return {m.name: sum(1 for t in first.values() if t >= self.r.t0)}

    def task_hours(self, m: Metric) -> dict[str, Value]:
        t0, t1 = self.r.t0, self.r.t0 + self.r.end
        spans: dict[str, list[float]] = {}
        for e in self.r.world.events(kind=TaskStateChanged):
            if isinstance(e, TaskStateChanged):
                span = spans.setdefault(e.task_arn, [e.time, t1])
                if e.last_status == "STOPPED":
                    span[1] = min(span[1], e.time)
        seconds = sum(max(0.0, min(b, t1) - max(a, t0)) for a, b in spans.values())
        return {m.name: round(seconds / 3600, 6)}

    def expectations_met(self, m: Metric) -> dict[str, Value]:
        return {m.name: sum(1 for o in self.r.outcomes if o.passed)}

    # --- per step ----------------------------------------------------------------------------

    def _records(self, kinds: Any) -> list[tuple[str, Any]]:
        seen: dict[str, int] = {}
        return [(_label(r.step, seen), r) for r in self.r.steps if r.step.do in kinds]

    def _columns(self, m: Metric, found: dict[str, Value]) -> dict[str, Value]:
        """Every planned column of `m`, None where the run has no value."""
        return {c: found.get(c) for c in m.columns(self.r.scenario)}

    def time_to_recover(self, m: Metric) -> dict[str, Value]:
        entries = iter(faults(self.r))
        found: dict[str, Value] = {}
        for label, record in self._records(FAULTS):
            if record.error is None:
                found[f"{m.name}[{label}]"] = next(entries)["recovered_after_s"]
        return self._columns(m, found)

    def time_to_detect(self, m: Metric) -> dict[str, Value]:
        outs: list[float] = []  # scenario times a target went out of rotation
        state: dict[tuple[str, str, int], str] = {}
        for e in self.r.world.events(kind=TargetHealthChanged):
            if isinstance(e, TargetHealthChanged):
                key = (e.target_group_arn, e.target_id, e.port)
                if state.get(key) == "healthy" and e.state in OUT_OF_ROTATION:
                    outs.append(e.time - self.r.t0)
                state[key] = e.state
        records = [(label, r) for label, r in self._records(FAULTS) if r.error is None]
        found: dict[str, Value] = {}
        for i, (label, record) in enumerate(records):
            until = records[i + 1][1].time if i + 1 < len(records) else self.r.end
            t = next((x for x in outs if record.time - 1e-9 <= x <= until), None)
            found[f"{m.name}[{label}]"] = None if t is None else round(t - record.time, 3)
        return self._columns(m, found)

    def deployment_duration(self, m: Metric) -> dict[str, Value]:
        events = [
            e
            for e in self.r.world.events(kind=DeploymentChanged)
            if isinstance(e, DeploymentChanged)
        ]
        found: dict[str, Value] = {}
        for label, record in self._records(DEPLOYS):
            if record.error is not None:
                continue
            at = self.r.t0 + record.time
            service = str(record.args.get("service") or record.args.get("serviceName") or "")
            service = service.rsplit("/", 1)[-1]
            started = next(
                (
                    e
                    for e in events
                    if abs(e.time - at) < 1e-6
                    and e.service == service
                    and e.status == "PRIMARY"
                    and e.rollout_state == "IN_PROGRESS"
                ),
                None,
            )
            if started is None:
                continue
            done = next(
                (
                    e
                    for e in events
                    if e.deployment_id == started.deployment_id
                    and e.time >= at
                    and e.rollout_state in ("COMPLETED", "FAILED")
                ),
                None,
            )
            if done is not None:
                found[f"{m.name}[{label}]"] = round(done.time - at, 3)
        return self._columns(m, found)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
