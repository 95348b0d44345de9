"""The page under load: a classroom of private worlds, one browser under overload, or N browsers
on the shared world.

    python benchmarks/web_bench.py                       # classroom (30) then overload (20,000/s)
    python benchmarks/web_bench.py classroom --browsers 30 --seconds 20
    python benchmarks/web_bench.py overload --rate 20000 --seconds 20
    python benchmarks/web_bench.py shared --browsers 20 --rate 1000 --tasks 100

Runs the real server (uvicorn, the live world at --speed) in a thread and pages of one headless
Debian chromium, each in a context of its own (its own cookie: in `classroom`, its own world,
`ecsim serve --classroom`). Prints, per case:

- page clock lag: the server's simulated time minus the page's, sampled every 0.5 s in every
  page (each against its own world), in simulated seconds at speed 1 (= wall seconds);
- page fps (requestAnimationFrame over the last 120 frames) and messages per page;
- server CPU: this process's user+system time over the measured wall time (the server, plus
  the Playwright client's small share), and the main world's slice time;
- the private worlds' pace (the share of their speed the fair slicing gave them).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import sync_playwright

from ecsim.cli.serve import Rooms, build_app
from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[int(q * (len(xs) - 1))] if xs else float("nan")


def run_case(
    name: str,
    *,
    browsers: int,
    rate: float,
    tasks: int,
    speed: float,
    seconds: float,
    port: int,
    classroom: bool,
    screenshot: str | None,
) -> None:
    began = time.perf_counter()
    live = LiveWorld(
        lambda seed: World.demo(seed=seed, desired=tasks, rate=rate), seed=0, speed=speed
    )
    app = build_app(live, rooms=Rooms(classroom=classroom, max_worlds=max(40, browsers)))
    worlds = app.state.worlds
    print(
        f"\n== {name}: {browsers} browser(s){', each its own world' if classroom else ''}; "
        f"shared world {tasks} tasks at {rate:g} req/s, speed {speed:g}x "
        f"(built in {time.perf_counter() - began:.1f} s)"
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", ws="websockets-sansio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/"

    def world_now(client_id: str) -> float | None:
        """The simulated time of the world whose hub serves this browser."""
        for place in [worlds.main, *list(worlds.private.values())]:
            if any(c.id == client_id for c in list(place.hub.clients)):
                return float(place.live.world.now)
        return None

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pages = []
            for _ in range(browsers):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(url)
                pages.append(page)
            want = "private" if classroom else "shared"
            for page in pages:
                page.wait_for_function(
                    "k => window.__ecsim && window.__ecsim.state.world.kind === k"
                    " && window.__ecsim.state.messages > 1",
                    arg=want,
                    timeout=120_000,
                )
            print(
                f"{browsers} browsers connected ({len(worlds.private)} private worlds); "
                f"measuring {seconds:g} s …"
            )
            live.slice_seconds.clear()
            msgs0 = [pg.evaluate("() => window.__ecsim.state.messages") for pg in pages]
            cpu0, wall0 = cpu(), time.monotonic()
            lags: list[float] = []
            while time.monotonic() - wall0 < seconds:
                for pg in pages:
                    me, now = pg.evaluate(
                        "() => [window.__ecsim.state.me, window.__ecsim.state.clock.now]"
                    )
                    server_now = world_now(me)
                    if server_now is not None:
                        lags.append(server_now - now)
                time.sleep(0.5)
            wall = time.monotonic() - wall0
            used = cpu() - cpu0
            fps = [float(pg.evaluate("() => window.__ecsim.fps()")) for pg in pages]
            msgs = [
                pg.evaluate("() => window.__ecsim.state.messages") - m
                for pg, m in zip(pages, msgs0, strict=True)
            ]
            kpis = pages[0].inner_text("#kpis").replace("\n", " ")
            paces = [worlds.pool.pace(k) for k in list(worlds.private)]
            if screenshot:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                pages[0].screenshot(path=screenshot)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)

    slices = sorted(s * 1000 for s in live.slice_seconds)
    lag_text = (
        f"median {statistics.median(lags):.2f} s, p95 {pct(lags, 0.95):.2f} s, "
        f"max {max(lags):.2f} s over {len(lags)} samples"
        if lags
        else "no samples"
    )
    print(f"page clock lag (server - page, simulated s at {speed:g}x): {lag_text}")
    print(
        f"page fps: median {statistics.median(fps):.1f}, min {min(fps):.1f}; "
        f"messages per page: {statistics.mean(msgs) / wall:.1f}/s"
    )
    print(
        f"server CPU: {100 * used / wall:.0f} % of one core over {wall:.1f} s "
        f"(this process: server + Playwright client)"
    )
    if slices:
        print(
            f"main world slice: mean {statistics.mean(slices):.2f} ms, "
            f"p95 {pct(slices, 0.95):.2f} ms, max {slices[-1]:.2f} ms"
        )
    if paces:
        print(
            f"private worlds' pace (share of their speed): min {min(paces):.2f}, "
            f"median {statistics.median(paces):.2f}"
        )
    print(f"page 0 says: {kpis}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "case", nargs="?", default="all", choices=["all", "classroom", "overload", "shared"]
    )
    ap.add_argument("--browsers", type=int, default=None)
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--tasks", type=int, default=None)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=20.0, help="wall seconds measured")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--screenshot", default=None, help="write one page's screenshot here")
    a = ap.parse_args()
    cases: dict[str, dict[str, Any]] = {
        "classroom": {"browsers": 30, "rate": 5.0, "tasks": 3, "classroom": True},
        "overload": {"browsers": 1, "rate": 20_000.0, "tasks": 3, "classroom": False},
        "shared": {"browsers": 20, "rate": 1000.0, "tasks": 100, "classroom": False},
    }
    names = ["classroom", "overload"] if a.case == "all" else [a.case]
    run: Callable[..., None] = run_case
    for i, name in enumerate(names):
        c = cases[name]
        run(
            name,
            browsers=a.browsers or c["browsers"],
            rate=a.rate if a.rate is not None else c["rate"],
            tasks=a.tasks or c["tasks"],
            speed=a.speed,
            seconds=a.seconds,
            port=a.port + i,
            classroom=c["classroom"],
            screenshot=a.screenshot,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
