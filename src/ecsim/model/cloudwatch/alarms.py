"""CloudWatch metric alarms: the one writer of every alarm of a world, its state and its
history (docs/behaviour.md, "CloudWatch alarms").

An alarm watches one metric CloudWatch answers (`CloudWatch.alarm_value`, the same numbers
as GetMetricStatistics) and is evaluated at the end of every simulated minute, on the
periods that ended, by CloudWatch's rules (`evaluation.py`). A new alarm is
INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); SetAlarmState sets a state until
the next evaluation. An alarm on a metric ecsim does not publish finds no datapoints and
stays INSUFFICIENT_DATA, as on AWS.

The alarms target tracking creates (`TargetTracking-...-AlarmHigh-<uuid>`) are written here
too, by the scaler (`put_managed`, `evaluate_managed`, `delete_managed`): they appear in
DescribeAlarms with AWS's metric, threshold and states, and go with their policy.

Whoever acts on an alarm's state (the ECS backend's deployment alarms) is an observer:
`observers` are called with (name, old state, new state) on every change of state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ecsim.model.cloudwatch import evaluation as ev
from ecsim.model.events import AlarmStateChanged

if TYPE_CHECKING:
    from ecsim.model.cloudwatch.api import CloudWatch
    from ecsim.model.context import SimContext
    from ecsim.sim import Timer

MINUTE = 60.0
HISTORY_RETENTION = 30 * 86_400.0  # "CloudWatch keeps alarm history for 30 days"
INITIAL_REASON = "Unchecked: Initial alarm creation"
Observer = Callable[[str, str, str], None]


@dataclass(frozen=True)
class Metric:
    """The metric an alarm watches: namespace, name, dimensions, statistic, period, unit."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # one of the five, or a percentile (ExtendedStatistic)
    extended: bool
    period: int
    unit: str | None = None


