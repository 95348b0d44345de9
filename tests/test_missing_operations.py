"""The ECS and ELBv2 operations real tools call (issue 17, point 5), through boto3 and the AWS
CLI against a live server: UpdateCluster, ListTaskDefinitionFamilies, DeleteTaskDefinitions,
the account settings, the capacity providers; the listener attributes (seen on the ALB's
real port), SetSubnets and SetSecurityGroups. Each happy path, and hostile inputs refused
with AWS's codes, changing nothing.

docs/behaviour.md, "Account settings", "Cluster settings", "Capacity providers", "Deleting
task definitions", "Listener attributes", "Load balancer subnets and security groups".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ecsim.model.demo import CLUSTER, FAMILY, LOAD_BALANCER, TARGET_GROUP, task_definition
from tests.support.server import LiveServer, aws_cli, wait_for

pytestmark = pytest.mark.server(world="demo", rate=0, speed=300)


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def _refused(call: Any, code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as e:
        call(**params)
    assert _code(e) == code, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def _cluster(ecs: Any, name: str = CLUSTER) -> dict[str, Any]:
    return dict(ecs.describe_clusters(clusters=[name])["clusters"][0])


def test_account_settings_and_the_container_insights_default(server: LiveServer) -> None:
    ecs = server.client("ecs")
    effective = ecs.list_account_settings(effectiveSettings=True, maxResults=10)
    assert len(effective["settings"]) == 10 and "nextToken" in effective
    rest = ecs.list_account_settings(effectiveSettings=True, nextToken=effective["nextToken"])
    names = {s["name"] for s in effective["settings"] + rest["settings"]}
    assert "containerInsights" in names and "fargateEventWindows" in names
    answer = ecs.put_account_setting_default(name="containerInsights", value="enhanced")
    assert answer["setting"]["value"] == "enhanced"
    created = ecs.create_cluster(clusterName="insights")["cluster"]
    assert created["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    role = "arn:aws:iam::123456789012:role/deployer"
    ecs.put_account_setting(name="fargateFIPSMode", value="enabled", principalArn=role)
    own = ecs.list_account_settings(principalArn=role)["settings"]
    assert own == [
        {"name": "fargateFIPSMode", "value": "enabled", "principalArn": role, "type": "user"}
    ]
    guard = ecs.list_account_settings(name="guardDutyActivate", effectiveSettings=True)
    assert guard["settings"][0]["type"] == "aws_managed"
    ecs.put_account_setting_default(name="containerInsights", value="disabled")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"name": "serviceLongArnFormat", "value": "disabled"}, "long ARN"),
        ({"name": "awsvpcTrunking", "value": "enabled"}, "trunking"),
        ({"name": "guardDutyActivate", "value": "on"}, "read-only"),
        ({"name": "containerInsights", "value": "maybe"}, "valid values"),
        ({"name": "containerInsights", "value": "on\x01"}, "valid values"),
        ({"name": "nope", "value": "enabled"}, "enum"),
        (
            {"name": "containerInsights", "value": "enabled", "principalArn": "arn:aws:iam::1:x"},
            "principalArn",
        ),
    ],
)
def test_account_settings_refuse_what_is_not_modelled(
    server: LiveServer, params: dict[str, Any], words: str
) -> None:
    ecs = server.client("ecs")
    before = ecs.list_account_settings(effectiveSettings=True, maxResults=10)["settings"]
    message = _refused(ecs.put_account_setting, "InvalidParameterException", **params)
    assert words in message
    assert ecs.list_account_settings(effectiveSettings=True, maxResults=10)["settings"] == before


def test_update_cluster_and_its_refusals(server: LiveServer) -> None:
    ecs = server.client("ecs")
    answer = ecs.update_cluster(
        cluster=CLUSTER, settings=[{"name": "containerInsights", "value": "enabled"}]
    )
    assert answer["cluster"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert _cluster(ecs)["settings"] == answer["cluster"]["settings"]
    message = _refused(
        ecs.update_cluster,
        "UnsupportedFeatureException",  # refused by the declaration (ecs/coverage.py)
        cluster=CLUSTER,
        configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}},
    )
    assert "configuration" in message
    _refused(
        ecs.update_cluster,
        "InvalidParameterException",
        cluster=CLUSTER,
        settings=[{"name": "containerInsights", "value": "x" * 10_000}],
    )
    _refused(ecs.update_cluster, "ClusterNotFoundException", cluster="nope")
    assert _cluster(ecs)["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_capacity_providers(server: LiveServer, tmp_path: Path) -> None:
    ecs = server.client("ecs")
    every = ecs.describe_capacity_providers()["capacityProviders"]
    assert [(c["name"], c["type"], c["status"]) for c in every] == [
        ("FARGATE", "FARGATE", "ACTIVE"),
        ("FARGATE_SPOT", "FARGATE_SPOT", "ACTIVE"),
    ]
    assert ecs.describe_capacity_providers(cluster=CLUSTER)["capacityProviders"] == []
    strategy = [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 2},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    cluster = ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=strategy,
    )["cluster"]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == strategy
    cli = aws_cli(server, tmp_path, "ecs", "describe-capacity-providers", "--cluster", CLUSTER)
    assert cli.returncode == 0, cli.stderr
    assert len(json.loads(cli.stdout)["capacityProviders"]) == 2
    raw = server.client("ecs", parameter_validation=False)  # what botocore would not send
    missing = ecs.describe_capacity_providers(capacityProviders=["FARGATE", "nope"])
    assert [f["reason"] for f in missing["failures"]] == ["MISSING"]
    for providers, items in (
        (["my-asg"], []),
        (["FARGATE", "FARGATE"], []),
        (["FARGATE"], [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
        (["FARGATE"], [{"capacityProvider": "FARGATE", "weight": 10**12}]),
        (["FARGATE"], [{"capacityProvider": "FARGATE", "weight": -1}]),
        (["FARGATE"], [{"capacityProvider": "FARGATE", "weight": 0}]),
        (
            ["FARGATE", "FARGATE_SPOT"],
            [
                {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 1},
            ],
        ),
    ):
        _refused(
            raw.put_cluster_capacity_providers,
            "InvalidParameterException",
            cluster=CLUSTER,
            capacityProviders=providers,
            defaultCapacityProviderStrategy=items,
        )
    assert _cluster(ecs)["defaultCapacityProviderStrategy"] == strategy
    _refused(ecs.describe_capacity_providers, "InvalidParameterException", maxResults=11)
    _refused(ecs.describe_capacity_providers, "ClusterNotFoundException", cluster="nope")


def test_task_definition_families_and_deletion(server: LiveServer) -> None:
    ecs = server.client("ecs")
    td = task_definition()
    td["family"] = "retired"
    arn = ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"]
    assert ecs.list_task_definition_families()["families"] == sorted([FAMILY, "retired"])
    assert ecs.list_task_definition_families(familyPrefix="ret")["families"] == ["retired"]
    failures = ecs.delete_task_definitions(taskDefinitions=[arn])["failures"]
    assert failures[0]["arn"] == arn and "ACTIVE" in failures[0]["reason"]
    ecs.deregister_task_definition(taskDefinition=arn)
    assert ecs.list_task_definition_families(status="INACTIVE")["families"] == ["retired"]
    assert ecs.list_task_definition_families(status="ACTIVE")["families"] == [FAMILY]
    answer = ecs.delete_task_definitions(taskDefinitions=[arn, "retired:99", "retired"])
    assert [t["status"] for t in answer["taskDefinitions"]] == ["DELETE_IN_PROGRESS"]
    assert "deleteRequestedAt" in answer["taskDefinitions"][0]
    assert len(answer["failures"]) == 2
    listed = ecs.list_task_definitions(status="DELETE_IN_PROGRESS")["taskDefinitionArns"]
    assert listed == [arn]
    _refused(ecs.delete_task_definitions, "InvalidParameterException", taskDefinitions=["a"] * 11)
    _refused(ecs.list_task_definition_families, "InvalidParameterException", status="GONE")
    _refused(ecs.list_task_definition_families, "InvalidParameterException", maxResults=10**12)


def _listener(elb: Any) -> tuple[str, str]:
    lb = elb.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0]
    listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    return str(lb["LoadBalancerArn"]), str(listener["ListenerArn"])


def test_listener_attributes_change_the_real_ports_answers(server: LiveServer) -> None:
    elb = server.client("elbv2")
    _, listener = _listener(elb)
    attributes = elb.describe_listener_attributes(ListenerArn=listener)["Attributes"]
    assert {"Key": "routing.http.response.server.enabled", "Value": "true"} in attributes
    changed = [
        {"Key": "routing.http.response.server.enabled", "Value": "false"},
        {"Key": "routing.http.response.x_frame_options.header_value", "Value": "DENY"},
    ]
    assert (
        elb.modify_listener_attributes(ListenerArn=listener, Attributes=changed)["Attributes"]
        == changed
    )
    answer = httpx.get(server.alb_url + "/", timeout=30)
    assert answer.headers.get("x-frame-options") == "DENY"
    assert "server" not in answer.headers
    for key, value, code in (
        (
            "routing.http.request.x_amzn_tls_version.header_name",
            "X-Tls",
            "InvalidConfigurationRequest",
        ),
        ("tcp.idle_timeout.seconds", "350", "InvalidConfigurationRequest"),
        ("no.such.attribute", "1", "ValidationError"),
        ("routing.http.response.server.enabled", "maybe", "ValidationError"),
        ("routing.http.response.x_frame_options.header_value", "ALWAYS", "ValidationError"),
        ("routing.http.response.content_security_policy.header_value", "a\tb", "ValidationError"),
    ):
        _refused(
            elb.modify_listener_attributes,
            code,
            ListenerArn=listener,
            Attributes=[{"Key": key, "Value": value}],
        )
    after = elb.describe_listener_attributes(ListenerArn=listener)["Attributes"]
    assert {"Key": "routing.http.response.x_frame_options.header_value", "Value": "DENY"} in after
    _refused(
        elb.describe_listener_attributes,
        "ListenerNotFound",
        ListenerArn=listener[:-1] + ("0" if listener[-1] != "0" else "1"),
    )
    elb.modify_listener_attributes(
        ListenerArn=listener,
        Attributes=[
            {"Key": "routing.http.response.server.enabled", "Value": "true"},
            {"Key": "routing.http.response.x_frame_options.header_value", "Value": ""},
        ],
    )


def test_set_subnets_moves_the_nodes_and_set_security_groups(server: LiveServer) -> None:
    elb, ec2 = server.client("elbv2"), server.client("ec2")
    lb_arn, _ = _listener(elb)
    lb = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
    subnets = [z["SubnetId"] for z in lb["AvailabilityZones"]]
    zones = elb.set_subnets(LoadBalancerArn=lb_arn, Subnets=subnets[:2])["AvailabilityZones"]
    assert [z["SubnetId"] for z in zones] == sorted(subnets[:2], key=lambda s: subnets.index(s))
    dropped = lb["AvailabilityZones"][2]["ZoneName"]
    tg = elb.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["TargetGroupArn"]

    def dropped_zone_unused() -> bool:
        health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return all(
            d["TargetHealth"]["State"] == "unused"
            for d in health
            if d["Target"].get("AvailabilityZone") == dropped
        )

    wait_for(dropped_zone_unused)
    for params, code in (
        ({"Subnets": subnets[:1]}, "ValidationError"),
        ({"Subnets": [subnets[0], "subnet-nope"]}, "SubnetNotFound"),
        ({"Subnets": subnets, "IpAddressType": "dualstack"}, "ValidationError"),
        ({"Subnets": [subnets[0], subnets[0]]}, "InvalidConfigurationRequest"),
    ):
        _refused(elb.set_subnets, code, LoadBalancerArn=lb_arn, **params)
    elb.set_subnets(LoadBalancerArn=lb_arn, Subnets=subnets)
    again = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
    assert len(again["AvailabilityZones"]) == 3
    vpc = lb["VpcId"]
    group = ec2.create_security_group(GroupName="alb-2", Description="alb", VpcId=vpc)["GroupId"]
    answer = elb.set_security_groups(LoadBalancerArn=lb_arn, SecurityGroups=[group])
    assert answer["SecurityGroupIds"] == [group]
    _refused(
        elb.set_security_groups,
        "InvalidSecurityGroup",
        LoadBalancerArn=lb_arn,
        SecurityGroups=["sg-nope"],
    )
    _refused(
        elb.set_security_groups,
        "InvalidConfigurationRequest",
        LoadBalancerArn=lb_arn,
        SecurityGroups=[],
    )
    assert elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0][
        "SecurityGroups"
    ] == [group]
    elb.set_security_groups(LoadBalancerArn=lb_arn, SecurityGroups=lb["SecurityGroups"])
