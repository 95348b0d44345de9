"""References in step parameters, resolved when the step runs: a scenario cannot know a task's
ARN before the task exists.

    ${task:home-service}        the ARN of the oldest running task of the service
    ${task:home-service:1}      ... the second oldest
    ${task-ip:home-service:0}   its private IP address
    ${spot-task:home-service}   the ARN of the oldest running task of the service on FARGATE_SPOT
    ${task-instance:web:0}      the EC2 instance ID its task runs on (EC2 launch type)
    ${target-group:home-tg}     a target group's ARN
    ${load-balancer:home-alb}   a load balancer's ARN
    ${listener:home-alb:80}     a listener's ARN (port optional when there is one)
    ${task-definition:home-app} the latest ACTIVE revision's ARN (or home-app:2)
    ${service-deployment:home-service} the ARN of the service's newest deployment record
                                (StopServiceDeployment)
    ${instance:home:0}          the EC2 instance ID of a cluster's first container instance
    ${container-instance:home:0} that container instance's ARN (UpdateContainerInstancesState)
    ${subnet:us-east-1a}        the default subnet of an Availability Zone
    ${subnets}                  every default subnet (a list)
    ${vpc}, ${security-group}   the default VPC and its default security group
"""

from __future__ import annotations

import re
from typing import Any

from ecsim.model.world import World

REF = re.compile(r"^\$\{(?P<kind>[a-z-]+)(?::(?P<args>[^}]*))?\}$")
KINDS: dict[str, tuple[int, int]] = {  # kind -> (least, most) arguments
    "task": (1, 2),
    "task-ip": (1, 2),
    "task-instance": (1, 2),
    "spot-task": (1, 2),
    "target-group": (1, 1),
    "load-balancer": (1, 1),
    "listener": (1, 2),
    "task-definition": (1, 1),
    "service-deployment": (1, 1),
    "instance": (1, 2),
    "container-instance": (1, 2),
    "subnet": (1, 1),
    "subnets": (0, 0),
    "vpc": (0, 0),
    "security-group": (0, 0),
}


class RefError(ValueError):
    pass


def parse(text: str) -> tuple[str, list[str]] | None:
    """(kind, arguments) of a `${...}` reference, None for plain text. RefError if malformed."""
    if not text.startswith("${"):
        return None
    m = REF.match(text)
    if m is None:
        raise RefError(f"expected a reference like ${{task:home-service}}; got {text!r}")
    kind, args = m.group("kind"), m.group("args")
    parts = [] if args is None else args.split(":")
    if kind not in KINDS:
        raise RefError(f"unknown reference kind {kind!r}; expected one of: {', '.join(KINDS)}")
    least, most = KINDS[kind]
    if not least <= len(parts) <= most:
        raise RefError(f"${{{kind}}} takes {least} to {most} argument(s); got {text!r}")
    if (
        kind in ("task", "task-ip", "task-instance", "spot-task", "instance", "container-instance")
        and len(parts) == 2
        and not parts[1].isdigit()
    ):
        raise RefError(f"the index in {text!r} must be a whole number")
    return kind, parts


def refs_in(value: Any) -> list[tuple[str, list[str]]]:
    """Every reference inside a parameter value (to check them before running)."""
    if isinstance(value, str):
        ref = parse(value)
        return [] if ref is None else [ref]
    if isinstance(value, dict):
        return [r for v in value.values() for r in refs_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in refs_in(v)]
    return []


