"""Application Auto Scaling of ECS services through the AWS API: real boto3 clients and the real
AWS CLI against a real server on a localhost port (JSON 1.1, `AnyScaleFrontendService`).

Each test gets a fresh server running the seed's world (`home-service`, 3 tasks behind
`home-alb`) at 120x, so the minutes target tracking needs pass in a few wall seconds; every
wait is bounded.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ecsim.model.events import ScalingActivity
from ecsim.model.world import World
from tests.support.server import FAST, LiveServer, aws_cli, wait_for

RID = "service/home/home-service"
DIM = "ecs:service:DesiredCount"
KEY = {"ServiceNamespace": "ecs", "ResourceId": RID, "ScalableDimension": DIM}
CPU50 = {
    "TargetValue": 50.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
}
TARGET_ARN = re.compile(
    r"arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/[0-9a-f]{36}"
)
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


pytestmark = pytest.mark.server(world="demo", fresh=True)


def error_of(call: Any, **params: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of the ClientError the call raises."""
    with pytest.raises(ClientError) as e:
        call(**params)
    error = e.value.response["Error"]
    return error["Code"], error["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def desired_count(ecs: Any, service: str = "home-service") -> int:
    svc = ecs.describe_services(cluster="home", services=[service])["services"][0]
    return int(svc["desiredCount"])


def resource_label(server: LiveServer) -> str:
    """`app/<lb>/<id>/targetgroup/<tg>/<id>` of the seed's load balancer and target group."""
    elb = server.client("elbv2")
    lb = elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    return f"{lb.split(':loadbalancer/')[1]}/{tg.split(':')[-1]}"


def create_second_service(server: LiveServer, name: str) -> None:
    ecs = server.client("ecs")
    home = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    ecs.create_service(
        cluster="home",
        serviceName=name,
        taskDefinition=home["taskDefinition"],
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=home["networkConfiguration"],
    )


# --- scalable targets ---------------------------------------------------------------------


def test_register_clamps_the_desired_count_and_reregister_updates_the_range(
    server: LiveServer,
) -> None:
    aas, ecs = server.client("application-autoscaling"), server.client("ecs")
    assert desired_count(ecs) == 3
    before = server.call(lambda w: w.clock.at(w.now))
    arn = aas.register_scalable_target(
        **KEY, MinCapacity=4, MaxCapacity=8, Tags={"environment": "test"}
    )["ScalableTargetARN"]
    after = server.call(lambda w: w.clock.at(w.now))
    assert TARGET_ARN.fullmatch(arn)
    assert desired_count(ecs) == 4  # raised to the new minimum at once

    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    created = target.pop("CreationTime")
    assert before.timestamp() - 0.001 <= created.timestamp() <= after.timestamp() + 0.001
    assert target == {
        "ServiceNamespace": "ecs",
        "ResourceId": RID,
        "ScalableDimension": DIM,
        "MinCapacity": 4,
        "MaxCapacity": 8,
        "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/"
        "ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
        "SuspendedState": {
            "DynamicScalingInSuspended": False,
            "DynamicScalingOutSuspended": False,
            "ScheduledScalingSuspended": False,
        },
        "ScalableTargetARN": arn,
    }

    # Re-registering updates the range (same ARN, same creation time); a count above the new
    # maximum comes down to it.
    again = aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=2)
    assert again["ScalableTargetARN"] == arn
    assert desired_count(ecs) == 2
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RID])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    assert target["CreationTime"] == created
    # ...and ECS really runs two tasks.
    ecs.get_waiter("services_stable").wait(
        cluster="home", services=["home-service"], WaiterConfig=FAST
    )
    svc = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    assert (svc["desiredCount"], svc["runningCount"]) == (2, 2)

    # Only the suspended state: the range stays.
    aas.register_scalable_target(**KEY, SuspendedState={"DynamicScalingInSuspended": True})
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    # A count within the range is left alone.
    aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=10)
    assert desired_count(ecs) == 2


