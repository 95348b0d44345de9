"""Hardening (issue 12): what a world that runs out of addresses shows, the live clock that
outlives an internal error, and the targets a scheduler outage used to leave behind.

- Point 1: a subnet without a free address. The task fails to start (stop code
  `TaskFailedToStart`, AWS's ENI reason), a service says it `was unable to place a task`
  (docs/behaviour.md, "Subnet address exhaustion"), and nothing raises inside the kernel: in
  process, against a live server with boto3 (the clock goes on, the status answers), on the
  page's commands, and through `ecsim run`. An error that still escapes the simulation is
  logged and shown, and the clock goes on (docs/behaviour.md, "Internal errors in the live
  server").
- Point 9: a task that dies while the scheduler is down for longer than stopped tasks are
  kept leaves no target behind once the scheduler is back, and deleting the service
  deregisters every target (docs/behaviour.md, "Target group reconciliation").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import ecsim
from ecsim.live.runtime import LiveWorld
from ecsim.model.demo import CLUSTER, FAMILY, SERVICE
from ecsim.model.events import ServiceEvent
from ecsim.web import commands
from ecsim.web.hub import Hub
from tests.support import advance_until, all_tasks, service, target_states, tg_arn
from tests.support.browser import CHROMIUM, launch
from tests.support.scenarios import DEMO_WORLD
from tests.support.server import LiveServer, wait_for

NO_ADDRESS = (
    "Unexpected EC2 error while attempting to Create Network Interface{public} in subnet "
    "'{subnet}': InsufficientFreeAddressesInSubnet"
)
PUBLIC = " with public IP assignment enabled"


def no_address(subnet: str, public: bool) -> str:
    """AWS's stoppedReason for a task whose subnet has no free address left."""
    return NO_ADDRESS.format(public=PUBLIC if public else "", subnet=subnet)


def unable_to_place(subnet: str, public: bool = True) -> str:
    """The service event when none of its subnets has an address left (the demo's service
    assigns public IPs)."""
    return f"(service {SERVICE}) was unable to place a task. Reason: {no_address(subnet, public)}."


def default_subnets(w: Any) -> list[str]:
    found = w.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    return [s["SubnetId"] for s in found["Subnets"]]


def free_addresses(w: Any, subnets: list[str]) -> int:
    found = w.describe_subnets(SubnetIds=subnets)["Subnets"]
    return sum(int(s["AvailableIpAddressCount"]) for s in found)


def service_events(w: ecsim.World, containing: str) -> list[str]:
    """The service events of the demo's service ever written (DescribeServices shows the
    newest 100 only), oldest first."""
    return [
        e.message
        for e in w.events(kind=ServiceEvent)
        if isinstance(e, ServiceEvent) and e.service == SERVICE and containing in e.message
    ]


def run_tasks(ecs: Any, subnets: list[str], calls: int, public: bool = False) -> int:
    """RunTask count=10, `calls` times, at once; the tasks the answers hold."""
    network = {"awsvpcConfiguration": {"subnets": subnets}}
    if public:
        network["awsvpcConfiguration"]["assignPublicIp"] = "ENABLED"
    started = 0
    for _ in range(calls):
        answer = ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=FAMILY,
            count=10,
            launchType="FARGATE",
            networkConfiguration=network,
        )
        assert answer["failures"] == []
        started += len(answer["tasks"])
    return started


def assert_failed_to_start(stopped: list[dict[str, Any]], subnets: list[str], public: bool) -> None:
    """Every task stopped for lack of an address, in AWS's words, and never got one."""
    pattern = re.compile(
        re.escape(no_address("SUBNET", public)).replace("SUBNET", "(?:" + "|".join(subnets) + ")")
    )
    for t in stopped:
        assert t["lastStatus"] == "STOPPED"
        assert t["stopCode"] == "TaskFailedToStart"
        assert pattern.fullmatch(t["stoppedReason"]), t["stoppedReason"]
        assert "startedAt" not in t
        details = {d["name"] for a in t.get("attachments", []) for d in a["details"]}
        assert "privateIPv4Address" not in details


# --- point 1, in process -------------------------------------------------------------------


