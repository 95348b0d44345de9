"""The page's layout as a teacher (issue 14, points 2, 6, 7 and 8), in a real headless Chromium
against the real server: the diagram stays in view beside the controls, a tour and the last
trace (a bottom sheet of controls on a phone); a control's effect is seen where it happens;
50 and 100 tasks are drawn as groups with counts, packets keep to their lines inside the
stage; the control plane and the data plane are labelled bands; the summary diagram fits its
boxes and reads on a phone. Every check is a bounding box against the window, or a computed
style, waited for with a bounded timeout."""

from __future__ import annotations

import contextlib
import itertools
import re
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch
from tests.support.page import SPEED, WAIT_MS, Page, command
from tests.support.server import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.server(world="demo", speed=SPEED),
]
DESKTOPS = [(1280, 800), (1024, 768)]
SIZES = [*DESKTOPS, (390, 844)]
VIEW = "window.__ecsim.state.view"
SETTLE_MS = 5_000  # wall time a scroll may take to end

# a box as the window sees it, and the bottom of what is visible (above the sheet on a phone)
RECT = "s => { const r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
VISIBLE_BOTTOM = """() => {
  const a = document.querySelector('#controls');
  return getComputedStyle(a).position === 'fixed' ? a.getBoundingClientRect().top : innerHeight;
}"""
IN_VIEW = f"""s => {{
  const r = document.querySelector(s).getBoundingClientRect();
  return r.top >= -1 && r.left >= -1 && r.right <= innerWidth + 1 && r.bottom <= ({VISIBLE_BOTTOM})() + 1;
}}"""
SEEN = f"""s => {{
  const r = document.querySelector(s).getBoundingClientRect();
  return r.bottom > 0 && r.top < ({VISIBLE_BOTTOM})() && r.right > 0 && r.left < innerWidth;
}}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def fresh(server: LiveServer) -> LiveServer:
    with contextlib.suppress(urllib.error.HTTPError):  # no tour: nothing to end
        command(server, "tour", action="end")  # a tour an earlier test left
    command(server, "reset")  # the seed's architecture
    command(server, "speed", speed=SPEED)
    command(server, "resume")
    return server


def open_page(browser: Any, server: LiveServer, size: tuple[int, int]) -> Page:
    p = Page(browser, server, *size)
    p.wait_healthy(3)
    return p


def open_sheet(page: Page) -> None:
    """On a phone: the controls' sheet opened by its handle (nothing elsewhere)."""
    pg = page.page
    if pg.locator("#sheet-toggle").is_visible():
        if pg.locator("#sheet-toggle").get_attribute("aria-expanded") != "true":
            pg.locator("#sheet-toggle").click()
        page.wait("() => document.querySelector('#send').offsetParent !== null")


def rect(page: Page, sel: str) -> list[float]:
    r: list[float] = page.page.evaluate(RECT, sel)
    return r


# --- point 2: the stage always in view --------------------------------------------------------