def test_describe_scalable_targets_filters_and_pages(server: LiveServer) -> None:
    aas = server.client("application-autoscaling")
    create_second_service(server, "api-service")
    api = "service/home/api-service"
    aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=5)
    aas.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=api, ScalableDimension=DIM, MinCapacity=1, MaxCapacity=3
    )
    every = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert [(t["ResourceId"], t["MaxCapacity"]) for t in every] == [(RID, 5), (api, 3)]
    assert every[0]["ScalableTargetARN"] != every[1]["ScalableTargetARN"]
    only = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[api])
    assert [t["ResourceId"] for t in only["ScalableTargets"]] == [api]
    none = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=["service/home/x"])
    assert none["ScalableTargets"] == [] and "NextToken" not in none
    first = aas.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=1)
    assert [t["ResourceId"] for t in first["ScalableTargets"]] == [RID]
    second = aas.describe_scalable_targets(
        ServiceNamespace="ecs", MaxResults=1, NextToken=first["NextToken"]
    )
    assert [t["ResourceId"] for t in second["ScalableTargets"]] == [api]
    assert "NextToken" not in second
    pages = aas.get_paginator("describe_scalable_targets").paginate(
        ServiceNamespace="ecs", PaginationConfig={"PageSize": 1}
    )
    assert [t["ResourceId"] for p in pages for t in p["ScalableTargets"]] == [RID, api]
    code, _, status = error_of(
        aas.describe_scalable_targets, ServiceNamespace="ecs", NextToken="not-a-token"
    )
    assert (code, status) == ("InvalidNextTokenException", 400)


# --- policies -----------------------------------------------------------------------------