def test_update_service_beyond_the_subnets_capacity_places_what_fits_and_says_why() -> None:
    w = ecsim.World.demo(seed=0, rate=0)
    subnets = default_subnets(w.ec2)
    capacity = free_addresses(w.ec2, subnets) + 3  # the three tasks hold theirs already
    assert capacity == 750  # three /24 (251 addresses each), one taken by each ALB node
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1000)
    advance_until(w, lambda: service(w)["runningCount"] == capacity, within=600, step=10)
    w.advance(120)  # the clock goes on; nothing else starts
    svc = service(w)
    assert (svc["runningCount"], svc["pendingCount"], svc["desiredCount"]) == (750, 0, 1000)
    assert free_addresses(w.ec2, subnets) == 0
    # Placement counted the addresses of the tasks still PROVISIONING: none was over-committed.
    assert all_tasks(w.ecs, "STOPPED") == []
    assert service_events(w, "was unable to place a task") == [unable_to_place(subnets[0])]


def test_run_task_beyond_the_subnets_capacity_the_extra_tasks_fail_to_start() -> None:
    w = ecsim.World.demo(seed=0, rate=0)
    subnets = default_subnets(w.ec2)
    free = free_addresses(w.ec2, subnets)
    assert free == 747
    assert run_tasks(w.ecs, subnets, 80) == 800  # RunTask answers with every task
    w.advance(120)
    stopped = all_tasks(w.ecs, "STOPPED", family=FAMILY)
    assert len(stopped) == 800 - free
    assert_failed_to_start(stopped, subnets, public=False)
    started = [t for t in all_tasks(w.ecs, "RUNNING") if t["group"] == f"family:{FAMILY}"]
    assert len(started) == free and all(t["lastStatus"] == "RUNNING" for t in started)
    assert service(w)["runningCount"] == 3  # the service keeps its own


def small_subnet(w: ecsim.World) -> str:
    """A /28 of the default VPC in us-east-1a: 16 addresses, 5 of them AWS's."""
    vpc = w.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    return str(
        w.ec2.create_subnet(
            VpcId=vpc["VpcId"], CidrBlock="10.0.9.0/28", AvailabilityZone="us-east-1a"
        )["Subnet"]["SubnetId"]
    )


def test_a_full_subnet_with_a_public_ip_gets_aws_wording_of_the_developer_guide() -> None:
    w = ecsim.World.demo(seed=0, rate=0)
    small = small_subnet(w)
    assert free_addresses(w.ec2, [small]) == 11
    assert run_tasks(w.ecs, [small], 2, public=True) == 20
    w.advance(60)
    stopped = all_tasks(w.ecs, "STOPPED", family=FAMILY)
    assert len(stopped) == 9
    assert_failed_to_start(stopped, [small], public=True)
    assert {t["stoppedReason"] for t in stopped} == {no_address(small, public=True)}
    assert free_addresses(w.ec2, [small]) == 0


def test_a_service_task_whose_address_was_taken_first_fails_to_start_and_the_service_says_so() -> (
    None
):
    """A task placed with an address left can still lose it: RunTask tasks sent to the full
    subnet provision first and take it. The service's task fails to start, and the service
    reports it was unable to place a task, with the same reason."""
    w = ecsim.World.demo(seed=0, rate=0)
    small = small_subnet(w)
    svc = service(w)
    network = svc["networkConfiguration"]
    network["awsvpcConfiguration"]["subnets"] = [small]
    w.ecs.update_service(
        cluster=CLUSTER, service=SERVICE, desiredCount=11, networkConfiguration=network
    )
    w.advance(6.5)  # the scheduler has placed the service's tasks (2-6 s): all PROVISIONING
    assert service(w)["pendingCount"] == 11
    run_tasks(w.ecs, [small], 2)  # twenty more, to a subnet whose addresses are all promised
    w.advance(60)
    stopped = all_tasks(w.ecs, "STOPPED", serviceName=SERVICE)
    lost = [t for t in stopped if t["stopCode"] == "TaskFailedToStart"]
    assert lost, "with seed 0 some RunTask tasks provision before some of the service's"
    assert_failed_to_start(lost, [small], public=True)
    assert service_events(w, "was unable to place a task") == [unable_to_place(small, public=True)]
    assert free_addresses(w.ec2, [small]) == 0


