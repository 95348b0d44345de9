"""What is this name or ARN? The page's explainer, in the spirit of the seed's opening answer
("1-home-instance is almost certainly a Task, not a Service").

It looks the text up in the live world first (a task ID or IP, a service, a target group, a
load balancer, a cluster, a task definition) and otherwise reasons from its shape: ARNs name
their resource type; numbered or ID-like names are running copies (tasks or instances);
static names like `home-service` are services.
"""

from __future__ import annotations

import re
from typing import Any

from ecsim.model.errors import AwsError
from ecsim.model.world import World

ROLE = {
    "task": "a Task — a worker: one running copy of the app, with its own IP, that the ALB "
    "sends requests to through the target group.",
    "service": "a Service — the Manager: it keeps the desired number of tasks running, "
    "registers them in the target group and replaces the ones that die. It is not on the "
    "request path.",
    "instance": "an EC2 instance — a host that runs tasks (EC2 launch type). If it dies, its "
    "tasks die with it and the service replaces them elsewhere.",
    "container-instance": "a container instance — an EC2 host registered in an ECS cluster.",
    "target-group": "a Target Group — the registry of IP:port targets and their health; the "
    "ALB picks one of its healthy targets for each request.",
    "load-balancer": "an Application Load Balancer — it receives requests on its listeners "
    "and forwards them to targets; it knows IP addresses, not services.",
    "listener": "a Listener — a port (e.g. 80) of the load balancer with rules that forward "
    "to target groups.",
    "cluster": "an ECS Cluster — a namespace for services, tasks and container instances.",
    "task-definition": "a Task Definition revision — the blueprint (image, CPU, memory, ports) "
    "tasks are started from; a new revision and UpdateService make a deployment.",
    "deployment": "an ECS Deployment — one rollout of a task definition within a service.",
    "ip": "an IP address — in this VPC, the private IP of a task's network interface (awsvpc), "
    "which is exactly what the target group registers.",
}

ARN_TYPES = {
    ("ecs", "task"): "task",
    ("ecs", "service"): "service",
    ("ecs", "cluster"): "cluster",
    ("ecs", "task-definition"): "task-definition",
    ("ecs", "container-instance"): "container-instance",
    ("elasticloadbalancing", "targetgroup"): "target-group",
    ("elasticloadbalancing", "loadbalancer"): "load-balancer",
    ("elasticloadbalancing", "listener"): "listener",
    ("ec2", "instance"): "instance",
}


def _answer(kind: str, text: str, why: str, live: str | None = None) -> dict[str, Any]:
    return {
        "input": text,
        "kind": kind,
        "answer": f"{text} is {ROLE[kind]}",
        "why": why,
        "live": live,
    }


def _lookup(w: World, text: str) -> dict[str, Any] | None:
    key = text.rsplit("/", 1)[-1]
    try:
        t = w.chaos.task(text)
    except AwsError:
        t = None
    if t is not None:
        kind = "ip" if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", text) else "task"
        return _answer(
            kind,
            text,
            f"It is a task of this simulated world ({t.group}, {t.task_definition.family}"
            f":{t.task_definition.revision}).",
            f"Task {t.id}: {t.last_status.value}, IP {t.ip}, {t.az}.",
        )
    for c in w.ecs.list_clusters()["clusterArns"]:
        cname = c.rsplit("/", 1)[-1]
        if key == cname:
            return _answer("cluster", text, "It is a cluster of this world.", f"Cluster {c}.")
        for s in w.ecs.list_services(cluster=cname)["serviceArns"]:
            if key == s.rsplit("/", 1)[-1]:
                d = w.ecs.describe_services(cluster=cname, services=[key])["services"][0]
                return _answer(
                    "service",
                    text,
                    "It is a service of this world.",
                    f"Service {key}: desired {d['desiredCount']}, running "
                    f"{d['runningCount']}, scheduler {d.get('controllerStatus', 'ACTIVE')}.",
                )
    for tg in w.elbv2.describe_target_groups()["TargetGroups"]:
        if key in (tg["TargetGroupName"], tg["TargetGroupArn"]) or text == tg["TargetGroupArn"]:
            n = len(
                w.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
                    "TargetHealthDescriptions"
                ]
            )
            return _answer(
                "target-group", text, "It is a target group of this world.", f"{n} targets."
            )
    for lb in w.elbv2.describe_load_balancers()["LoadBalancers"]:
        if text in (lb["LoadBalancerName"], lb["LoadBalancerArn"], lb["DNSName"]):
            return _answer(
                "load-balancer",
                text,
                "It is a load balancer of this world.",
                f"DNS name {lb['DNSName']}, {lb['State']['Code']}.",
            )
    return None


