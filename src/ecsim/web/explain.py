"""What is this name or ARN? The page's explainer, in the spirit of the seed's opening answer
("1-home-instance is almost certainly a Task, not a Service").

It reasons from the text's shape (`ecsim.model.aws.explain`: ARNs name their resource type;
numbered or ID-like names are running copies; static names like `home-service` are services)
and, when the text names something in the live world (a task ID or IP, a service, a target
group, a load balancer, a cluster), says what it is there.
"""

from __future__ import annotations

import re
from typing import Any

from ecsim.model.aws.explain import explanations
from ecsim.model.errors import AwsError
from ecsim.model.world import World

ROLE = {
    "task": "a Task — a worker: one running copy of the app, with its own IP, that the ALB "
    "sends requests to through the target group.",
    "service": "a Service — the Manager: it keeps the desired number of tasks running, "
    "registers them in the target group and replaces the ones that die. It is not on the "
    "request path.",
    "target-group": "a Target Group — the registry of IP:port targets and their health; the "
    "ALB picks one of its healthy targets for each request.",
    "load-balancer": "an Application Load Balancer — it receives requests on its listeners "
    "and forwards them to targets; it knows IP addresses, not services.",
    "cluster": "an ECS Cluster — a namespace for services, tasks and container instances.",
    "ip": "an IP address — in this VPC, the private IP of a task's network interface (awsvpc), "
    "which is exactly what the target group registers.",
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


def explain(w: World, text: str) -> dict[str, Any]:
    """What `text` (a name, ID, IP or ARN) most likely is, and what it does: what its shape
    says (`ecsim.model.aws.explain`), and what it is in this world if it is here."""
    text = text.strip()
    e = explanations(text)[0]
    shape = {
        "input": text,
        "kind": None,
        "answer": f"{text} is {e.what}.",
        "why": f"{e.sure.capitalize()}: {e.why}.",
        "managedBy": e.managed_by,
        "lookup": e.lookup,
        "live": None,
    }
    found = _lookup(w, text)
    if found is not None:
        shape.update(found)
    return shape
