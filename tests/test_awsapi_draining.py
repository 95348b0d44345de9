"""UpdateContainerInstancesState through a real boto3 client against the AWS API server, and
ecsim's own chaos shortcut for it (`POST /ecsim/api/chaos/drain-instance`)."""

from __future__ import annotations

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.server import FAST, LiveServer, wait_for

pytestmark = pytest.mark.server(speed=300)


def test_drain_an_instance_with_boto3(server: LiveServer) -> None:
    ec2, ecs = server.client("ec2"), server.client("ecs")
    ecs.create_cluster(clusterName="drain")
    ec2.run_instances(
        ImageId="ami-0123456789abcdef0",
        InstanceType="m5.large",
        MinCount=3,
        MaxCount=3,
        UserData="#!/bin/bash\necho ECS_CLUSTER=drain >> /etc/ecs/ecs.config\n",
    )

    def joined() -> list[str] | None:
        arns: list[str] = ecs.list_container_instances(cluster="drain")["containerInstanceArns"]
        return arns if len(arns) == 3 else None

    arns = wait_for(joined)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    td = ecs.register_task_definition(
        family="drain-app",
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{"name": "app", "image": "app:1", "cpu": 256, "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="drain",
        serviceName="web",
        taskDefinition=td,
        desiredCount=3,
        launchType="EC2",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
    )
    ecs.get_waiter("services_stable").wait(cluster="drain", services=["web"], WaiterConfig=FAST)

    answer = ecs.update_container_instances_state(
        cluster="drain", containerInstances=[arns[0], "f" * 32], status="DRAINING"
    )
    assert [c["containerInstanceArn"] for c in answer["containerInstances"]] == [arns[0]]
    assert answer["containerInstances"][0]["status"] == "DRAINING"
    assert answer["failures"] == [
        {
            "arn": f"arn:aws:ecs:us-east-1:123456789012:container-instance/drain/{'f' * 32}",
            "reason": "MISSING",
        }
    ]
    assert ecs.list_container_instances(cluster="drain", status="DRAINING")[
        "containerInstanceArns"
    ] == [arns[0]]

    def drained() -> bool:
        ci = ecs.describe_container_instances(cluster="drain", containerInstances=[arns[0]])
        return bool(ci["containerInstances"][0]["runningTasksCount"] == 0)

    wait_for(drained)
    ecs.get_waiter("services_stable").wait(cluster="drain", services=["web"], WaiterConfig=FAST)
    running_on = {
        t["containerInstanceArn"]
        for t in ecs.describe_tasks(
            cluster="drain", tasks=ecs.list_tasks(cluster="drain")["taskArns"]
        )["tasks"]
    }
    assert arns[0] not in running_on
    stopped = ecs.describe_tasks(
        cluster="drain", tasks=ecs.list_tasks(cluster="drain", desiredStatus="STOPPED")["taskArns"]
    )["tasks"]
    assert stopped and all(
        "container instance is in DRAINING state" in t["stoppedReason"] for t in stopped
    )

    back = ecs.update_container_instances_state(
        cluster="drain", containerInstances=[arns[0].rsplit("/", 1)[1]], status="ACTIVE"
    )
    assert back["containerInstances"][0]["status"] == "ACTIVE"

    # The chaos shortcut, by EC2 instance ID.
    ec2_id = back["containerInstances"][0]["ec2InstanceId"]
    reply = httpx.post(
        f"{server.url}/ecsim/api/chaos/drain-instance", json={"instance": ec2_id}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    again = ecs.describe_container_instances(cluster="drain", containerInstances=[arns[0]])
    assert again["containerInstances"][0]["status"] == "DRAINING"


def test_bad_input_is_refused_with_aws_codes(server: LiveServer) -> None:
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName="empty")
    for params, code in (
        (
            {"cluster": "empty", "containerInstances": ["x"], "status": "STOPPED"},
            "InvalidParameterException",
        ),
        (
            {"cluster": "nowhere", "containerInstances": ["x"], "status": "DRAINING"},
            "ClusterNotFoundException",
        ),
        (
            {"cluster": "empty", "containerInstances": ["x"] * 11, "status": "DRAINING"},
            "InvalidParameterException",
        ),
    ):
        with pytest.raises(ClientError) as e:
            ecs.update_container_instances_state(**params)
        assert e.value.response["Error"]["Code"] == code
