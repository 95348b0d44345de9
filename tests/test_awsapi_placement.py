"""Placement strategies and constraints through a real boto3 client against the AWS API
server: CreateService, DescribeServices, UpdateService and RunTask as AWS answers them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import FAST, LiveServer, wait_for

pytestmark = pytest.mark.server(speed=300)


def test_placement_with_boto3(server: LiveServer) -> None:
    ec2, ecs = server.client("ec2"), server.client("ecs")
    ecs.create_cluster(clusterName="place")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    for subnet in subnets:
        ec2.run_instances(
            ImageId="ami-0123456789abcdef0",
            InstanceType="t3.medium",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnet,
            UserData="#!/bin/bash\necho ECS_CLUSTER=place >> /etc/ecs/ecs.config\n",
        )
    wait_for(
        lambda: len(ecs.list_container_instances(cluster="place")["containerInstanceArns"]) == 3
    )
    td = ecs.register_task_definition(
        family="place-app",
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{"name": "app", "image": "app:1", "cpu": 512, "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    net = {"awsvpcConfiguration": {"subnets": subnets}}
    strategy = [{"type": "binpack", "field": "cpu"}]
    constraints = [
        {"type": "memberOf", "expression": "attribute:ecs.availability-zone != us-east-1a"}
    ]
    created = ecs.create_service(
        cluster="place",
        serviceName="packed",
        taskDefinition=td,
        desiredCount=3,
        launchType="EC2",
        networkConfiguration=net,
        placementStrategy=strategy,
        placementConstraints=constraints,
    )["service"]
    assert created["placementStrategy"] == strategy
    assert created["placementConstraints"] == constraints
    ecs.get_waiter("services_stable").wait(cluster="place", services=["packed"], WaiterConfig=FAST)

    def tasks() -> list[dict[str, Any]]:
        arns = ecs.list_tasks(cluster="place", serviceName="packed")["taskArns"]
        found: list[dict[str, Any]] = ecs.describe_tasks(cluster="place", tasks=arns)["tasks"]
        return found

    placed = tasks()
    assert len({t["containerInstanceArn"] for t in placed}) == 1
    assert placed[0]["availabilityZone"] != "us-east-1a"

    spread = [{"type": "spread", "field": "instanceId"}]
    updated = ecs.update_service(
        cluster="place", service="packed", placementStrategy=spread, placementConstraints=[]
    )["service"]
    assert updated["placementStrategy"] == spread and updated["placementConstraints"] == []
    wait_for(
        lambda: (
            len(
                ecs.describe_services(cluster="place", services=["packed"])["services"][0][
                    "deployments"
                ]
            )
            == 1
            and len(Counter(t["containerInstanceArn"] for t in tasks())) > 1
        )
    )

    out = ecs.run_task(
        cluster="place",
        taskDefinition=td,
        launchType="EC2",
        networkConfiguration=net,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*"}
        ],
    )
    assert out["tasks"] == []
    assert out["failures"][0]["reason"] == "MemberOf placement constraint unsatisfied."


def test_bad_placement_is_refused_with_aws_codes(server: LiveServer) -> None:
    ec2, ecs = server.client("ec2"), server.client("ecs")
    ecs.create_cluster(clusterName="refuse")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    td = ecs.register_task_definition(
        family="refuse-app",
        networkMode="awsvpc",
        requiresCompatibilities=["EC2", "FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "app:1"}],
    )["taskDefinition"]["taskDefinitionArn"]
    base = {
        "cluster": "refuse",
        "serviceName": "s",
        "taskDefinition": td,
        "desiredCount": 1,
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets}},
    }
    for extra, code in (
        ({"launchType": "EC2", "placementStrategy": [{"type": "binpack"}]}, "InvalidParameter"),
        (
            {"launchType": "EC2", "placementStrategy": [{"type": "random"}] * 6},
            "InvalidParameter",
        ),
        (
            {"launchType": "FARGATE", "placementStrategy": [{"type": "random"}]},
            "InvalidParameter",
        ),
        (
            {
                "launchType": "EC2",
                "placementConstraints": [{"type": "memberOf", "expression": "task:group == x"}],
            },
            "UnsupportedFeature",
        ),
    ):
        with pytest.raises(ClientError) as e:
            ecs.create_service(**base, **extra)
        assert e.value.response["Error"]["Code"] == code + "Exception"
