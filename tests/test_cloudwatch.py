"""CloudWatch metrics of the simulated ALB: `w.cloudwatch` (the numbers are the world's own
records, exactly) and GetMetricStatistics / GetMetricData / ListMetrics through boto3 and the
AWS CLI against a real server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecsim.model.cloudwatch.api import NAMESPACE
from ecsim.model.errors import AwsError
from ecsim.model.events import TargetHealthChanged
from ecsim.model.world import World
from tests.support.server import LiveServer, aws_cli


def _dims(w: World) -> tuple[str, str]:
    lb = w.elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    tg = w.elbv2.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    return lb.split(":loadbalancer/")[1], tg.split(":")[-1]


@pytest.fixture(scope="module")
def killed() -> World:
    """The demo world at 50 req/s; a task killed at t=45 s; 5 more minutes."""
    w = World.demo(seed=0, rate=50)
    w.chaos.kill_task(w.ecs.list_tasks(cluster="home")["taskArns"][0], reason="oom")
    w.advance(300)
    return w


def _stats(w: World, metric: str, dims: list[dict[str, str]], **kw: Any) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "Namespace": NAMESPACE,
        "MetricName": metric,
        "Dimensions": dims,
        "StartTime": w.clock.at(0),
        "EndTime": w.clock.at(w.now),
        "Period": 60,
        **kw,
    }
    if "ExtendedStatistics" not in kw:
        params.setdefault("Statistics", ["Sum", "SampleCount", "Average", "Minimum", "Maximum"])
    return list(w.cloudwatch.get_metric_statistics(**params)["Datapoints"])


def test_request_counts_are_the_traffic_stats_of_each_minute(killed: World) -> None:
    w = killed
    lb, _ = _dims(w)
    points = _stats(w, "RequestCount", [{"Name": "LoadBalancer", "Value": lb}])
    assert [p["Timestamp"] for p in points] == [w.clock.at(60 * i) for i in range(len(points))]
    assert len(points) == 6  # minutes 0..5 (the last one partial: now is 345 s)
    for p in points:
        t0 = (p["Timestamp"] - w.clock.epoch).total_seconds()
        s = w.traffic.stats(since=t0, until=min(t0 + 60, w.now))
        assert p["Sum"] == p["SampleCount"] == sum(s["by_target"].values())
        assert p["Average"] == p["Minimum"] == p["Maximum"] == 1.0
        assert p["Unit"] == "Count"
    assert sum(p["Sum"] for p in points) == w.traffic.stats(0, w.now)["requests"]
    elb502 = _stats(w, "HTTPCode_ELB_502_Count", [{"Name": "LoadBalancer", "Value": lb}])
    # the killed task's in-flight requests: 502 in minute 0 only
    assert [p["Timestamp"] for p in elb502] == [w.clock.at(0)]
    assert elb502[0]["Sum"] == w.traffic.stats(0, 60)["by_status"]["502"]
    ok = _stats(w, "HTTPCode_Target_2XX_Count", [{"Name": "LoadBalancer", "Value": lb}])
    assert sum(p["Sum"] for p in ok) == w.traffic.stats(0, w.now)["by_status"]["200"]
    assert _stats(w, "HTTPCode_Target_5XX_Count", [{"Name": "LoadBalancer", "Value": lb}]) == []


def test_healthy_host_count_follows_the_health_timeline(killed: World) -> None:
    w = killed
    lb, tg = _dims(w)
    dims = [{"Name": "TargetGroup", "Value": tg}, {"Name": "LoadBalancer", "Value": lb}]
    points = _stats(w, "HealthyHostCount", dims)
    changes = [(e.time, e.target_id, e.state) for e in w.events(kind=TargetHealthChanged)]
    killed_at = next(t for t, _, s in changes if s == "draining")
    assert 0 < killed_at < 60
    by_minute = {int((p["Timestamp"] - w.clock.epoch).total_seconds()) // 60: p for p in points}
    assert by_minute[0]["Maximum"] == 3 and by_minute[0]["Minimum"] == 0  # the world starts
    assert by_minute[1]["Minimum"] == 2 and by_minute[1]["Maximum"] == 3  # the new one joins
    assert all(by_minute[m]["Minimum"] == by_minute[m]["Maximum"] == 3 for m in (2, 3, 4))
    # minute 1: 2 healthy until the replacement's first healthy check, then 3
    back = next(t for t, _, s in changes if s == "healthy" and t > killed_at)
    assert by_minute[1]["Average"] == pytest.approx((2 * (back - 60) + 3 * (120 - back)) / 60)
    unhealthy = _stats(w, "UnHealthyHostCount", dims)
    assert all(p["Maximum"] == 0 for p in unhealthy)


def test_target_group_requests_and_response_time(killed: World) -> None:
    w = killed
    lb, tg = _dims(w)
    dims = [{"Name": "TargetGroup", "Value": tg}, {"Name": "LoadBalancer", "Value": lb}]
    per_tg = _stats(w, "RequestCount", dims, Statistics=["Sum"])
    per_lb = _stats(w, "RequestCount", [{"Name": "LoadBalancer", "Value": lb}], Statistics=["Sum"])
    assert per_tg == per_lb  # one target group behind the load balancer
    times = _stats(
        w,
        "TargetResponseTime",
        [{"Name": "LoadBalancer", "Value": lb}],
        ExtendedStatistics=["p50", "p99"],
    )
    s = w.traffic.stats(120, 180)  # every answer of minute 2 came from a target
    assert s["by_source"] == {"target": s["requests"]}
    # the same histogram bins as the traffic stats, which round to the microsecond
    assert times[2]["ExtendedStatistics"] == {
        "p50": pytest.approx(s["latency_ms"]["p50"] / 1000, abs=5e-7),
        "p99": pytest.approx(s["latency_ms"]["p99"] / 1000, abs=5e-7),
    }
    assert times[2]["Unit"] == "Seconds"


def test_request_count_per_target_is_requests_over_healthy_targets(killed: World) -> None:
    w = killed
    lb, tg = _dims(w)
    dims = [{"Name": "TargetGroup", "Value": tg}, {"Name": "LoadBalancer", "Value": lb}]
    per_target = _stats(w, "RequestCountPerTarget", dims, Statistics=["Sum"])
    requests = _stats(w, "RequestCount", dims, Statistics=["Sum"])
    healthy = _stats(w, "HealthyHostCount", dims, Statistics=["Average"])
    assert len(per_target) == len(requests) == len(healthy) >= 4
    for p, r, h in zip(per_target, requests, healthy, strict=True):
        assert p["Timestamp"] == r["Timestamp"] == h["Timestamp"]
        assert p["Sum"] == pytest.approx(r["Sum"] / h["Average"])
        assert set(p) == {"Timestamp", "Sum", "Unit"}
    listed = w.cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName="RequestCountPerTarget")
    assert [m["Dimensions"] for m in listed["Metrics"]] == [dims]
    with pytest.raises(AwsError) as caught:
        _stats(w, "RequestCountPerTarget", dims, Statistics=["Average"])
    assert caught.value.code == "InvalidParameterCombination"
    assert "only valid statistic" in caught.value.message


def test_errors_and_reads_only(killed: World) -> None:
    w = killed
    lb, _ = _dims(w)
    before = (w.now, len(w.events()))
    dims = [{"Name": "LoadBalancer", "Value": lb}]
    for kw, code in (
        ({"Period": 30}, "InvalidParameterValue"),
        ({"Statistics": ["Median"]}, "InvalidParameterValue"),
        ({"Statistics": ["Sum"], "ExtendedStatistics": ["p99"]}, "InvalidParameterCombination"),
        ({"EndTime": w.clock.at(0)}, "InvalidParameterValue"),
        ({"StartTime": w.clock.at(0) - dt.timedelta(days=2)}, "InvalidParameterCombination"),
    ):
        with pytest.raises(AwsError) as e:
            _stats(w, "RequestCount", dims, **kw)
        assert e.value.code == code, kw
    with pytest.raises(AwsError) as e:
        w.cloudwatch.get_metric_statistics(Namespace=NAMESPACE, MetricName="RequestCount")
    assert e.value.code == "MissingParameter"
    assert _stats(w, "RequestCount", [{"Name": "LoadBalancer", "Value": "app/nope/1"}]) == []
    assert (w.now, len(w.events())) == before


# --- through the wire ---------------------------------------------------------------------


# one server for both: the demo at 20 req/s, four simulated minutes in
SERVED = pytest.mark.server(world="demo", rate=20, speed=300, warm=240)


@SERVED
def test_boto3_get_metric_statistics_and_list_metrics(server: LiveServer) -> None:
    cw = server.client("cloudwatch")
    metrics = cw.list_metrics(Namespace=NAMESPACE, MetricName="HealthyHostCount")["Metrics"]
    assert len(metrics) == 1
    dims = metrics[0]["Dimensions"]
    assert [d["Name"] for d in dims] == ["TargetGroup", "LoadBalancer"]
    lb = dims[1]["Value"]
    assert lb.startswith("app/home-alb/")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(minutes=4)
    got = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="RequestCount",
        Dimensions=[{"Name": "LoadBalancer", "Value": lb}],
        StartTime=start,
        EndTime=end,
        Period=60,
        Statistics=["Sum"],
    )
    assert got["Label"] == "RequestCount"
    expected = server.call(
        lambda w: [
            sum(w.traffic.stats(60 * i, 60 * i + 60)["by_target"].values()) for i in range(4)
        ]
    )
    assert [p["Sum"] for p in got["Datapoints"]] == expected
    health = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="HealthyHostCount",
        Dimensions=dims,
        StartTime=start + dt.timedelta(minutes=2),
        EndTime=end,
        Period=120,
        Statistics=["Minimum", "Maximum"],
    )["Datapoints"]
    assert [(p["Minimum"], p["Maximum"]) for p in health] == [(3.0, 3.0)]
    data = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "req",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": "RequestCount",
                        "Dimensions": [{"Name": "LoadBalancer", "Value": lb}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    assert data["Values"] == [float(n) for n in expected]
    with pytest.raises(ClientError) as e:
        cw.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName="RequestCount",
            StartTime=start,
            EndTime=end,
            Period=10,
            Statistics=["Sum"],
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(
            MetricDataQueries=[{"Id": "m", "Expression": "SUM(METRICS())"}],
            StartTime=start,
            EndTime=end,
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


@SERVED
def test_aws_cli_get_metric_statistics(server: LiveServer, tmp_path: Path) -> None:
    lb = server.call(lambda w: _dims(w)[0])
    out = aws_cli(
        server, tmp_path,
        "cloudwatch", "get-metric-statistics",
        "--namespace", NAMESPACE, "--metric-name", "RequestCount",
        "--dimensions", f"Name=LoadBalancer,Value={lb}",
        "--start-time", "2026-01-01T00:00:00Z", "--end-time", "2026-01-01T00:03:00Z",
        "--period", "60", "--statistics", "Sum",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    points = sorted(json.loads(out.stdout)["Datapoints"], key=lambda p: p["Timestamp"])
    expected = server.call(
        lambda w: [
            sum(w.traffic.stats(60 * i, 60 * i + 60)["by_target"].values()) for i in range(3)
        ]
    )
    assert [p["Sum"] for p in points] == expected


def test_the_load_balancers_own_503_is_not_a_request_to_a_target() -> None:
    w = World.demo(seed=0, rate=20)
    w.ecs.update_service(cluster="home", service="home-service", desiredCount=0)
    w.advance(200)
    lb, _ = _dims(w)
    dims = [{"Name": "LoadBalancer", "Value": lb}]
    last = w.clock.at(w.now - 60).replace(second=0)
    t0 = (last - w.clock.epoch).total_seconds()
    window = {"StartTime": last, "EndTime": last + dt.timedelta(minutes=1)}
    assert _stats(w, "RequestCount", dims, **window) == []  # no target was chosen
    elb503 = _stats(w, "HTTPCode_ELB_503_Count", dims, Statistics=["Sum"], **window)
    assert elb503[0]["Sum"] == w.traffic.stats(t0, t0 + 60)["by_status"]["503"] > 0


def test_a_misspelt_parameter_is_an_error_not_ignored(killed: World) -> None:
    w = killed
    for call, op in (
        (
            lambda: w.cloudwatch.list_metrics(Namespace=NAMESPACE, MetricNmae="RequestCount"),
            "ListMetrics",
        ),
        (lambda: _stats(w, "RequestCount", [], Statistic=["Sum"]), "GetMetricStatistics"),
        (lambda: w.cloudwatch.get_metric_data(MetricDataQueries=[], Start=1), "GetMetricData"),
    ):
        with pytest.raises(AwsError) as caught:
            call()
        assert caught.value.code == "InvalidParameterValue"
        assert "Unknown parameter in input" in caught.value.message and op in caught.value.message