@pytest.mark.parametrize("size", DESKTOPS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_starting_a_tour_keeps_the_diagram_in_view_beside_it(
    browser: Any, fresh: LiveServer, size: tuple[int, int]
) -> None:
    page = open_page(browser, fresh, size)
    try:
        pg = page.page
        page.wait("() => document.querySelector('#tour option[value^=\"tour:\"]')")
        pg.locator("#tour").select_option(index=0)
        pg.locator("#tour-start").click()
        page.wait("() => !document.querySelector('#tour-box').hidden")
        # (Next waits for the step's effect: enabled or not, it is in view)
        # the tour's Next button in view and not covered, the diagram in view too
        page.wait(IN_VIEW, "#tour-next", timeout=SETTLE_MS)
        page.wait(
            """() => { const b = document.querySelector('#tour-next').getBoundingClientRect();
              const e = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
              return e && e.closest('#tour-next') !== null; }""",
            timeout=SETTLE_MS,
        )
        assert pg.evaluate(SEEN, "#stage")
        # most of the diagram, not its last rows: its top half in view, once the page's
        # smooth scroll back to it is over (the click may have scrolled the page first)
        page.wait(
            """() => { const r = document.querySelector('#stage').getBoundingClientRect();
              return r.top + r.height / 2 > 0 && r.top < window.innerHeight / 2; }""",
            timeout=SETTLE_MS,
        )
        _, top, right, bottom = rect(page, "#stage")
        assert top + (bottom - top) / 2 > 0 and top < size[1] / 2
        # the tour beside the diagram, not below it
        assert rect(page, "#tour-box")[0] >= right - 1
        page.shot(f"layout-tour-{size[0]}")
        assert page.errors == []
    finally:
        page.close()


def test_on_a_phone_the_controls_are_a_bottom_sheet_under_the_diagram(
    browser: Any, fresh: LiveServer
) -> None:
    page = open_page(browser, fresh, (390, 844))
    try:
        pg = page.page
        toggle = pg.locator("#sheet-toggle")
        assert toggle.is_visible()
        assert toggle.get_attribute("aria-expanded") == "false"
        assert toggle.bounding_box()["height"] >= 44
        assert not pg.locator("#send").is_visible()  # closed: only its handle shows
        sheet = rect(page, "#controls")
        assert sheet[3] >= 843 and sheet[1] >= 844 - 80  # a bar at the bottom of the screen
        toggle.click()
        page.wait("() => document.querySelector('#send').offsetParent !== null")
        assert toggle.get_attribute("aria-expanded") == "true"
        # open: at most about half the screen, the diagram visible above it
        page.wait(SEEN, "#stage", timeout=SETTLE_MS)
        top = pg.evaluate(VISIBLE_BOTTOM)
        assert 844 * 0.35 <= top <= 844 * 0.6
        assert rect(page, "#controls")[3] >= 843
        page.shot("layout-phone-sheet")
        # the sheet scrolls on its own: its last control is reachable
        pg.locator("#tour-start").scroll_into_view_if_needed()
        page.wait(
            """() => { const s = document.querySelector('#controls').getBoundingClientRect();
              const r = document.querySelector('#tour-start').getBoundingClientRect();
              return r.top >= s.top && r.bottom <= s.bottom && r.bottom <= innerHeight; }""",
            timeout=SETTLE_MS,
        )
        toggle.click()
        page.wait("() => document.querySelector('#send').offsetParent === null")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert page.errors == []
    finally:
        page.close()


# --- point 6: controls and their effects seen together ----------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_trace_of_one_request_shows_in_view_with_the_diagram(
    browser: Any, fresh: LiveServer, size: tuple[int, int]
) -> None:
    page = open_page(browser, fresh, size)
    try:
        pg = page.page
        open_sheet(page)
        pg.locator("#send").click()
        page.wait("() => document.querySelector('#trace ol li')")
        page.wait(IN_VIEW, "#trace", timeout=SETTLE_MS)
        if size[0] > 760:
            assert pg.evaluate(SEEN, "#stage")
            # right under the diagram, not somewhere else on the page
            assert 0 <= rect(page, "#trace")[1] - rect(page, "#stage")[3] <= 60
        page.shot(f"layout-trace-{size[0]}")
        assert page.errors == []
    finally:
        page.close()


def test_at_1024_px_the_controls_start_beside_the_diagram(browser: Any, fresh: LiveServer) -> None:
    page = open_page(browser, fresh, (1024, 768))
    try:
        stage, controls = rect(page, "#stage"), rect(page, "#controls")
        assert controls[0] >= stage[2] - 1, "the controls are beside the diagram"
        assert controls[1] < stage[3], "the controls do not start below the diagram"
        assert abs(controls[1] - stage[1]) < 40
        # the diagram is not squeezed: its boxes do not overlap
        boxes = [rect(page, s) for s in ("#n-client", "#n-alb", "#n-tg", "#tasks")]
        for a, b in itertools.pairwise(boxes):
            assert a[2] <= b[0], (a, b)
        assert boxes[-1][2] <= stage[2]
    finally:
        page.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_after_the_managers_crash_its_card_is_in_view(
    browser: Any, fresh: LiveServer, size: tuple[int, int]
) -> None:
    page = open_page(browser, fresh, size)
    try:
        pg = page.page
        open_sheet(page)
        # the card out of view first: half under the sheet on a phone, above the window else
        pg.evaluate(
            f"""() => {{ const c = document.querySelector('#n-svc').getBoundingClientRect();
              const bottom = ({VISIBLE_BOTTOM})();
              const dy = bottom < innerHeight ? c.top - (bottom - 60) : c.bottom + 60;
              window.scrollTo({{ top: scrollY + dy, behavior: 'instant' }}); }}"""
        )
        assert not pg.evaluate(IN_VIEW, "#n-svc")
        crash = pg.get_by_role("group", name="The Manager (service scheduler)").locator(
            "[data-sched=crash]"
        )
        crash.click()
        page.wait("() => document.querySelector('#svc-status').textContent === 'LOGIC CRASHED'")
        page.wait(IN_VIEW, "#n-svc", timeout=SETTLE_MS)
        # nothing over the card's status: not the sheet, not a message
        page.wait(
            """() => { const b = document.querySelector('#svc-status').getBoundingClientRect();
              const e = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
              return e && e.closest('#svc-status') !== null; }""",
            timeout=SETTLE_MS,
        )
        page.shot(f"layout-crash-{size[0]}")
        pg.locator("[data-sched=restore]").click()
        page.wait("() => document.querySelector('#svc-status').textContent === 'Active'")
        assert page.errors == []
    finally:
        page.close()


