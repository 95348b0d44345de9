"""CloudWatch metric alarms (issue 17, point 3) through boto3 and the AWS CLI against a live
server: PutMetricAlarm, DescribeAlarms, DeleteAlarms, SetAlarmState, DescribeAlarmHistory,
states computed from the world's traffic on simulated time, following AWS's pages:

- https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
- https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
- https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html

The server is paused: each test moves simulated time itself (`_advance`). docs/behaviour.md,
"CloudWatch alarms".
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecsim.model.aws.names import resource_id
from ecsim.model.cloudwatch import evaluation as ev
from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from tests.support.server import LiveServer, aws_cli

pytestmark = pytest.mark.server(world="demo", rate=20, speed=300, paused=True)

NS = "AWS/ApplicationELB"


def _advance(server: LiveServer, seconds: float) -> None:
    server.call(lambda w: w.advance(seconds))


def _lb_dim(server: LiveServer) -> list[dict[str, str]]:
    arn = server.call(
        lambda w: w.elbv2.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    )
    return [{"Name": "LoadBalancer", "Value": resource_id(arn)}]


def _put(server: LiveServer, name: str, **given: Any) -> None:
    params: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": NS,
        "MetricName": "RequestCount",
        "Dimensions": _lb_dim(server),
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    params.update(given)
    server.client("cloudwatch").put_metric_alarm(
        **{k: v for k, v in params.items() if v is not None}
    )


def _alarm(server: LiveServer, name: str) -> dict[str, Any]:
    found = server.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert len(found) == 1
    return dict(found[0])


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


# --- states from real traffic ---------------------------------------------------------------


def test_a_new_alarm_is_insufficient_data_then_evaluated_each_minute(server: LiveServer) -> None:
    _put(server, "requests-above-0")
    alarm = _alarm(server, "requests-above-0")
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:requests-above-0"
    assert alarm["DatapointsToAlarm"] == 1 and alarm["TreatMissingData"] == "missing"
    _advance(server, 120)
    alarm = _alarm(server, "requests-above-0")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
    assert alarm["StateReason"].endswith(
        "] was greater than the threshold (0.0) (minimum 1 datapoint for "
        "INSUFFICIENT_DATA -> ALARM transition)."
    )
    data = json.loads(alarm["StateReasonData"])
    assert data["statistic"] == "Sum" and data["period"] == 60 and data["threshold"] == 0.0
    assert data["recentDatapoints"][0] > 0
    history = server.client("cloudwatch").describe_alarm_history(
        AlarmName="requests-above-0", HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert json.loads(history[0]["HistoryData"])["newState"]["stateValue"] == "ALARM"


def test_p99_response_time_alarm_reads_what_get_metric_statistics_answers(
    server: LiveServer,
) -> None:
    cw = server.client("cloudwatch")
    common = {"MetricName": "TargetResponseTime", "ExtendedStatistic": "p99", "Statistic": None}
    _put(server, "p99-above-1ms", Threshold=0.001, **common)
    _put(server, "p99-above-10s", Threshold=10.0, **common)
    _advance(server, 120)
    high, low = _alarm(server, "p99-above-1ms"), _alarm(server, "p99-above-10s")
    assert high["StateValue"] == "ALARM" and high["ExtendedStatistic"] == "p99"
    assert low["StateValue"] == "OK"
    assert "was not greater than the threshold (10.0)" in low["StateReason"]
    data = json.loads(high["StateReasonData"])
    point = data["evaluatedDatapoints"][0]
    when = datetime.fromisoformat(point["timestamp"].replace("+0000", "+00:00"))
    start = server.call(lambda w: w.clock.seconds(when))
    stats = cw.get_metric_statistics(
        Namespace=NS,
        MetricName="TargetResponseTime",
        Dimensions=_lb_dim(server),
        StartTime=server.call(lambda w: w.clock.at(start)),
        EndTime=server.call(lambda w: w.clock.at(start + 60)),
        Period=60,
        ExtendedStatistics=["p99"],
    )["Datapoints"]
    assert stats[0]["ExtendedStatistics"]["p99"] == pytest.approx(point["value"])


@pytest.mark.server(world="demo", rate=20, speed=300, paused=True, fresh=True)
def test_elb_5xx_alarm_goes_into_alarm_when_every_task_is_killed(server: LiveServer) -> None:
    _put(
        server,
        "elb-5xx",
        MetricName="HTTPCode_ELB_5XX_Count",
        TreatMissingData="notBreaching",
    )
    _advance(server, 120)
    alarm = _alarm(server, "elb-5xx")
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )
    ecs = server.client("ecs")
    for arn in ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]:
        server.call(lambda w, a=arn: w.chaos.kill_task(a))
    _advance(server, 120)
    alarm = _alarm(server, "elb-5xx")
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert "was greater than the threshold (0.0)" in alarm["StateReason"]
    assert "(minimum 1 datapoint for OK -> ALARM transition)." in alarm["StateReason"]
    _advance(server, 600)  # the scheduler replaces the tasks: no more 5XX
    assert _alarm(server, "elb-5xx")["StateValue"] == "OK"
    summaries = [
        h["HistorySummary"]
        for h in server.client("cloudwatch").describe_alarm_history(
            AlarmName="elb-5xx", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
        )["AlarmHistoryItems"]
    ]
    assert summaries == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]


@pytest.mark.parametrize(
    ("treat", "state"),
    [
        (None, "INSUFFICIENT_DATA"),
        ("missing", "INSUFFICIENT_DATA"),
        ("notBreaching", "OK"),
        ("breaching", "ALARM"),
        ("ignore", "INSUFFICIENT_DATA"),  # kept: the state it had
    ],
)
def test_treat_missing_data_on_a_metric_without_datapoints(
    server: LiveServer, treat: str | None, state: str
) -> None:
    name = f"no-504-{treat}"
    extra = {} if treat is None else {"TreatMissingData": treat}
    _put(server, name, MetricName="HTTPCode_ELB_504_Count", EvaluationPeriods=3, **extra)
    _advance(server, 180)
    alarm = _alarm(server, name)
    assert alarm["StateValue"] == state, alarm["StateReason"]
    if state == "INSUFFICIENT_DATA" and treat != "ignore":
        assert alarm["StateReason"] == "Insufficient Data: 3 datapoints were unknown."
    if treat == "breaching":
        assert alarm["StateReason"] == (
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
            "datapoints were treated as [Breaching]."
        )


def test_an_alarm_on_a_metric_ecsim_does_not_publish_stays_insufficient_data(
    server: LiveServer,
) -> None:
    _put(
        server,
        "ecs-cpu",
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "ClusterName", "Value": CLUSTER}],
        Statistic="Average",
        Threshold=80.0,
    )
    _advance(server, 180)
    assert _alarm(server, "ecs-cpu")["StateValue"] == "INSUFFICIENT_DATA"


# --- the evaluation rules, on datapoints ------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "treat", "current", "state"),
    [
        # AWS's worked example (3 of 3, the range reaching 2 periods back): 0 breaching, X
        # breaching, None missing
        ([0, None, 5, None, 5], "missing", "OK", "OK"),
        ([0, None, None, None, None], "breaching", "OK", "OK"),
        ([None] * 5, "missing", "OK", "INSUFFICIENT_DATA"),
        ([None] * 5, "ignore", "ALARM", None),
        ([None] * 5, "breaching", "OK", "ALARM"),
        ([None] * 5, "notBreaching", "ALARM", "OK"),
        ([0, 5, 5, None, 5], "notBreaching", "OK", "ALARM"),
        ([None, None, 5, None, None], "breaching", "OK", "ALARM"),
        ([None, None, 5, None, None], "notBreaching", "ALARM", "OK"),
        ([None, None, 5, None, None], "ignore", "OK", None),
        ([None, None, 5, None, None], "missing", "ALARM", "OK"),
    ],
)
def test_missing_data_rules(
    points: list[float | None], treat: str, current: str, state: str | None
) -> None:
    rule = ev.Rule(1.0, "GreaterThanThreshold", 3, 3, treat)
    outcome = ev.evaluate([(60.0 * i, v) for i, v in enumerate(points)], rule, current)
    assert outcome.state == state


def test_m_out_of_n_and_the_reason_listing() -> None:
    rule = ev.Rule(8.0, "GreaterThanOrEqualToThreshold", 3, 2)
    points = [(0.0, 1.0), (60.0, 9.0), (120.0, 1.0), (180.0, 10.0)]
    outcome = ev.evaluate(points, rule, "OK")
    assert outcome.state == "ALARM"
    w = World()
    assert ev.reason_text(outcome, rule, w.clock.at) == (
        "Threshold Crossed: 2 out of the last 3 datapoints [10.0 (01/01/26 00:03:00), "
        "9.0 (01/01/26 00:01:00)] were greater than or equal to the threshold (8.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert ev.number(1e-5) == "1.0E-5" and ev.number(1e308) == "1.0E308"


# --- SetAlarmState, DescribeAlarms, DeleteAlarms ------------------------------------------------


def test_set_alarm_state_holds_until_the_next_evaluation(server: LiveServer) -> None:
    cw = server.client("cloudwatch")
    _put(server, "set-me", Threshold=1e9)  # never crossed: OK once evaluated
    _advance(server, 120)
    assert _alarm(server, "set-me")["StateValue"] == "OK"
    data = json.dumps({"why": "a drill"})
    cw.set_alarm_state(
        AlarmName="set-me", StateValue="ALARM", StateReason="drill", StateReasonData=data
    )
    alarm = _alarm(server, "set-me")
    assert (alarm["StateValue"], alarm["StateReason"], alarm["StateReasonData"]) == (
        "ALARM",
        "drill",
        data,
    )
    _advance(server, 60)
    assert _alarm(server, "set-me")["StateValue"] == "OK"
    summaries = [
        h["HistorySummary"]
        for h in cw.describe_alarm_history(AlarmName="set-me", HistoryItemType="StateUpdate")[
            "AlarmHistoryItems"
        ]
    ]
    assert summaries[:2] == ["Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM"]
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName="nobody", StateValue="OK", StateReason="x")
    assert _code(e) == "ResourceNotFound"
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(
            AlarmName="set-me", StateValue="OK", StateReason="x", StateReasonData="{not json"
        )
    assert _code(e) == "InvalidFormat"
    assert _alarm(server, "set-me")["StateValue"] == "OK"


def test_describe_alarms_filters_and_pages(server: LiveServer) -> None:
    cw = server.client("cloudwatch")
    for i in range(5):
        _put(server, f"page-{i}", Threshold=1e9 if i % 2 else -1.0)
    _advance(server, 120)
    first = cw.describe_alarms(AlarmNamePrefix="page-", MaxRecords=2)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == ["page-0", "page-1"]
    assert first["CompositeAlarms"] == []
    names = [
        a["AlarmName"]
        for page in cw.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix="page-", PaginationConfig={"PageSize": 2}
        )
        for a in page["MetricAlarms"]
    ]
    assert names == [f"page-{i}" for i in range(5)]
    alarming = cw.describe_alarms(AlarmNamePrefix="page-", StateValue="ALARM")["MetricAlarms"]
    assert [a["AlarmName"] for a in alarming] == ["page-0", "page-2", "page-4"]
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(AlarmNames=["page-0"], AlarmNamePrefix="page-")
    assert _code(e) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(NextToken="not-a-token")
    assert _code(e) == "InvalidNextToken"
    assert cw.describe_alarms(AlarmTypes=["CompositeAlarm"])["MetricAlarms"] == []


def test_delete_alarms_is_all_or_nothing(server: LiveServer) -> None:
    cw = server.client("cloudwatch")
    _put(server, "doomed-1")
    _put(server, "doomed-2")
    with pytest.raises(ClientError) as e:
        cw.delete_alarms(AlarmNames=["doomed-1", "nobody"])
    assert _code(e) == "ResourceNotFound"
    assert len(cw.describe_alarms(AlarmNamePrefix="doomed-")["MetricAlarms"]) == 2
    cw.delete_alarms(AlarmNames=["doomed-1", "doomed-2"])
    assert cw.describe_alarms(AlarmNamePrefix="doomed-")["MetricAlarms"] == []
    kinds = {
        h["HistorySummary"]
        for h in cw.describe_alarm_history(AlarmName="doomed-1")["AlarmHistoryItems"]
    }
    assert {'Alarm "doomed-1" created', 'Alarm "doomed-1" deleted'} <= kinds


# --- target tracking's alarms -------------------------------------------------------------------


def test_target_tracking_alarms_are_alarms_and_go_with_their_policy(server: LiveServer) -> None:
    aas = server.client("application-autoscaling")
    cw = server.client("cloudwatch")
    target = {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{CLUSTER}/{SERVICE}",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    aas.register_scalable_target(**target, MinCapacity=1, MaxCapacity=10)
    made = aas.put_scaling_policy(
        **target,
        PolicyName="cpu60",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    )
    high_name, low_name = (a["AlarmName"] for a in made["Alarms"])
    found = cw.describe_alarms(AlarmNamePrefix=f"TargetTracking-service/{CLUSTER}/{SERVICE}-")
    alarms = {a["AlarmName"]: a for a in found["MetricAlarms"]}
    assert set(alarms) == {high_name, low_name}
    high, low = alarms[high_name], alarms[low_name]
    assert high["AlarmArn"] == made["Alarms"][0]["AlarmARN"]
    assert (high["Namespace"], high["MetricName"], high["Statistic"]) == (
        "AWS/ECS",
        "CPUUtilization",
        "Average",
    )
    assert high["Dimensions"] == [
        {"Name": "ClusterName", "Value": CLUSTER},
        {"Name": "ServiceName", "Value": SERVICE},
    ]
    assert (high["ComparisonOperator"], high["Threshold"], high["EvaluationPeriods"]) == (
        "GreaterThanThreshold",
        60.0,
        3,
    )
    assert (low["ComparisonOperator"], low["Threshold"], low["EvaluationPeriods"]) == (
        "LessThanThreshold",
        pytest.approx(54.0),
        15,
    )
    assert high["AlarmActions"] == [made["PolicyARN"]]
    assert high["AlarmDescription"].startswith("DO NOT EDIT OR DELETE.")
    _advance(server, 120)
    states = {
        a["AlarmName"]: a["StateValue"]
        for a in cw.describe_alarms(AlarmNames=[high_name, low_name])["MetricAlarms"]
    }
    assert states[high_name] == "OK"  # 20 requests/s: far below 60 % CPU
    with pytest.raises(ClientError) as e:
        cw.delete_alarms(AlarmNames=[high_name])
    assert _code(e) == "InvalidParameterValue"
    aas.delete_scaling_policy(**target, PolicyName="cpu60")
    assert cw.describe_alarms(AlarmNames=[high_name, low_name])["MetricAlarms"] == []
    aas.deregister_scalable_target(**target)


# --- hostile input ------------------------------------------------------------------------------


_BAD: list[tuple[dict[str, Any], str]] = [
    ({"Threshold": math.nan}, "InvalidParameterValue"),
    ({"Threshold": math.inf}, "InvalidParameterValue"),
    ({"Threshold": "1"}, "InvalidParameterValue"),
    ({"EvaluationPeriods": -1}, "InvalidParameterValue"),
    ({"EvaluationPeriods": 10**12}, "InvalidParameterValue"),
    ({"EvaluationPeriods": 1441}, "InvalidParameterValue"),
    ({"Period": 0}, "InvalidParameterValue"),
    ({"Period": 10}, "InvalidParameterValue"),
    ({"Period": 90}, "InvalidParameterValue"),
    ({"DatapointsToAlarm": 2}, "InvalidParameterValue"),
    ({"AlarmName": "bell\x07"}, "InvalidParameterValue"),
    ({"AlarmName": "x" * 256}, "InvalidParameterValue"),
    ({"AlarmName": ""}, "InvalidParameterValue"),
    ({"Namespace": ":bad"}, "InvalidParameterValue"),
    ({"ComparisonOperator": "GreaterThanUpperThreshold"}, "InvalidParameterValue"),
    ({"ComparisonOperator": None}, "MissingParameter"),
    ({"Threshold": None}, "MissingParameter"),
    ({"Statistic": None}, "MissingParameter"),
    ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination"),
    ({"Statistic": None, "ExtendedStatistic": "p101"}, "InvalidParameterValue"),
    ({"Statistic": None, "ExtendedStatistic": "tm90"}, "InvalidParameterValue"),
    ({"Statistic": None, "ExtendedStatistic": "p99"}, "InvalidParameterCombination"),  # a count
    ({"TreatMissingData": "sometimes"}, "InvalidParameterValue"),
    ({"AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"]}, "InvalidParameterValue"),
    ({"Metrics": [{"Id": "m1", "Expression": "1"}]}, "InvalidParameterValue"),
    ({"Dimensions": [{"Name": "LoadBalancer"}]}, "MissingParameter"),
]


@pytest.mark.parametrize(("change", "code"), _BAD, ids=[repr(c)[:40] for c, _ in _BAD])
def test_hostile_input_is_refused_and_changes_nothing(
    server: LiveServer, change: dict[str, Any], code: str
) -> None:
    params: dict[str, Any] = {
        "AlarmName": "hostile",
        "Namespace": NS,
        "MetricName": "RequestCount",
        "Dimensions": _lb_dim(server),
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    for key, value in change.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value

    def call(w: World) -> str:
        try:
            w.cloudwatch.put_metric_alarm(**params)
        except AwsError as e:
            return e.code
        return "accepted"

    assert server.call(call) == code
    assert server.client("cloudwatch").describe_alarms(AlarmNames=["hostile"])["MetricAlarms"] == []


def test_a_huge_threshold_is_a_number_like_any_other(server: LiveServer) -> None:
    _put(server, "huge", Threshold=1e308)
    _advance(server, 60)
    alarm = _alarm(server, "huge")
    assert alarm["Threshold"] == 1e308 and alarm["StateValue"] == "OK"
    assert "the threshold (1.0E308)" in alarm["StateReason"]


# --- the AWS CLI --------------------------------------------------------------------------------


def test_the_aws_cli_puts_and_describes_an_alarm(server: LiveServer, tmp_path: Path) -> None:
    dim = _lb_dim(server)[0]["Value"]
    put = aws_cli(
        server,
        tmp_path,
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "cli-5xx",
        "--namespace",
        NS,
        "--metric-name",
        "HTTPCode_Target_5XX_Count",
        "--statistic",
        "Sum",
        "--period",
        "60",
        "--evaluation-periods",
        "2",
        "--datapoints-to-alarm",
        "1",
        "--threshold",
        "0",
        "--comparison-operator",
        "GreaterThanThreshold",
        "--treat-missing-data",
        "notBreaching",
        "--dimensions",
        f"Name=LoadBalancer,Value={dim}",
    )
    assert put.returncode == 0, put.stderr
    _advance(server, 120)
    got = aws_cli(server, tmp_path, "cloudwatch", "describe-alarms", "--alarm-names", "cli-5xx")
    assert got.returncode == 0, got.stderr
    alarm = json.loads(got.stdout)["MetricAlarms"][0]
    assert (alarm["StateValue"], alarm["DatapointsToAlarm"]) == ("OK", 1)