def resolve(w: World, value: Any) -> Any:
    """`value` with every reference replaced by what it names now."""
    if isinstance(value, str):
        ref = parse(value)
        return value if ref is None else _lookup(w, *ref)
    if isinstance(value, dict):
        return {k: resolve(w, v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(w, v) for v in value]
    return value


def _service_tasks(w: World, service: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for cluster in w.ecs.list_clusters()["clusterArns"]:
        arns = w.ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
        if arns:
            found += w.ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    running = [t for t in found if t["lastStatus"] == "RUNNING"] or found
    running.sort(key=lambda t: (t["createdAt"], t["taskArn"]))
    return running


def _nth(items: list[Any], args: list[str], what: str) -> Any:
    index = int(args[1]) if len(args) > 1 else 0
    if index >= len(items):
        raise RefError(f"{what} has {len(items)}, so there is no number {index} (counting from 0)")
    return items[index]


def _lookup(w: World, kind: str, args: list[str]) -> Any:
    if kind == "spot-task":
        spot = [
            t
            for t in _service_tasks(w, args[0])
            if t.get("capacityProviderName") == "FARGATE_SPOT" and t["lastStatus"] == "RUNNING"
        ]
        return _nth(spot, args, f"service {args[0]!r}'s running FARGATE_SPOT tasks")["taskArn"]
    if kind in ("task", "task-ip", "task-instance"):
        task = _nth(_service_tasks(w, args[0]), args, f"service {args[0]!r}'s running tasks")
        if kind == "task":
            return task["taskArn"]
        if kind == "task-instance":
            if "containerInstanceArn" not in task:
                raise RefError(f"service {args[0]!r}'s task runs on Fargate, not on an instance")
            described = w.ecs.describe_container_instances(
                cluster=task["clusterArn"], containerInstances=[task["containerInstanceArn"]]
            )
            return described["containerInstances"][0]["ec2InstanceId"]
        details = task["attachments"][0]["details"]
        return next(d["value"] for d in details if d["name"] == "privateIPv4Address")
    if kind == "target-group":
        return w.elbv2.describe_target_groups(Names=args)["TargetGroups"][0]["TargetGroupArn"]
    if kind in ("load-balancer", "listener"):
        lb = w.elbv2.describe_load_balancers(Names=args[:1])["LoadBalancers"][0]
        if kind == "load-balancer":
            return lb["LoadBalancerArn"]
        listeners = w.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        if len(args) > 1:
            listeners = [x for x in listeners if str(x["Port"]) == args[1]]
        if not listeners:
            raise RefError(f"load balancer {args[0]!r} has no listener on port {args[1]}")
        return listeners[0]["ListenerArn"]
    if kind == "task-definition":
        td = w.ecs.describe_task_definition(taskDefinition=args[0])["taskDefinition"]
        return td["taskDefinitionArn"]
    if kind == "service-deployment":
        for cluster in w.ecs.list_clusters()["clusterArns"]:
            if w.ecs.describe_services(cluster=cluster, services=args)["services"]:
                found = w.ecs.list_service_deployments(cluster=cluster, service=args[0])
                if found["serviceDeployments"]:
                    return found["serviceDeployments"][0]["serviceDeploymentArn"]
        raise RefError(f"service {args[0]!r} has no deployment")
    if kind in ("instance", "container-instance"):
        arns = w.ecs.list_container_instances(cluster=args[0])["containerInstanceArns"]
        if not arns:
            raise RefError(f"cluster {args[0]!r} has no container instance")
        described = w.ecs.describe_container_instances(cluster=args[0], containerInstances=arns)
        field = "ec2InstanceId" if kind == "instance" else "containerInstanceArn"
        ids = sorted((ci["registeredAt"], ci[field]) for ci in described["containerInstances"])
        return _nth([i for _, i in ids], args, f"cluster {args[0]!r}'s container instances")
    if kind in ("subnet", "subnets"):
        subnets = w.ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ]
        if kind == "subnets":
            return [s["SubnetId"] for s in subnets]
        match = [s["SubnetId"] for s in subnets if s["AvailabilityZone"] == args[0]]
        if not match:
            raise RefError(f"no default subnet in Availability Zone {args[0]!r}")
        return match[0]
    if kind == "vpc":
        return w.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0][
            "VpcId"
        ]
    if kind == "security-group":
        return w.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]["GroupId"]
    raise RefError(f"unknown reference kind {kind!r}")  # pragma: no cover - parse() checks
