"""The page during a canary deployment, in a real headless Chromium against the real server:
the service's two target groups are drawn, each with its share of production traffic
(issue 17, point 7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch
from tests.support.page import SPEED, Page, command
from tests.support.server import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.server(world="demo", speed=SPEED),
]
VIEW = "window.__ecsim.state.view"


@pytest.fixture
def page(server: LiveServer) -> Iterator[Page]:
    with sync_api.sync_playwright() as p:
        browser: Any = launch(p)
        command(server, "speed", speed=SPEED)
        command(server, "resume")
        page = Page(browser, server)
        yield page
        page.close()
        browser.close()


def test_the_canary_shows_blue_and_green_with_their_weights(page: Page, server: LiveServer) -> None:
    pg = page.page
    command(server, "scenario", name="canary-deployment")
    page.wait(f"() => {VIEW}.scenario && {VIEW}.scenario.name === 'canary-deployment'")
    page.wait("() => document.querySelector('#tg-name').textContent === 'home-blue · 100 %'")
    assert pg.locator("#tg-others h3").inner_text() == "home-green · 0 %"
    page.wait(f"() => {VIEW}.scenario.index === 1")  # the calls at 0 s are made
    pg.locator("#scn-next").click()  # the deploy
    page.wait(
        "() => document.querySelector('#tg-name').textContent === 'home-blue · 90 %'"
        " && document.querySelector('#tg-others h3').textContent === 'home-green · 10 %'"
    )
    title = pg.locator("#n-listener").get_attribute("title") or ""
    assert "home-blue 90 % · home-green 10 %" in title
    assert page.errors == []
