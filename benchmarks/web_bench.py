"""The page under load: N browsers on one server, R requests/s of simulated traffic, T tasks.

    python benchmarks/web_bench.py                 # 20 browsers, 1,000 requests/s, 100 tasks
    python benchmarks/web_bench.py --browsers 5 --rate 200 --tasks 10 --seconds 10

Runs the real server (uvicorn, the live world at --speed) in a thread and N pages of one
headless Debian chromium. Prints frames per second in the pages (requestAnimationFrame, over
the last 120 frames), the server's wall time per slice (`live.status()['sliceMs']`), the hub's
time to re-read the view, and the messages each page received.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from ecsim.cli.serve import build_app
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--browsers", type=int, default=20)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=15.0, help="wall seconds measured")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--screenshot", default=None, help="write one page's screenshot here")
    a = ap.parse_args()

    began = time.perf_counter()
    live = LiveWorld(
        lambda seed: World.demo(seed=seed, desired=a.tasks, rate=a.rate), seed=0, speed=a.speed
    )
    print(f"world: {a.tasks} tasks, {a.rate:g} req/s, built in {time.perf_counter() - began:.1f} s")
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(live),
            host="127.0.0.1",
            port=a.port,
            log_level="error",
            ws="websockets-sansio",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{a.port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pages = []
            for _ in range(a.browsers):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                page = ctx.new_page()
                page.goto(url)
                pages.append(page)
            for page in pages:
                page.wait_for_function("() => window.__ecsim && window.__ecsim.state.messages > 0")
            print(f"{a.browsers} browsers connected; measuring {a.seconds:g} s …")
            live.slice_seconds.clear()
            start_msgs = [p.evaluate("() => window.__ecsim.state.messages") for p in pages]
            sim0 = live.world.now
            time.sleep(a.seconds)
            fps = [float(p.evaluate("() => window.__ecsim.fps()")) for p in pages]
            msgs = [
                p.evaluate("() => window.__ecsim.state.messages") - m
                for p, m in zip(pages, start_msgs, strict=True)
            ]
            view_ms = pages[0].evaluate("() => window.__ecsim.state.clock.viewMs")
            drawing = pages[0].evaluate(
                "() => document.querySelectorAll('#tasks .task').length + ' task cards, '"
                " + window.__ecsim.state.view.tasks.length + ' tasks in the view'"
            )
            if a.screenshot:
                Path(a.screenshot).parent.mkdir(parents=True, exist_ok=True)
                pages[0].screenshot(path=a.screenshot)
            slices = [s * 1000 for s in live.slice_seconds]
            status = live.status()
            sim = live.world.now - sim0
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)

    running = sum(
        1
        for t in live.world.ecs.describe_services(cluster="home", services=["home-service"])[
            "services"
        ]
        for _ in range(t["runningCount"])
    )
    print(f"simulated {sim:.1f} s in {a.seconds:g} wall s (speed {a.speed:g}x); {running} running")
    print(
        f"page fps: median {statistics.median(fps):.1f}, min {min(fps):.1f}, max {max(fps):.1f}"
        f"  ({a.browsers} pages in one headless chromium, no GPU; {drawing})"
    )
    if slices:
        slices.sort()
        p95 = slices[int(0.95 * (len(slices) - 1))]
        print(
            f"server slice: mean {statistics.mean(slices):.2f} ms, p95 {p95:.2f} ms, "
            f"max {slices[-1]:.2f} ms over {len(slices)} slices "
            f"(live.status()['sliceMs'] = {status['sliceMs']})"
        )
    print(f"hub: re-reading the view takes {view_ms} ms (mean of the last 50)")
    print(f"messages per page: {statistics.mean(msgs):.0f} in {a.seconds:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