# --- point 7: many tasks ----------------------------------------------------------------------

NODES = ["#n-client", "#n-alb", "#n-listener", "#n-tg", "#n-svc"]
# every box of the diagram inside the stage's box
OUTSIDE = """() => {
  const s = document.querySelector('#stage').getBoundingClientRect();
  const out = [];
  for (const e of document.querySelectorAll('#stage .node, #stage li, #stage .task, #stage .tgroup, #stage .plane')) {
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    if (r.left < s.left - 0.5 || r.top < s.top - 0.5 || r.right > s.right + 0.5 || r.bottom > s.bottom + 0.5)
      out.push(e.id || e.className || e.tagName);
  }
  return out;
}"""
GROUPS = """() => [...document.querySelectorAll('#tasks .tgroup')].map(g => ({
  az: g.dataset.az, text: g.innerText,
  counts: [...g.querySelectorAll('.chips .pill')].map(p => p.textContent),
}))"""


def positions(page: Page) -> dict[str, list[float]]:
    """The diagram's nodes, relative to the stage (the page may scroll)."""
    stage = rect(page, "#stage")
    out: dict[str, list[float]] = {}
    for sel in NODES:
        r = rect(page, sel)
        out[sel] = [round(r[0] - stage[0]), round(r[1] - stage[1])]
    return out


def scale_to(page: Page, server: LiveServer, n: int) -> None:
    command(server, "desired", count=n)
    page.wait(
        "n => { const s = window.__ecsim.state.view.services[0];"
        " return s.running === n && s.pending === 0"
        " && window.__ecsim.state.view.targetGroups[0].targets"
        ".filter(t => t.state === 'healthy').length === n; }",
        n,
        timeout=3 * WAIT_MS,
    )
    page.wait(
        "n => [...document.querySelectorAll('#tasks .tgroup .gcount')]"
        ".reduce((a, e) => a + parseInt(e.textContent), 0) === n",
        n,
    )


def test_fifty_and_a_hundred_tasks_are_drawn_as_groups_with_counts_and_nothing_jumps(
    browser: Any, fresh: LiveServer
) -> None:
    page = open_page(browser, fresh, (1280, 800))
    try:
        pg = page.page
        before = positions(page)
        cards: list[list[float]] = []
        for n in (50, 100):
            scale_to(page, fresh, n)
            groups = pg.evaluate(GROUPS)
            assert [g["az"] for g in groups] == ["us-east-1a", "us-east-1b", "us-east-1c"]
            total = 0
            for g in groups:
                for c in g["counts"]:
                    m = re.fullmatch(r"(\d+) RUNNING healthy", c)
                    assert m, c
                    total += int(m.group(1))
            assert total == n
            # no task tile beyond the groups, none hidden in a scrolled box
            assert pg.locator("#tasks .task").count() == 0
            assert pg.evaluate(
                "() => { const t = document.querySelector('#tasks');"
                " return t.scrollHeight <= t.clientHeight + 1; }"
            )
            # the target group: whole rows, then one row that counts the rest
            more = pg.locator("#targets-more").inner_text()
            shown = pg.locator("#targets li[data-ip]").count()
            assert more == f"+ {n - shown} more ({n - shown} healthy)", more
            assert pg.evaluate(
                "() => { const t = document.querySelector('#targets');"
                " return t.scrollHeight <= t.clientHeight + 1; }"
            )
            assert pg.evaluate(OUTSIDE) == []
            # the nodes stay where they were with 3 tasks
            assert positions(page) == before
            if not cards:
                cards = [rect(page, f"#tasks .tgroup[data-az='{g['az']}']") for g in groups]
            page.shot(f"layout-{n}-tasks")
        stage = rect(page, "#stage")
        again = [rect(page, f"#tasks .tgroup[data-az='{g['az']}']") for g in groups]
        assert [[round(v - o) for v, o in zip(r, stage[:2] * 2, strict=True)] for r in again] == [
            [round(v - o) for v, o in zip(r, stage[:2] * 2, strict=True)] for r in cards
        ], "the zones' cards stay put from 50 tasks to 100"
        # a phone too: groups, every box inside the stage, the page no wider than the phone
        phone = Page(browser, fresh, 390, 844)
        try:
            phone.wait("() => document.querySelectorAll('#tasks .tgroup').length === 3")
            assert phone.page.evaluate(OUTSIDE) == []
            assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= 390
            assert phone.errors == []
        finally:
            phone.close()
        assert page.errors == []
    finally:
        page.close()


