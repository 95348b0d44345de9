"""Guided tours that show the outcome (issue 14, point 3), in a real headless Chromium against
the real server, on two seeds: every step's effect is checked in the world itself (through
its API, not the page's view) before "Next" is pressed; every prediction is answered and its
verdict checked against what the world did; Next stays disabled until the effect; a change of
the world under the tour is noticed; a reload finds the tour where it was."""

from __future__ import annotations

import contextlib
import json
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ecsim.model import demo
from ecsim.model.world import World
from tests.support.browser import CHROMIUM, launch
from tests.support.page import SHOTS, Page, command
from tests.support.server import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
SPEED = 60.0
SEEDS = [0, 3]
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
]
TOUR = "window.__ecsim.state.view.tour"
NEXT_ENABLED = "() => !document.querySelector('#tour-next').disabled"
SIZES = [(1280, 800), (1024, 768), (390, 844)]


def seeded(seeds: list[int]) -> list[Any]:
    return [
        pytest.param(s, marks=pytest.mark.server(world="demo", speed=SPEED, seed=s), id=f"seed{s}")
        for s in seeds
    ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def end_tour(server: LiveServer) -> None:
    with contextlib.suppress(urllib.error.HTTPError):  # (no tour was played)
        command(server, "tour", action="end")


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Page]:
    end_tour(server)
    command(server, "reset")
    command(server, "speed", speed=SPEED)
    command(server, "resume")
    p = Page(browser, server)
    p.wait_healthy(3)
    yield p
    p.close()


# --- the world, read through its API ----------------------------------------------------------


def world(w: World) -> dict[str, Any]:
    """The service, its tasks (with their target's health), the zones, the time."""
    svc = w.ecs.describe_services(cluster=demo.CLUSTER, services=[demo.SERVICE])["services"]
    arns = []
    for status in ("RUNNING", "STOPPED"):
        arns += w.ecs.list_tasks(cluster=demo.CLUSTER, desiredStatus=status)["taskArns"]
    described = w.ecs.describe_tasks(cluster=demo.CLUSTER, tasks=arns)["tasks"] if arns else []
    health: dict[str, str] = {}
    for tg in w.elbv2.describe_target_groups()["TargetGroups"]:
        for d in w.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]:
            health[d["Target"]["Id"]] = d["TargetHealth"]["State"]
    tasks = []
    for t in described:
        ip = next(
            (
                d["value"]
                for a in t.get("attachments", [])
                for d in a.get("details", [])
                if d["name"] == "privateIPv4Address"
            ),
            None,
        )
        stopped = t.get("stoppedAt")
        tasks.append(
            {
                "arn": t["taskArn"],
                "ip": ip,
                "az": t.get("availabilityZone"),
                "status": t["lastStatus"],
                "desired": t["desiredStatus"],
                "health": health.get(ip) if ip else None,
                "stopped": w.clock.seconds(stopped) if stopped else None,
            }
        )
    zones = {
        z["ZoneName"]: z["State"] for z in w.ec2.describe_availability_zones()["AvailabilityZones"]
    }
    for t, d in zip(tasks, described, strict=True):
        t["td"] = d["taskDefinitionArn"].rsplit("/", 1)[-1]
    return {
        "svc": svc[0] if svc else None,
        "tasks": tasks,
        "zones": zones,
        "now": w.now,
        **(shift(w, svc[0]) if svc else {}),
    }


