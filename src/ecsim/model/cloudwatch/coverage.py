"""What `w.cloudwatch` does with each parameter of the CloudWatch operations it serves
(model/aws/coverage.py). Refusals are `InvalidParameterValue`, as CloudWatch's others.
"""

from __future__ import annotations

from ecsim.model.aws.coverage import Coverage, Member, modelled, no_effect, one_of, refused
from ecsim.model.errors import InvalidParameterValue

_ACCOUNTS = "ecsim's region has one account, with no linked monitoring accounts"
_ALARMS = 'the alarm, its evaluation and DescribeAlarms (docs/behaviour.md, "CloudWatch alarms")'
_ACTIONS = (
    "alarm actions (SNS notifications, Auto Scaling, EC2 and Systems Manager actions) are not "
    "run by ecsim; a deployment watches an alarm's state without them"
)
_PAGED = modelled("MaxRecords NextToken", "the page of the answer (1-100 records, default 50)")

OPERATIONS: dict[str, list[Member]] = {
    "GetMetricStatistics": [
        *modelled(
            "Namespace MetricName Dimensions StartTime EndTime Period Statistics "
            "ExtendedStatistics",
            "the datapoints answered, per period",
        ),
        *modelled("Unit", "another unit than the metric's answers no datapoints, as on AWS"),
    ],
    "GetMetricData": [
        *modelled(
            "MetricDataQueries StartTime EndTime ScanBy",
            "the results answered, in the order asked",
        ),
        *modelled("NextToken", "ecsim answers in one page: a token is refused"),
        *modelled(
            "MaxDatapoints",
            "an answer with more datapoints is refused (ecsim answers in one page)",
        ),
        *refused(
            "LabelOptions",
            "dynamic labels and their time zone are not modelled; labels are as given",
            {"Timezone": "+0130"},
            lambda v: v is None or v in ({}, {"Timezone": "+0000"}),
            "Timezone +0000",
        ),
    ],
    "PutMetricAlarm": [
        *modelled(
            "AlarmName AlarmDescription ActionsEnabled MetricName Namespace Statistic "
            "ExtendedStatistic Dimensions Period Unit EvaluationPeriods DatapointsToAlarm "
            "Threshold ComparisonOperator TreatMissingData",
            _ALARMS,
        ),
        *refused("OKActions", _ACTIONS, ["arn:aws:sns:us-east-1:123456789012:ops"]),
        *refused("AlarmActions", _ACTIONS, ["arn:aws:sns:us-east-1:123456789012:ops"]),
        *refused("InsufficientDataActions", _ACTIONS, ["arn:aws:sns:us-east-1:123456789012:ops"]),
        *refused(
            "EvaluateLowSampleCountPercentile",
            "ecsim evaluates every percentile datapoint, however few its samples",
            "ignore",
            one_of("evaluate"),
            "evaluate",
        ),
        *refused(
            "Metrics",
            "metric math and alarms on several metrics are not modelled; name one metric",
            [{"Id": "m1", "Expression": "m2 * 2"}],
        ),
        *refused(
            "ThresholdMetricId",
            "anomaly detection thresholds are not modelled; give a Threshold",
            "ad1",
        ),
        *refused(
            "EvaluationCriteria",
            "PromQL alarms are not modelled",
            {"PromQLCriteria": {"Query": "up == 0"}},
        ),
        *refused("EvaluationInterval", "PromQL alarms are not modelled", 60),
        *refused(
            "EvaluationWindow",
            "alarms evaluate the last periods before each minute's end; other windows are not "
            "modelled",
            {"SlidingWindow": {}},
        ),
        *refused(
            "WarmUpConfiguration",
            "alarms evaluate from their first minute; warm-up periods are not modelled",
            {"WarmUpPeriodDurationInMinutes": 10},
        ),
        *refused(
            "ActionConfiguration",
            "alarm actions and their notifications are not modelled",
            {"AlarmTagsPropagation": {"Enabled": True}},
        ),
        *no_effect(
            "Tags",
            "tags change nothing an alarm does, and ecsim serves no CloudWatch tagging "
            "operation that would read them back",
        ),
    ],
    "DescribeAlarms": [
        *modelled(
            "AlarmNames AlarmNamePrefix AlarmTypes StateValue ActionPrefix",
            "filter the alarms answered",
        ),
        *modelled(
            "ChildrenOfAlarmName ParentsOfAlarmName",
            "composite alarms: ecsim has none (PutCompositeAlarm is not served), so the "
            "answer holds no alarm",
        ),
        *_PAGED,
    ],
    "DeleteAlarms": [*modelled("AlarmNames", _ALARMS)],
    "SetAlarmState": [
        *modelled(
            "AlarmName StateValue StateReason StateReasonData",
            "the alarm's state until its next evaluation, and its history",
        ),
    ],
    "DescribeAlarmHistory": [
        *modelled(
            "AlarmName AlarmTypes HistoryItemType StartDate EndDate ScanBy",
            "filter and order the history answered",
        ),
        *refused(
            "AlarmContributorId",
            "contributor alarms (Metrics Insights) are not modelled",
            "abc123",
        ),
        *_PAGED,
    ],
    "ListMetrics": [
        *modelled("Namespace MetricName Dimensions", "filter the metrics"),
        *modelled("NextToken", "ecsim answers in one page: a token is refused"),
        *refused(
            "RecentlyActive",
            "ecsim lists the metrics of the resources that exist now, not of the last 3 hours",
            "PT3H",
        ),
        *refused("IncludeLinkedAccounts", _ACCOUNTS, True, one_of(False), "false"),
        *refused("OwningAccount", _ACCOUNTS, "111122223333"),
    ],
}

COVERAGE = Coverage("cloudwatch", InvalidParameterValue, OPERATIONS)
