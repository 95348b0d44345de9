"""ecsim's own JSON API (chaos, traffic, time) and the OpenAPI document that describes it."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import openapi_spec_validator
import pytest

from ecsim.awsapi.native import ENDPOINTS, PREFIX, openapi
from tests.support.server import LiveServer

pytestmark = pytest.mark.server(world="demo", speed=60)


def call(server: LiveServer, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{server.url}{PREFIX}{path}", timeout=30, **kw)


def test_the_server_publishes_a_valid_openapi_document(server: LiveServer) -> None:
    doc = httpx.get(f"{server.url}/ecsim/openapi.json").json()
    assert doc == openapi()
    assert doc["openapi"].startswith("3.1")
    ops = [op for path in doc["paths"].values() for op in path.values()]
    assert len(ops) == len(ENDPOINTS)
    assert len({op["operationId"] for op in ops}) == len(ops)
    for e in ENDPOINTS:
        jsonschema.Draft202012Validator.check_schema(e.schema)
    openapi_spec_validator.validate(doc)


def test_time_control(server: LiveServer) -> None:
    paused = call(server, "POST", "/time/pause").json()
    assert paused["paused"] is True
    held = call(server, "GET", "/status").json()["now"]
    assert held == paused["now"]
    stepped = call(server, "POST", "/time/advance", json={"seconds": 30}).json()
    assert stepped["now"] == pytest.approx(held + 30)
    assert call(server, "POST", "/time/speed", json={"speed": 600}).json()["speed"] == 600
    running_again = call(server, "POST", "/time/resume").json()
    assert running_again["paused"] is False
    r = call(server, "POST", "/time/speed", json={"speed": -1})
    assert r.status_code == 400 and r.json()["code"] == "ValidationError"
    r = call(server, "POST", "/time/advance", json={"seconds": "ten"})
    assert r.status_code == 400 and "seconds" in r.json()["message"]
    call(server, "POST", "/time/speed", json={"speed": 60})


def test_chaos_ends_in_the_model(server: LiveServer) -> None:
    call(server, "POST", "/time/pause")
    arns = server.call(lambda w: w.ecs.list_tasks(cluster="home")["taskArns"])
    r = call(server, "POST", "/chaos/crash-controller", json={"cluster": "home"})
    assert r.status_code == 200 and r.json()["ok"] is True
    r = call(server, "POST", "/chaos/kill-task", json={"task": arns[0], "reason": "oom"})
    assert r.status_code == 200
    call(server, "POST", "/time/advance", json={"seconds": 60})
    svc = server.call(lambda w: w.ecs.describe_services(cluster="home", services=["home-service"]))[
        "services"
    ][0]
    assert svc["controllerStatus"] == "CRASHED" and svc["runningCount"] == 2
    task = server.call(lambda w: w.ecs.describe_tasks(cluster="home", tasks=[arns[0]]))["tasks"]
    assert task[0]["containers"][0]["exitCode"] == 137
    events = call(server, "GET", "/events", params={"kind": "ControllerStatusChanged"}).json()
    assert events["events"][-1]["status"] == "CRASHED"
    # the model's own errors keep their codes
    r = call(server, "POST", "/chaos/crash-controller", json={"cluster": "nope"})
    assert r.status_code == 400 and r.json()["code"] == "ClusterNotFoundException"
    r = call(server, "POST", "/chaos/kill-task", json={"task": arns[0], "reason": "boom"})
    assert r.status_code == 400 and r.json()["code"] == "ValidationError"
    r = call(server, "POST", "/chaos/fail-az", json={"az": "us-east-1a", "extra": 1})
    assert r.status_code == 400
    assert call(server, "POST", "/chaos/restore-controller", json={"cluster": "home"}).is_success
    assert call(server, "POST", "/chaos/fail-az", json={"az": "us-east-1b"}).is_success
    assert call(server, "POST", "/chaos/restore-az", json={"az": "us-east-1b"}).is_success
    call(server, "POST", "/time/resume")


def test_traffic(server: LiveServer) -> None:
    assert call(server, "POST", "/traffic/rate", json={"rps": 25, "paths": ["/", "/a"]}).is_success
    assert call(server, "GET", "/traffic/rate").json()["rps"] == 25
    trace = call(server, "POST", "/traffic/send", json={"path": "/hello"}).json()
    assert trace["loadBalancer"] == "home-alb" and trace["path"] == "/hello"
    stats = call(server, "GET", "/traffic/stats", params={"since": 0}).json()
    assert stats["requests"] > 0 and "200" in stats["by_status"]
    r = call(server, "GET", "/traffic/stats", params={"since": "yesterday"})
    assert r.status_code == 400
    r = call(server, "POST", "/traffic/rate", json={"rps": 5, "loadBalancer": "nope"})
    assert r.status_code == 400 and r.json()["code"] == "LoadBalancerNotFound"
    r = call(server, "POST", "/traffic/send", content=b"[1, 2]")
    assert r.status_code == 400
    r = call(server, "POST", "/traffic/send", content=b"{nope")
    assert r.status_code == 400


def test_reset(server: LiveServer) -> None:
    status = call(server, "POST", "/reset", json={"seed": 3}).json()
    assert status["seed"] == 3
    assert server.call(lambda w: w.seed) == 3


def test_fis_task_faults_start_and_end_in_the_model(server: LiveServer) -> None:
    call(server, "POST", "/time/pause")
    arns = sorted(server.call(lambda w: w.ecs.list_tasks(cluster="home")["taskArns"]))
    since = call(server, "GET", "/status").json()["now"]
    r = call(server, "POST", "/chaos/stress-cpu", json={"task": arns[0], "duration": 120})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["ok"] is True and answer["task"] == arns[0]
    assert answer["action"] == "aws:ecs:task-cpu-stress"
    assert answer["endsAt"] == pytest.approx(answer["now"] + 120)
    assert server.call(lambda w: w.chaos.task(arns[0]).cpu_stress) == 100.0
    task_id = arns[1].rsplit("/", 1)[-1]  # a task by its ID; the defaults: 200 ms, 300 s
    r = call(server, "POST", "/chaos/delay-network", json={"task": task_id})
    assert r.status_code == 200 and r.json()["endsAt"] == pytest.approx(r.json()["now"] + 300)
    assert server.call(lambda w: w.chaos.task(arns[1]).network_delay) == 0.2
    ip = server.call(lambda w: w.chaos.task(arns[2]).ip)  # by IP; the container's port 80
    r = call(server, "POST", "/chaos/blackhole-port", json={"task": ip, "duration": 60})
    assert r.status_code == 200 and r.json()["action"] == "aws:ecs:task-network-blackhole-port"
    assert server.call(lambda w: w.chaos.task(arns[2]).blackholed_ports) == {80}
    r = call(server, "POST", "/chaos/lose-packets", json={"task": arns[2], "duration": 30})
    assert r.status_code == 200 and r.json()["action"] == "aws:ecs:task-network-packet-loss"
    assert server.call(lambda w: w.chaos.task(arns[2]).packet_loss) == 0.07  # FIS's default
    started = call(server, "GET", "/events", params={"kind": "TaskFaultChanged"}).json()
    assert [(e["action"], e["active"], e["detail"]) for e in started["events"][-4:]] == [
        ("aws:ecs:task-cpu-stress", True, "100 % CPU"),
        ("aws:ecs:task-network-latency", True, "+200 ms"),
        ("aws:ecs:task-network-blackhole-port", True, "port 80/tcp ingress"),
        ("aws:ecs:task-network-packet-loss", True, "7 % packet loss"),
    ]
    call(server, "POST", "/time/advance", json={"seconds": 121})
    events = call(
        server, "GET", "/events", params={"kind": "TaskFaultChanged", "since": since}
    ).json()["events"]
    ended = [(e["task_arn"], e["action"]) for e in events if not e["active"]]
    assert ended == [
        (arns[2], "aws:ecs:task-network-packet-loss"),
        (arns[2], "aws:ecs:task-network-blackhole-port"),
        (arns[0], "aws:ecs:task-cpu-stress"),
    ]
    assert server.call(lambda w: w.chaos.task(arns[0]).cpu_stress) == 0.0
    call(server, "POST", "/reset")  # the next tests get a world without faults
    call(server, "POST", "/time/resume")


@pytest.mark.parametrize(
    ("path", "body", "code", "said"),
    [
        (
            "/stress-cpu",
            {"task": "@", "percent": 150},
            "ValidationError",
            "percent: 150 is greater",
        ),
        (
            "/stress-cpu",
            {"task": "@", "percent": "all"},
            "ValidationError",
            "percent: 'all' is not",
        ),
        ("/stress-cpu", {"task": "@", "duration": 0}, "ValidationError", "duration: 0 is less"),
        ("/stress-cpu", {"task": "@", "duration": 86400}, "ValidationError", "duration: 86400"),
        ("/stress-cpu", {"percent": 50}, "ValidationError", "'task' is a required property"),
        ("/blackhole-port", {"task": "@", "port": 0}, "ValidationError", "port: 0 is less"),
        ("/blackhole-port", {"task": "@", "port": 80.5}, "ValidationError", "port: 80.5 is not"),
        ("/delay-network", {"task": "@", "delay": 200}, "ValidationError", "delay: 200 is greater"),
        ("/lose-packets", {"task": "@", "percent": 100}, "ValidationError", "percent: 100 is"),
        (
            "/delay-network",
            {"task": "@", "delayMs": 200},
            "ValidationError",
            "'delayMs' was unexpected",
        ),
        ("/delay-network", {"task": "no-such-task"}, "InvalidParameterException", "not found"),
        ("/stress-cpu", {"task": "stopped"}, "InvalidParameterException", "no running container"),
    ],
)
def test_bad_fis_fault_parameters_get_a_400_with_an_aws_style_error(
    server: LiveServer, path: str, body: dict[str, Any], code: str, said: str
) -> None:
    arns = server.call(lambda w: w.ecs.list_tasks(cluster="home")["taskArns"])
    if body.get("task") == "@":
        body = {**body, "task": arns[0]}
    if body.get("task") == "stopped":
        server.call(lambda w: w.chaos.kill_task(arns[-1]))
        body = {"task": arns[-1]}  # its container exited: nothing to inject a fault into
    before = server.call(lambda w: len(w.events(kind="TaskFaultChanged")))
    r = call(server, "POST", f"/chaos{path}", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    assert said in r.json()["message"]
    assert server.call(lambda w: len(w.events(kind="TaskFaultChanged"))) == before
