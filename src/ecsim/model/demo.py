"""The seed's architecture: Client -> ALB (listener 80) -> target group -> 3 Fargate tasks of
`home-service` in cluster `home`, built through the same API calls a boto3 script would make.

The target group checks every 10 s and drains for 30 s (AWS's defaults are 30 s and 300 s;
shorter values are what teams pick for fast feedback, docs/behaviour.md, "Deregistration delay";
user-needs #13), so the
demo shows healing and deletion within a minute or two.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

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


def build_demo(w: W, desired: int = DESIRED, rate: float = 5.0) -> W:
    subnets = [
        s["SubnetId"]
        for s in w.ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ]
    ]
    sg = w.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    vpc = w.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"
    ]
    w.ecs.create_cluster(clusterName=CLUSTER)
    td = w.ecs.register_task_definition(
        family=FAMILY,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "public.ecr.aws/nginx/nginx:latest",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "dockerLabels": {"ecsim.latency.median": "20ms", "ecsim.startup": "3s"},
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    lb = w.elbv2.create_load_balancer(
        Name=LOAD_BALANCER,
        Subnets=subnets,
        SecurityGroups=[sg],
        Scheme="internet-facing",
        Type="application",
    )
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = w.elbv2.create_target_group(
        Name=TARGET_GROUP,
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/",
        HealthCheckIntervalSeconds=10,
    )["TargetGroups"][0]["TargetGroupArn"]
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    w.elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    w.ecs.create_service(
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
    )
    wait_steady(w, CLUSTER, SERVICE, lb_arn)
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
