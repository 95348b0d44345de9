"""`ecsim demo`: the seed's scenarios, played headless and narrated as they happen."""

from __future__ import annotations

from collections.abc import Callable

import click

from ecsim.cli.timeline import line
from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE
from ecsim.model.events import Event, RequestsCompleted
from ecsim.model.world import World


def _headline(text: str) -> None:
    click.echo("")
    click.secho(text, bold=True)


def _stats(w: World, since: float) -> str:
    s = w.traffic.stats(since=since, until=w.now, load_balancer=LOAD_BALANCER)
    return (
        f"  requests {s['requests']}: by answer {s['by_status']}, by target "
        f"{s['by_target']}, latency p50 {s['latency_ms']['p50']} ms"
    )


def _healthy(w: World) -> int:
    tg = w.elbv2.describe_target_groups(Names=["home-tg"])["TargetGroups"][0]["TargetGroupArn"]
    states = w.elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    return sum(1 for d in states if d["TargetHealth"]["State"] == "healthy")


def _running(w: World) -> int:
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return int(svc["runningCount"])


def play(seed: int, echo: Callable[[str], None] = click.echo) -> None:
    w = World.demo(seed=seed)

    def show(e: Event) -> None:
        if not isinstance(e, RequestsCompleted):
            text = line(e)
            if text:
                echo(text)

    _headline("ecsim: AWS ECS Service vs. Task, simulated (the seed's architecture)")
    echo(
        f"Client -> ALB {LOAD_BALANCER} -> listener :80 -> target group home-tg -> "
        f"3 tasks of {SERVICE} (cluster {CLUSTER}); steady at {w.now:.0f} s."
    )
    w.subscribers.append(show)

    _headline("1. Traffic flow: the ALB sends requests to task IPs, round robin")
    w.traffic.set_rate(30, LOAD_BALANCER)
    start = w.now
    w.advance(60)
    echo(_stats(w, start))

    _headline("2. Auto-healing: a task runs out of memory; the service replaces it")
    task = w.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"][0]
    w.chaos.kill_task(task, reason="oom")
    start = w.now
    while w.now - start < 300 and (_running(w) < 3 or _healthy(w) < 3):
        w.advance(5)
    echo(f"  back to {_running(w)} running, {_healthy(w)} healthy after {w.now - start:.0f} s")
    echo(_stats(w, start))

    _headline("3. Service crash: the manager dies, traffic keeps flowing")
    w.chaos.crash_controller(CLUSTER, SERVICE)
    start = w.now
    w.advance(120)
    echo(_stats(w, start))
    echo("  ...then a task dies, and nothing heals it:")
    task = w.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"][0]
    w.chaos.kill_task(task)
    w.advance(120)
    echo(f"  {_running(w)} running, {_healthy(w)} healthy, 2 minutes later")
    echo("  the scheduler comes back:")
    w.chaos.restore_controller(CLUSTER, SERVICE)
    start = w.now
    while w.now - start < 300 and (_running(w) < 3 or _healthy(w) < 3):
        w.advance(5)
    echo(f"  healed: {_running(w)} running, {_healthy(w)} healthy after {w.now - start:.0f} s")

    _headline("4. Delete the service: it stops every task first")
    w.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    start = w.now
    w.advance(120)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    echo(f"  service {svc['status']}, {svc['runningCount']} running")
    echo(_stats(w, w.now - 30))
