"""Worlds for the tests, built from the demo (`World.demo`, src/ecsim/model/demo.py) and the
public API calls that differ, and the building blocks they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ecsim
from ecsim.model.demo import CLUSTER, FAMILY
from tests.support import advance_until, healthy, lb_arn, listener_arn, service, tg_arn

APP = "app"  # the service and task-definition family `demo_with_app` adds, behind `app-tg`
APP_TG = f"{APP}-tg"


def register_revision(
    w: ecsim.World,
    labels: Mapping[str, str] | None = None,
    *,
    family: str = FAMILY,
    replace_labels: bool = False,
) -> str:
    """Register the demo's app again, as DescribeTaskDefinition shows the latest revision of
    the demo's family: a new revision of that family, or of `family`. Its `dockerLabels` (the
    `ecsim.*` app profile, ecsim/model/ecs/profile.py: a good or a bad revision) are the
    demo's with `labels` on top, or `labels` alone with `replace_labels`; its ARN."""
    td = w.ecs.describe_task_definition(taskDefinition=FAMILY)["taskDefinition"]
    container = dict(td["containerDefinitions"][0])
    kept = {} if replace_labels else container.get("dockerLabels", {})
    container["dockerLabels"] = {**kept, **(labels or {})}
    return str(
        w.ecs.register_task_definition(
            family=family,
            networkMode=td["networkMode"],
            requiresCompatibilities=td["requiresCompatibilities"],
            cpu=td["cpu"],
            memory=td["memory"],
            containerDefinitions=[container],
        )["taskDefinition"]["taskDefinitionArn"]
    )


@dataclass
class AppWorld:
    w: ecsim.World
    tg: str
    lb: str
    listener: str


def demo_with_app(
    seed: int,
    *,
    labels: Mapping[str, str] | None = None,
    desired: int = 2,
    tg_attributes: Mapping[str, str] | None = None,
    lb_attributes: Mapping[str, str] | None = None,
    wait: bool = True,
) -> AppWorld:
    """The demo without client load, plus a service `app` of our own behind `app-tg`: the
    demo's app with `labels` on top (`register_revision`), `desired` tasks in the demo's
    subnets, until they are healthy unless not `wait`.

    The demo listener's default action is pointed at `app-tg`, so every client request goes
    to the new service (the demo's own target group is then used by no listener). Health
    checks every 10 s like the demo; everything else is the AWS default unless given.
    """
    w = ecsim.World.demo(seed=seed, rate=0)
    subnets = service(w)["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    td = register_revision(w, labels, family=APP)
    tg = make_tg(w, APP_TG, HealthCheckIntervalSeconds=10)  # in the demo's (default) VPC
    if tg_attributes:
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=tg,
            Attributes=[{"Key": k, "Value": v} for k, v in tg_attributes.items()],
        )
    lb = lb_arn(w)
    if lb_attributes:
        w.elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=lb,
            Attributes=[{"Key": k, "Value": v} for k, v in lb_attributes.items()],
        )
    listener = listener_arn(w)
    w.elbv2.modify_listener(
        ListenerArn=listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}]
    )
    w.ecs.create_service(
        cluster=CLUSTER,
        serviceName=APP,
        taskDefinition=td,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
    )
    if wait:
        advance_until(w, lambda: healthy(w, APP_TG) == desired, within=300)
    return AppWorld(w, tg, lb, listener)


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


# --- plain load balancers, target groups and listeners, in the default VPC ------------------


def default_subnets(w: ecsim.World) -> list[str]:
    return [s.id for s in w.net.default_subnets()]


def make_lb(w: ecsim.World, name: str = "web", **kwargs: Any) -> str:
    kwargs.setdefault("Subnets", default_subnets(w))
    out = w.elbv2.create_load_balancer(Name=name, **kwargs)
    return str(out["LoadBalancers"][0]["LoadBalancerArn"])


def make_tg(w: ecsim.World, name: str = "web-tg", **kwargs: Any) -> str:
    kwargs.setdefault("Protocol", "HTTP")
    kwargs.setdefault("Port", 80)
    kwargs.setdefault("VpcId", w.net.default_vpc.id)
    kwargs.setdefault("TargetType", "ip")
    out = w.elbv2.create_target_group(Name=name, **kwargs)
    return str(out["TargetGroups"][0]["TargetGroupArn"])


def make_listener(w: ecsim.World, lb: str, tg: str, port: int = 80) -> str:
    out = w.elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=port,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    return str(out["Listeners"][0]["ListenerArn"])
