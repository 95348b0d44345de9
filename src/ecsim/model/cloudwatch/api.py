"""`w.cloudwatch`: the CloudWatch metrics of the simulated Application Load Balancers.

    w.cloudwatch.get_metric_statistics(
        Namespace="AWS/ApplicationELB", MetricName="RequestCount",
        Dimensions=[{"Name": "LoadBalancer", "Value": "app/home-alb/83ce705e0a8f5a67"}],
        StartTime=w.clock.at(0), EndTime=w.clock.at(w.now), Period=60, Statistics=["Sum"])

boto3's names and answer shapes (GetMetricStatistics, GetMetricData, ListMetrics) over the
namespace `AWS/ApplicationELB`. Every number is read from the world's public records and
nothing is stored: the request metrics from `w.traffic.stats` windows (one per period), the
host counts from the `TargetHealthChanged` records. Reading never changes the world.

Periods are multiples of 60 s (ALB metrics are 60-second metrics); StartTime is rounded down
to the minute as CloudWatch does; EndTime is exclusive; a period without data has no
datapoint. Datetimes map to simulated time through the world's clock (`w.clock.epoch` is
simulated second 0). See docs/awsapi.md, "CloudWatch: the ALB's metrics".
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecsim.model.aws.names import resource, resource_id
from ecsim.model.aws.pages import Pages
from ecsim.model.aws.params import Params
from ecsim.model.cloudwatch import messages
from ecsim.model.cloudwatch.alarms import Alarms, Metric
from ecsim.model.cloudwatch.alarms_api import AlarmOperations
from ecsim.model.cloudwatch.coverage import COVERAGE
from ecsim.model.errors import (
    AwsError,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    ValidationError,
)
from ecsim.model.events import TargetHealthChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.dataplane.engine import DataPlane
    from ecsim.model.elbv2.api import Elbv2Api

NAMESPACE = "AWS/ApplicationELB"
MAX_DATAPOINTS = 1440  # GetMetricStatistics: datapoints per call
MAX_QUERIES = 500  # GetMetricData: MetricDataQueries per call
MAX_STATISTICS = 5  # GetMetricStatistics: Statistics per call (botocore: max 5)
MAX_EXTENDED = 10  # GetMetricStatistics: ExtendedStatistics per call (botocore: max 10)
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
# pNN.NN: a percentile from 0 to 100 with at most two decimals, ASCII digits only
# (docs/behaviour.md, "ALB CloudWatch metrics")
_PERCENTILE = re.compile(r"p([0-9]{1,3})(?:\.([0-9]{1,2}))?", re.ASCII)
# GetMetricData's query Ids (messages.ID_PATTERN)
_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*", re.ASCII)
# CloudWatch's other extended statistics (trimmed mean, winsorized mean, trimmed count and
# sum, percentile rank, interquartile mean): valid on AWS, not computed by ecsim
_OTHER_EXTENDED = re.compile(
    r"(tm|wm|tc|ts)[0-9]+(\.[0-9]+)?|(TM|WM|TC|TS|PR)\([0-9.%:]*\)|IQM", re.ASCII
)


def percentile(statistic: object) -> int | None:
    """The percentile a statistic names, in hundredths (`p99.9` -> 9990), or None when it is
    not `p` and a number from 0 to 100 with at most two decimals (CloudWatch: "any
    percentile, using up to two decimal places")."""
    if not isinstance(statistic, str):
        return None
    m = _PERCENTILE.fullmatch(statistic)
    if m is None:
        return None
    hundredths = int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0"))
    return hundredths if hundredths <= 10000 else None


Stats = dict[str, Any]


def _count(stats: Stats) -> int:
    return int(sum(stats["by_target"].values()))


def _status_class(digit: str) -> Callable[[Stats], int]:
    def count(stats: Stats) -> int:
        n = sum(c for code, c in stats["by_status"].items() if code.startswith(digit))
        if digit == "5":  # the load balancer's own answers are all 5XX (502, 503, 504)
            n -= stats["by_source"].get("elb", 0)
        return int(n)

    return count


def _status(code: str) -> Callable[[Stats], int]:
    return lambda stats: int(stats["by_status"].get(code, 0))


# The per-request metrics of a load balancer: each request is one sample of value 1.
LB_COUNTS: dict[str, Callable[[Stats], int]] = {
    "RequestCount": _count,
    "HTTPCode_Target_2XX_Count": _status_class("2"),
    "HTTPCode_Target_3XX_Count": _status_class("3"),
    "HTTPCode_Target_4XX_Count": _status_class("4"),
    "HTTPCode_Target_5XX_Count": _status_class("5"),
    "HTTPCode_ELB_5XX_Count": lambda stats: int(stats["by_source"].get("elb", 0)),
    "HTTPCode_ELB_502_Count": _status("502"),
    "HTTPCode_ELB_503_Count": _status("503"),
    "HTTPCode_ELB_504_Count": _status("504"),
}
RESPONSE_TIME = "TargetResponseTime"
HOST_COUNTS = {"HealthyHostCount": "healthy", "UnHealthyHostCount": "unhealthy"}
TG_REQUESTS = "RequestCount"
# The group's requests over its healthy targets; "the only valid statistic is Sum" (AWS).
PER_TARGET = "RequestCountPerTarget"


@dataclass(frozen=True)
class _Series:
    """One metric of one load balancer (and target group): what it is and where it reads."""

    metric: str
    lb_arn: str
    lb_dim: str
    tg_arn: str | None = None
    tg_dim: str | None = None

    @property
    def dimensions(self) -> list[dict[str, str]]:
        dims = [{"Name": "LoadBalancer", "Value": self.lb_dim}]
        if self.tg_dim is not None:
            dims.insert(0, {"Name": "TargetGroup", "Value": self.tg_dim})
        return dims

    @property
    def unit(self) -> str:
        return "Seconds" if self.metric == RESPONSE_TIME else "Count"


class CloudWatch(AlarmOperations):
    def __init__(self, ctx: SimContext, elbv2: Elbv2Api, dataplane: DataPlane) -> None:
        self.ctx = ctx
        self.elbv2 = elbv2
        self.dataplane = dataplane
        # the alarms' writer (alarms.py), set by the World: it reads its metrics from here
        self.alarms: Alarms

    def alarm_value(self, metric: Metric, t0: float, t1: float) -> tuple[float, float] | None:
        """An alarm's statistic of its metric over the period [t0, t1) and the period's
        sample count, read as GetMetricStatistics reads it; None without a datapoint (and
        for a metric ecsim does not publish)."""
        dims = [{"Name": k, "Value": v} for k, v in metric.dimensions]
        series = self._find(metric.namespace, metric.name, dims)
        if series is None or metric.unit not in (None, series.unit):
            return None
        extended = [metric.statistic] if metric.extended else []
        points = self._points(series, t0, t1, round(t1 - t0), extended)
        if not points:
            return None
        values = points[0][1]
        if metric.statistic not in values:
            return None
        return float(values[metric.statistic]), float(values.get("SampleCount", 1.0))

    # --- the operations -------------------------------------------------------------------

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("GetMetricStatistics", kwargs, GET_METRIC_STATISTICS)
        for name in ("Namespace", "MetricName", "StartTime", "EndTime", "Period"):
            p.raw(name, required=True)
        statistics = _strings(p, "Statistics", MAX_STATISTICS)
        extended = _strings(p, "ExtendedStatistics", MAX_EXTENDED)
        if not statistics and not extended:
            raise MissingParameter(
                "Must specify either the parameter Statistics or ExtendedStatistics."
            )
        if statistics and extended:
            raise InvalidParameterCombination(
                "Must specify either Statistics or ExtendedStatistics, but not both."
            )
        for i, s in enumerate(statistics):
            if s not in STATISTICS:
                raise InvalidParameterValue(messages.not_in_statistics(i + 1))
        for i, s in enumerate(extended):
            if percentile(s) is None:
                raise InvalidParameterValue(
                    messages.not_a_valid_statistic(s, f"ExtendedStatistics.member.{i + 1}")
                )
        start, end, period = self._window(p.raw("StartTime"), p.raw("EndTime"), p.raw("Period"))
        count = math.ceil((end - start) / period)
        if count > MAX_DATAPOINTS:
            raise InvalidParameterCombination(messages.too_many_datapoints(count, MAX_DATAPOINTS))
        metric = str(p.raw("MetricName"))
        series = self._find(str(p.raw("Namespace")), metric, p.raw("Dimensions") or [])
        self._check_statistics(series, metric, statistics, extended)
        unit = p.raw("Unit")
        datapoints = []
        if series is not None and unit in (None, series.unit):
            for t0, values in self._points(series, start, end, period, extended):
                point: dict[str, Any] = {"Timestamp": self.ctx.clock.at(t0)}
                for s in statistics:
                    point[s] = values[s]
                if extended:
                    point["ExtendedStatistics"] = {x: values[x] for x in extended}
                point["Unit"] = series.unit
                datapoints.append(point)
        return {"Label": metric, "Datapoints": datapoints}

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("GetMetricData", kwargs, GET_METRIC_DATA)
        queries = p.raw("MetricDataQueries")
        if not queries:
            raise p.missing("MetricDataQueries")
        for required in ("StartTime", "EndTime"):
            p.raw(required, required=True)
        if len(queries) > MAX_QUERIES:
            raise ValidationError(messages.collection_too_large("MetricDataQueries", MAX_QUERIES))
        _DATA_PAGES.read(p)
        newest_first = p.raw("ScanBy") != "TimestampAscending"
        most = p.raw("MaxDatapoints")
        ids: set[str] = set()
        results = []
        for i, query in enumerate(queries):
            qid = query.get("Id")
            if not qid:
                raise p.missing(f"MetricDataQueries.member.{i + 1}.Id")
            if not isinstance(qid, str) or not _QUERY_ID.fullmatch(qid):
                raise ValidationError(
                    messages.id_not_matching(qid, f"MetricDataQueries.member.{i + 1}.Id")
                )
            if qid in ids:
                raise ValidationError(messages.IDS_NOT_UNIQUE)
            ids.add(qid)
            if query.get("Expression") is not None:
                raise InvalidParameterValue(
                    f"ecsim does not evaluate metric math: query {qid} has an Expression; "
                    "ask for the metrics with MetricStat and compute on the results."
                )
            stat = query.get("MetricStat")
            if stat is None:
                raise p.missing(f"MetricDataQueries.member.{i + 1}.MetricStat")
            metric = stat.get("Metric") or {}
            for field, value in (
                ("Metric.MetricName", metric.get("MetricName")),
                ("Period", stat.get("Period")),
                ("Stat", stat.get("Stat")),
            ):
                if value is None or (field == "Metric.MetricName" and not value):
                    raise p.missing(f"MetricDataQueries.member.{i + 1}.MetricStat.{field}")
            name, statistic = metric["MetricName"], str(stat["Stat"])
            start, end, period = self._window(
                p.raw("StartTime"), p.raw("EndTime"), stat["Period"], ValidationError
            )
            series = self._find(
                str(metric.get("Namespace", "")),
                str(name),
                metric.get("Dimensions") or [],
                f"MetricDataQueries.member.{i + 1}.MetricStat.Metric.Dimensions",
            )
            extended = [statistic] if statistic not in STATISTICS else []
            if extended and percentile(statistic) is None:
                where = f"MetricDataQueries.member.{i + 1}.MetricStat.Stat"
                if _OTHER_EXTENDED.fullmatch(statistic):
                    raise InvalidParameterValue(
                        f"The value {statistic} for parameter {where} is a statistic ecsim "
                        "does not compute (trimmed mean, winsorized mean, trimmed count or "
                        "sum, percentile rank, interquartile mean): ask for "
                        f"{', '.join(STATISTICS)} or a percentile pNN.NN."
                    )
                raise ValidationError(messages.not_a_valid_statistic(statistic, where))
            self._check_statistics(series, str(name), [] if extended else [statistic], extended)
            if query.get("ReturnData") is False:
                continue
            points = []
            unit = stat.get("Unit")
            if series is not None and unit in (None, series.unit):
                points = list(self._points(series, start, end, period, extended))
            if newest_first:
                points.reverse()
            results.append(
                {
                    "Id": qid,
                    "Label": query.get("Label") or str(name),
                    "Timestamps": [self.ctx.clock.at(t) for t, _ in points],
                    "Values": [float(v[statistic]) for _, v in points],
                    "StatusCode": "Complete",
                }
            )
        _check_max_datapoints(most, sum(len(r["Values"]) for r in results))
        return {"MetricDataResults": results, "Messages": []}

    def list_metrics(self, **kwargs: Any) -> dict[str, Any]:
        p = _params("ListMetrics", kwargs, LIST_METRICS)
        _LIST_PAGES.read(p)
        namespace, name = p.raw("Namespace"), p.raw("MetricName")
        wanted = p.raw("Dimensions") or []
        metrics = []
        if namespace in (None, NAMESPACE):
            for series in self._all_series():
                if name is not None and series.metric != name:
                    continue
                have = {d["Name"]: d["Value"] for d in series.dimensions}
                if any(
                    d.get("Name") not in have
                    or (d.get("Value") is not None and have[d["Name"]] != d["Value"])
                    for d in wanted
                ):
                    continue
                metrics.append(
                    {
                        "Namespace": NAMESPACE,
                        "MetricName": series.metric,
                        "Dimensions": series.dimensions,
                    }
                )
        return {"Metrics": metrics}

    # --- the series -----------------------------------------------------------------------

    def _load_balancers(self) -> list[dict[str, Any]]:
        lbs = self.elbv2.describe_load_balancers()["LoadBalancers"]
        return [lb for lb in lbs if lb.get("Type", "application") == "application"]

    def _target_groups(self) -> list[dict[str, Any]]:
        return list(self.elbv2.describe_target_groups()["TargetGroups"])

    def _all_series(self) -> list[_Series]:
        out: list[_Series] = []
        tgs = self._target_groups()
        ever = self._ever_registered()
        for lb in self._load_balancers():
            arn = lb["LoadBalancerArn"]
            lb_dim = resource_id(arn)
            out += [_Series(m, arn, lb_dim) for m in (*LB_COUNTS, RESPONSE_TIME)]
            for tg in tgs:
                if arn not in tg.get("LoadBalancerArns", []):
                    continue
                tg_arn = tg["TargetGroupArn"]
                metrics = [*HOST_COUNTS]
                if self._tg_ips(arn, tg_arn, ever) is not None:
                    metrics[:0] = [TG_REQUESTS, PER_TARGET]
                out += [_Series(m, arn, lb_dim, tg_arn, resource(tg_arn)) for m in metrics]
        return out

    def _find(
        self,
        namespace: str,
        metric: str,
        dimensions: list[dict[str, Any]],
        where: str = "Dimensions",
    ) -> _Series | None:
        """The series a request names; None when nothing matches (AWS answers no datapoints).
        `where` names the dimensions in a refusal."""
        dims = {}
        for j, d in enumerate(dimensions):
            for key in ("Name", "Value"):
                if d.get(key) is None:
                    raise _missing(f"{where}.member.{j + 1}.{key}")
            dims[str(d["Name"])] = str(d["Value"])
        if namespace != NAMESPACE:
            return None
        for series in self._all_series():
            if (
                series.metric == metric
                and {d["Name"]: d["Value"] for d in series.dimensions} == dims
            ):
                return series
        return None

    def _check_statistics(
        self, series: _Series | None, metric: str, statistics: list[str], extended: list[str]
    ) -> None:
        """`TargetResponseTime` answers every statistic and percentile; the counts have no
        percentiles in ecsim; `RequestCountPerTarget` only Sum (AWS)."""
        if metric == RESPONSE_TIME:
            return
        if extended:
            raise InvalidParameterCombination(
                f"ecsim computes percentiles of {RESPONSE_TIME} only, not of {metric}."
            )
        if metric == PER_TARGET and set(statistics) - {"Sum"}:
            raise InvalidParameterCombination(
                f"The only valid statistic of {PER_TARGET} is Sum (the average per healthy target)."
            )

    def _ever_registered(self) -> dict[str, set[str]]:
        """Target group ARN -> the IPs ever registered in it (one pass over the records)."""
        ever: dict[str, set[str]] = {}
        for e in self.ctx.log.events(kind=TargetHealthChanged):
            assert isinstance(e, TargetHealthChanged)
            ever.setdefault(e.target_group_arn, set()).add(e.target_id)
        return ever

    def _tg_ips(self, lb_arn: str, tg_arn: str, ever: dict[str, set[str]]) -> set[str] | None:
        """The IPs ever registered in the target group, if no other target group of the load
        balancer ever had one of them (then its requests are exactly those to these IPs)."""
        mine = ever.get(tg_arn, set())
        for tg in self._target_groups():
            other = tg["TargetGroupArn"]
            shares = lb_arn in tg.get("LoadBalancerArns", []) and mine & ever.get(other, set())
            if other != tg_arn and shares:
                return None
        return mine

    def request_count_per_target(
        self, lb_arn: str, tg_arn: str, t0: float, t1: float
    ) -> float | None:
        """The group's `RequestCountPerTarget` over [t0, t1): its requests over its average
        number of healthy targets. None when the group has no healthy target, or when its
        requests cannot be told apart from another group's (see `_tg_ips`)."""
        ips = self._tg_ips(lb_arn, tg_arn, self._ever_registered())
        if ips is None:
            return None
        healthy = _Series("HealthyHostCount", lb_arn, resource_id(lb_arn), tg_arn)
        return self._per_target(lb_arn, ips, self._host_steps(healthy), t0, t1)

    def _per_target(
        self, lb_arn: str, ips: set[str], healthy: list[tuple[float, int]], t0: float, t1: float
    ) -> float | None:
        hosts = _host_count(healthy, t0, t1)
        if hosts is None or hosts["Average"] <= 0:
            return None
        stats = self.dataplane.summary(t0, t1, lb_arn)
        n = sum(c for ip, c in stats["by_target"].items() if ip in ips)
        return float(n / hosts["Average"])

    # --- the numbers ----------------------------------------------------------------------

    def _window(
        self,
        start: Any,
        end: Any,
        period: Any,
        error: Callable[[str], AwsError] = InvalidParameterValue,
    ) -> tuple[float, float, int]:
        """[start, end) in simulated seconds, start rounded down to the minute; the period.
        `error` is the operation's error for a window that ends before it starts
        (GetMetricData answers ValidationError, GetMetricStatistics InvalidParameterValue)."""
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise InvalidParameterValue(
                f"The parameter Period must be a positive integer: {period}."
            )
        if period % 60:
            raise InvalidParameterValue(
                f"The parameter Period must be a multiple of 60 for {NAMESPACE} metrics "
                f"(60-second metrics): {period}."
            )
        start_dt, end_dt = _utc(start, "StartTime"), _utc(end, "EndTime")
        if start_dt == end_dt:
            raise error(messages.START_EQUALS_END)
        if start_dt > end_dt:
            raise error("The parameter StartTime must be less than the parameter EndTime.")
        start_dt = start_dt.replace(second=0, microsecond=0)
        clock = self.ctx.clock
        return clock.seconds(start_dt), clock.seconds(end_dt), period

    def _points(
        self,
        series: _Series,
        start: float,
        end: float,
        period: int,
        extended: Sequence[str] = (),
    ) -> list[tuple[float, dict[str, float]]]:
        """The datapoints of [start, end): per period with data, its start and its values
        (the five statistics, and the percentiles `extended` of `TargetResponseTime`)."""
        now = self.ctx.now
        # what every period reads, read once: the host-count steps, the group's IPs
        steps: list[tuple[float, int]] = []
        if series.metric in HOST_COUNTS:
            steps = self._host_steps(series)
        elif series.metric == PER_TARGET:
            steps = self._host_steps(replace(series, metric="HealthyHostCount"))
        ips: set[str] = set()
        if series.tg_arn is not None and series.metric in (TG_REQUESTS, PER_TARGET):
            ips = self._tg_ips(series.lb_arn, series.tg_arn, self._ever_registered()) or set()
        out = []
        t0 = start
        while t0 < end and t0 < now:
            t1 = min(t0 + period, end)
            if t1 > 0:
                a, b = max(t0, 0.0), min(t1, now)
                if series.metric in HOST_COUNTS:
                    values = _host_count(steps, a, b)
                elif series.metric == PER_TARGET:
                    v = self._per_target(series.lb_arn, ips, steps, a, b)
                    values = None if v is None else {"Sum": v}
                elif series.metric == RESPONSE_TIME:
                    values = self._response_time(series, a, b, extended)
                else:
                    values = self._values(series, a, b, ips)
                if values is not None:
                    out.append((t0, values))
            t0 += period
        return out

    def _values(
        self, series: _Series, t0: float, t1: float, ips: set[str]
    ) -> dict[str, float] | None:
        stats = self.dataplane.summary(t0, t1, series.lb_arn)
        if series.tg_arn is not None:
            n = sum(c for ip, c in stats["by_target"].items() if ip in ips)
        else:
            n = LB_COUNTS[series.metric](stats)
        if n <= 0:
            return None
        return {
            "SampleCount": float(n),
            "Sum": float(n),
            "Average": 1.0,
            "Minimum": 1.0,
            "Maximum": 1.0,
        }

    def _response_time(
        self, series: _Series, t0: float, t1: float, extended: Sequence[str]
    ) -> dict[str, float] | None:
        """`TargetResponseTime` over [t0, t1): one sample per request a target answered (the
        load balancer's own answers have no target response time), in seconds. Periods add
        up buckets as histograms, never percentiles (docs/behaviour.md, "ALB CloudWatch
        metrics")."""
        times = self.dataplane.response_times(t0, t1, series.lb_arn)
        if times is None:
            return None
        values = {
            "SampleCount": float(times.count),
            "Sum": times.sum,
            "Average": times.average,
            "Minimum": times.minimum,
            "Maximum": times.maximum,
        }
        for name in extended:
            hundredths = percentile(name)
            assert hundredths is not None  # checked with the call's parameters
            values[name] = times.percentile(hundredths)
        return values

    def _host_steps(self, series: _Series) -> list[tuple[float, int]]:
        """The number of the group's targets in the metric's state, as (time, count from then
        on), one step per instant the health records change it."""
        state = HOST_COUNTS[series.metric]
        current: dict[tuple[str, int], str] = {}
        steps: list[tuple[float, int]] = []
        for e in self.ctx.log.events(kind=TargetHealthChanged):
            assert isinstance(e, TargetHealthChanged)
            if e.target_group_arn != series.tg_arn:
                continue
            current[(e.target_id, e.port)] = e.state
            n = sum(1 for s in current.values() if s == state)
            if steps and steps[-1][0] == e.time:
                steps[-1] = (e.time, n)
            else:
                steps.append((e.time, n))
        return steps


def _host_count(steps: list[tuple[float, int]], t0: float, t1: float) -> dict[str, float] | None:
    """The count over [t0, t1) of a step function. Minimum and Maximum are exact; Average is
    weighted by time; one sample per second (SampleCount = the seconds, Sum = Average x
    SampleCount). None before the group's first target."""
    if t1 <= t0:
        return None
    first = bisect.bisect_right(steps, t0, key=lambda s: s[0])  # steps after t0
    last = bisect.bisect_left(steps, t1, key=lambda s: s[0])  # steps before t1
    if first:
        changes = [(t0, steps[first - 1][1]), *steps[first:last]]
    elif last:
        changes = [(t0, 0), *steps[:last]]
    else:
        return None  # no target was ever registered in the group before t1
    lo = min(n for _, n in changes)
    hi = max(n for _, n in changes)
    area = 0.0
    for (ta, n), (tb, _) in zip(changes, [*changes[1:], (t1, 0)], strict=True):
        area += n * (tb - ta)
    average = area / (t1 - t0)
    samples = float(max(1, round(t1 - t0)))
    return {
        "SampleCount": samples,
        "Sum": average * samples,
        "Average": average,
        "Minimum": float(lo),
        "Maximum": float(hi),
    }


def _check_max_datapoints(most: object, count: int) -> None:
    """GetMetricData's `MaxDatapoints`: AWS pages a larger answer; ecsim answers in one page,
    so it refuses one that would not fit (coverage.py)."""
    if isinstance(most, int) and not isinstance(most, bool) and count > most:
        raise InvalidParameterValue(
            f"The answer has {count} datapoints, more than MaxDatapoints ({most}); ecsim "
            "answers in one page: ask for fewer datapoints or a larger MaxDatapoints."
        )


# The parameters of each operation (botocore cloudwatch/2010-08-01); what ecsim does with
# each is declared in coverage.py.
GET_METRIC_STATISTICS = {
    "Namespace", "MetricName", "Dimensions", "StartTime", "EndTime", "Period", "Statistics",
    "ExtendedStatistics", "Unit",
}  # fmt: skip
GET_METRIC_DATA = {
    "MetricDataQueries", "StartTime", "EndTime", "NextToken", "ScanBy", "MaxDatapoints",
    "LabelOptions",
}  # fmt: skip
LIST_METRICS = {
    "Namespace", "MetricName", "Dimensions", "NextToken", "RecentlyActive",
    "IncludeLinkedAccounts", "OwningAccount",
}  # fmt: skip


# CloudWatch hands out no tokens: any token given is refused (each operation its own way).
_DATA_PAGES = Pages(
    "NextToken",
    "NextToken",
    error=lambda message: AwsError(message, code="InvalidNextToken"),
    message="The NextToken is not valid.",
)
_LIST_PAGES = Pages(
    "NextToken", "NextToken", error=InvalidParameterValue, message="The NextToken is not valid."
)


def _params(operation: str, params: dict[str, Any], names: set[str]) -> Params:
    """The parameters of a call; a name the operation does not have is refused before any
    value is read (a typo: say so rather than ignore it)."""
    p = Params(operation, params, InvalidParameterValue, missing=_missing)
    p.only(names)
    COVERAGE.screen(p)
    return p


def _strings(p: Params, name: str, most: int) -> list[str]:
    """A list of strings of at most `most` members (the service's limit, checked before any
    member is read)."""
    values = p.list(name)
    if len(values) > most:
        raise InvalidParameterValue(messages.collection_too_large(name, most))
    return p.strs(name)


def _missing(name: str) -> AwsError:
    return MissingParameter(messages.required(name))


def _utc(value: Any, name: str) -> datetime:
    """A timestamp given as a datetime, ISO 8601 text or epoch seconds; InvalidParameterValue
    for anything else, and for a number no datetime holds (NaN, infinite, outside the years
    1 to 9999)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, ValueError, OSError):
            number = (
                repr(value) if isinstance(value, float) or value.bit_length() < 64 else "so many"
            )
            raise InvalidParameterValue(
                f"The parameter {name} is not a valid timestamp: {number} seconds is not a "
                "time between the years 1 and 9999."
            ) from None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameterValue(f"The parameter {name} is not a valid timestamp.") from None
    if not isinstance(value, datetime):
        raise InvalidParameterValue(f"The parameter {name} is not a valid timestamp.")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
