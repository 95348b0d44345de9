"""CloudWatch's alarm operations, for `w.cloudwatch`: PutMetricAlarm, DescribeAlarms,
DeleteAlarms, SetAlarmState, DescribeAlarmHistory (docs/behaviour.md, "CloudWatch alarms").

    w.cloudwatch.put_metric_alarm(
        AlarmName="home-5xx", Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[{"Name": "LoadBalancer", "Value": "app/home-alb/83ce705e0a8f5a67"}],
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")

The facade parses and answers; the alarms and their history are `Alarms`' (alarms.py). Bad
input gets CloudWatch's codes (InvalidParameterValue, MissingParameter,
InvalidParameterCombination, LimitExceeded, ResourceNotFound, InvalidFormat,
InvalidNextToken) and changes nothing.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from ecsim.model.aws.pages import Pages
from ecsim.model.aws.params import Params
from ecsim.model.cloudwatch import evaluation as ev
from ecsim.model.cloudwatch.alarms import Metric, MetricAlarm
from ecsim.model.cloudwatch.coverage import COVERAGE
from ecsim.model.errors import (
    AwsError,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)

if TYPE_CHECKING:
    from ecsim.model.cloudwatch.alarms import Alarms, HistoryItem
    from ecsim.model.context import SimContext

MAX_ALARMS = 10_000  # ecsim's quota of alarms (docs/behaviour.md, "CloudWatch alarms")
NAME_MOST = 255
DESCRIPTION_MOST = 1024
REASON_MOST = 1023  # SetAlarmState's StateReason
REASON_DATA_MOST = 4000
ALARM_NAMES_MOST = 100  # DescribeAlarms, DeleteAlarms
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
ALARM_TYPES = ("CompositeAlarm", "MetricAlarm")
HISTORY_TYPES = (
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
)
DAY = 86_400
WEEK = 7 * DAY

PUT_METRIC_ALARM = {
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "Tags", "ThresholdMetricId", "EvaluationCriteria", "EvaluationInterval", "EvaluationWindow",
    "WarmUpConfiguration", "ActionConfiguration",
}  # fmt: skip
DESCRIBE_ALARMS = {
    "AlarmNames", "AlarmNamePrefix", "AlarmTypes", "ChildrenOfAlarmName", "ParentsOfAlarmName",
    "StateValue", "ActionPrefix", "MaxRecords", "NextToken",
}  # fmt: skip
DESCRIBE_ALARM_HISTORY = {
    "AlarmName", "AlarmContributorId", "AlarmTypes", "HistoryItemType", "StartDate", "EndDate",
    "MaxRecords", "NextToken", "ScanBy",
}  # fmt: skip

# MaxRecords items (1-100, default 50) from NextToken (an offset ecsim hands out)
_PAGES = Pages(
    "NextToken",
    "NextToken",
    size="MaxRecords",
    most=100,
    error=lambda message: AwsError(message, code="InvalidNextToken"),
    message="The service returned an invalid NextToken.",
)
_DEFAULT_PAGE = 50


class AlarmOperations:
    """The alarm operations of `CloudWatch` (api.py)."""

    ctx: SimContext
    alarms: Alarms

    if TYPE_CHECKING:

        def _check_statistics(
            self, series: Any, metric: str, statistics: list[str], extended: list[str]
        ) -> None: ...

    def put_metric_alarm(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("PutMetricAlarm", kwargs, PUT_METRIC_ALARM)
        name = _text(p, "AlarmName", required=True)
        description = _text(p, "AlarmDescription", most=DESCRIPTION_MOST, least=0)
        enabled = p.bool("ActionsEnabled")
        for actions in ("OKActions", "AlarmActions", "InsufficientDataActions"):
            p.list(actions)  # only empty lists pass (coverage.py)
        namespace = _text(p, "Namespace", required=True)
        metric_name = _text(p, "MetricName", required=True)
        statistic = p.str("Statistic")
        extended = p.str("ExtendedStatistic")
        dimensions = _dimensions(p)
        period = _positive(p, "Period")
        unit = p.str("Unit")
        periods = _positive(p, "EvaluationPeriods")
        to_alarm = _positive(p, "DatapointsToAlarm", required=False)
        threshold = p.raw("Threshold")
        comparison = p.str("ComparisonOperator")
        treat = p.str("TreatMissingData")
        low_sample = p.str("EvaluateLowSampleCountPercentile")
        p.done()
        if namespace.startswith(":"):
            raise InvalidParameterValue(
                f"The parameter Namespace must not begin with a colon: {namespace}."
            )
        if comparison is None:
            raise MissingParameter("The parameter ComparisonOperator is required.")
        if comparison in ev.BAND_COMPARISONS:
            raise InvalidParameterValue(
                f"ecsim does not model anomaly detection alarms: ComparisonOperator "
                f"{comparison} compares with an anomaly detection band; use one of "
                f"{', '.join(ev.COMPARISONS)}."
            )
        if comparison not in ev.COMPARISONS:
            raise InvalidParameterValue(
                f"The parameter ComparisonOperator must be one of {', '.join(ev.COMPARISONS)}."
            )
        if threshold is None:
            raise MissingParameter("The parameter Threshold is required.")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
        ):
            raise InvalidParameterValue(
                f"The parameter Threshold must be a finite number: {threshold!r}."
            )
        stat = _statistic(statistic, extended)
        _check_period(period, periods)
        if to_alarm is not None and to_alarm > periods:
            raise InvalidParameterValue(
                f"DatapointsToAlarm ({to_alarm}) must be less than or equal to "
                f"EvaluationPeriods ({periods})."
            )
        if treat is not None and treat not in ev.TREATMENTS:
            raise InvalidParameterValue(
                f"The parameter TreatMissingData must be one of {', '.join(ev.TREATMENTS)}: "
                f"{treat}."
            )
        if low_sample is not None and low_sample not in ("evaluate", "ignore"):
            raise InvalidParameterValue(
                "The parameter EvaluateLowSampleCountPercentile must be evaluate or ignore."
            )
        self._check_alarm_statistic(namespace, metric_name, stat, extended is not None)
        existing = self.alarms.alarms.get(name)
        if existing is not None and existing.policy_arn is not None:
            raise _managed(name)
        if existing is None and len(self.alarms.alarms) >= MAX_ALARMS:
            raise AwsError(
                f"The maximum number of alarms ({MAX_ALARMS}) has been reached.",
                code="LimitExceeded",
            )
        ids = self.ctx.ids
        alarm = MetricAlarm(
            name=name,
            arn=f"arn:aws:cloudwatch:{ids.region}:{ids.account}:alarm:{name}",
            metric=Metric(
                namespace,
                metric_name,
                dimensions,
                stat,
                extended is not None,
                period,
                unit,
            ),
            rule=ev.Rule(
                float(threshold),
                comparison,
                periods,
                to_alarm if to_alarm is not None else periods,
                treat or "missing",
            ),
            description=description,
            actions_enabled=True if enabled is None else enabled,
            configured_at=self.ctx.now,
            evaluate_low_sample=low_sample,
        )
        self.alarms.put(alarm)
        return {}

    def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("DescribeAlarms", kwargs, DESCRIBE_ALARMS)
        names = p.strs("AlarmNames")
        if len(names) > ALARM_NAMES_MOST:
            raise InvalidParameterValue(
                f"The collection AlarmNames must not have a size greater than {ALARM_NAMES_MOST}."
            )
        prefix = p.str("AlarmNamePrefix")
        types = p.strs("AlarmTypes")
        children = p.str("ChildrenOfAlarmName")
        parents = p.str("ParentsOfAlarmName")
        state = p.str("StateValue")
        action_prefix = p.str("ActionPrefix")
        page = _PAGES.read(p, default=_DEFAULT_PAGE)
        p.done()
        if names and prefix is not None:
            raise InvalidParameterCombination(
                "AlarmNamePrefix and AlarmNames cannot be specified together."
            )
        for t in types:
            if t not in ALARM_TYPES:
                raise InvalidParameterValue(
                    f"The parameter AlarmTypes must be CompositeAlarm or MetricAlarm: {t}."
                )
        if state is not None and state not in ev.STATES:
            raise InvalidParameterValue(
                f"The parameter StateValue must be one of {', '.join(ev.STATES)}: {state}."
            )
        metric_alarms = (not types or "MetricAlarm" in types) and children is None
        found = [
            a
            for a in sorted(self.alarms.alarms.values(), key=lambda a: a.name)
            if metric_alarms
            and parents is None  # no composite alarm has any metric alarm as a child
            and (not names or a.name in names)
            and (prefix is None or a.name.startswith(prefix))
            and (state is None or a.state == state)
            and (
                action_prefix is None
                or (a.policy_arn is not None and a.policy_arn.startswith(action_prefix))
            )
        ]
        answer = page.of(found, "MetricAlarms", self._alarm_shape)
        answer["CompositeAlarms"] = []
        return answer

    def delete_alarms(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("DeleteAlarms", kwargs, {"AlarmNames"})
        names = p.strs("AlarmNames", required=True)
        p.done()
        if len(names) > ALARM_NAMES_MOST:
            raise InvalidParameterValue(
                f"The collection AlarmNames must not have a size greater than {ALARM_NAMES_MOST}."
            )
        # "If you specify any alarm that does not exist, no alarms are deleted."
        for name in names:
            alarm = self.alarms.alarms.get(name)
            if alarm is None:
                raise _not_found(name)
            if alarm.policy_arn is not None:
                raise _managed(name)
        self.alarms.delete(list(dict.fromkeys(names)))
        return {}

    def set_alarm_state(self, **kwargs: Any) -> dict[str, Any]:
        p = _params(
            "SetAlarmState", kwargs, {"AlarmName", "StateValue", "StateReason", "StateReasonData"}
        )
        name = _text(p, "AlarmName", required=True)
        state = p.str("StateValue", required=True)
        reason = p.str("StateReason", required=True)
        data = p.str("StateReasonData")
        p.done()
        if state not in ev.STATES:
            raise InvalidParameterValue(
                f"The parameter StateValue must be one of {', '.join(ev.STATES)}: {state}."
            )
        if len(reason) > REASON_MOST:
            raise InvalidParameterValue(
                f"The parameter StateReason must be at most {REASON_MOST} characters."
            )
        if data is not None and len(data) > REASON_DATA_MOST:
            raise InvalidParameterValue(
                f"The parameter StateReasonData must be at most {REASON_DATA_MOST} characters."
            )
        alarm = self.alarms.alarms.get(name)
        if alarm is None:
            raise _not_found(name)
        if alarm.policy_arn is not None:
            raise _managed(name)
        if data:
            try:
                json.loads(data)
            except ValueError:
                raise AwsError(
                    "Invalid JSON in the parameter StateReasonData.", code="InvalidFormat"
                ) from None
        self.alarms.set_state(name, state, reason, data or None)
        return {}

    def describe_alarm_history(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("DescribeAlarmHistory", kwargs, DESCRIBE_ALARM_HISTORY)
        name = p.str("AlarmName")
        types = p.strs("AlarmTypes")
        kind = p.str("HistoryItemType")
        start, end = p.raw("StartDate"), p.raw("EndDate")
        scan = p.str("ScanBy")
        page = _PAGES.read(p, default=_DEFAULT_PAGE)
        p.done()
        if kind is not None and kind not in HISTORY_TYPES:
            raise InvalidParameterValue(
                f"The parameter HistoryItemType must be one of {', '.join(HISTORY_TYPES)}: {kind}."
            )
        if scan is not None and scan not in ("TimestampDescending", "TimestampAscending"):
            raise InvalidParameterValue(
                "The parameter ScanBy must be TimestampDescending or TimestampAscending."
            )
        since = self._instant(start, "StartDate")
        until = self._instant(end, "EndDate")
        items = [
            h
            for h in self.alarms.history
            if (name is None or h.name == name)
            and (not types or "MetricAlarm" in types)
            and (kind is None or h.kind == kind)
            and (since is None or h.time >= since)
            and (until is None or h.time <= until)
        ]
        if scan != "TimestampAscending":
            items.reverse()
        return page.of(items, "AlarmHistoryItems", self._history_shape)

    # --- checks ---------------------------------------------------------------------------

    def _check_alarm_statistic(
        self, namespace: str, metric: str, statistic: str, extended: bool
    ) -> None:
        """What GetMetricStatistics refuses for an ALB metric (api.py), PutMetricAlarm
        refuses too: an alarm never evaluates a statistic ecsim does not compute."""
        from ecsim.model.cloudwatch.api import NAMESPACE

        if namespace == NAMESPACE:
            self._check_statistics(
                None, metric, [] if extended else [statistic], [statistic] if extended else []
            )

    def _instant(self, value: Any, name: str) -> float | None:
        if value is None:
            return None
        from ecsim.model.cloudwatch.api import _utc

        return self.ctx.clock.seconds(_utc(value, name))

    # --- answers --------------------------------------------------------------------------

    def _alarm_shape(self, a: MetricAlarm) -> dict[str, Any]:
        at = self.ctx.clock.at
        shape: dict[str, Any] = {
            "AlarmName": a.name,
            "AlarmArn": a.arn,
            "AlarmConfigurationUpdatedTimestamp": at(a.configured_at),
            "ActionsEnabled": a.actions_enabled,
            "OKActions": [],
            "AlarmActions": [a.policy_arn] if a.policy_arn is not None else [],
            "InsufficientDataActions": [],
            "StateValue": a.state,
            "StateReason": a.reason,
            "StateUpdatedTimestamp": at(a.updated_at),
            "MetricName": a.metric.name,
            "Namespace": a.metric.namespace,
            "Dimensions": [{"Name": k, "Value": v} for k, v in a.metric.dimensions],
            "Period": a.metric.period,
            "EvaluationPeriods": a.rule.evaluation_periods,
            "DatapointsToAlarm": a.rule.datapoints_to_alarm,
            "Threshold": a.rule.threshold,
            "ComparisonOperator": a.rule.comparison,
            "TreatMissingData": a.rule.treat_missing,
            "StateTransitionedTimestamp": at(a.transitioned_at),
        }
        if a.metric.extended:
            shape["ExtendedStatistic"] = a.metric.statistic
        else:
            shape["Statistic"] = a.metric.statistic
        if a.description is not None:
            shape["AlarmDescription"] = a.description
        if a.reason_data is not None:
            shape["StateReasonData"] = a.reason_data
        if a.metric.unit is not None:
            shape["Unit"] = a.metric.unit
        if a.evaluate_low_sample is not None:
            shape["EvaluateLowSampleCountPercentile"] = a.evaluate_low_sample
        return shape

    def _history_shape(self, h: HistoryItem) -> dict[str, Any]:
        return {
            "AlarmName": h.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": self.ctx.clock.at(h.time),
            "HistoryItemType": h.kind,
            "HistorySummary": h.summary,
            "HistoryData": h.data,
        }


# --- parameters ---------------------------------------------------------------------------


def _params(operation: str, params: dict[str, Any], names: set[str]) -> Params:
    """The call's parameters: a name the operation lacks is refused first, then what ecsim
    does not model (coverage.py)."""
    p = Params(operation, params, InvalidParameterValue, missing=_missing)
    p.only(names)
    COVERAGE.screen(p)
    return p


def _missing(name: str) -> AwsError:
    return MissingParameter(f"The parameter {name} is required.")


def _text(
    p: Params, name: str, required: bool = False, most: int = NAME_MOST, least: int = 1
) -> Any:
    """A string of `least` to `most` characters without control characters (CloudWatch
    refuses them in names and descriptions)."""
    value = p.str(name, required=required)
    if value is None:
        return None
    if not least <= len(value) <= most:
        raise InvalidParameterValue(
            f"The parameter {name} must be {least} to {most} characters long."
        )
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise InvalidParameterValue(f"The parameter {name} must not contain control characters.")
    return value


def _positive(p: Params, name: str, required: bool = True) -> Any:
    value = p.raw(name, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterValue(f"The parameter {name} must be a positive integer: {value!r}.")
    return value


def _dimensions(p: Params) -> tuple[tuple[str, str], ...]:
    given = p.list("Dimensions")
    if len(given) > 30:
        raise InvalidParameterValue(
            "The collection Dimensions must not have a size greater than 30."
        )
    out: dict[str, str] = {}
    for i, d in enumerate(given):
        where = f"Dimensions.member.{i + 1}"
        dim = p.as_structure(d, where, ("Name", "Value"))
        key = _text(dim, "Name", required=True)
        value = _text(dim, "Value", required=True, least=1, most=1024)
        if key in out:
            raise InvalidParameterValue(f"The dimension {key} is given more than once.")
        out[key] = value
    return tuple(sorted(out.items()))


def _statistic(statistic: str | None, extended: str | None) -> str:
    from ecsim.model.cloudwatch.api import _OTHER_EXTENDED, percentile

    if statistic is None and extended is None:
        raise MissingParameter("Either Statistic or ExtendedStatistic must be specified.")
    if statistic is not None and extended is not None:
        raise InvalidParameterCombination(
            "Statistic and ExtendedStatistic cannot be specified together."
        )
    if statistic is not None:
        if statistic not in STATISTICS:
            raise InvalidParameterValue(
                f"The parameter Statistic must be one of {', '.join(STATISTICS)}: {statistic}."
            )
        return statistic
    assert extended is not None
    if percentile(extended) is None:
        if _OTHER_EXTENDED.fullmatch(extended):
            raise InvalidParameterValue(
                f"The ExtendedStatistic {extended} is a statistic ecsim does not compute "
                "(trimmed mean, winsorized mean, trimmed count or sum, percentile rank, "
                "interquartile mean): use a percentile pNN.NN."
            )
        raise InvalidParameterValue(f"The ExtendedStatistic {extended} is not a valid statistic.")
    return extended


def _check_period(period: int, periods: int) -> None:
    """Periods of whole minutes (ecsim's metrics are 60-second metrics); at most one day of
    evaluation under an hour's period, seven days otherwise (PutMetricAlarm)."""
    if period in (10, 20, 30):
        raise InvalidParameterValue(
            f"ecsim does not model high-resolution alarms (Period {period}): its metrics are "
            "60-second metrics; use a multiple of 60."
        )
    if period % 60:
        raise InvalidParameterValue(
            f"The parameter Period must be 10, 20, 30 or a multiple of 60: {period}."
        )
    most = DAY if period < 3600 else WEEK
    if period * periods > most:
        raise InvalidParameterValue(
            f"The evaluation of an alarm (Period x EvaluationPeriods = {period * periods} s) "
            f"must not be longer than {most} s."
        )


def _not_found(name: str) -> AwsError:
    return AwsError(f"Alarm {name} not found.", code="ResourceNotFound", status=404)


def _managed(name: str) -> AwsError:
    return InvalidParameterValue(
        f"ecsim does not model changing the alarm {name}: it belongs to a target tracking "
        "scaling policy, which creates, updates and deletes it (Application Auto Scaling's "
        "PutScalingPolicy and DeleteScalingPolicy)."
    )
