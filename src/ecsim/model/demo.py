"""The seed's architecture: Client -> ALB (listener 80) -> target group -> 3 Fargate tasks of
`home-service` in cluster `home`, built through the same API calls a boto3 script would make.

The target group checks every 10 s and drains for 30 s (AWS's defaults are 30 s and 300 s;
shorter values are what teams pick for fast feedback: docs/behaviour.md, "Deregistration
delay"), so the demo shows healing and deletion within a minute or two.

`create_demo` makes the calls through any clients with AWS's method names: the world's own
(`w.ec2`, `w.ecs`, `w.elbv2`) or boto3's against `ecsim serve`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ecsim.model.ec2.api import Ec2Api
from ecsim.model.ecs.api import EcsApi
from ecsim.model.elbv2.api import Elbv2Api
from ecsim.model.verbs.traffic import Traffic


class Facades(Protocol):
    """What the demo is built with: the public API of a world."""

    ec2: Ec2Api
    ecs: EcsApi
    elbv2: Elbv2Api
    traffic: Traffic

    @property
    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


W = TypeVar("W", bound=Facades)

CLUSTER = "home"
SERVICE = "home-service"
FAMILY = "home-app"
LOAD_BALANCER = "home-alb"
TARGET_GROUP = "home-tg"
DESIRED = 3
STEADY_WITHIN = 600.0


def task_definition(
    family: str = FAMILY, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """RegisterTaskDefinition's parameters for the demo's app (a fresh copy): one Fargate
    container, nginx on port 80, that answers 3 s after it starts, in 20 ms (median); ecsim
    reads that app profile from its `dockerLabels`, here with `labels` on top."""
    return {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": "app",
                "image": "public.ecr.aws/nginx/nginx:latest",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "dockerLabels": {
                    "ecsim.latency.median": "20ms",
                    "ecsim.startup": "3s",
                    **(labels or {}),
                },
            }
        ],
    }


@dataclass(frozen=True)
class DemoArns:
    """What `create_demo` created."""

    cluster: str
    task_definition: str
    load_balancer: str
    target_group: str
    listener: str
    service: str


def default_network(ec2: Any) -> tuple[list[str], str, str]:
    """The default VPC's subnets (one per AZ), its `default` security group and its ID, as
    a script finds them through EC2's Describe calls."""
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ]
    ]
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return subnets, sg, vpc


def create_demo(ec2: Any, ecs: Any, elbv2: Any, desired: int = DESIRED) -> DemoArns:
    """The demo's API calls, in order, through `ec2`, `ecs` and `elbv2` clients. Nothing waits:
    the load balancer is still provisioning and the tasks are starting when it returns."""
    subnets, sg, vpc = default_network(ec2)
    cluster = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    td = ecs.register_task_definition(**task_definition())["taskDefinition"]["taskDefinitionArn"]
    lb = elbv2.create_load_balancer(
        Name=LOAD_BALANCER,
        Subnets=subnets,
        SecurityGroups=[sg],
        Scheme="internet-facing",
        Type="application",
    )
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(
        Name=TARGET_GROUP,
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/",
        HealthCheckIntervalSeconds=10,
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    listener = elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    service = ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=td,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [sg],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
        healthCheckGracePeriodSeconds=30,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )["service"]["serviceArn"]
    return DemoArns(cluster, td, lb_arn, tg, listener, service)


def build_demo(w: W, desired: int = DESIRED, rate: float = 5.0) -> W:
    arns = create_demo(w.ec2, w.ecs, w.elbv2, desired)
    wait_steady(w, CLUSTER, SERVICE, arns.load_balancer)
    if rate:
        w.traffic.set_rate(rate, LOAD_BALANCER)
    return w


def wait_steady(
    w: Facades, cluster: str, service: str, lb_arn: str, within: float = STEADY_WITHIN
) -> None:
    """Advance until the load balancer is active and the service's deployment completed."""
    deadline = w.now + within
    while w.now < deadline:
        w.advance(5)
        svc = w.ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        lb = w.elbv2.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
        if (
            lb["State"]["Code"] == "active"
            and svc["runningCount"] == svc["desiredCount"]
            and len(svc["deployments"]) == 1
            and svc["deployments"][0]["rolloutState"] == "COMPLETED"
        ):
            return
    raise RuntimeError(f"service {service} did not become steady within {within:.0f} s")
