"""The page in a real headless Chromium, for the browser tests: a page on the simulator (its
console errors kept), the page's own commands sent as the page sends them, and where the
screenshots go (`screenshots/`, git-ignored)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.server import LiveServer

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SPEED = 60.0
WAIT_MS = 30_000  # wall time any one state may take to show (a few simulated minutes)


def command(server: LiveServer, cmd: str, **args: Any) -> dict[str, Any]:
    """A command of the page's own (`POST /ecsim/ui/command`), as the page sends it."""
    body = json.dumps({"cmd": cmd, "args": args}).encode()
    req = urllib.request.Request(
        f"{server.url}/ecsim/ui/command", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        answer: dict[str, Any] = json.loads(r.read())
        return answer


class Page:
    """A page on the simulator, with the console errors it logged."""

    def __init__(
        self, browser: Any, server: LiveServer, width: int = 1280, height: int = 800
    ) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url)
        self.wait("() => window.__ecsim && window.__ecsim.state.messages > 0")

    def wait(self, js: str, arg: Any = None, timeout: float = WAIT_MS) -> None:
        self.page.wait_for_function(js, arg=arg, timeout=timeout)

    def healthy_targets(self) -> int:
        n: int = self.page.locator("#targets .pill.healthy").count()
        return n

    def wait_healthy(self, n: int) -> None:
        self.wait(
            "n => document.querySelectorAll('#targets .pill.healthy').length === n"
            " && document.querySelectorAll('#targets li[data-ip]').length === n",
            n,
        )

    def running_tasks(self) -> list[str]:
        ips: list[str] = self.page.eval_on_selector_all(
            "#tasks .task[data-status=RUNNING]", "els => els.map(e => e.dataset.ip)"
        )
        return ips

    def shot(self, name: str, full: bool = False) -> None:
        SHOTS.mkdir(exist_ok=True)
        self.page.wait_for_timeout(400)  # let packets and charts draw
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)

    def send(self) -> dict[str, Any]:
        trace: dict[str, Any] = self.page.evaluate(
            "() => window.__ecsim.command('send', {path: '/api'}).then(r => r && r.data)"
        )
        return trace

    def close(self) -> None:
        self.page.close()
