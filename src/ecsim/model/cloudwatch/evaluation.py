"""How a CloudWatch metric alarm decides its state from its datapoints, and says why
(docs/behaviour.md, "CloudWatch alarms").

Pure functions of the datapoints of the alarm's evaluation range (oldest first, None where a
period has no datapoint), its settings and its current state:

- at least `EvaluationPeriods` (N) real datapoints in the range: the most recent N decide,
  and `TreatMissingData` is not used;
- fewer: every real datapoint counts, and the most recent missing periods fill the rest, as
  `TreatMissingData` says: `breaching`, `notBreaching`, or unknown (`missing`, `ignore`);
- ALARM when at least `DatapointsToAlarm` (M) of the N are breaching; with unknown fills that
  could still make M, `ignore` keeps the current state; no real datapoint at all is
  INSUFFICIENT_DATA with `missing`, the current state with `ignore`; otherwise OK.

The StateReason is CloudWatch's sentence ("Threshold Crossed: 1 out of the last 1 datapoints
[5.0 (01/01/26 00:02:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK ->
ALARM transition)."), the StateReasonData its JSON.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

# ComparisonOperator: (breaching?, CloudWatch's words in a StateReason)
COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
# the anomaly detection band's operators: valid on AWS, not modelled
BAND_COMPARISONS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
# How many periods before the N evaluated ones the evaluation range reaches back: AWS reads
# "a higher number of data points than the number specified as Evaluation Periods" without
# saying how many; its worked example (3 periods) shows 5 (docs/behaviour.md, "CloudWatch
# alarms").
RANGE_EXTRA = 2

Point = tuple[float, float | None]  # (period start, value or None), simulated seconds


@dataclass(frozen=True)
class Rule:
    """What an alarm compares: its threshold, operator, N, M and missing-data treatment."""

    threshold: float
    comparison: str
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing: str = "missing"

    def breaching(self, value: float) -> bool:
        return COMPARISONS[self.comparison][0](value, self.threshold)


@dataclass(frozen=True)
class Outcome:
    """An evaluation: the state (None: keep the current one), its reason, and the datapoints
    that decided it ((period start, value), missing ones as None)."""

    state: str | None
    reason: str
    evaluated: list[Point]


def evaluate(points: Sequence[Point], rule: Rule, current: str) -> Outcome:
    """The state the datapoints of the evaluation range (oldest first) give."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    real = [(t, v) for t, v in points if v is not None]
    if len(real) >= n:
        window: list[Point] = list(real[-n:])
        fills = 0
    else:
        fills = n - len(real)
        missing_slots = [t for t, v in points if v is None][-fills:] if fills else []
        window = sorted([*real, *((t, None) for t in missing_slots)], key=lambda p: p[0])
        fills = len(missing_slots)
    breaching = [p for p in window if p[1] is not None and rule.breaching(p[1])]
    fill_breaching = rule.treat_missing == "breaching"
    b = len(breaching) + (fills if fill_breaching else 0)
    if b >= m:
        return Outcome(ALARM, _alarm_reason(rule, window, breaching, fills, current), window)
    unknown = rule.treat_missing in ("ignore", "missing")
    if not real and unknown:
        if rule.treat_missing == "ignore":
            return Outcome(None, "", window)
        return Outcome(INSUFFICIENT_DATA, _insufficient_reason(n), window)
    if unknown and fills and b + fills >= m and rule.treat_missing == "ignore":
        return Outcome(None, "", window)
    return Outcome(OK, _ok_reason(rule, window, fills, current), window)


def comparison_words(comparison: str) -> str:
    return COMPARISONS[comparison][1]


def number(value: float) -> str:
    """A double as CloudWatch writes it in a StateReason (Java's `Double.toString`):
    `0.0`, `80.0`, `1.0E-5`, `1.0E308`."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text if "e" not in text else _java_exponent(value)
    return _java_exponent(value)


def _java_exponent(value: float) -> str:
    mantissa, _, exponent = f"{value:.16e}".partition("e")
    digits = repr(float(mantissa)) if abs(float(mantissa)) < 10 else mantissa
    return f"{digits}E{int(exponent)}"


def stamp(when: datetime) -> str:
    """A datapoint's time in a StateReason: `01/01/26 00:02:00` (dd/MM/yy HH:mm:ss, UTC)."""
    return when.strftime("%d/%m/%y %H:%M:%S")