def _from_arn(text: str) -> dict[str, Any] | None:
    m = re.fullmatch(r"arn:aws[\w-]*:([\w-]+):[\w-]*:\d*:([\w-]+)[/:]?(.*)", text)
    if not m:
        return None
    service, resource = m.group(1), m.group(2)
    kind = ARN_TYPES.get((service, resource))
    if kind is None:
        return {
            "input": text,
            "kind": "arn",
            "answer": f"{text} is an ARN of {service} ({resource}); ecsim does not model it.",
            "why": "The ARN names its service and resource type after the account ID.",
            "live": None,
        }
    return _answer(kind, text, f"The ARN says so: service '{service}', resource '{resource}'.")


def _from_shape(text: str) -> dict[str, Any]:
    low = text.lower()
    if re.fullmatch(r"i-[0-9a-f]{8,17}", low):
        return _answer("instance", text, "EC2 instance IDs look like i-0123456789abcdef0.")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+(:\d+)?", low):
        return _answer("ip", text, "It is an IPv4 address (with a port, it is a target).")
    if re.fullmatch(r"[0-9a-f]{32}", low):
        return _answer("task", text, "32 hex digits is the shape of an ECS task ID.")
    if re.fullmatch(r"ecs-svc/\d+", low):
        return _answer("deployment", text, "ecs-svc/<number> is how ECS names deployments.")
    if re.fullmatch(r"[\w-]+:\d+", low):
        return _answer("task-definition", text, "family:revision names a task definition.")
    if re.search(r"(^|[-_])(tg|targets?|target-group)($|[-_])", low):
        return _answer("target-group", text, "The name says target group (-tg).")
    if re.search(r"(^|[-_])(alb|elb|lb|load-?balancer)($|[-_])", low):
        return _answer("load-balancer", text, "The name says load balancer (-alb / -lb).")
    if re.search(r"(^|[-_])(svc|service)($|[-_])", low):
        return _answer(
            "service",
            text,
            "Services usually have static names like home-service; there is one per app, "
            "not one per copy.",
        )
    if re.search(r"(^|[-_])cluster($|[-_])", low):
        return _answer("cluster", text, "The name says cluster.")
    numbered = re.search(r"(^\d+[-_])|([-_]\d+$)|([0-9a-f]{8,})", low)
    if numbered or re.search(r"(^|[-_])(instance|task|worker|node|replica)($|[-_])", low):
        return _answer(
            "task",
            text,
            "Specific running copies carry numbers or IDs (like 1-…): those are the workers "
            "(tasks, or the EC2 instance under them), not the service. Services usually have "
            "static names like home-service.",
        )
    return {
        "input": text,
        "kind": "unknown",
        "answer": f"{text} does not say what it is. If it is a stable, app-level name it is "
        "most likely a service; a name with a number or an ID is most likely a task.",
        "why": "It matches nothing in this world and no AWS naming pattern.",
        "live": None,
    }


def explain(w: World, text: str) -> dict[str, Any]:
    """What `text` (a name, ID, IP or ARN) most likely is, and what it does."""
    found = _lookup(w, text)
    if found is not None:
        return found
    return _from_arn(text) or _from_shape(text)
