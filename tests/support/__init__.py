"""What the tests share (no test module imports another): small readers over the public API
here; worlds built from the demo in `worlds`; a live server in `server` (the `server` fixture
of tests/conftest.py); the load generator of the load test in `loadgen`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ecsim
from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE, TARGET_GROUP


def service(w: ecsim.World, name: str = SERVICE, cluster: str = CLUSTER) -> dict:
    return w.ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def tg_arn(w: ecsim.World, name: str = TARGET_GROUP) -> str:
    return w.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]


def lb_arn(w: ecsim.World, name: str = LOAD_BALANCER) -> str:
    return str(w.elbv2.describe_load_balancers(Names=[name])["LoadBalancers"][0]["LoadBalancerArn"])


def listener_arn(w: ecsim.World, name: str = LOAD_BALANCER) -> str:
    """The first listener of the load balancer (the demo's: port 80)."""
    return str(
        w.elbv2.describe_listeners(LoadBalancerArn=lb_arn(w, name))["Listeners"][0]["ListenerArn"]
    )


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


def all_tasks(ecs: Any, desired: str, **filters: str) -> list[dict[str, Any]]:
    """Every task of the demo's cluster ListTasks gives for `desired` (all pages), described;
    `ecs` is a world's `w.ecs` or a boto3 client."""
    arns: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = ecs.list_tasks(cluster=CLUSTER, desiredStatus=desired, **filters, **token)
        arns += page["taskArns"]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    out: list[dict[str, Any]] = []
    for i in range(0, len(arns), 100):
        out += ecs.describe_tasks(cluster=CLUSTER, tasks=arns[i : i + 100])["tasks"]
    return out
