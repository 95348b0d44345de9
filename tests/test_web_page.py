"""The page, end to end: the real server (uvicorn, the live world at 60x) and a real headless
Chromium (Debian's `chromium`, driven by Playwright). Screenshots of the main states go to
`screenshots/` (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch
from tests.support.page import SHOTS, SPEED, WAIT_MS, Page, command
from tests.support.server import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.server(world="demo", speed=SPEED),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Page]:
    command(server, "scenario", name="seed")  # a fresh world: the seed's architecture
    command(server, "resume")
    p = Page(browser, server)
    p.wait_healthy(3)
    yield p
    p.close()


def test_the_page_loads_with_three_healthy_targets_and_no_console_errors(
    page: Page, browser: Any, server: LiveServer
) -> None:
    pg = page.page
    assert "Service vs. Task" in pg.locator("h1").inner_text()
    assert pg.locator("#svc-status").inner_text() == "Active"
    assert pg.locator("#svc-heal").inner_text() == "ON"
    assert pg.locator("#listener-port").inner_text() == "80"
    assert len(page.running_tasks()) == 3
    for text in (
        "First, answering",
        "The Request Lifecycle",
        "Who does what",
        "The Catch (No Auto-Healing)",
        "If I delete my Service, do Tasks delete?",
        "Visual Summary Diagram",
    ):
        assert pg.get_by_text(text, exact=False).count() >= 1, text
    page.wait("() => document.querySelectorAll('#events li time').length > 0")
    page.wait("() => window.__ecsim.state.series.some(p => (p.s['200'] || 0) > 0)")
    page.shot("01-steady")
    page.shot("01-steady-full", full=True)
    phone = Page(browser, server, 390, 844)
    phone.wait_healthy(3)
    width = phone.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    phone.shot("02-phone")
    phone.shot("02-phone-full", full=True)
    phone.close()
    assert page.errors == []
    assert phone.errors == []


def test_killing_a_task_makes_a_replacement_appear(page: Page) -> None:
    before = set(page.running_tasks())
    victim = sorted(before)[0]
    page.page.locator(f"#tasks .task[data-ip='{victim}']").click()
    page.page.locator("[data-kill=crash]").click()
    page.wait(
        "ip => document.querySelector(`#tasks .task[data-ip='${ip}']`)?.dataset.status !== 'RUNNING'",
        victim,
    )
    page.shot("03-task-killed")
    page.wait(
        "old => { const now = [...document.querySelectorAll('#tasks .task[data-status=RUNNING]')]"
        ".map(e => e.dataset.ip); return now.length === 3 && now.some(ip => !old.includes(ip)); }",
        sorted(before),
    )
    page.wait_healthy(3)
    after = set(page.running_tasks())
    assert victim not in after
    assert len(after - before) == 1
    events = page.page.locator("#events").inner_text()
    assert "has started 1 tasks" in events
    page.shot("04-healed")
    assert page.errors == []


def test_a_crashed_scheduler_shows_logic_crashed_while_requests_succeed(page: Page) -> None:
    page.page.locator("[data-sched=crash]").click()
    page.wait("() => document.querySelector('#svc-status').textContent === 'LOGIC CRASHED'")
    assert "OFF" in page.page.locator("#svc-heal").inner_text()
    for _ in range(5):
        assert page.send()["status"] == 200
    page.page.locator("#send").click()
    page.wait("() => document.querySelector('#trace').textContent.includes('200')")
    page.wait(
        "() => { const s = window.__ecsim.state.series.slice(-5);"
        " return s.length === 5 && s.every(p => Object.keys(p.s).every(c => c === '200')); }"
    )
    page.shot("05-scheduler-crashed")
    assert page.errors == []


def test_a_task_killed_under_a_dead_scheduler_stays_dead_until_restored(page: Page) -> None:
    page.page.locator("[data-sched=crash]").click()
    page.wait("() => document.querySelector('#svc-status').textContent === 'LOGIC CRASHED'")
    victim = sorted(page.running_tasks())[0]
    page.page.locator("#task-pick").select_option(
        page.page.locator(f"#tasks .task[data-ip='{victim}']").get_attribute("data-id")
    )
    page.page.locator("[data-kill=oom]").click()
    page.wait(
        "() => document.querySelectorAll('#targets .pill.healthy').length === 2"
        " && document.querySelectorAll('#targets .pill.unhealthy').length === 1"
    )
    start = page.page.evaluate("() => window.__ecsim.state.clock.now")
    page.wait(
        "t => window.__ecsim.state.clock.now > t + 240", start, timeout=WAIT_MS
    )  # four simulated minutes: nothing heals
    assert len(page.running_tasks()) == 2
    assert page.healthy_targets() == 2
    assert page.page.locator("#svc-running").inner_text().startswith("2")
    page.shot("06-dead-task-no-healing")
    page.page.locator("[data-sched=restore]").click()
    page.wait("() => document.querySelector('#svc-status').textContent === 'Active'")
    page.wait_healthy(3)
    page.wait("() => document.querySelectorAll('#tasks .task[data-status=RUNNING]').length === 3")
    assert victim not in page.running_tasks()
    page.shot("07-restored-healed")
    assert page.errors == []


def test_deleting_the_service_turns_requests_into_503s(page: Page) -> None:
    page.page.locator("#delete").click()
    page.wait("() => document.querySelector('#svc-status').textContent.startsWith('DELET')")
    page.wait(
        "() => window.__ecsim.command('send', {path: '/'}).then(r => r && r.data.status === 503)"
    )
    page.wait("() => window.__ecsim.state.series.slice(-3).some(p => (p.s['503'] || 0) > 0)")
    page.wait("() => document.querySelectorAll('#tasks .task[data-status=RUNNING]').length === 0")
    page.page.locator("#send").click()
    page.wait("() => document.querySelector('#trace').textContent.includes('503')")
    page.shot("08-service-deleted-503")
    assert page.errors == []


def test_bad_commands_get_a_clear_message_and_the_world_carries_on(page: Page) -> None:
    pg = page.page
    toast = pg.locator("#toast")
    pg.locator("#desired").fill("-1")
    pg.locator("#desired-form button").click()
    page.wait("() => !document.querySelector('#toast').hidden")
    assert "desiredCount" in toast.inner_text()
    assert "error" in (toast.get_attribute("class") or "")
    page.shot("09-bad-command")
    pg.evaluate("() => window.__ecsim.command('kill', {task: 'no-such-task', how: 'crash'})")
    page.wait("() => document.querySelector('#toast').textContent.includes('no-such-task')")
    pg.evaluate("() => window.__ecsim.command('warp', {})")
    page.wait("() => document.querySelector('#toast').textContent.includes('Unknown command')")
    # a malformed message straight on the socket
    page.wait("() => true")
    pg.evaluate(
        "() => { const ws = new WebSocket(`ws://${location.host}/ecsim/ui/ws`);"
        " ws.onmessage = e => { const m = JSON.parse(e.data);"
        " if (m.type === 'hello') ws.send('{not json'); if (m.type === 'error') window.__bad = m.message; }; }"
    )
    page.wait("() => window.__bad && window.__bad.includes('Malformed')")
    # the world carries on: time moves, desired count untouched, requests still served
    now = pg.evaluate("() => window.__ecsim.state.clock.now")
    page.wait("t => window.__ecsim.state.clock.now > t + 10", now)
    assert pg.locator("#svc-desired").inner_text() == "3"
    assert page.send()["status"] == 200
    assert [e for e in page.errors if "WebSocket" not in e] == []


def test_two_browsers_see_the_same_world(page: Page, browser: Any, server: LiveServer) -> None:
    other = Page(browser, server)
    page.page.locator("[data-sched=hang]").click()
    other.wait("() => document.querySelector('#svc-status').textContent === 'STUCK'")
    other.wait("() => !document.querySelector('#toast').hidden")
    assert "STUCK" in other.page.locator("#toast").inner_text()
    other.close()


def test_the_explainer_answers_for_any_name(page: Page) -> None:
    pg = page.page
    pg.locator("#explain-input").fill("1-home-instance")
    pg.locator("#explain-form button").click()
    page.wait("() => document.querySelector('#explain-out').textContent.includes('NOT a service')")
    assert "a task or an EC2 instance" in pg.locator("#explain-out").inner_text()
    pg.locator("#explain-input").fill("home-service")
    pg.keyboard.press("Enter")
    page.wait("() => document.querySelector('#explain-out').textContent.includes('Manager')")
    assert "desired 3" in pg.locator("#explain-out").inner_text()


def test_keyboard_only_crash_and_restore(page: Page) -> None:
    pg = page.page
    pg.locator("[data-sched=crash]").focus()
    pg.keyboard.press("Enter")
    page.wait("() => document.querySelector('#svc-status').textContent === 'LOGIC CRASHED'")
    pg.keyboard.press("Tab")  # Hang
    pg.keyboard.press("Tab")  # Restore
    pg.keyboard.press("Space")
    page.wait("() => document.querySelector('#svc-status').textContent === 'Active'")


def test_a_built_in_scenario_plays_as_a_tour(page: Page) -> None:
    pg = page.page
    page.wait("() => document.querySelector('#tour option[value=\"scenario:service-crash\"]')")
    pg.locator("#tour").select_option("scenario:service-crash")
    pg.locator("#tour-start").click()
    page.wait("() => !document.querySelector('#scn-box').hidden")
    page.wait("() => document.querySelectorAll('#scn-steps li').length > 0")
    done = pg.locator("#scn-steps li.done").count()  # the calls at 0 s (traffic) are made
    pg.locator("#scn-next").click()
    page.wait("n => document.querySelectorAll('#scn-steps li.done').length === n + 1", done)
    page.wait("() => document.querySelector('#svc-status').textContent === 'LOGIC CRASHED'")
    page.shot("10-scenario-tour")
    assert pg.evaluate("() => window.__ecsim.state.view.scenario.index") == done + 1


def test_the_auto_scaling_tour_shows_scaling_activities_in_the_events(page: Page) -> None:
    pg = page.page
    option = "scenario:target-tracking-autoscaling"
    page.wait("o => document.querySelector(`#tour option[value='${o}']`)", option)
    pg.locator("#tour").select_option(option)
    pg.locator("#tour-start").click()
    page.wait("() => window.__ecsim.state.view.scenario?.name === 'target-tracking-autoscaling'")
    page.wait("() => document.querySelectorAll('#scn-steps li').length > 0")
    # the calls at 0 s are made: the client load, RegisterScalableTarget and PutScalingPolicy
    assert pg.locator("#scn-steps li.done").count() == 3
    for _ in range(2):  # the load goes up to 110 requests/s at 4m
        done = pg.locator("#scn-steps li.done").count()
        pg.locator("#scn-next").click()
        page.wait("n => document.querySelectorAll('#scn-steps li.done').length === n + 1", done)
    page.wait("() => document.querySelector('#events li.scaling')")  # a minute or two later
    text = pg.locator("#events li.scaling").first.inner_text()
    # (3 -> 4 or 5 headless; live, a "Next" pressed late changes the load later)
    assert re.search(r"auto scaling: home-service desired count 3 -> [4-9] \(policy cpu50, ", text)
    assert "AlarmHigh" in text
    page.wait("() => window.__ecsim.state.view.services[0].desired > 3")
    page.wait("() => /has started \\d tasks/.test(document.querySelector('#events').textContent)")
    pg.locator("#events").scroll_into_view_if_needed()
    page.shot("12-auto-scaling")
    assert page.errors == []


def test_fis_faults_from_the_task_controls_show_on_the_tasks_and_in_the_events(
    page: Page,
) -> None:
    pg = page.page
    pg.evaluate("() => window.__ecsim.command('pause')")
    page.wait("() => window.__ecsim.state.clock.paused")
    pg.evaluate("() => window.__ecsim.command('rate', {rps: 50})")
    ips = sorted(page.running_tasks())
    badges = {
        "cpu-stress": "FIS CPU stress 100 %",
        "network-latency": "FIS +200 ms latency",
        "blackhole-port": "FIS port 80 blackholed",
    }
    for ip, (fault, badge) in zip(ips, badges.items(), strict=True):
        pg.locator(f"#tasks .task[data-ip='{ip}']").click()
        pg.locator(f"[data-fault={fault}]").click()
        page.wait("ip => document.querySelector(`#tasks .task[data-ip='${ip}'] .fbadge`)", ip)
        task = pg.locator(f"#tasks .task[data-ip='{ip}']")
        assert task.locator(".fbadge").inner_text() == badge
        assert "faulted" in (task.get_attribute("class") or "")
        assert f"under AWS FIS {badge[4:]}" in (task.get_attribute("aria-label") or "")
    toast = pg.locator("#toast").inner_text()
    assert re.fullmatch(
        r"FIS aws:ecs:task-network-blackhole-port on task [0-9a-f]{8} \(10\.0\.\d+\.\d+\): "
        r"port 80/tcp ingress for 2m",
        toast,
    ), toast
    # a second fault on the first task: packet loss, a badge beside its CPU stress
    pg.locator(f"#tasks .task[data-ip='{ips[0]}']").click()
    pg.locator("[data-fault=packet-loss]").click()
    page.wait(
        "ip => document.querySelectorAll(`#tasks .task[data-ip='${ip}'] .fbadge`).length === 2",
        ips[0],
    )
    both = pg.locator(f"#tasks .task[data-ip='{ips[0]}'] .fbadge").all_inner_texts()
    assert both == ["FIS CPU stress 100 %", "FIS 7 % packet loss"]
    page.wait("() => document.querySelectorAll('#events li.fault').length === 4")
    started = pg.locator("#events li.fault").all_inner_texts()
    assert any(f"({ips[0]}): 7 % packet loss for 2m" in t for t in started), started
    assert any(
        "FIS aws:ecs:task-cpu-stress on task " in t and f"({ips[0]}): 100 % CPU" in t
        for t in started
    ), started
    assert any(f"({ips[1]}): +200 ms" in t for t in started), started
    # 30 s on: the blackholed task's health checks timed out, the ALB routes around it
    pg.evaluate("() => window.__ecsim.command('step', {seconds: 30})")
    page.wait(
        "ip => document.querySelector(`#targets li[data-ip='${ip}'] .pill`)?.textContent"
        " === 'unhealthy'",
        ips[2],
    )
    page.wait(
        "() => /Amazon ECS replaced 1 tasks/.test(document.querySelector('#events').textContent)"
    )
    pg.locator("#events").scroll_into_view_if_needed()
    page.shot("13-fis-faults")
    pg.locator("#sim").scroll_into_view_if_needed()
    page.shot("13-fis-faults-tasks")
    pg.evaluate("() => window.__ecsim.command('resume')")
    page.wait("() => document.querySelectorAll('#events li.fault').length === 8")
    texts = pg.locator("#events li.fault").all_inner_texts()
    assert sum(t.endswith(" ended") for t in texts) == 4, texts
    assert any(t.endswith(f"({ips[0]}): 100 % CPU for 2m") for t in texts), texts
    page.wait("() => !document.querySelector('#tasks .fbadge')")  # no badge once they ended
    assert ips[2] not in page.running_tasks()  # replaced
    pg.locator("#events").scroll_into_view_if_needed()
    page.shot("14-fis-faults-ended")
    assert page.errors == []


def test_with_two_services_the_page_shows_and_manages_the_one_picked(
    page: Page, server: LiveServer
) -> None:
    pg = page.page
    command(server, "scenario", name="binpack-vs-spread")  # two services, two target groups
    page.wait("() => !document.querySelector('#svc-pick-row').hidden")
    labels = pg.eval_on_selector_all("#svc-pick option", "els => els.map(e => e.textContent)")
    assert sorted(labels) == ["packed-service", "spread-service"]

    def show(name: str, tg: str) -> None:
        pg.locator("#svc-pick").select_option(label=name)
        page.wait(
            "([s, t]) => document.querySelector('#svc-name').textContent === s"
            " && document.querySelector('#tg-name').textContent === t",
            [name, tg],
        )

    def desired() -> dict[str, int]:
        out: dict[str, int] = pg.evaluate(
            "() => Object.fromEntries(window.__ecsim.state.view.services"
            ".map(s => [s.name, s.desired]))"
        )
        return out

    show("spread-service", "spread-tg")
    pg.locator("#desired").fill("2")
    pg.locator("#desired-form button[type=submit]").click()
    page.wait(
        "() => window.__ecsim.state.view.services.some(s => s.name === 'spread-service'"
        " && s.desired === 2)"
    )
    assert desired() == {"packed-service": 0, "spread-service": 2}  # the one shown, only
    show("packed-service", "packed-tg")
    pg.locator("#desired").fill("1")
    pg.locator("#desired-form button[type=submit]").click()
    page.wait(
        "() => window.__ecsim.state.view.services.some(s => s.name === 'packed-service'"
        " && s.desired === 1)"
    )
    assert desired() == {"packed-service": 1, "spread-service": 2}
    page.wait("() => document.querySelectorAll('#tasks .task').length === 1")
    shown = pg.eval_on_selector_all("#tasks .task", "els => els.map(e => e.dataset.id)")
    page.wait("() => document.querySelector('#task-pick').value !== ''")
    picker = pg.eval_on_selector_all("#task-pick option", "els => els.map(e => e.value)")
    assert picker == shown  # "a task" is one of the service shown
    page.shot("11-two-services")
    assert page.errors == []


def test_auto_scaling_from_the_manager_panel_scales_out_under_load(page: Page) -> None:
    pg = page.page
    state = pg.locator("#as-state")
    toast = pg.locator("#toast")
    assert state.inner_text().startswith("Off")
    assert pg.locator("#as-off").is_disabled()
    assert "scales out after 3 minutes above the target" in pg.locator(".autoscale").inner_text()

    def enable(lo: str = "2", hi: str = "10", cpu: str = "50") -> None:
        pg.locator("#as-min").fill(lo)
        pg.locator("#as-max").fill(hi)
        pg.locator("#as-target").fill(cpu)
        pg.locator("#as-form button[type=submit]").click()

    def said(text: str) -> None:
        page.wait("t => document.querySelector('#toast').textContent === t", text)

    # bad input: the model's own AWS error in the error toast, and nothing changes
    enable(lo="12")
    said("ValidationException: Minimum capacity cannot be greater than maximum capacity (12 > 10).")
    assert "error" in (toast.get_attribute("class") or "")
    enable(lo="")  # what a number input holds when what was typed is not a number
    said(
        "ValidationException: Invalid type for parameter MinCapacity, value: '', expected an integer"
    )
    pg.evaluate(
        "() => window.__ecsim.command('autoscaling', {action: 'enable', min: 'two', max: 10,"
        " target: 50})"
    )
    said(
        "ValidationException: Invalid type for parameter MinCapacity, value: 'two', "
        "expected an integer"
    )
    enable(cpu="0")
    said(
        "ValidationException: TargetValue must be a number above 0, got 0. (AWS takes 8.515920e-109 to 6.153251e+48.)"
    )
    page.shot("15-auto-scaling-bad-input")
    svc = "window.__ecsim.state.view.services[0]"
    assert pg.evaluate(f"() => {svc}.autoScaling") == {
        "enabled": False,
        "min": None,
        "max": None,
        "policies": [],
        "lastActivity": None,
    }
    assert pg.evaluate(f"() => {svc}.desired") == 3
    assert state.inner_text().startswith("Off")

    # on: 2 to 10 tasks, CPU at 50 %
    enable()
    page.wait(
        "() => document.querySelector('#as-state').textContent"
        ".includes('min 2 / max 10, CPU target 50 %')"
    )
    assert toast.inner_text().startswith("RegisterScalableTarget home-service (min 2, max 10)")
    assert not pg.locator("#as-off").is_disabled()
    # 500 requests/s on 3 tasks that serve 200 each: CPU about 84 %, 3 minutes above 50 %
    pg.locator("#rate").fill("9")
    page.wait("() => window.__ecsim.state.view.traffic.rate === 500")
    page.wait(f"() => {svc}.autoScaling.policies[0].datapoint > 50")
    page.wait(
        "() => /CPU \\d+(\\.\\d)? % last minute · above [1-3]\\/3 min/"
        ".test(document.querySelector('#as-state').textContent)"
    )
    page.wait(f"() => {svc}.desired > 3")
    page.wait(
        "() => /Last: Setting desired count to [4-9]\\./"
        ".test(document.querySelector('#as-state').textContent)"
    )
    scaled = pg.locator("#events li.scaling").first.inner_text()
    assert re.search(
        r"auto scaling: home-service desired count 3 -> [4-9] \(policy cpu-target-tracking, ",
        scaled,
    ), scaled
    page.wait("() => /has started \\d tasks/.test(document.querySelector('#events').textContent)")
    # the service's card says who sets its desired count now
    assert re.fullmatch(r"[4-9] · auto scaling, 2 to 10", pg.locator("#svc-desired").inner_text())
    manager = pg.get_by_role("group", name="The Manager (service scheduler)")
    manager.scroll_into_view_if_needed()
    SHOTS.mkdir(exist_ok=True)
    manager.screenshot(path=str(SHOTS / "16-auto-scaling-panel.png"))
    pg.locator("#sim").scroll_into_view_if_needed()
    page.shot("16-auto-scaling")

    # a bad input while it is on changes nothing either
    desired = pg.evaluate(f"() => {svc}.desired")
    enable(cpu="0")
    said(
        "ValidationException: TargetValue must be a number above 0, got 0. (AWS takes 8.515920e-109 to 6.153251e+48.)"
    )
    enable(lo="11")
    said("ValidationException: Minimum capacity cannot be greater than maximum capacity (11 > 10).")
    auto = pg.evaluate(f"() => {svc}.autoScaling")
    assert (auto["min"], auto["max"]) == (2, 10)
    assert [(p["name"], p["target"]) for p in auto["policies"]] == [("cpu-target-tracking", 50)]
    assert "min 2 / max 10, CPU target 50 %" in state.inner_text()

    # off: DeregisterScalableTarget; the desired count stays where auto scaling left it
    pg.locator("#as-off").click()
    page.wait("() => document.querySelector('#as-state').textContent.startsWith('Off')")
    assert pg.evaluate(f"() => {svc}.desired") >= desired
    assert "Last: Setting desired count to" in state.inner_text()
    assert pg.locator("#as-off").is_disabled()
    page.wait("() => !document.querySelector('#svc-desired').textContent.includes('auto')")
    assert page.errors == []
