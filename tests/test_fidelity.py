"""Where ecsim used to accept what AWS refuses (issue 13), each case with the AWS source it
follows (docs/behaviour.md cites the pages)."""

from __future__ import annotations

from typing import Any

import pytest

from ecsim.model.demo import CLUSTER, SERVICE, task_definition
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from tests.support import service

# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html (loadBalancers)
# and docs/behaviour.md, "Service load balancers"


def _orphan_target_group(w: World, name: str = "orphan-tg") -> str:
    """A target group no load balancer forwards to."""
    vpc = w.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    return str(
        w.elbv2.create_target_group(
            Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
    )


def _create_service(w: World, tg: str) -> dict[str, Any]:
    """CreateService of a service `orphan` behind `tg`, in the demo's cluster and subnets."""
    w.ecs.register_task_definition(**task_definition("orphan-app"))
    return w.ecs.create_service(
        cluster=CLUSTER,
        serviceName="orphan",
        taskDefinition="orphan-app",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=service(w)["networkConfiguration"],
        loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
    )


def test_create_service_refuses_a_target_group_without_a_load_balancer() -> None:
    w = World.demo(seed=0, rate=0)
    tg = _orphan_target_group(w)
    with pytest.raises(AwsError) as e:
        _create_service(w, tg)
    assert e.value.code == "InvalidParameterException"
    assert str(e.value.message) == (
        f"The target group with targetGroupArn {tg} does not have an associated load balancer."
    )
    assert "orphan" not in [
        a.rsplit("/", 1)[-1] for a in w.ecs.list_services(cluster=CLUSTER)["serviceArns"]
    ]


def test_the_same_call_succeeds_once_a_listener_forwards_to_the_group() -> None:
    w = World.demo(seed=0, rate=0)
    tg = _orphan_target_group(w)
    lb = w.elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    w.elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    created = _create_service(w, tg)
    assert created["service"]["loadBalancers"][0]["targetGroupArn"] == tg


def test_update_service_refuses_it_too_and_changes_nothing() -> None:
    w = World.demo(seed=0, rate=0)
    tg = _orphan_target_group(w)
    before = service(w)["loadBalancers"]
    with pytest.raises(AwsError) as e:
        w.ecs.update_service(
            cluster=CLUSTER,
            service=SERVICE,
            loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
        )
    assert e.value.code == "InvalidParameterException"
    assert "does not have an associated load balancer" in str(e.value.message)
    assert service(w)["loadBalancers"] == before
    assert len(service(w)["deployments"]) == 1  # no deployment started