def iso(when: datetime) -> str:
    """A time in StateReasonData: `2026-01-01T00:02:00.000+0000`."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _listing(points: Sequence[Point], at: Callable[[float], datetime]) -> str:
    """The datapoints named in a reason, newest first: `[5.0 (01/01/26 00:02:00)]`."""
    shown = [f"{number(v)} ({stamp(at(t))})" for t, v in reversed(points) if v is not None]
    return "[" + ", ".join(shown) + "]"


# The reasons are built in two steps: the words here, the listing of datapoints by the caller
# (which knows the clock); `{points}` marks where the listing goes.
def _alarm_reason(
    rule: Rule, window: list[Point], breaching: list[Point], fills: int, current: str
) -> str:
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    words = comparison_words(rule.comparison)
    if not breaching:
        return (
            f"Threshold Crossed: no datapoints were received for {_plural(fills, 'period')} "
            f"and {_plural(fills, 'missing datapoint')} "
            f"{'was' if fills == 1 else 'were'} treated as [Breaching]."
        )
    count = len(breaching) + (fills if rule.treat_missing == "breaching" else 0)
    return (
        f"Threshold Crossed: {count} out of the last {n} datapoints {{points}} "
        f"{'was' if count == 1 else 'were'} {words} the threshold ({number(rule.threshold)}) "
        f"(minimum {_plural(m, 'datapoint')} for {_from(current, ALARM)} -> ALARM transition)."
    )


def _ok_reason(rule: Rule, window: list[Point], fills: int, current: str) -> str:
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    words = comparison_words(rule.comparison)
    fine = [p for p in window if p[1] is not None and not rule.breaching(p[1])]
    if not fine:
        return (
            f"Threshold Crossed: no datapoints were received for {_plural(fills, 'period')} "
            f"and {_plural(fills, 'missing datapoint')} "
            f"{'was' if fills == 1 else 'were'} treated as [NonBreaching]."
        )
    count = len(fine) + (fills if rule.treat_missing == "notBreaching" else 0)
    least = n - m + 1
    return (
        f"Threshold Crossed: {count} out of the last {n} datapoints {{points}} "
        f"{'was' if count == 1 else 'were'} not {words} the threshold "
        f"({number(rule.threshold)}) (minimum {_plural(least, 'datapoint')} for "
        f"{_from(current, OK)} -> OK transition)."
    )


def _insufficient_reason(n: int) -> str:
    return f"Insufficient Data: {_plural(n, 'datapoint')} {'was' if n == 1 else 'were'} unknown."


def _from(current: str, to: str) -> str:
    """The state a transition is from, in the reason (an evaluation that keeps the state
    names the other one, as CloudWatch's reasons do: "OK -> ALARM")."""
    if current != to:
        return current
    return OK if to == ALARM else ALARM


def reason_text(outcome: Outcome, rule: Rule, at: Callable[[float], datetime]) -> str:
    """The outcome's StateReason with its datapoints listed (those on the side it names)."""
    if "{points}" not in outcome.reason:
        return outcome.reason
    if outcome.state == ALARM:
        chosen = [p for p in outcome.evaluated if p[1] is not None and rule.breaching(p[1])]
    else:
        chosen = [p for p in outcome.evaluated if p[1] is not None and not rule.breaching(p[1])]
    return outcome.reason.replace("{points}", _listing(chosen, at))


def reason_data(
    outcome: Outcome,
    rule: Rule,
    statistic: str,
    period: int,
    samples: dict[float, float],
    query: datetime,
    at: Callable[[float], datetime],
) -> str:
    """StateReasonData: the JSON CloudWatch attaches to an evaluated state."""
    real = [(t, v) for t, v in outcome.evaluated if v is not None]
    data: dict[str, object] = {
        "version": "1.0",
        "queryDate": iso(query),
        "statistic": statistic,
        "period": period,
        "recentDatapoints": [v for _, v in real],
        "threshold": rule.threshold,
        "evaluatedDatapoints": [
            {
                "timestamp": iso(at(t)),
                **({"sampleCount": samples[t]} if t in samples else {}),
                "value": v,
            }
            for t, v in reversed(real)
        ],
    }
    if outcome.evaluated:
        data["startDate"] = iso(at(outcome.evaluated[0][0]))
    return json.dumps(data, separators=(",", ":"))
