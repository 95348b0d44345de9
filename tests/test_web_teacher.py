"""The page as a teacher (issue 14, points 1, 4 and 9), in a real headless Chromium against the
real server: Reset gives the seed's architecture whatever was loaded before, a service's every
target group is drawn with its registrations, and the page's feedback says what happened."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch
from tests.support.page import SHOTS, SPEED, Page, command
from tests.support.server import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.server(world="demo", speed=SPEED),
]
SIZES = [(1280, 800), (1024, 768), (390, 844)]
TOAST_ERROR = "() => !document.querySelector('#toast').hidden"
VIEW = "window.__ecsim.state.view"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Page]:
    command(server, "reset")  # the seed's architecture
    command(server, "speed", speed=SPEED)
    command(server, "resume")
    p = Page(browser, server)
    p.wait_healthy(3)
    yield p
    p.close()


def said(page: Page, text: str) -> str:
    """Wait for the toast to say `text` (a part of it); what it says."""
    page.wait("t => document.querySelector('#toast').textContent.includes(t)", text)
    out: str = page.page.locator("#toast").inner_text()
    return out


def load(page: Page, server: LiveServer, scenario: str) -> None:
    command(server, "scenario", name=scenario)
    page.wait(f"n => {VIEW}.scenario && {VIEW}.scenario.name === n", scenario)


# --- point 1: Reset is the seed's architecture ----------------------------------------------


def test_reset_after_a_scenario_gives_the_seeds_architecture(
    page: Page, server: LiveServer
) -> None:
    pg = page.page
    load(page, server, "shared-target-groups")  # 2 target groups, 40 requests/s, seed 4
    page.wait(f"() => {VIEW}.targetGroups.length === 2 && {VIEW}.traffic.rate === 40")
    assert "seed's architecture" in (pg.locator("#reset").get_attribute("title") or "")
    pg.locator("#reset").click()
    page.wait(f"() => {VIEW}.scenario === null && {VIEW}.targetGroups.length === 1")
    view = pg.evaluate(f"() => {VIEW}")
    assert [tg["name"] for tg in view["targetGroups"]] == ["home-tg"]
    assert view["traffic"]["rate"] == 5
    assert [(s["name"], s["desired"]) for s in view["services"]] == [("home-service", 3)]
    assert pg.evaluate("() => window.__ecsim.state.clock.seed") == 0  # the server's seed
    assert pg.locator("#scn-box").is_hidden()
    page.wait_healthy(3)
    assert page.errors == []


def test_a_loaded_scenario_restarts_with_its_own_labelled_control(
    page: Page, server: LiveServer
) -> None:
    pg = page.page
    load(page, server, "shared-target-groups")
    page.wait(f"() => {VIEW}.scenario.index === 1")  # the calls at 0 s are made
    pg.locator("#scn-next").click()  # the kill at 1m
    page.wait(f"() => {VIEW}.scenario.index === 2")
    restart = pg.get_by_role("button", name="Restart this scenario")
    assert restart.is_visible()
    restart.click()
    page.wait(f"() => {VIEW}.scenario.index === 1 && window.__ecsim.state.clock.now < 60")
    assert pg.evaluate(f"() => {VIEW}.targetGroups.length") == 2
    assert page.errors == []


def test_the_bad_deploy_tour_trips_the_circuit_breaker_after_another_scenario(
    page: Page, server: LiveServer
) -> None:
    """After `service-crash-task-dies` (a service without a circuit breaker), the bad deploy
    tour's fresh world is the seed's, whose breaker trips and rolls back."""
    pg = page.page
    load(page, server, "service-crash-task-dies")
    pg.locator("#tour").select_option("tour:bad-deploy")
    pg.locator("#tour-start").click()  # step 1: a fresh world
    page.wait(f"() => {VIEW}.scenario === null && window.__ecsim.state.clock.seed === 0")
    page.wait_healthy(3)
    ecs = server.client("ecs")
    (svc,) = ecs.describe_services(cluster="home", services=["home-service"])["services"]
    breaker = svc["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert (breaker["enable"], breaker["rollback"]) == (True, True)
    pg.locator("#tour-next").click()  # step 2: deploy a revision that fails health checks
    pg.locator("#tour-options input").first.check()  # (its prediction first)
    pg.locator("#tour-answer").click()
    page.wait(f"() => {VIEW}.services[0].taskDefinition === 'home-app:2'")
    command(server, "speed", speed=300.0)  # the breaker needs a few simulated minutes
    page.wait(
        "() => { const t = document.querySelector('#events').textContent;"
        " return t.includes('deployment failed: ') && t.includes('rolling back to deployment'); }",
        timeout=60_000,
    )
    command(server, "speed", speed=SPEED)
    events = pg.locator("#events").inner_text()
    assert "deployment failed: " in events and "rolling back to deployment" in events
    assert page.errors == []


# --- point 4: every target group of the service, counted per group --------------------------


def test_every_target_group_of_the_service_is_drawn_and_tasks_are_counted_once(
    page: Page, server: LiveServer
) -> None:
    pg = page.page
    load(page, server, "shared-target-groups")
    page.wait("() => document.querySelectorAll('#n-tg li[data-ip] .pill.healthy').length === 6")
    groups = pg.evaluate(
        "() => [...document.querySelectorAll('#n-tg ul.targets')].map(ul => ({"
        " name: window.__ecsim.state.view.targetGroups.find(t => t.arn === ul.dataset.tg).name,"
        " ips: [...ul.querySelectorAll('li[data-ip]')].map(li => li.dataset.ip) }))"
    )
    assert [g["name"] for g in groups] == ["home-tg", "api-tg"]
    assert groups[0]["ips"] == groups[1]["ips"] and len(groups[0]["ips"]) == 3  # clones
    for name in ("home-tg", "api-tg"):
        assert pg.locator("#n-tg").get_by_text(name, exact=True).is_visible()
    # the diagram links every registration to its task
    page.wait("() => window.__ecsim.flow.geom && window.__ecsim.flow.geom.rows.length === 6")
    # the Tasks chart counts tasks: 3 healthy tasks, not 6 registrations
    start = pg.evaluate("() => window.__ecsim.state.clock.now")
    page.wait("t => window.__ecsim.state.series.filter(p => p.t > t + 5).length >= 5", start)
    points = pg.evaluate("t => window.__ecsim.state.series.filter(p => p.t > t + 5)", start)
    assert {p["healthy"] for p in points} == {3}, points
    assert {p["running"] for p in points} == {3}
    # the registrations, per target group
    kpis = pg.locator("#kpis").inner_text()
    assert "healthy targets 3 in home-tg · 3 in api-tg" in kpis, kpis
    pg.locator("#sim").scroll_into_view_if_needed()
    page.shot("20-shared-target-groups")
    assert page.errors == []


# --- point 9: feedback that says what happened ----------------------------------------------


def test_crash_on_a_deleted_service_says_there_is_no_scheduler(page: Page) -> None:
    pg = page.page
    pg.locator("#delete").click()
    page.wait("() => document.querySelector('#svc-status').textContent.startsWith('DELET')")
    pg.locator("[data-sched=crash]").click()
    text = said(page, "no scheduler left to crash")
    assert "LOGIC CRASHED" not in text
    assert "error" in (pg.locator("#toast").get_attribute("class") or "")
    assert pg.locator("#svc-status").inner_text().startswith("DELET")


def test_restore_on_an_active_scheduler_says_it_was_active(page: Page) -> None:
    pg = page.page
    pg.locator("[data-sched=restore]").click()
    text = said(page, "was active already")
    assert "converges again" not in text
    pg.locator("[data-sched=hang]").click()
    said(page, "is STUCK")
    pg.locator("[data-sched=hang]").click()
    said(page, "was STUCK already")
    pg.locator("[data-sched=restore]").click()
    said(page, "restored: it converges again")


def test_a_later_success_takes_an_error_toast_away(page: Page) -> None:
    pg = page.page
    pg.locator("#desired").fill("-1")
    pg.locator("#desired-form button").click()
    said(page, "desiredCount")
    assert "error" in (pg.locator("#toast").get_attribute("class") or "")
    # a command that works and has no toast of its own: the error goes
    shown = pg.evaluate(
        "() => window.__ecsim.command('send', {path: '/'}).then(r => r && ({status: r.data.status,"
        " hidden: document.querySelector('#toast').hidden}))"
    )
    assert shown == {"status": 200, "hidden": True}
    # and one with a toast of its own replaces it
    pg.locator("#desired").fill("-1")
    pg.locator("#desired-form button").click()
    said(page, "desiredCount")
    pg.locator("#desired").fill("3")
    pg.locator("#desired-form button").click()
    said(page, "UpdateService home-service: desiredCount 3")
    assert "error" not in (pg.locator("#toast").get_attribute("class") or "")


def test_a_fractional_desired_count_is_refused_in_plain_words(page: Page) -> None:
    pg = page.page
    pg.locator("#desired").fill("3.5")
    pg.locator("#desired-form button").click()
    assert said(page, "'count'") == "'count' must be a whole number, got 3.5"
    assert pg.evaluate(f"() => {VIEW}.services[0].desired") == 3


def test_the_task_picker_offers_no_task_on_its_way_out(page: Page) -> None:
    pg = page.page
    pg.evaluate("() => window.__ecsim.command('pause')")
    page.wait("() => window.__ecsim.state.clock.paused")
    victim = pg.locator("#task-pick").input_value()
    pg.locator("[data-kill=stop]").click()  # StopTask: DEACTIVATING ... DEPROVISIONING
    page.wait(
        f"id => {VIEW}.tasks.some(t => t.id === id && t.desiredStatus === 'STOPPED'"
        " && t.lastStatus !== 'STOPPED')",
        victim,
    )
    offered = pg.eval_on_selector_all("#task-pick option", "els => els.map(e => e.value)")
    assert victim not in offered
    assert len(offered) == 2
    pg.evaluate("() => window.__ecsim.command('resume')")


def test_reset_clears_the_last_trace(page: Page) -> None:
    pg = page.page
    pg.locator("#send").click()
    page.wait("() => document.querySelector('#trace').textContent.includes('Trace of one request')")
    before = pg.evaluate("() => window.__ecsim.state.clock.now")
    pg.locator("#reset").click()
    page.wait("t => window.__ecsim.state.clock.now < t", before)
    page.wait("() => document.querySelector('#trace').textContent === ''")
    assert pg.evaluate("() => window.__ecsim.flow.traces.length") == 0


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_target_health_reason_is_shown_whole(
    page: Page, browser: Any, server: LiveServer, size: tuple[int, int]
) -> None:
    pg = page.page
    ip = sorted(page.running_tasks())[0]
    pg.locator(f"#tasks .task[data-ip='{ip}']").click()
    pg.locator("[data-kill=health]").click()  # Target.ResponseCodeMismatch, with its codes
    page.wait("() => document.querySelector('#health td.reason strong')")
    command(server, "pause")  # (else the task is replaced, and its reason goes with it)
    sized = Page(browser, server, *size)
    try:
        sized.wait("() => document.querySelector('#health td.reason strong')")
        sized.page.locator("#th-h").scroll_into_view_if_needed()
        cut = sized.page.evaluate(
            "() => { const box = document.querySelector('#health').closest('.scroll')"
            ".getBoundingClientRect(); return [...document.querySelectorAll('#health td.reason')]"
            ".filter(td => td.textContent && (td.scrollWidth > td.clientWidth + 1"
            " || td.getBoundingClientRect().right > box.right + 1)).map(td => td.textContent); }"
        )
        assert cut == []
        sized.shot(f"21-target-health-{size[0]}")
    finally:
        sized.close()


def test_a_stuck_scheduler_looks_unlike_an_active_one_on_the_control_links(page: Page) -> None:
    pg = page.page
    ink = (
        "colour => { const f = window.__ecsim.flow, g = f.geom, c = f.canvas;"
        " const d = f.dpr || 1, x = g.tg.x + g.tg.w / 2, y = (g.svc.y + g.svc.h + g.tg.y) / 2;"
        " const px = c.getContext('2d').getImageData(Math.round((x - 12) * d),"
        " Math.round((y - 12) * d), Math.round(24 * d), Math.round(24 * d)).data;"
        " const [r, gr, b] = [1, 3, 5].map(i => parseInt(colour.slice(i, i + 2), 16)); let n = 0;"
        " for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 200 && Math.abs(px[i] - r)"
        " + Math.abs(px[i + 1] - gr) + Math.abs(px[i + 2] - b) < 60) n++; return n; }"
    )
    active = pg.evaluate("() => window.__ecsim.flow.controlLook('ACTIVE')")
    stuck = pg.evaluate("() => window.__ecsim.flow.controlLook('STUCK')")
    assert stuck["mark"] == "pause" and active["mark"] == ""
    assert stuck["colour"] != active["colour"] and stuck["dash"] != active["dash"]
    before = pg.evaluate(ink, stuck["colour"])
    pg.locator("[data-sched=hang]").click()
    page.wait("() => document.querySelector('#svc-status').textContent === 'STUCK'")
    page.wait(f"c => ({ink})(c) > {before} + 30", stuck["colour"])  # the pause sign is drawn
    pg.locator("#sim").scroll_into_view_if_needed()
    page.shot("22-stuck")
    pg.locator("[data-sched=restore]").click()


def test_a_cpu_target_above_100_percent_is_refused(page: Page) -> None:
    pg = page.page
    assert pg.locator("#as-target").get_attribute("max") == "100"  # the model's one limit
    pg.locator("#as-target").fill("1000")
    pg.locator("#as-form button[type=submit]").click()
    text = said(page, "TargetValue")
    assert text == (
        "ValidationException: TargetValue of ECSServiceAverageCPUUtilization is a percentage:"
        " at most 100, got 1000."
    )
    assert pg.evaluate(f"() => {VIEW}.services[0].autoScaling.enabled") is False
    pg.locator("#as-target").fill("100")
    pg.locator("#as-form button[type=submit]").click()
    page.wait("() => document.querySelector('#as-state').textContent.includes('CPU target 100 %')")
    pg.locator("#as-off").click()
    page.wait("() => document.querySelector('#as-state').textContent.startsWith('Off')")


def test_phone_buttons_are_at_least_44_px_tall(browser: Any, server: LiveServer) -> None:
    command(server, "reset")
    phone = Page(browser, server, 390, 844)
    try:
        phone.wait_healthy(3)
        phone.page.locator("#sheet-toggle").click()  # the controls' sheet open: all buttons shown
        phone.wait("() => document.querySelector('#send').offsetParent !== null")
        small = phone.page.evaluate(
            "() => [...document.querySelectorAll('button, select, input[type=text], input[type=number]')]"
            ".filter(e => e.offsetParent !== null && !e.classList.contains('sr-only'))"
            ".map(e => [e.id || e.textContent.trim().slice(0, 30) || e.tagName,"
            " e.getBoundingClientRect().height]).filter(([, h]) => h < 44)"
        )
        assert small == []
        phone.page.get_by_role(
            "group", name="The Manager (service scheduler)"
        ).scroll_into_view_if_needed()
        SHOTS.mkdir(exist_ok=True)
        phone.shot("23-phone-controls")
    finally:
        phone.close()