def shift(w: World, svc: dict[str, Any]) -> dict[str, Any]:
    """A blue/green service's rules (DescribeRules: {group name: weight}), the targets in each
    group, its newest deployment record and the CloudWatch alarms' changes of state."""
    names = {
        g["TargetGroupArn"]: g["TargetGroupName"]
        for g in w.elbv2.describe_target_groups()["TargetGroups"]
    }
    rules: dict[str, dict[str, int]] = {}
    for lb in svc.get("loadBalancers", []):
        config = lb.get("advancedConfiguration")
        if not config:
            return {}
        for key, rule in (("production", "productionListenerRule"), ("test", "testListenerRule")):
            (found,) = w.elbv2.describe_rules(RuleArns=[config[rule]])["Rules"]
            groups = found["Actions"][0]["ForwardConfig"]["TargetGroups"]
            rules[key] = {names[g["TargetGroupArn"]]: g["Weight"] for g in groups}
    if not rules:
        return {}
    targets = {
        name: [
            d["Target"]["Id"]
            for d in w.elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        ]
        for arn, name in names.items()
    }
    arns = w.ecs.list_service_deployments(cluster=demo.CLUSTER, service=demo.SERVICE)
    (record,) = w.ecs.describe_service_deployments(
        serviceDeploymentArns=[arns["serviceDeployments"][0]["serviceDeploymentArn"]]
    )["serviceDeployments"]
    alarms = [
        (a["AlarmName"], json.loads(a["HistoryData"])["newState"]["stateValue"])
        for a in w.cloudwatch.describe_alarm_history(HistoryItemType="StateUpdate")[
            "AlarmHistoryItems"
        ]
    ]
    return {"rules": rules, "targets": targets, "record": record, "alarms": alarms}


def answers(w: World, since: float) -> dict[str, int]:
    if w.now <= since:
        return {}
    return dict(w.traffic.stats(since=since, until=w.now)["by_status"])


def serving(s: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in s["tasks"] if t["status"] == "RUNNING" and t["health"] == "healthy"]


def ok_share(by: dict[str, int]) -> float:
    total = sum(by.values())
    return sum(n for c, n in by.items() if c.startswith("2")) / total if total else 0.0


# What each step's text says happened, checked in the world: (state now, the tour as the page
# has it, the task ARNs before the step's call, the answers since the call) -> a failure or "".
Check = Callable[[dict[str, Any], dict[str, Any], set[str], dict[str, int]], str]