def test_put_describe_update_and_delete_a_target_tracking_policy(server: LiveServer) -> None:
    aas = server.client("application-autoscaling")
    aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=6)
    config = {**CPU50, "ScaleOutCooldown": 60, "ScaleInCooldown": 120}
    put = aas.put_scaling_policy(
        PolicyName="cpu50",
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=config,
    )
    match = re.fullmatch(
        rf"arn:aws:[a-z-]+:us-east-1:123456789012:scalingPolicy:({UUID}):"
        rf"resource/ecs/{RID}:policyName/cpu50",
        put["PolicyARN"],
    )
    assert match is not None, put["PolicyARN"]
    uid = match.group(1)
    # each alarm has a UUID of its own, neither the policy's (botocore's PutScalingPolicy
    # example: policy 6d8972f3-..., AlarmHigh d4f0770c-..., AlarmLow 1b437334-...)
    names = [a["AlarmName"] for a in put["Alarms"]]
    uids = []
    for name, kind in zip(names, ("High", "Low"), strict=True):
        alarm = re.fullmatch(rf"TargetTracking-{RID}-Alarm{kind}-({UUID})", name)
        assert alarm is not None, name
        uids.append(alarm.group(1))
    assert len({uid, *uids}) == 3
    assert put["Alarms"] == [
        {"AlarmName": name, "AlarmARN": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"}
        for name in names
    ]

    (policy,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    created = policy.pop("CreationTime")
    assert created.year == 2026
    assert policy == {
        "PolicyARN": put["PolicyARN"],
        "PolicyName": "cpu50",
        "ServiceNamespace": "ecs",
        "ResourceId": RID,
        "ScalableDimension": DIM,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": config,
        "Alarms": put["Alarms"],
    }

    # A second policy, on requests per target of the seed's target group.
    label = resource_label(server)
    alb = aas.put_scaling_policy(
        PolicyName="requests",
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 1000.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ALBRequestCountPerTarget",
                "ResourceLabel": label,
            },
            "DisableScaleIn": True,
        },
    )
    assert alb["PolicyARN"] != put["PolicyARN"]
    both = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=RID)
    assert [p["PolicyName"] for p in both["ScalingPolicies"]] == ["cpu50", "requests"]
    (requests,) = aas.describe_scaling_policies(ServiceNamespace="ecs", PolicyNames=["requests"])[
        "ScalingPolicies"
    ]
    spec = requests["TargetTrackingScalingPolicyConfiguration"]
    assert spec["PredefinedMetricSpecification"]["ResourceLabel"] == label
    assert spec["DisableScaleIn"] is True
    other = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/home/x")
    assert other["ScalingPolicies"] == []

    # Putting a policy of the same name updates it: same ARN, same alarms.
    update = aas.put_scaling_policy(
        PolicyName="cpu50",
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={**CPU50, "TargetValue": 60.0},
    )
    assert (update["PolicyARN"], update["Alarms"]) == (put["PolicyARN"], put["Alarms"])
    (cpu,) = aas.describe_scaling_policies(ServiceNamespace="ecs", PolicyNames=["cpu50"])[
        "ScalingPolicies"
    ]
    assert cpu["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60.0
    assert "ScaleOutCooldown" not in cpu["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["CreationTime"] == created

    # Delete one; deleting it again is ObjectNotFoundException.
    assert (
        aas.delete_scaling_policy(PolicyName="cpu50", **KEY)["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    left = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert [p["PolicyName"] for p in left] == ["requests"]
    code, message, status = error_of(aas.delete_scaling_policy, PolicyName="cpu50", **KEY)
    assert (code, status) == ("ObjectNotFoundException", 400)
    assert "cpu50" in message
    with pytest.raises(aas.exceptions.ObjectNotFoundException):
        aas.delete_scaling_policy(PolicyName="never", **KEY)


def test_deregister_takes_the_policies_with_it(server: LiveServer) -> None:
    aas, ecs = server.client("application-autoscaling"), server.client("ecs")
    aas.register_scalable_target(**KEY, MinCapacity=2, MaxCapacity=6)
    aas.put_scaling_policy(
        PolicyName="cpu50",
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU50,
    )
    assert len(aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]) == 1
    aas.deregister_scalable_target(**KEY)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    assert (
        aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=RID)["ScalingPolicies"]
        == []
    )
    assert desired_count(ecs) == 3  # the service keeps its count
    code, _, status = error_of(aas.deregister_scalable_target, **KEY)
    assert (code, status) == ("ObjectNotFoundException", 400)
    code, _, _ = error_of(aas.delete_scaling_policy, PolicyName="cpu50", **KEY)
    assert code == "ObjectNotFoundException"
    # Registered again, it starts without policies.
    aas.register_scalable_target(**KEY, MinCapacity=2, MaxCapacity=6)
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []


# --- scaling, driven by traffic -------------------------------------------------------------


def test_traffic_scales_the_service_out_and_the_activity_says_so(server: LiveServer) -> None:
    aas, ecs = server.client("application-autoscaling"), server.client("ecs")
    aas.register_scalable_target(**KEY, MinCapacity=2, MaxCapacity=6)
    put = aas.put_scaling_policy(
        PolicyName="cpu50",
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU50,
    )
    high = put["Alarms"][0]["AlarmName"]
    assert "-AlarmHigh-" in high
    assert aas.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"] == []
    # 3 tasks of 200 req/s each (ecsim.capacity) at 450 req/s: about 75 % CPU, above 50 %
    # for three minutes in a row.
    server.call(lambda w: w.traffic.set_rate(450))
    activities = wait_for(
        lambda: aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=RID)[
            "ScalingActivities"
        ],
        seconds=60,
    )
    server.call(lambda w: w.traffic.set_rate(5))
    (activity,) = activities
    count = desired_count(ecs)
    assert 3 < count <= 6
    assert activity["Description"] == f"Setting desired count to {count}."
    assert activity["Cause"] == f"monitor alarm {high} in state ALARM triggered policy cpu50"
    assert activity["StatusCode"] == "Successful"
    assert activity["StatusMessage"] == (
        f"Successfully set desired count to {count}. Change successfully fulfilled by ecs."
    )
    assert (activity["ServiceNamespace"], activity["ResourceId"]) == ("ecs", RID)
    assert activity["ScalableDimension"] == DIM
    assert re.fullmatch(UUID, activity["ActivityId"])

    # The activity is the world's own record, at the end of a minute...
    records = server.call(
        lambda w: [
            (e.time, e.from_count, e.to_count, e.activity_id)
            for e in w.events(kind=ScalingActivity)
            if isinstance(e, ScalingActivity)
        ]
    )
    at, old, new, activity_id = records[0]
    assert (old, new, activity_id) == (3, count, activity["ActivityId"])
    assert at % 60 == 0
    start = server.call(lambda w: w.clock.at(at))
    assert activity["StartTime"] == start == activity["EndTime"]

    # ...after three minutes above the target, and the count it asked for is proportional:
    # ceil(3 x CPU / 50), each task's CPU 2 % idle plus 98 % x its requests over 200 req/s.
    def cpu(minute_end: float) -> float:
        def read(w: World) -> float:
            answered = w.traffic.stats(since=minute_end - 60, until=minute_end)["by_target"]
            assert len(answered) == 3
            return sum(2 + 98 * min(1.0, n / (200 * 60)) for n in answered.values()) / 3

        return server.call(read)

    assert all(cpu(at - 60 * i) > 50 for i in range(3))
    assert count == min(6, math.ceil(3 * cpu(at) / 50))

    # ECS carries it out: the new tasks run.
    ecs.get_waiter("services_stable").wait(
        cluster="home", services=["home-service"], WaiterConfig=FAST
    )
    svc = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    assert svc["runningCount"] == count
    # Filters: another resource has no activities; pages of one.
    assert (
        aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId="service/home/other")[
            "ScalingActivities"
        ]
        == []
    )
    one = aas.describe_scaling_activities(ServiceNamespace="ecs", MaxResults=1)
    assert [a["ActivityId"] for a in one["ScalingActivities"]] == [activity["ActivityId"]]