# Watch every packet the canvas draws, frame by frame, while tasks are added: each one inside
# the stage, on no task's tile (or group's card), and on the line of its route as the layout
# is now (a packet in flight follows its line when the layout changes).
PROBE = """() => {
  const probe = window.__probe = { n: 0, bad: [], on: true };
  const flow = window.__ecsim.flow;
  const near = (p, pts) => {
    let best = Infinity;
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1], b = pts[i];
      const dx = b.x - a.x, dy = b.y - a.y, l = dx * dx + dy * dy;
      const u = l ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / l)) : 0;
      best = Math.min(best, Math.hypot(p.x - a.x - u * dx, p.y - a.y - u * dy));
    }
    return best;
  };
  const look = () => {
    if (!probe.on) return;
    const g = flow.geom;
    for (const d of flow.drawn || []) {
      if (d.gv !== flow.geomVersion) continue;  // drawn before the layout changed
      probe.n++;
      const w = flow.canvas.width / flow.dpr, h = flow.canvas.height / flow.dpr;
      if (d.x < 0 || d.y < 0 || d.x > w || d.y > h) probe.bad.push(['outside the stage', d]);
      for (const r of g.tasks.values())
        if (d.x > r.x + 1 && d.x < r.x + r.w - 1 && d.y > r.y + 1 && d.y < r.y + r.h - 1)
          { probe.bad.push(['over a task', d, r]); break; }
      const pts = flow.route(d.ip, d.stopAt, d.tg);
      if (!pts || near(d, pts) > 1) probe.bad.push(['off its line', d]);
    }
    if (probe.bad.length > 20) probe.bad.length = 20;
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  // requests to every running task, as slices bring them, drawn as packets (not as volume)
  probe.timer = setInterval(() => {
    const ips = window.__ecsim.state.view.tasks.filter(t => t.ip && t.lastStatus === 'RUNNING').map(t => t.ip);
    const byTarget = {};
    for (const ip of ips.slice(0, 30)) byTarget[ip] = 1;
    const health = {};
    for (const ip of ips) health[ip] = 'healthy';
    flow.traffic({ '200': Object.keys(byTarget).length, '503': 1 }, byTarget, 1, 1, health);
  }, 250);
}"""


def test_packets_keep_to_their_lines_inside_the_stage_while_tasks_are_added(
    browser: Any, fresh: LiveServer
) -> None:
    command(fresh, "rate", rps=0)  # only the probe's packets: drawn as dots, never as volume
    page = open_page(browser, fresh, (1280, 800))
    try:
        pg = page.page
        pg.evaluate(PROBE)
        pg.locator("#send").click()
        command(fresh, "desired", count=30)
        for _ in range(3):
            pg.locator("#send").click()
            page.page.wait_for_timeout(300)
        page.wait(
            "() => document.querySelectorAll('#tasks .tgroup').length === 3"
            " && window.__ecsim.state.view.services[0].running === 30",
            timeout=2 * WAIT_MS,
        )
        page.wait("() => window.__probe.n > 500")
        probe = pg.evaluate(
            "() => { window.__probe.on = false; clearInterval(window.__probe.timer);"
            " return window.__probe; }"
        )
        assert probe["bad"] == []
        assert page.errors == []
    finally:
        page.close()


# --- point 8: control plane and data plane ----------------------------------------------------