def test_the_page_s_desired_count_400_then_deploy_converges_within_the_subnets() -> None:
    live = LiveWorld(lambda seed: ecsim.World.demo(seed=seed, rate=0), seed=0, speed=60)
    commands.run(live, {"cmd": "desired", "args": {"count": 400}})
    live.advance(300)
    assert service(live.world)["runningCount"] == 400
    commands.run(live, {"cmd": "deploy", "args": {"kind": "good"}})
    began = live.world.now
    for _ in range(40):
        live.advance(60)
        svc = service(live.world)
        if len(svc["deployments"]) == 1 and svc["deployments"][0]["rolloutState"] == "COMPLETED":
            break
    else:
        raise AssertionError(f"the deployment did not complete: {svc['deployments']}")
    assert live.world.now > began and live.status()["error"] is None
    assert svc["runningCount"] == 400 and svc["taskDefinition"].endswith(":2")
    # 400 old + 400 new would need 800 addresses: the service placed what fitted and said why
    subnets = default_subnets(live.world.ec2)
    assert unable_to_place(subnets[0]) in service_events(live.world, "unable to place")
    stopped = all_tasks(live.world.ecs, "STOPPED", serviceName=SERVICE)
    assert all(t["stopCode"] != "TaskFailedToStart" for t in stopped)  # none over-committed


# --- point 1, the live clock ----------------------------------------------------------------


def boom() -> None:
    raise RuntimeError("boom: a bug in a kernel callback")


def test_an_error_escaping_a_kernel_callback_is_logged_shown_and_the_clock_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    live = LiveWorld(lambda seed: ecsim.World.demo(seed=seed), seed=1, speed=10)
    live.world.ctx.after(1.0, boom)
    start = live.world.now
    with caplog.at_level(logging.ERROR, logger="ecsim.live"):
        live.tick(live.clock.anchor_wall + 0.5)
    assert live.world.now == pytest.approx(start + 5.0)  # past the callback that raised
    error = live.status()["error"]
    assert error == {
        "message": "RuntimeError: boom: a bug in a kernel callback",
        "at": pytest.approx(start + 1.0),
        "count": 1,
    }
    [record] = [r for r in caplog.records if r.name == "ecsim.live"]
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
    assert "the clock goes on" in record.getMessage()
    # a step goes past it too, and the page's status shows it
    live.world.ctx.after(1.0, boom)
    live.advance(10)
    assert live.world.now == pytest.approx(start + 15.0)
    assert live.status()["error"]["count"] == 2
    assert Hub(live).clock()["error"]["message"].startswith("RuntimeError: boom")
    live.reset()
    assert live.status()["error"] is None


def test_reset_starts_a_clock_that_had_stopped() -> None:
    async def scenario() -> None:
        live = LiveWorld(lambda seed: ecsim.World.demo(seed=seed), seed=1, speed=10)
        live.start()
        await asyncio.sleep(0.25)
        assert live.status()["running"] is True
        assert live._task is not None
        live._task.cancel()  # the pacing task dies (as an escaped error used to end it)
        await asyncio.sleep(0.05)
        assert live.status()["running"] is False
        live.reset()
        assert live.status()["running"] is True
        held = live.world.now
        await asyncio.sleep(0.35)
        assert live.world.now > held
        await live.stop()

    asyncio.run(scenario())


# --- point 1, against a live server ---------------------------------------------------------


def status(server: LiveServer) -> dict[str, Any]:
    began = time.monotonic()
    r = httpx.get(f"{server.url}/ecsim/api/status", timeout=5)
    assert r.status_code == 200
    assert time.monotonic() - began < 2.0  # it answers (the loop is not blocked)
    body: dict[str, Any] = r.json()
    return body


def assert_clock_goes_on(server: LiveServer) -> dict[str, Any]:
    first = status(server)
    second = wait_for(lambda: (s := status(server))["now"] > first["now"] and s, seconds=10)
    assert second["running"] is True and second["paused"] is False
    return second


