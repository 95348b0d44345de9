"""CloudWatch's error messages in AWS's own words, read by the facade and by the tests.

Each is the text AWS answers, as its clients quote it (docs/behaviour.md, "Wording audit").
Alarm messages are not here (cloudwatch/alarms.py).
"""

from __future__ import annotations

# GetMetricData: two queries with the same Id (ValidationError).
IDS_NOT_UNIQUE = "The values for parameter id in MetricDataQueries are not unique."

# StartTime equal to EndTime: InvalidParameterValue in GetMetricStatistics, ValidationError in
# GetMetricData.
START_EQUALS_END = "The parameter StartTime must not equal parameter EndTime."

# GetMetricData's query Ids: a lowercase letter, then letters, digits and underscores.
ID_PATTERN = "^[a-z][a-zA-Z0-9_]*$"


def required(name: str) -> str:
    """MissingParameter: a parameter not given (`Namespace`, `Dimensions.member.1.Value`)."""
    return f"The parameter {name} is required."


def not_in_statistics(member: int) -> str:
    """GetMetricStatistics: `Statistics.member.<member>` is not one of the five statistics
    (InvalidParameterValue). `<list element>` is AWS's own text, not a placeholder."""
    return (
        f"The parameter Statistics.member.{member}.<list element> must be a value in the set "
        "[SampleCount, Average, Sum, Minimum, Maximum]."
    )


def not_a_valid_statistic(value: object, where: str) -> str:
    """A statistic CloudWatch does not know: GetMetricData's `Stat` (ValidationError), and
    ecsim's GetMetricStatistics `ExtendedStatistics` (InvalidParameterValue)."""
    return f"The value {value} for parameter {where} is not a valid statistic."


def too_many_datapoints(count: int, limit: int) -> str:
    """GetMetricStatistics: a window and period that make more datapoints than the limit
    (InvalidParameterCombination). The numbers have no thousands separator."""
    return (
        f"You have requested up to {count} datapoints, which exceeds the limit of {limit}. "
        "You may reduce the datapoints requested by increasing Period, or decreasing the time "
        "range."
    )


def collection_too_large(name: str, most: int) -> str:
    """A list longer than the service takes (`Statistics` 5, `ExtendedStatistics` 10,
    `MetricDataQueries` 500)."""
    return f"The collection {name} must not have a size greater than {most}."


def id_not_matching(value: object, where: str) -> str:
    """GetMetricData: a query Id that is not a lowercase letter then letters, digits and
    underscores (ValidationError)."""
    return (
        f"The value {value} for parameter {where} is not matching the expected pattern "
        f"{ID_PATTERN}."
    )
