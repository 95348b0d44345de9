"""Conditions an expectation checks: `running_count(home-service) == 3`, `availability >= 99.5%`,
`status_5xx == 0`, `latency_p99 < 300ms`.

State metrics (a value at each instant, of a service or a target group):
  desired_count, running_count, pending_count                        (service)
  lifecycle_stage (a stage's name, compared in AWS's order)          (service)
  healthy_targets, unhealthy_targets, initial_targets, draining_targets,
  registered_targets                                                 (target group)
  production_weight, test_weight (% of the rule's traffic)           (target group)
Traffic metrics (over a window, optionally of one load balancer):
  requests, rps, availability (%), latency_p50 / latency_p99 (ms),
  status_200, status_5xx, status_502, ... (count of answers), from_elb, from_target
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

SERVICE_METRICS = ("desired_count", "running_count", "pending_count", "lifecycle_stage")
TARGET_METRICS = (
    "healthy_targets",
    "unhealthy_targets",
    "initial_targets",
    "draining_targets",
    "registered_targets",
    "production_weight",
    "test_weight",
)
WEIGHT_METRICS = ("production_weight", "test_weight")
# lifecycle_stage's values: AWS's stages in their order (botocore's
# ServiceDeploymentLifecycleStage); the series holds a stage's index, NO_STAGE before any
STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
NO_STAGE = -1.0
TRAFFIC_METRICS = (
    "requests",
    "rps",
    "availability",
    "latency_p50",
    "latency_p99",
    "from_elb",
    "from_target",
)
STATUS_METRIC = re.compile(r"^status_(\d{3}|\dxx)$")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_SYNTAX = re.compile(
    r"^\s*(?P<metric>[a-z][a-z0-9_]*)\s*(?:\(\s*(?P<subject>[^()]*?)\s*\))?\s*"
    r"(?P<op>==|!=|>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?|[A-Z][A-Z_]*)\s*(?P<unit>%|ms|s)?\s*$"
)


class ConditionError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    metric: str
    subject: str | None
    op: str
    value: float
    text: str

    @property
    def kind(self) -> str:
        """`service`, `target_group` or `traffic`."""
        if self.metric in SERVICE_METRICS:
            return "service"
        if self.metric in TARGET_METRICS:
            return "target_group"
        return "traffic"

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.metric == "lifecycle_stage" and value == NO_STAGE:
            return self.op == "!="  # before any stage: no stage's equal, before or after
        return OPERATORS[self.op](value, self.value)

    def show(self, value: float | None) -> str | None:
        """A value in the metric's own words (a stage's name, a weight's %); None: a number."""
        if value is None:
            return None
        if self.metric == "lifecycle_stage":
            i = int(value)
            return STAGES[i] if 0 <= i < len(STAGES) else "no stage"
        if self.metric in WEIGHT_METRICS:
            return f"{value:g} %" if value == int(value) else f"{value:.3g} %"
        return None


def all_metrics() -> list[str]:
    return [*SERVICE_METRICS, *TARGET_METRICS, *TRAFFIC_METRICS, "status_<code> (e.g. status_5xx)"]


def parse_condition(text: str) -> Condition:
    """Parse `metric(subject) op value[unit]`. Raises ConditionError saying what was expected."""
    m = _SYNTAX.match(text)
    if m is None:
        raise ConditionError(
            f"expected a condition like 'running_count(home-service) == 3' or "
            f"'availability >= 99.5%'; got {text!r}"
        )
    metric, subject, op = m.group("metric"), m.group("subject"), m.group("op")
    written, unit = m.group("value"), m.group("unit")
    if metric == "lifecycle_stage":
        if written not in STAGES or unit:
            raise ConditionError(
                f"lifecycle_stage takes a stage's name; expected one of: {', '.join(STAGES)}; "
                f"got {text!r}"
            )
        return Condition(metric, subject or None, op, float(STAGES.index(written)), text.strip())
    if not written[0].isdigit() and written[0] != "-":
        raise ConditionError(f"only lifecycle_stage takes a name as its value; got {text!r}")
    value = float(written)
    known = (*SERVICE_METRICS, *TARGET_METRICS, *TRAFFIC_METRICS)
    if metric not in known and not STATUS_METRIC.match(metric):
        import difflib

        close = difflib.get_close_matches(metric, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConditionError(
            f"unknown metric {metric!r}{hint}; expected one of: {', '.join(all_metrics())}"
        )
    if unit == "%" and metric not in ("availability", *WEIGHT_METRICS):
        raise ConditionError(
            f"'%' only goes with availability, production_weight and test_weight; got {text!r}"
        )
    if unit in ("ms", "s") and not metric.startswith("latency_"):
        raise ConditionError(f"a time unit only goes with latency_p50/latency_p99; got {text!r}")
    if unit == "s":
        value *= 1000.0
    return Condition(metric, subject or None, op, value, text.strip())
