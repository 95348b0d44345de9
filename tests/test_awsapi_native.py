"""ecsim's own JSON API (chaos, traffic, time) and the OpenAPI document that describes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openapi_spec_validator
import pytest

from ecsim.awsapi.native import ENDPOINTS, PREFIX, openapi
from ecsim.model.world import World
from tests.awsapi_support import LiveServer, running


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with running(factory=lambda seed: World.demo(seed=seed), speed=60) as s:
        yield s


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
