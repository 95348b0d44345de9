"""The simulated ALB on a real port: status codes, bodies and headers checked against what the
model says, while a task is killed and while the service scheduler is crashed (issue 5).

The world is paused through ecsim's API and stepped with `advance`, so each phase is exact.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from typing import Any

import httpx
import pytest

from ecsim.awsapi import alb_app
from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World
from tests.support.server import LiveServer

ELB_503 = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n"
)


pytestmark = pytest.mark.server(world="demo", rate=0, speed=60, paused=True, fresh=True)


def api(server: LiveServer, path: str, **body: Any) -> Any:
    r = httpx.post(f"{server.url}/ecsim/api/{path}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def stats(server: LiveServer, since: float) -> dict[str, int]:
    # statistics are kept per whole second of simulated time
    r = httpx.get(f"{server.url}/ecsim/api/traffic/stats", params={"since": math.floor(since)})
    return dict(r.json()["by_status"])


def now(server: LiveServer) -> float:
    return float(httpx.get(f"{server.url}/ecsim/api/status").json()["now"])


def hit(server: LiveServer, n: int, path: str = "/") -> list[httpx.Response]:
    with httpx.Client(base_url=server.alb_url, timeout=30) as client:
        return [client.get(path) for _ in range(n)]


def tasks(server: LiveServer) -> dict[str, dict[str, Any]]:
    """Running tasks of the demo service by IP, as DescribeTasks shows them."""

    def read(w: World) -> dict[str, dict[str, Any]]:
        arns = w.ecs.list_tasks(cluster="home", desiredStatus="RUNNING")["taskArns"]
        out = {}
        for t in w.ecs.describe_tasks(cluster="home", tasks=arns)["tasks"]:
            details = t["attachments"][0]["details"]
            ip = next(d["value"] for d in details if d["name"] == "privateIPv4Address")
            out[ip] = t
        return out

    return server.call(read)


def counted(responses: list[httpx.Response]) -> dict[str, int]:
    return dict(collections.Counter(str(r.status_code) for r in responses))


def test_a_steady_service_answers_from_its_tasks(server: LiveServer) -> None:
    start = now(server)
    answers = hit(server, 9)
    by_ip = tasks(server)
    assert [r.status_code for r in answers] == [200] * 9
    seen = collections.Counter()
    for r in answers:
        body = r.json()
        task = by_ip[body["ip"]]
        assert body["taskArn"] == task["taskArn"] and body["task"] == task["taskArn"][-32:]
        assert body["availabilityZone"] == task["availabilityZone"]
        assert body["taskDefinition"] == "home-app:1" and body["revision"] == 1
        assert r.headers["server"] == "ecsim-task"
        assert r.headers["x-ecsim-target"] == f"{body['ip']}:80"
        seen[body["ip"]] += 1
    assert sorted(seen.values()) == [3, 3, 3]  # round robin over the three targets
    api(server, "time/advance", seconds=1)
    assert stats(server, start) == {"200": 9}  # the model counted them like its own clients


def test_while_a_task_is_killed(server: LiveServer) -> None:
    by_ip = tasks(server)
    victim_ip = sorted(by_ip)[0]
    api(server, "chaos/kill-task", task=by_ip[victim_ip]["taskArn"], reason="oom")
    start = now(server)
    answers = hit(server, 9)
    # Its target is still registered and healthy: the ALB sends it a third of the requests,
    # and nothing listens there any more (502, from the load balancer itself).
    failed = [r for r in answers if r.status_code != 200]
    assert len(failed) == 3
    for r in failed:
        assert r.status_code == 502 and r.headers["server"] == "awselb/2.0"
        assert r.headers["x-ecsim-target"] == f"{victim_ip}:80"
        assert b"<title>502 Bad Gateway</title>" in r.content
    api(server, "time/advance", seconds=1)
    assert stats(server, start) == counted(answers)

    # Two failed health checks later the target is unhealthy and gets nothing; the scheduler
    # replaces the task.
    api(server, "time/advance", seconds=30)
    start = now(server)
    answers = hit(server, 6)
    assert [r.status_code for r in answers] == [200] * 6
    assert victim_ip not in {r.json()["ip"] for r in answers}
    api(server, "time/advance", seconds=120)
    assert len(tasks(server)) == 3
    api(server, "time/advance", seconds=1)
    assert stats(server, start) == {"200": 6}


def test_while_the_scheduler_is_crashed(server: LiveServer) -> None:
    api(server, "chaos/crash-controller", cluster="home")
    by_ip = tasks(server)
    for task in by_ip.values():
        api(server, "chaos/kill-task", task=task["taskArn"])
    # Nothing heals: every target fails its checks, the ALB fails open and routes to all of
    # them anyway, and each request fails at the load balancer (502 or 504).
    api(server, "time/advance", seconds=60)
    start = now(server)
    began = time.monotonic()
    answers = hit(server, 6)
    took = time.monotonic() - began
    assert {r.status_code for r in answers} <= {502, 504}
    assert all(r.headers["server"] == "awselb/2.0" for r in answers)
    for r in answers:
        if r.status_code == 504:  # connect timeout: 10 simulated s, waited 10/60 wall s
            assert float(r.headers["x-ecsim-latency-ms"]) == pytest.approx(10_000)
            assert took >= 10 / 60 * 0.9
    api(server, "time/advance", seconds=15)
    assert stats(server, start) == counted(answers)
    svc = server.call(lambda w: w.ecs.describe_services(cluster="home", services=["home-service"]))[
        "services"
    ][0]
    assert svc["runningCount"] == 0 and svc["controllerStatus"] == "CRASHED"
    # Restored, the scheduler converges and the port answers from new tasks.
    api(server, "chaos/restore-controller", cluster="home")
    api(server, "time/advance", seconds=180)
    assert [r.status_code for r in hit(server, 3)] == [200] * 3


def test_no_target_to_send_to_is_the_albs_own_503_and_rules_answer_themselves(
    server: LiveServer,
) -> None:
    def rules(w: World) -> None:
        lb = w.elbv2.describe_load_balancers(Names=["home-alb"])["LoadBalancers"][0]
        listener = w.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][
            0
        ]["ListenerArn"]
        empty = w.elbv2.create_target_group(
            Name="empty", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for priority, path, action in (
            (1, "/empty", {"Type": "forward", "TargetGroupArn": empty}),
            (
                2,
                "/teapot",
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {
                        "StatusCode": "418",
                        "ContentType": "application/json",
                        "MessageBody": '{"short": "and stout"}',
                    },
                },
            ),
            (
                3,
                "/old",
                {"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301", "Path": "/new"}},
            ),
        ):
            w.elbv2.create_rule(
                ListenerArn=listener,
                Priority=priority,
                Conditions=[{"Field": "path-pattern", "Values": [path]}],
                Actions=[action],
            )

    server.call(rules)
    with httpx.Client(base_url=server.alb_url) as client:
        r = client.get("/empty")
        assert r.status_code == 503 and r.content == ELB_503 and len(r.content) == 162
        assert r.headers["server"] == "awselb/2.0"
        r = client.get("/teapot")
        assert r.status_code == 418 and r.json() == {"short": "and stout"}
        r = client.get("/old?x=1", follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"].endswith(":80/new?x=1")


def test_a_load_balancer_that_does_not_exist_cannot_be_connected_to() -> None:
    live = LiveWorld(lambda seed: World(seed=seed))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=alb_app(live, "nope", 80))
        async with httpx.AsyncClient(transport=transport, base_url="http://alb") as client:
            return await client.get("/")

    r = asyncio.run(get())
    assert r.status_code == 503 and r.headers["x-ecsim-status"] == "000"
    assert "awselb" not in r.headers.get("server", "")
