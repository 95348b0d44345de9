"""What `w.cloudwatch` does with each parameter of the CloudWatch operations it serves
(model/aws/coverage.py). Refusals are `InvalidParameterValue`, as CloudWatch's others.
"""

from __future__ import annotations

from ecsim.model.aws.coverage import Coverage, Member, modelled, one_of, refused
from ecsim.model.errors import InvalidParameterValue

_ACCOUNTS = "ecsim's region has one account, with no linked monitoring accounts"

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
