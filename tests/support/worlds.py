"""Worlds for the tests, built from the demo (`World.demo`, src/ecsim/model/demo.py) and the
public API calls that differ, and the building blocks they share."""

from __future__ import annotations

import ecsim
from tests.support import tg_arn


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
