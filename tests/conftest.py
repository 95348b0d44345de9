"""Shared helpers for the tests: small readers over the public API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE, TARGET_GROUP


def service(w: ecsim.World, name: str = SERVICE, cluster: str = CLUSTER) -> dict:
    return w.ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def tg_arn(w: ecsim.World, name: str = TARGET_GROUP) -> str:
    return w.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]


def target_states(w: ecsim.World, name: str = TARGET_GROUP) -> dict[str, str]:
    health = w.elbv2.describe_target_health(TargetGroupArn=tg_arn(w, name))
    return {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]
    }


def healthy(w: ecsim.World, name: str = TARGET_GROUP) -> int:
    return sum(1 for s in target_states(w, name).values() if s == "healthy")


def tasks(
    w: ecsim.World, desired: str = "RUNNING", name: str = SERVICE, cluster: str = CLUSTER
) -> list[dict]:
    arns = w.ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus=desired)["taskArns"]
    if not arns:
        return []
    return w.ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]


def service_task_arns(w: ecsim.World, name: str = SERVICE, cluster: str = CLUSTER) -> list[str]:
    """Every task ARN of a service that ECS still lists (RUNNING, then STOPPED), all pages."""
    arns: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        page: dict[str, Any] = {}
        while True:
            token = {"nextToken": page["nextToken"]} if "nextToken" in page else {}
            page = w.ecs.list_tasks(
                cluster=cluster, serviceName=name, desiredStatus=desired, **token
            )
            arns += page["taskArns"]
            if "nextToken" not in page:
                break
    return arns


def advance_until(
    w: ecsim.World, cond: Callable[[], bool], within: float, step: float = 1.0
) -> float:
    """Advance in steps until `cond()` holds; the simulated seconds it took. Fails after `within`."""
    start = w.now
    while not cond():
        if w.now - start >= within:
            raise AssertionError(f"condition not reached within {within} simulated seconds")
        w.advance(step)
    return w.now - start


def whole(w: ecsim.World, n: int = 3) -> bool:
    return service(w)["runningCount"] == n and healthy(w) == n


def fargate_task_definition(w: ecsim.World, family: str, **container: object) -> str:
    """Register a Fargate (awsvpc, 256 CPU / 512 MiB) revision whose one container is `app`
    with the given fields (image defaults to `<family>:1`); its ARN."""
    definition = {"name": "app", "image": f"{family}:1", **container}
    return str(
        w.ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[definition],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def launch_container_instances(w: ecsim.World, cluster: str, types: list[str]) -> list[str]:
    """EC2 instances of `types` that join `cluster` through their user data, one per subnet
    in turn (us-east-1a, 1b, 1c, ...); the subnet IDs."""
    subnets = [s["SubnetId"] for s in w.ec2.describe_subnets()["Subnets"]]
    for i, kind in enumerate(types):
        w.ec2.run_instances(
            ImageId="ami-ecs",
            InstanceType=kind,
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets[i % len(subnets)],
            UserData=f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config",
        )
    return subnets


def ec2_service_world(
    seed: int,
    instances: int,
    instance_type: str = "t3.medium",
    desired: int = 4,
    cpu: int = 512,
    minimum: int = 100,
    maximum: int = 200,
) -> tuple[ecsim.World, str]:
    """The demo with cluster "ec2" of `instances` EC2 instances (joined after 120 s) and an
    EC2 service "api" of `desired` tasks behind the demo's target group (just created); the
    world and the task definition's ARN."""
    w = ecsim.World.demo(seed=seed, rate=0)
    w.ecs.create_cluster(clusterName="ec2")
    subnets = launch_container_instances(w, "ec2", [instance_type] * instances)
    w.advance(120)
    td = w.ecs.register_task_definition(
        family="api",
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[
            {
                "name": "app",
                "image": "api:1",
                "cpu": cpu,
                "memory": 512,
                "portMappings": [{"containerPort": 80}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    w.ecs.create_service(
        cluster="ec2",
        serviceName="api",
        taskDefinition=td,
        desiredCount=desired,
        launchType="EC2",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        loadBalancers=[{"targetGroupArn": tg_arn(w), "containerName": "app", "containerPort": 80}],
        deploymentConfiguration={"minimumHealthyPercent": minimum, "maximumPercent": maximum},
    )
    return w, td


@pytest.fixture
def demo() -> ecsim.World:
    return ecsim.World.demo(seed=0)