def luminance(rgb: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (float(x) for x in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


# a label's text colour, and the first opaque background behind it
COLOURS = """s => {
  const e = document.querySelector(s);
  let b = e;
  while (b && /rgba\\(.*, 0\\)|transparent/.test(getComputedStyle(b).backgroundColor)) b = b.parentElement;
  return [getComputedStyle(e).color, b ? getComputedStyle(b).backgroundColor : 'rgb(255, 255, 255)'];
}"""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_control_plane_and_the_data_plane_are_labelled_bands(
    browser: Any, fresh: LiveServer, size: tuple[int, int]
) -> None:
    page = open_page(browser, fresh, size)
    try:
        pg = page.page
        control, data = pg.locator("#plane-control"), pg.locator("#plane-data")
        assert re.search(
            r"control plane.*scheduler.*Manager.*deployments", control.inner_text(), re.I | re.S
        )
        assert re.search(
            r"data plane.*Client.*ALB.*Listener.*Target group.*Task", data.inner_text(), re.I | re.S
        )
        for sel in ("#plane-control b", "#plane-control span", "#plane-data b", "#plane-data span"):
            fg, bg = pg.evaluate(COLOURS, sel)
            assert contrast(fg, bg) >= 4.5, (sel, fg, bg, contrast(fg, bg))
        # two bands, one above the other, meeting at a divider: the Manager in the first, the
        # request path in the second
        top, bottom = rect(page, ".band.control"), rect(page, ".band.data")
        assert abs(top[3] - bottom[1]) <= 1
        assert (
            pg.evaluate(
                "() => getComputedStyle(document.querySelector('.band.control')).borderBottomStyle"
            )
            != "none"
        )

        def inside(sel: str, band: list[float]) -> bool:
            r = rect(page, sel)
            return band[0] <= r[0] and band[1] <= r[1] and r[2] <= band[2] and r[3] <= band[3]

        assert inside("#n-svc", top) and inside("#plane-control", top)
        for sel in ("#plane-data", "#n-client", "#n-alb", "#n-tg", "#tasks"):
            assert inside(sel, bottom), sel
        assert page.errors == []
    finally:
        page.close()


# each text of the summary diagram and the smallest box around its anchor: the text's box
# must be inside it, whatever font the browser found
SVG_OVERFLOW = """() => {
  const boxes = [...document.querySelectorAll('rect')].map(r => r.getBBox())
    .filter(b => !(b.x === 0 && b.y === 0));
  const out = [];
  for (const t of document.querySelectorAll('text')) {
    const b = t.getBBox();
    const x = Number(t.getAttribute('x')), y = Number(t.getAttribute('y'));
    const r = boxes.filter(r => x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height)
      .sort((p, q) => p.width * p.height - q.width * q.height)[0];
    if (!r) { out.push([t.textContent, 'in no box']); continue; }
    const over = Math.max(r.x - b.x, b.x + b.width - r.x - r.width, r.y - b.y, b.y + b.height - r.y - r.height);
    if (over > 0) out.push([t.textContent, over]);
  }
  return out;
}"""


def test_the_summary_diagram_fits_its_boxes_without_segoe_ui(
    browser: Any, fresh: LiveServer
) -> None:
    pg = browser.new_page(viewport={"width": 1000, "height": 520})
    try:
        pg.goto(f"{fresh.url}/ecsim/ui/static/summary.svg")
        # a font stack that starts with a font this machine has (it has no Segoe UI)
        family = pg.evaluate("() => getComputedStyle(document.querySelector('text')).fontFamily")
        assert family.startswith('"DejaVu Sans"')
        assert pg.evaluate(SVG_OVERFLOW) == []
    finally:
        pg.close()


def test_the_summary_diagram_reads_at_full_size_on_a_phone(browser: Any, fresh: LiveServer) -> None:
    page = open_page(browser, fresh, (390, 844))
    try:
        pg = page.page
        img = pg.locator(".summary img")
        img.scroll_into_view_if_needed()
        page.wait("() => document.querySelector('.summary img').complete")
        # drawn at its own size (its 11 px text stays 11 px), scrolled sideways in its box
        assert img.bounding_box()["width"] >= 990
        box = pg.locator(".summary-scroll")
        assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= 390
        # and it opens alone, for the browser to zoom
        assert pg.locator(".summary a[href$='summary.svg']").count() == 1
        assert page.errors == []
    finally:
        page.close()