@pytest.mark.server(world="demo", rate=0, speed=120, fresh=True)
def test_live_update_service_desired_count_1000_keeps_the_clock_going(server: LiveServer) -> None:
    ecs, ec2 = server.client("ecs"), server.client("ec2")
    subnets = default_subnets(ec2)
    ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1000)
    wait_for(
        lambda: (
            ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0][
                "runningCount"
            ]
            == 750
        ),
        seconds=120,
    )
    assert assert_clock_goes_on(server)["error"] is None
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert (svc["runningCount"], svc["desiredCount"]) == (750, 1000)
    assert free_addresses(ec2, subnets) == 0
    messages = server.call(lambda w: service_events(w, "was unable to place a task"))
    assert messages == [unable_to_place(subnets[0])]


@pytest.mark.server(world="demo", rate=0, speed=120, fresh=True)
def test_live_run_task_count_10_eighty_times_keeps_the_clock_going(server: LiveServer) -> None:
    ecs, ec2 = server.client("ecs"), server.client("ec2")
    subnets = default_subnets(ec2)
    free = free_addresses(ec2, subnets)
    assert run_tasks(ecs, subnets, 80) == 800
    stopped = wait_for(
        lambda: len(s := all_tasks(ecs, "STOPPED", family=FAMILY)) == 800 - free and s,
        seconds=120,
    )
    assert_failed_to_start(stopped, subnets, public=False)
    assert assert_clock_goes_on(server)["error"] is None