# --- errors -------------------------------------------------------------------------------


def test_object_not_found(server: LiveServer) -> None:
    aas = server.client("application-autoscaling")
    code, message, status = error_of(
        aas.put_scaling_policy,
        PolicyName="cpu50",
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU50,
    )
    assert (code, status) == ("ObjectNotFoundException", 400)
    assert RID in message
    with pytest.raises(aas.exceptions.ObjectNotFoundException):
        aas.delete_scaling_policy(PolicyName="cpu50", **KEY)
    with pytest.raises(aas.exceptions.ObjectNotFoundException):
        aas.deregister_scalable_target(**KEY)
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []


def test_validation_errors_change_nothing(server: LiveServer) -> None:
    aas, ecs = server.client("application-autoscaling"), server.client("ecs")

    def refused(call: Any, needle: str, **params: Any) -> None:
        code, message, status = error_of(call, **params)
        assert (code, status) == ("ValidationException", 400), (params, message)
        assert needle in message, message

    register = aas.register_scalable_target
    refused(
        register, "ecs", **{**KEY, "ServiceNamespace": "dynamodb"}, MinCapacity=1, MaxCapacity=2
    )
    refused(
        register, "enum value set", **{**KEY, "ServiceNamespace": "nope"}, MinCapacity=1,
        MaxCapacity=2,
    )  # fmt: skip
    refused(
        register, "ecs:service:Foo", **{**KEY, "ScalableDimension": "ecs:service:Foo"},
        MinCapacity=1, MaxCapacity=2,
    )  # fmt: skip
    for bad in ("home/home-service", "service/home", "service//home-service", "cluster/a/b"):
        refused(register, bad, **{**KEY, "ResourceId": bad}, MinCapacity=1, MaxCapacity=2)
    refused(register, "(5 > 2)", **KEY, MinCapacity=5, MaxCapacity=2)
    refused(register, "MinCapacity and MaxCapacity", **KEY, MinCapacity=1)
    refused(register, "MinCapacity and MaxCapacity", **KEY)
    refused(
        register, "doesn't exist", **{**KEY, "ResourceId": "service/home/ghost"}, MinCapacity=1,
        MaxCapacity=2,
    )  # fmt: skip
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert desired_count(ecs) == 3
    refused(aas.describe_scalable_targets, "ecs", ServiceNamespace="dynamodb")
    refused(aas.describe_scaling_activities, "ecs", ServiceNamespace="rds")

    aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=6)
    refused(register, "(7 > 6)", **KEY, MinCapacity=7)  # against the registered maximum
    put = aas.put_scaling_policy
    refused(
        put, "TargetTrackingScaling", PolicyName="steps", **KEY, PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}],
        },
    )  # fmt: skip
    # without PolicyType: StepScaling, AWS's default
    refused(
        put, "TargetTrackingScaling", PolicyName="steps", **KEY,
        StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity"},
    )  # fmt: skip
    tracking = {"PolicyName": "p", **KEY, "PolicyType": "TargetTrackingScaling"}
    refused(
        put, "predefined metrics only", **tracking,
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "CustomizedMetricSpecification": {
                "MetricName": "CPUUtilization",
                "Namespace": "AWS/ECS",
                "Dimensions": [{"Name": "ServiceName", "Value": "home-service"}],
                "Statistic": "Average",
            },
        },
    )  # fmt: skip
    refused(
        put, "Unsupported PredefinedMetricType", **tracking,
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "DynamoDBReadCapacityUtilization"
            },
        },
    )  # fmt: skip
    requests = {"PredefinedMetricType": "ALBRequestCountPerTarget"}
    refused(
        put, "ResourceLabel", **tracking,
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0, "PredefinedMetricSpecification": requests,
        },
    )  # fmt: skip
    label = resource_label(server)
    for bad in (
        "app/home-alb/0123456789abcdef/targetgroup/home-tg/0123456789abcdef",
        label.replace("/targetgroup/", "/tg/"),
        label.split("/targetgroup/")[1],
    ):
        refused(
            put, "ResourceLabel", **tracking,
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 100.0,
                "PredefinedMetricSpecification": {**requests, "ResourceLabel": bad},
            },
        )  # fmt: skip
    refused(
        put, "only for ALBRequestCountPerTarget", **tracking,
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization",
                "ResourceLabel": label,
            },
        },
    )  # fmt: skip
    refused(
        put, "TargetValue", **tracking,
        TargetTrackingScalingPolicyConfiguration={**CPU50, "TargetValue": 0.0},
    )  # fmt: skip
    refused(put, "required", **tracking)  # no configuration at all
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 6)
    assert desired_count(ecs) == 3