def steady(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    svc = s["svc"]
    if svc["status"] != "ACTIVE" or svc.get("controllerStatus", "ACTIVE") != "ACTIVE":
        return f"service {svc['status']} {svc.get('controllerStatus')}"
    return "" if len(serving(s)) == svc["desiredCount"] == 3 else f"serving {len(serving(s))}"


def one_per_zone(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    zones = {t["az"] for t in serving(s)}
    return steady(s, tour, before, by) or ("" if len(zones) == 3 else f"zones {zones}")


def traced(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    tr = tour["trace"]
    ip = tr["target"].split(":")[0]
    ok = tr["status"] == 200 and any(t["ip"] == ip for t in serving(s))
    return "" if ok else f"trace {tr}"


def spread(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    return "" if sum(by.values()) >= 75 and len(serving(s)) == 3 else f"answers {by}"


def victim(s: dict[str, Any], tour: dict[str, Any]) -> dict[str, Any]:
    ip = tour["spot"]["ips"][0]
    return next(t for t in s["tasks"] if t["ip"] == ip and t["desired"] == "STOPPED")


def victim_stopped(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    t = victim(s, tour)
    return "" if t["status"] == "STOPPED" else f"victim {t['status']}"


def new_tasks(s: dict[str, Any], before: set[str]) -> list[dict[str, Any]]:
    return [t for t in s["tasks"] if t["arn"] not in before]


def replaced(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    fresh = [t for t in new_tasks(s, before) if t in serving(s)]
    return "" if fresh and len(serving(s)) == 3 else f"new {new_tasks(s, before)}"


def crashed(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    ok = s["svc"]["controllerStatus"] == "CRASHED" and sum(by.values()) >= 50
    return "" if ok else f"{s['svc']['controllerStatus']} {by}"


def dead_a_minute(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    t = victim(s, tour)
    ok = (
        t["status"] == "STOPPED"
        and s["now"] - t["stopped"] >= 59
        and not new_tasks(s, before)
        and s["svc"]["controllerStatus"] == "CRASHED"
    )
    return "" if ok else f"victim {t}, new {new_tasks(s, before)}"


def deleted(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    left = [t for t in s["tasks"] if t["status"] != "STOPPED"]
    ok = s["svc"]["status"] != "ACTIVE" and not left and by.get("503", 0) > 0
    return "" if ok else f"{s['svc']['status']} left {left} {by}"


def failing(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    failed = max(d["failedTasks"] for d in s["svc"]["deployments"])
    events = " ".join(e["message"] for e in s["svc"]["events"])
    return "" if failed or "rolling back" in events else f"{s['svc']['deployments']}"


def rolled_back(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    events = " ".join(e["message"] for e in s["svc"]["events"])
    (primary,) = [d for d in s["svc"]["deployments"] if d["status"] == "PRIMARY"]
    ok = (
        "deployment failed: " in events
        and "rolling back to deployment" in events
        and primary["taskDefinition"].endswith(":1")
        and primary["rolloutState"] == "COMPLETED"
    )
    return steady(s, tour, before, by) or ("" if ok else f"{s['svc']['deployments']}")


def zone_cut(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    fresh = [t for t in new_tasks(s, before) if t in serving(s) and t["az"] != "us-east-1a"]
    ok = by.get("504", 0) > 0 and fresh and s["zones"]["us-east-1a"] != "available"
    return "" if ok else f"{by} {new_tasks(s, before)}"


def zone_back(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    ok = s["zones"]["us-east-1a"] == "available"
    return one_per_zone(s, tour, before, by) or ("" if ok else "zone not back")


def events(s: dict[str, Any]) -> str:
    return " ".join(e["message"] for e in s["svc"]["events"])


def green(s: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in s["tasks"] if not t["td"].endswith(":1")]


def blue_serves(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    ok = (
        s["rules"]["production"] == s["rules"]["test"] == {"home-blue": 100, "home-green": 0}
        and s["alarms"][0] == ("home-5xx", "OK")
        and sorted(t["ip"] for t in serving(s)) == sorted(s["targets"]["home-blue"])
    )
    return steady(s, tour, before, by) or ("" if ok else f"{s['rules']} {s['alarms']}")


def green_up(s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]) -> str:
    up = [t for t in green(s) if t["ip"] in s["targets"]["home-green"]]
    blue = [t for t in s["tasks"] if t["arn"] in before and t["status"] == "RUNNING"]
    ok = "entered lifecycle stage SCALE_UP" in events(s) and len(up) == len(blue) == 3
    return "" if ok else f"green {green(s)} blue {blue}"


def on_test_rule(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    said = events(s)
    ok = "stage POST_SCALE_UP" in said and "stage TEST_TRAFFIC_SHIFT" in said
    rule = s["rules"]["test"]["home-green"] == 100 or "rolling back" in said
    return "" if ok and rule else f"{s['rules']} {said}"


def production_shifted(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    said = events(s)
    ok = "stage PRODUCTION_TRAFFIC_SHIFT" in said and "stage BAKE_TIME" in said
    return "" if ok and by.get("500", 0) > 0 else f"{by} {said}"


def alarm_in_bake(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    rec = s["record"]
    ok = (
        ("home-5xx", "ALARM") in s["alarms"]
        and rec["lifecycleStage"] == "BAKE_TIME"
        and rec["alarms"]["triggeredAlarmNames"] == ["home-5xx"]
        and "deployment failed: alarm detected." in events(s)
    )
    return "" if ok else f"{s['alarms']} {rec}"


def bg_rolled_back(
    s: dict[str, Any], tour: dict[str, Any], before: set[str], by: dict[str, int]
) -> str:
    left = [t for t in green(s) if t["status"] != "STOPPED"]
    ok = (
        s["rules"]["production"] == s["rules"]["test"] == {"home-blue": 100, "home-green": 0}
        and not left
        and not s["targets"]["home-green"]
        and s["record"]["status"] == "ROLLBACK_SUCCESSFUL"
    )
    return steady(s, tour, before, by) or ("" if ok else f"{s['rules']} {left} {s['record']}")


CHECKS: dict[str, list[Check]] = {
    "traffic-flow": [steady, traced, spread],
    "auto-healing": [steady, victim_stopped, replaced],
    "service-crash": [steady, crashed, dead_a_minute, replaced],
    "delete-service": [steady, deleted],
    "bad-deploy": [steady, failing, rolled_back],
    "az-outage": [one_per_zone, zone_cut, zone_back],
    "blue-green-alarm": [
        blue_serves,
        green_up,
        on_test_rule,
        production_shifted,
        alarm_in_bake,
        bg_rolled_back,
    ],
}


def happened(tour: str, i: int, s: dict[str, Any], by: dict[str, int], before: set[str]) -> str:
    """What the world did, for the prediction judged at this step, read independently."""
    if tour == "traffic-flow":
        return "first" if max(by.values(), default=0) > 0.8 * sum(by.values()) else "alb"
    if tour == "auto-healing":
        return "service" if new_tasks(s, before) else "nobody"
    if tour == "service-crash":
        if i == 2:  # a task died with the Manager down
            return "yes" if new_tasks(s, before) else "no"
        return "no" if ok_share(by) >= 0.99 else "yes"
    if tour == "delete-service":
        return "503" if by.get("503", 0) >= 0.9 * sum(by.values()) else "200"
    if tour == "bad-deploy":
        return "rollback" if ok_share(by) >= 0.99 else "errors"
    if tour == "az-outage":
        return "some" if by.get("504", 0) and ok_share(by) >= 0.1 else "nothing"
    if tour == "blue-green-alarm":
        if s["record"]["status"] != "ROLLBACK_SUCCESSFUL":
            return "keep"
        restarted = [t for t in new_tasks(s, before) if t["td"].endswith(":1")]
        return "late" if restarted else "rollback"
    raise AssertionError(tour)


def tour_of(page: Page) -> dict[str, Any]:
    tour: dict[str, Any] = page.page.evaluate(f"() => {TOUR}")
    return tour


def start(page: Page, name: str) -> None:
    pg = page.page
    page.wait("n => document.querySelector(`#tour option[value='tour:${n}']`)", name)
    pg.locator("#tour").select_option(f"tour:{name}")
    pg.locator("#tour-start").click()
    page.wait(f"n => {TOUR} && {TOUR}.name === n && {TOUR}.index === 0", name)


def tasks_now(server: LiveServer) -> set[str]:
    return {t["arn"] for t in server.call(world)["tasks"]}


def play(page: Page, server: LiveServer, name: str, shots: str | None = None) -> None:
    """Play tour `name` through the page to its end: each prediction answered (its first
    option), each step's effect checked in the world once Next is enabled, each verdict
    checked against what the world did."""
    pg = page.page
    start(page, name)
    before = tasks_now(server)
    judged_before = before
    checks = CHECKS[name]
    calls = pg.evaluate(
        "n => window.__ecsim.state.tours.find(t => t.name === n).steps.map(s => s.call)", name
    )
    for i, check in enumerate(checks):
        page.wait(f"i => {TOUR} && {TOUR}.index === i && {TOUR}.phase !== 'moved'", i)
        tour = tour_of(page)
        if tour["phase"] == "predict":
            assert pg.locator("#tour-predict").is_visible()
            assert pg.locator("#tour-next").is_disabled()
            before = tasks_now(server)
            judged_before = before
            pg.locator("#tour-options input").first.check()
            pg.locator("#tour-answer").click()
            page.wait(f"() => {TOUR}.phase !== 'predict'")
        page.wait(
            f"() => {TOUR}.phase === 'done' || {TOUR}.phase === 'moved' || !!{TOUR}.busy"
            f" || {TOUR}.phase === 'waiting'"
        )
        if pg.evaluate(f"() => {TOUR}.phase === 'waiting' && !{TOUR}.step.retry"):
            # a fast-forward, so the test takes seconds (the clock alone gets there too)
            pg.evaluate(
                "() => { const b = document.querySelector('#tour-ff');"
                " if (!b.hidden && !b.disabled) b.click(); }"
            )
        page.wait(NEXT_ENABLED, timeout=60_000)
        tour = tour_of(page)
        assert tour["phase"] == "done", tour
        s = server.call(world)
        since = float(tour["since"])
        by = server.call(lambda w, t=since: answers(w, t))
        if name == "traffic-flow" and i == 2:
            by = server.call(
                lambda w, t=since: dict(w.traffic.stats(since=t, until=w.now)["by_target"])
            )
        failure = check(s, tour, before, by)
        assert failure == "", f"{name} step {i + 1}: {failure}"
        assert "Seen:" in pg.locator("#tour-status").inner_text()
        if tour["verdict"] is not None:
            v = tour["verdict"]
            assert pg.locator("#tour-verdict").is_visible()
            assert v["right"] == (v["choice"] == v["happened"])
            assert v["happened"] == happened(name, i, s, by, judged_before), (v, by)
            shown = pg.locator("#tour-verdict").inner_text()
            assert ("You were right." if v["right"] else "Not this time.") in shown
        if shots:
            for w, h in SIZES:
                pg.set_viewport_size({"width": w, "height": h})
                pg.locator("#tour-box").scroll_into_view_if_needed()
                page.shot(f"{shots}-{name}-{i + 1}-{w}")
            pg.set_viewport_size({"width": 1280, "height": 800})
        if i + 1 < len(checks) and calls[i + 1]:  # (a step without a call compares with
            before = tasks_now(server)  # the tasks before the last call)
        pg.locator("#tour-next").click()
    page.wait(f"() => !{TOUR}")
    assert pg.locator("#tour-box").is_hidden()
    assert page.errors == []


TOURS = [
    "traffic-flow",
    "auto-healing",
    "service-crash",
    "delete-service",
    "bad-deploy",
    "az-outage",
]


@pytest.mark.parametrize("seed", seeded(SEEDS))
@pytest.mark.parametrize("name", TOURS)
def test_every_tour_shows_each_outcome_before_next(
    page: Page, server: LiveServer, name: str, seed: int
) -> None:
    assert server.call(lambda w: w.now) >= 0
    assert page.page.evaluate("() => window.__ecsim.state.clock.seed") == seed
    play(page, server, name, shots="30-tour" if seed == SEEDS[0] else None)


@pytest.mark.parametrize("seed", seeded([0]))
def test_the_blue_green_tour_shows_each_outcome_before_next(
    page: Page, server: LiveServer, seed: int
) -> None:
    """Issue 17, point 7: blue serves; a bad green scales up beside it, takes the test
    traffic, then production; the alarm goes off during the bake; ECS rolls back."""
    play(page, server, "blue-green-alarm", shots="32-tour")
    s = server.call(world)
    assert s["record"]["alarms"]["status"] == "TRIGGERED"
    assert len(serving(s)) == 3 and all(t["td"].endswith(":1") for t in serving(s))


# --- point 3: Next waits; the world moving is noticed; a reload resumes ------------------------


@pytest.mark.parametrize("seed", seeded([0]))
def test_next_stays_disabled_until_the_effect_is_seen(
    page: Page, server: LiveServer, seed: int
) -> None:
    pg = page.page
    start(page, "auto-healing")
    page.wait(NEXT_ENABLED)
    command(server, "pause")  # nothing happens unless time is run
    page.wait("() => window.__ecsim.state.clock.paused")
    pg.locator("#tour-next").click()
    page.wait(f"() => {TOUR}.index === 1 && {TOUR}.phase === 'predict'")
    assert pg.locator("#tour-next").is_disabled()
    pg.get_by_label("The service starts a replacement by itself").check()
    pg.locator("#tour-answer").click()
    page.wait(f"() => {TOUR}.phase === 'waiting'")
    assert pg.locator("#tour-next").is_disabled()
    assert "Waiting for the task STOPPED" in pg.locator("#tour-status").inner_text()
    tour = tour_of(page)
    ip = tour["spot"]["ips"][0]
    assert pg.locator(f"#tasks .task.spot[data-ip='{ip}']").count() == 1  # spotlighted
    # a few simulated seconds: the task is still on its way out, Next still disabled
    now = pg.evaluate("() => window.__ecsim.state.clock.now")
    command(server, "step", seconds=2)
    page.wait(f"t => window.__ecsim.state.clock.now >= t + 2 && {TOUR}.detail", now)
    assert server.call(world)["tasks"] and victim(server.call(world), tour)["status"] != "STOPPED"
    assert pg.locator("#tour-next").is_disabled()
    # the page's fast-forward runs time until the effect, and only then enables Next
    pg.locator("#tour-ff").click()
    page.wait(NEXT_ENABLED)
    assert victim(server.call(world), tour)["status"] == "STOPPED"
    pg.locator("#tour-next").click()  # "The Manager heals": waits for a healthy replacement
    page.wait(f"() => {TOUR}.index === 2")
    if pg.locator("#tour-next").is_disabled():
        pg.locator("#tour-ff").click()
    page.wait(NEXT_ENABLED)
    s = server.call(world)
    assert any(t["ip"] != ip for t in serving(s)) and len(serving(s)) == 3
    assert pg.locator("#n-svc.spot").count() == 1
    command(server, "resume")


def crash_tour_to_the_catch(page: Page) -> None:
    """The service-crash tour up to 'The catch' (the Manager LOGIC CRASHED)."""
    pg = page.page
    start(page, "service-crash")
    page.wait(NEXT_ENABLED)
    pg.locator("#tour-next").click()
    pg.get_by_label("No: requests still succeed").check()
    pg.locator("#tour-answer").click()
    page.wait(NEXT_ENABLED, timeout=60_000)
    pg.locator("#tour-next").click()
    page.wait(f"() => {TOUR}.index === 2 && {TOUR}.phase === 'predict'")
    page.wait("() => document.querySelector('#svc-status').textContent === 'LOGIC CRASHED'")


@pytest.mark.parametrize("seed", seeded([0]))
def test_a_change_of_the_world_under_the_tour_is_noticed(
    page: Page, server: LiveServer, seed: int
) -> None:
    pg = page.page
    crash_tour_to_the_catch(page)
    command(server, "scheduler", action="restore")  # another browser restores the Manager
    page.wait(f"() => {TOUR}.phase === 'moved'")
    moved = pg.locator("#tour-moved")
    assert moved.is_visible()
    assert "the Manager is Active now" in moved.inner_text()
    assert pg.locator("#tour-predict").is_hidden()  # it asks nothing false
    assert pg.locator("#tour-next").is_disabled()
    page.shot("31-tour-moved")
    pg.get_by_role("button", name="Rebuild this step").click()  # the world as the step needs it
    page.wait(
        f"() => {TOUR}.index === 2 && {TOUR}.phase === 'predict' && !{TOUR}.busy", timeout=60_000
    )
    assert server.call(world)["svc"]["controllerStatus"] == "CRASHED"
    # another browser resets the world: said, and the tour restarts from its first step
    command(server, "reset")
    page.wait(f"() => {TOUR}.phase === 'moved'")
    assert "reset" in pg.locator("#tour-moved").inner_text()
    pg.get_by_role("button", name="Restart the tour").click()
    page.wait(f"() => {TOUR}.index === 0 && {TOUR}.phase === 'done'")
    assert page.errors == []


@pytest.mark.parametrize("seed", seeded([0]))
def test_a_reload_finds_the_tour_where_it_was(
    page: Page, browser: Any, server: LiveServer, seed: int
) -> None:
    pg = page.page
    crash_tour_to_the_catch(page)
    pg.reload()
    page.wait(f"() => {TOUR} && {TOUR}.index === 2")
    assert pg.locator("#tour-box").is_visible()
    assert "The catch: a task dies" in pg.locator("#tour-step").inner_text()
    assert pg.locator("#tour-predict").is_visible()
    # and so does any other browser on this world
    other = Page(browser, server, 390, 844)
    try:
        other.wait(f"() => {TOUR} && {TOUR}.index === 2")
        assert other.page.locator("#tour-box").is_visible()
    finally:
        other.close()
    pg.get_by_label("No: it stays dead while the Manager is down").check()
    pg.locator("#tour-answer").click()
    page.wait(NEXT_ENABLED, timeout=60_000)
    v = tour_of(page)["verdict"]
    assert v["happened"] == "no" and v["right"]
    assert server.call(world)["svc"]["controllerStatus"] == "CRASHED"
    pg.locator("#tour-end").click()
    page.wait(f"() => !{TOUR}")
    SHOTS.mkdir(exist_ok=True)