@pytest.mark.server(world="demo", rate=0, speed=60, fresh=True)
def test_live_internal_error_is_shown_in_the_status_and_reset_clears_it(
    server: LiveServer,
) -> None:
    server.call(lambda w: w.ctx.after(0.5, boom))
    error = wait_for(lambda: status(server)["error"], seconds=10)
    assert error["message"] == "RuntimeError: boom: a bug in a kernel callback"
    assert error["count"] == 1
    assert assert_clock_goes_on(server)["error"] == error
    r = httpx.post(f"{server.url}/ecsim/api/reset", json={}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["error"] is None
    assert assert_clock_goes_on(server)["error"] is None


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
@pytest.mark.server(world="demo", speed=60, fresh=True)
def test_the_page_shows_an_internal_error_beside_the_clock_until_reset(
    server: LiveServer,
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(server.url)
            page.wait_for_function("() => window.__ecsim && window.__ecsim.state.messages > 0")
            assert page.locator("#sim-error").is_hidden()
            server.call(lambda w: w.ctx.after(0.5, boom))
            page.wait_for_function(
                "() => !document.querySelector('#sim-error').hidden", timeout=15_000
            )
            text = page.locator("#sim-error").inner_text()
            assert "RuntimeError: boom: a bug in a kernel callback" in text
            assert "the clock goes on" in text
            shown = page.locator("#clock").inner_text()
            page.wait_for_function(
                "t => document.querySelector('#clock').textContent !== t", arg=shown
            )
            httpx.post(f"{server.url}/ecsim/api/reset", json={}, timeout=30)
            page.wait_for_function(
                "() => document.querySelector('#sim-error').hidden", timeout=15_000
            )
        finally:
            browser.close()


# --- point 1, ecsim run -----------------------------------------------------------------------


def ecsim_run(*args: str) -> subprocess.CompletedProcess[str]:
    src = str(Path(ecsim.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", "from ecsim.cli.main import main; main()", "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


def test_ecsim_run_of_a_world_that_cannot_hold_its_tasks_reports_it_without_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "too-big.yaml"
    world = DEMO_WORLD.replace("desired_count: 3", "desired_count: 800")
    path.write_text(f"name: too-big\nduration: 1m\n{world}")
    done = ecsim_run(str(path))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 1, done.stderr
    w = ecsim.World(seed=0)
    first_subnet = default_subnets(w.ec2)[0]
    why = f"750 of 800 tasks running: {unable_to_place(first_subnet)}"
    assert f"  NOT STEADY  the world cannot hold its tasks: {why}" in done.stdout
    assert f"  FAIL  the world did not become steady: {why}" in done.stdout
    assert "settled (not steady) after" in done.stdout
    as_json = ecsim_run(str(path), "--json")
    assert as_json.returncode == 1 and "Traceback" not in as_json.stderr
    doc = json.loads(as_json.stdout)
    assert doc["passed"] is False and doc["summary"]["not_steady"] == [why]


# --- point 9: a target left behind ------------------------------------------------------------


def crash_kill_and_outlast_retention(w: ecsim.World) -> tuple[str, str]:
    """Crash the scheduler, kill a task, and advance past the stopped-task retention: ECS
    no longer lists the task, its target is still registered. Its ARN and IP."""
    w.chaos.crash_controller(CLUSTER, SERVICE)
    task = sorted(all_tasks(w.ecs, "RUNNING"), key=lambda t: t["taskArn"])[0]
    ip = next(
        d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address"
    )
    w.chaos.kill_task(task["taskArn"])
    w.advance(w.settings.tasks.stopped_retention + 120)
    gone = w.ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])
    assert gone["tasks"] == [] and gone["failures"][0]["reason"] == "MISSING"
    assert target_states(w)[ip] == "unhealthy"
    return task["taskArn"], ip


def test_restore_deregisters_the_target_of_a_task_that_died_longer_ago_than_retention() -> None:
    w = ecsim.World.demo(seed=0, rate=0)
    _, ip = crash_kill_and_outlast_retention(w)
    w.chaos.restore_controller(CLUSTER, SERVICE)
    w.advance(10)
    assert target_states(w)[ip] == "draining"
    deregistered = f"(service {SERVICE}) deregistered 1 targets in (target-group {tg_arn(w)})"
    assert deregistered in [e["message"] for e in service(w)["events"]]
    w.advance(120)  # the deregistration delay (30 s) and the replacement's health check
    states = target_states(w)
    assert ip not in states
    assert sorted(states.values()) == ["healthy"] * 3
    assert service(w)["runningCount"] == 3


def test_force_delete_after_the_outage_deregisters_every_target_and_the_alb_answers_503() -> None:
    w = ecsim.World.demo(seed=0, rate=0)
    crash_kill_and_outlast_retention(w)
    w.chaos.restore_controller(CLUSTER, SERVICE)
    w.advance(120)
    w.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    w.advance(120)
    assert target_states(w) == {}
    assert w.traffic.send("/")["status"] == 503
    assert service(w)["status"] == "INACTIVE"


def test_force_delete_during_the_outage_deregisters_every_target_once_restored() -> None:
    w = ecsim.World.demo(seed=0, rate=0)
    _, ip = crash_kill_and_outlast_retention(w)
    w.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    w.advance(120)  # a crashed scheduler does nothing: the dead address still answers 504
    assert target_states(w)[ip] == "unhealthy"
    w.chaos.restore_controller(CLUSTER, SERVICE)
    w.advance(180)
    assert target_states(w) == {}
    assert w.traffic.send("/")["status"] == 503
    assert service(w)["status"] == "INACTIVE"


def test_deleting_a_service_with_no_task_left_but_a_stale_target_deregisters_it() -> None:
    """Scaled to 0 and every task gone past retention while the scheduler was down:
    DeleteService needs no `force`, and the service stays DRAINING until the scheduler has
    deregistered the targets it left."""
    w = ecsim.World.demo(seed=0, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=0)
    for task in all_tasks(w.ecs, "RUNNING"):
        w.chaos.kill_task(task["taskArn"])
    w.advance(w.settings.tasks.stopped_retention + 120)
    assert all_tasks(w.ecs, "STOPPED") == [] and all_tasks(w.ecs, "RUNNING") == []
    assert sorted(target_states(w).values()) == ["unhealthy"] * 3
    w.ecs.delete_service(cluster=CLUSTER, service=SERVICE)
    assert service(w)["status"] == "DRAINING"
    w.chaos.restore_controller(CLUSTER, SERVICE)
    w.advance(120)
    assert target_states(w) == {}
    assert service(w)["status"] == "INACTIVE"
    assert w.traffic.send("/")["status"] == 503