def test_unmodelled_operations_and_unknown_parameters(server: LiveServer) -> None:
    aas = server.client("application-autoscaling")
    code, message, status = error_of(
        aas.put_scheduled_action,
        **KEY,
        ScheduledActionName="nightly",
        Schedule="cron(0 22 * * ? *)",
        ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 1},
    )
    assert (code, status) == ("ValidationException", 400)
    assert "PutScheduledAction" in message
    code, message, _ = error_of(aas.describe_scheduled_actions, ServiceNamespace="ecs")
    assert code == "ValidationException" and "DescribeScheduledActions" in message

    # A parameter the operation does not have: botocore refuses it before sending, so add it
    # to the serialized body the way an older or newer SDK would send it.
    def add_unknown(params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"])
        body["Colour"] = "blue"
        params["body"] = json.dumps(body).encode()

    aas.meta.events.register(
        "before-call.application-auto-scaling.RegisterScalableTarget", add_unknown
    )
    code, message, status = error_of(
        aas.register_scalable_target, **KEY, MinCapacity=1, MaxCapacity=2
    )
    assert (code, status) == ("ValidationException", 400)
    assert "Colour" in message
    fresh = server.client("application-autoscaling")
    assert fresh.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []

    # A value of the wrong type never reaches the model.
    loose = server.client("application-autoscaling", parameter_validation=False)
    code, _, status = error_of(
        loose.register_scalable_target, **KEY, MinCapacity="one", MaxCapacity=2
    )
    assert (code, status) == ("SerializationException", 400)

    # An operation Application Auto Scaling does not have at all.
    r = httpx.post(
        server.url,
        headers={
            "X-Amz-Target": "AnyScaleFrontendService.NoSuchOperation",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b"{}",
    )
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"
    assert r.headers["content-type"] == "application/x-amz-json-1.1"


# --- the AWS CLI --------------------------------------------------------------------------


def test_aws_cli_register_and_describe(server: LiveServer, tmp_path: Path) -> None:
    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return aws_cli(server, tmp_path, "application-autoscaling", *args)

    out = aws(
        "register-scalable-target",
        "--service-namespace", "ecs",
        "--scalable-dimension", DIM,
        "--resource-id", RID,
        "--min-capacity", "5",
        "--max-capacity", "7",
        "--tags", "environment=test",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert list(printed) == ["ScalableTargetARN"]
    assert TARGET_ARN.fullmatch(printed["ScalableTargetARN"])
    assert desired_count(server.client("ecs")) == 5

    out = aws("describe-scalable-targets", "--service-namespace", "ecs", "--resource-ids", RID)
    assert out.returncode == 0, out.stderr
    (target,) = json.loads(out.stdout)["ScalableTargets"]
    assert target["ScalableTargetARN"] == printed["ScalableTargetARN"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (RID, 5, 7)
    # (the CLI prints the epoch seconds it got: the world's clock, 2026-01-01 at second 0)
    epoch, now = server.call(lambda w: (w.clock.epoch.timestamp(), w.clock.at(w.now).timestamp()))
    assert epoch < target["CreationTime"] <= now
    sdk = server.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs"
    )["ScalableTargets"][0]
    assert target["CreationTime"] == pytest.approx(sdk["CreationTime"].timestamp(), abs=1e-3)

    out = aws(
        "put-scaling-policy",
        "--service-namespace", "ecs",
        "--scalable-dimension", DIM,
        "--resource-id", "service/home/ghost",
        "--policy-name", "cpu50",
        "--policy-type", "TargetTrackingScaling",
        "--target-tracking-scaling-policy-configuration", json.dumps(CPU50),
    )  # fmt: skip
    assert out.returncode != 0
    assert "ObjectNotFoundException" in out.stderr, out.stderr
