"""Worlds for the benchmarks, built through ecsim's public API (the calls a boto3 script makes).

`fleet()` builds `lbs` Application Load Balancers, each with one HTTP listener whose rules send
`/s<k>/...` to the target group of service k (the last service is the listener's default
action), each service running `tasks` Fargate tasks of the demo's app (`World.demo`'s, in a
family `app` of its own). It waits until every target is healthy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ecsim
from ecsim.model import demo

CLUSTER = "bench"


@dataclass
class Fleet:
    w: ecsim.World
    lbs: list[str]  # load balancer ARNs
    paths: dict[str, list[str]]  # per load balancer: one request path per service
    services: list[str] = field(default_factory=list)


def fleet(
    seed: int = 0,
    *,
    lbs: int = 1,
    services_per_lb: int = 1,
    tasks: int = 10,
    algorithm: str = "round_robin",
    health_check_interval: int = 30,
    labels: dict[str, str] | None = None,
    settings: ecsim.Settings | None = None,
) -> Fleet:
    w = ecsim.World(seed, settings=settings)
    azs = [z["ZoneName"] for z in w.ec2.describe_availability_zones()["AvailabilityZones"]]

    def network(k: int) -> tuple[str, list[str]]:
        """VPC k (10.<k+1>.0.0/16) and its three /18 subnets: room for about 49,000 tasks."""
        vpc = w.ec2.create_vpc(CidrBlock=f"10.{k + 1}.0.0/16")["Vpc"]["VpcId"]
        return vpc, [
            w.ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.{k + 1}.{64 * i}.0/18", AvailabilityZone=az
            )["Subnet"]["SubnetId"]
            for i, az in enumerate(azs[:3])
        ]

    vpc, subnets = network(0)
    w.ecs.create_cluster(clusterName=CLUSTER)
    # the demo's app (src/ecsim/model/demo.py: 20 ms median answers), with `labels` on top
    td = w.ecs.register_task_definition(**demo.task_definition("app", labels))["taskDefinition"][
        "taskDefinitionArn"
    ]
    out = Fleet(w, [], {})
    # a VPC's addresses hold at most about 49,000 tasks: every `per_vpc` load balancers get a
    # VPC of their own (benchmark 5's 100,000 tasks; worlds of up to 40,000 tasks have one)
    per_vpc = max(1, 40_000 // max(1, services_per_lb * tasks))
    for li in range(lbs):
        if li and li % per_vpc == 0:
            vpc, subnets = network(li // per_vpc)
        lb = w.elbv2.create_load_balancer(Name=f"lb{li}", Subnets=subnets, Type="application")[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        out.lbs.append(lb)
        tgs = []
        for si in range(services_per_lb):
            tg = w.elbv2.create_target_group(
                Name=f"tg-{li}-{si}",
                Protocol="HTTP",
                Port=80,
                VpcId=vpc,
                TargetType="ip",
                HealthCheckIntervalSeconds=health_check_interval,
            )["TargetGroups"][0]["TargetGroupArn"]
            w.elbv2.modify_target_group_attributes(
                TargetGroupArn=tg,
                Attributes=[
                    {"Key": "load_balancing.algorithm.type", "Value": algorithm},
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
                ],
            )
            tgs.append(tg)
        listener = w.elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs[-1]}],
        )["Listeners"][0]["ListenerArn"]
        paths = []
        for si, tg in enumerate(tgs):
            paths.append(f"/s{si}/x")
            if si < len(tgs) - 1:
                w.elbv2.create_rule(
                    ListenerArn=listener,
                    Priority=si + 1,
                    Conditions=[{"Field": "path-pattern", "Values": [f"/s{si}/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg}],
                )
            name = f"svc-{li}-{si}"
            w.ecs.create_service(
                cluster=CLUSTER,
                serviceName=name,
                taskDefinition=td,
                desiredCount=tasks,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
                loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
            )
            out.services.append(name)
        out.paths[lb] = paths
    wait_healthy(out, lbs * services_per_lb * tasks)
    return out


def healthy_targets(w: ecsim.World) -> int:
    return sum(
        1
        for tg in w.elb.target_groups.values()
        for t in tg.targets.values()
        if t.state.value == "healthy"
    )


def wait_healthy(f: Fleet, n: int, within: float = 900.0) -> None:
    w = f.w
    deadline = w.now + within
    while w.now < deadline:
        w.advance(10)
        if all(lb.state.value == "active" for lb in w.elb.load_balancers.values()) and (
            healthy_targets(w) >= n
        ):
            return
    raise RuntimeError(f"{healthy_targets(w)} of {n} targets healthy after {within:.0f} s")


def start_traffic(f: Fleet, total_rps: float) -> None:
    per_lb = total_rps / len(f.lbs)
    for lb in f.lbs:
        paths: list[str | dict[str, Any]] = list(f.paths[lb])
        f.w.traffic.set_rate(per_lb, lb, paths=paths)