@dataclass
class MetricAlarm:
    name: str
    arn: str
    metric: Metric
    rule: ev.Rule
    description: str | None
    actions_enabled: bool
    configured_at: float
    state: str = ev.INSUFFICIENT_DATA
    reason: str = INITIAL_REASON
    reason_data: str | None = None
    updated_at: float = 0.0  # StateUpdatedTimestamp
    transitioned_at: float = 0.0  # StateTransitionedTimestamp
    evaluate_low_sample: str | None = None
    # the target tracking policy whose alarm this is (its ARN, the alarm's action); None: a
    # user's alarm
    policy_arn: str | None = None
    # the values of the periods read so far, by period start: (value, sample count) or None
    memo: dict[float, tuple[float, float] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryItem:
    name: str
    time: float
    kind: str  # StateUpdate, ConfigurationUpdate
    summary: str
    data: str  # JSON


class Alarms:
    """Every metric alarm by name, their evaluation each minute and their history."""

    def __init__(self, ctx: SimContext, cloudwatch: CloudWatch) -> None:
        self.ctx = ctx
        self.cloudwatch = cloudwatch
        self.alarms: dict[str, MetricAlarm] = {}
        self.history: list[HistoryItem] = []
        self.observers: list[Observer] = []
        self._timer: Timer | None = None

    # --- what others read ---------------------------------------------------------------

    def state(self, name: str) -> str | None:
        """The alarm's state; None when there is no such alarm."""
        alarm = self.alarms.get(name)
        return alarm.state if alarm is not None else None

    def bake_seconds(self, names: Sequence[str]) -> float:
        """How long a deployment watching `names` keeps watching after it is done: the
        longest time one of them takes to see its metric, Period x EvaluationPeriods
        (docs/behaviour.md, "Deployment alarms")."""
        found = [self.alarms[n] for n in names if n in self.alarms]
        return max((float(a.metric.period * a.rule.evaluation_periods) for a in found), default=0.0)

    # --- writing: the facade's calls -----------------------------------------------------

    def put(self, alarm: MetricAlarm) -> None:
        """PutMetricAlarm: a new alarm (INSUFFICIENT_DATA), or a new configuration of an
        existing one that keeps its state."""
        old = self.alarms.get(alarm.name)
        now = self.ctx.now
        if old is None:
            alarm.updated_at = alarm.transitioned_at = now
            self._history(alarm.name, "ConfigurationUpdate", f'Alarm "{alarm.name}" created', "{}")
        else:
            alarm.state, alarm.reason, alarm.reason_data = old.state, old.reason, old.reason_data
            alarm.updated_at, alarm.transitioned_at = old.updated_at, old.transitioned_at
            self._history(alarm.name, "ConfigurationUpdate", f'Alarm "{alarm.name}" updated', "{}")
        self.alarms[alarm.name] = alarm
        self.start()

    def delete(self, names: Sequence[str]) -> None:
        for name in names:
            del self.alarms[name]
            self._history(name, "ConfigurationUpdate", f'Alarm "{name}" deleted', "{}")

    def set_state(self, name: str, state: str, reason: str, data: str | None) -> None:
        """SetAlarmState: the state until the alarm's next evaluation."""
        self._change(self.alarms[name], state, reason, data)

    # --- the target tracking alarms (the scaler's) ---------------------------------------

    def put_managed(self, alarm: MetricAlarm) -> None:
        """A target tracking policy's alarm, new or with a new threshold."""
        old = self.alarms.get(alarm.name)
        if old is not None:
            alarm.state, alarm.reason, alarm.reason_data = old.state, old.reason, old.reason_data
            alarm.updated_at, alarm.transitioned_at = old.updated_at, old.transitioned_at
        else:
            alarm.updated_at = alarm.transitioned_at = self.ctx.now
            self._history(alarm.name, "ConfigurationUpdate", f'Alarm "{alarm.name}" created', "{}")
        self.alarms[alarm.name] = alarm

    def delete_managed(self, names: Sequence[str]) -> None:
        self.delete([n for n in names if n in self.alarms])

    def evaluate_managed(self, name: str, points: Sequence[ev.Point]) -> None:
        """The scaler's minute: the alarm's datapoints, oldest first (exactly its
        evaluation periods; None where a minute had none)."""
        alarm = self.alarms.get(name)
        if alarm is not None:
            self._apply(alarm, ev.evaluate(points, alarm.rule, alarm.state), {})

    # --- evaluation ------------------------------------------------------------------------

    def start(self) -> None:
        """Evaluate at the end of every minute from now on (once)."""
        if self._timer is None:
            first = (math.floor(self.ctx.now / MINUTE) + 1) * MINUTE
            self._timer = self.ctx.at(first, self._tick)

    def _tick(self) -> None:
        self._timer = self.ctx.at(self.ctx.now + MINUTE, self._tick)
        self.cloudwatch.dataplane.flush()  # every request of the minute is counted
        for alarm in list(self.alarms.values()):
            if alarm.policy_arn is None:
                self.evaluate(alarm)

    def evaluate(self, alarm: MetricAlarm) -> None:
        """Evaluate `alarm` on the periods that ended by now."""
        period = alarm.metric.period
        end = math.floor(self.ctx.now / period) * period
        count = alarm.rule.evaluation_periods + ev.RANGE_EXTRA
        starts = [end - period * (count - i) for i in range(count)]
        for t0 in list(alarm.memo):
            if t0 < starts[0]:
                del alarm.memo[t0]
        points: list[ev.Point] = []
        samples: dict[float, float] = {}
        for t0 in starts:
            if t0 not in alarm.memo:
                alarm.memo[t0] = self.cloudwatch.alarm_value(alarm.metric, t0, t0 + period)
            got = alarm.memo[t0]
            points.append((t0, None if got is None else got[0]))
            if got is not None:
                samples[t0] = got[1]
        self._apply(alarm, ev.evaluate(points, alarm.rule, alarm.state), samples)

    def _apply(self, alarm: MetricAlarm, outcome: ev.Outcome, samples: dict[float, float]) -> None:
        """Set the outcome's state; an evaluation that keeps the state keeps its reason too
        (the reason of the transition, as CloudWatch shows it), but a new alarm's first
        evaluation replaces "Unchecked: Initial alarm creation"."""
        if outcome.state is None:
            return
        first = alarm.reason == INITIAL_REASON and alarm.reason_data is None
        if outcome.state == alarm.state and not first:
            return
        at = self.ctx.clock.at
        reason = ev.reason_text(outcome, alarm.rule, at)
        data = ev.reason_data(
            outcome,
            alarm.rule,
            alarm.metric.statistic,
            alarm.metric.period,
            samples,
            at(self.ctx.now),
            at,
        )
        if outcome.state == alarm.state:
            alarm.reason, alarm.reason_data = reason, data
            alarm.updated_at = self.ctx.now
            return
        self._change(alarm, outcome.state, reason, data)

    def _change(self, alarm: MetricAlarm, state: str, reason: str, data: str | None) -> None:
        now = self.ctx.now
        old = alarm.state
        old_reason = alarm.reason
        alarm.state, alarm.reason, alarm.reason_data = state, reason, data
        alarm.updated_at = now
        if old != state:
            alarm.transitioned_at = now
        self._history(
            alarm.name,
            "StateUpdate",
            f"Alarm updated from {old} to {state}",
            _state_json(old, old_reason, state, reason, data),
        )
        self.ctx.emit(AlarmStateChanged(now, alarm.name, old, state, reason))
        if old != state:
            for observer in list(self.observers):
                observer(alarm.name, old, state)

    def _history(self, name: str, kind: str, summary: str, data: str) -> None:
        now = self.ctx.now
        if self.history and self.history[0].time < now - HISTORY_RETENTION:
            self.history = [h for h in self.history if h.time >= now - HISTORY_RETENTION]
        self.history.append(HistoryItem(name, now, kind, summary, data))


def with_threshold(alarm: MetricAlarm, threshold: float) -> MetricAlarm:
    """The alarm with another threshold (a target tracking policy's new target)."""
    return replace(alarm, rule=replace(alarm.rule, threshold=threshold), memo={})


def _state_json(old: str, old_reason: str, new: str, reason: str, data: str | None) -> str:
    new_state: dict[str, object] = {"stateValue": new, "stateReason": reason}
    if data:
        try:
            new_state["stateReasonData"] = json.loads(data)
        except ValueError:
            new_state["stateReasonData"] = data
    return json.dumps(
        {
            "version": "1.0",
            "oldState": {"stateValue": old, "stateReason": old_reason},
            "newState": new_state,
        },
        separators=(",", ":"),
    )
