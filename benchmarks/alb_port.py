"""Benchmark 6: the simulated ALB's real HTTP port under load, and the live server meanwhile.

    python -m benchmarks.alb_port                      # wrk if installed, else our own client
    python -m benchmarks.alb_port --client own --seconds 5 --connections 64

Each figure comes from fresh server processes on this machine. The trivial app (1) and ecsim
(2) run side by side and take turns under the load, `SLICES` slices of each in a run (with
10 s: 2 s, trivial then ecsim, five times), so that the host's speed, which drifts from
minute to minute on this shared machine, weighs on both alike; the idle one meanwhile uses
under 1 % of a core.

1. a trivial ASGI app (200, a small JSON body) on uvicorn (httptools, uvloop) held to an ALB
   port's limits (`awsapi.uvicorn_config(..., awsapi.ALB)`): what Python's usual HTTP stack
   allows. (`ecsim serve` answers an ALB port with its own protocol on the same parser and
   event loop, `awsapi/alb_wire.py`, with no ASGI in between);
2. `ecsim serve --alb-port` (the demo world, no simulated background traffic, `--speed`):
   req/s, p50/p99, errors, the same load as 1. Meanwhile a page's WebSocket and a boto3 client
   (DescribeServices every 50 ms) measure the live server: how far the page's clock lags the
   server's, and the API's latency;
3. at speed 1, a lighter load (not overloaded): the client's p50 against the model's p50
   latency (`stats`), which the port should match within about 2 ms;
4. a fixed number of requests through our own client, then `stats`: every request the client
   got is counted once, with the status the client saw.

The load client is `wrk` (Debian's package) where installed, else `load()` below: asyncio
keep-alive connections in a process of their own, each sending its next request when the
previous answer is read (as wrk does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.ports import free_port

MAX_SECONDS = 86_400.0  # a run's load, at most a day
SLICES = 5  # turns of each server within a run

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


# --- the servers (each in a process of its own) -------------------------------------------


def runner() -> Any:
    """How `ecsim serve` runs its event loop (`ecsim.cli.serve.run`: uvloop where it is
    installed), or asyncio.run for a tree without it: the trivial app runs on the same loop
    as the ecsim it is compared with."""
    from ecsim.cli import serve

    return getattr(serve, "run", asyncio.run)


def serve_ecsim(port: int, alb_port: int, speed: float, tasks: int) -> None:
    """`ecsim serve --alb-port`, on the demo world without background traffic."""
    from ecsim.cli.serve import AlbPort, serve
    from ecsim.live.runtime import LiveWorld
    from ecsim.model.world import World

    live = LiveWorld(lambda seed: World.demo(seed=seed, desired=tasks, rate=0.0), speed=speed)
    runner()(serve(live, HOST, port, [AlbPort(alb_port)], announce=lambda _: None))


def serve_trivial(port: int) -> None:
    """A trivial ASGI app on the ALB port's uvicorn configuration."""
    import uvicorn

    from ecsim import awsapi

    body = b'{"status": 200, "path": "/", "ip": "10.0.1.5"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    config = awsapi.uvicorn_config(app, HOST, port, awsapi.ALB, log_level="warning", lifespan="off")
    # the event loop `ecsim serve` runs on, not the one uvicorn.run would pick
    runner()(uvicorn.Server(config).serve())


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.alb_port", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_up(port: int, proc: subprocess.Popen[bytes], path: str = "/") -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- the load ---------------------------------------------------------------------------


def wrk(port: int, connections: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            f"http://{HOST}:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]

    pct = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if set(pct) != {"50", "99"}:
        raise RuntimeError(f"wrk's output has no latency distribution:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "client": "wrk",
        "requests": requests,
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": ms(pct["50"]),
        "p99_ms": ms(pct["99"]),
        "errors": sum(int(x) for x in errors.groups()[:3]) if errors else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


async def _load(port: int, connections: int, seconds: float, total: int | None) -> dict[str, Any]:
    """`connections` keep-alive connections, each sending its next GET when the previous
    answer is in, for `seconds` (or until `total` requests were sent); every answer read."""
    request = f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    sent = 0
    end = time.monotonic() + seconds

    async def one() -> None:
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.monotonic() < end and (total is None or sent < total):
                sent += 1
                began = time.monotonic()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                status = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "x-ecsim-status":
                        status = value.strip()
                await reader.readexactly(length)
                latencies.append(time.monotonic() - began)
                statuses[status] += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    began = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    wall = time.monotonic() - began
    latencies.sort()
    n = len(latencies)
    return {
        "client": "own",
        "requests": n,
        "req_per_s": n / wall,
        "p50_ms": 1000 * latencies[n // 2] if n else 0.0,
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else 0.0,
        "errors": errors,
        "timeouts": 0,
        "non_2xx": sum(c for s, c in statuses.items() if not s.startswith("2")),
        "by_status": dict(statuses),
    }


def load(port: int, connections: int, seconds: float, total: int | None = None) -> dict[str, Any]:
    """Our own load client, in a process of its own (the GIL is not the server's)."""
    args = ["load", "--port", str(port), "--connections", str(connections)]
    args += ["--seconds", str(seconds)] + (["--total", str(total)] if total else [])
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.alb_port", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def default_client() -> str:
    """wrk where installed, else our own client."""
    return "wrk" if shutil.which("wrk") else "own"


def drive(port: int, connections: int, seconds: float, client: str) -> dict[str, Any]:
    if client == "wrk":
        return wrk(port, connections, seconds)
    return load(port, connections, seconds)


# --- the live server meanwhile ------------------------------------------------------------


class Watch:
    """A page (its WebSocket) and a boto3 client on the main port, in threads."""

    def __init__(self, port: int, speed: float) -> None:
        self.port = port
        self.speed = speed
        self.page_now = 0.0
        self.lags: list[float] = []  # wall seconds the page's clock is behind the server's
        self.api_ms: list[float] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._page, daemon=True),
            threading.Thread(target=self._clock, daemon=True),
            threading.Thread(target=self._api, daemon=True),
        ]

    def __enter__(self) -> Watch:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)

    def _page(self) -> None:
        from websockets.sync.client import connect

        with connect(f"ws://{HOST}:{self.port}/ecsim/ui/ws", max_size=None) as ws:
            while not self._stop.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                clock = message.get("clock")
                if clock:
                    self.page_now = max(self.page_now, float(clock["now"]))

    def _clock(self) -> None:
        url = f"http://{HOST}:{self.port}/ecsim/api/status"
        while not self._stop.wait(0.1):
            with urllib.request.urlopen(url, timeout=10) as r:
                now = float(json.loads(r.read())["now"])
            if self.page_now:
                self.lags.append(max(0.0, now - self.page_now) / self.speed)

    def _api(self) -> None:
        import boto3

        ecs = boto3.client(
            "ecs",
            endpoint_url=f"http://{HOST}:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        ecs.describe_services(cluster="home", services=["home-service"])
        while not self._stop.wait(0.05):
            began = time.perf_counter()
            ecs.describe_services(cluster="home", services=["home-service"])
            self.api_ms.append(1000 * (time.perf_counter() - began))


def stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{HOST}:{port}/ecsim/api/traffic/stats", timeout=30) as r:
        result: dict[str, Any] = json.loads(r.read())
        return result


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


# --- one run ---------------------------------------------------------------------------


def run(connections: int, seconds: float, speed: float, client: str, tasks: int) -> dict[str, Any]:
    """One run of every part (see the module docstring); one JSON-able dict."""
    out: dict[str, Any] = {"client": client, "connections": connections, "speed": speed}
    port, main, alb = free_port(), free_port(), free_port()
    trivial = start("trivial", "--port", str(port))
    server = start(
        "ecsim", "--port", str(main), "--alb-port", str(alb), "--speed", str(speed),
        "--tasks", str(tasks),
    )  # fmt: skip
    try:
        wait_up(port, trivial)
        wait_up(main, server, "/ecsim/api/status")
        wait_up(alb, server)
        # the two servers take turns, a slice each, so that the host's speed, which drifts
        # from minute to minute, weighs on both alike
        parts: dict[str, list[dict[str, Any]]] = {"trivial": [], "alb": []}
        lags: list[float] = []
        api_ms: list[float] = []
        for _ in range(SLICES):
            parts["trivial"].append(drive(port, connections, seconds / SLICES, client))
            with Watch(main, speed) as watch:
                parts["alb"].append(drive(alb, connections, seconds / SLICES, client))
            lags += watch.lags
            api_ms += watch.api_ms
        out.update({name: _joined(slices, seconds) for name, slices in parts.items()})
        out["live"] = {
            "page_lag_max_s": max(lags, default=float("nan")),
            "page_lag_p50_s": pct(lags, 0.5),
            "describe_services_p50_ms": pct(api_ms, 0.5),
            "describe_services_p99_ms": pct(api_ms, 0.99),
            "describe_services_calls": len(api_ms),
        }
    finally:
        stop(trivial)
        stop(server)

    # not overloaded, at speed 1: the client's p50 against the model's
    main, alb = free_port(), free_port()
    server = start(
        "ecsim", "--port", str(main), "--alb-port", str(alb), "--speed", "1", "--tasks", str(tasks)
    )
    try:
        wait_up(main, server, "/ecsim/api/status")
        wait_up(alb, server)
        before = stats(main)
        got = load(alb, 8, 0, total=2000)
        after = stats(main)
        by_status = Counter(after["by_status"])
        by_status.subtract(before["by_status"])
        out["counted"] = {
            "client_requests": got["requests"],
            "client_by_status": got["by_status"],
            "errors": got["errors"],
            "stats_requests": after["requests"] - before["requests"],
            "stats_by_status": {k: v for k, v in by_status.items() if v},
            "client_p50_ms": got["p50_ms"],
            "model_p50_ms": after["latency_ms"]["p50"],
        }
    finally:
        stop(server)
    return out


def _joined(slices: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """One server's slices as one run: requests and errors summed, req/s over the time
    driven, p50 the slices' median, p99 their worst."""
    out = dict(slices[0])
    for key in ("requests", "errors", "timeouts", "non_2xx"):
        out[key] = sum(int(s[key]) for s in slices)
    out["req_per_s"] = out["requests"] / seconds
    out["p50_ms"] = statistics.median(s["p50_ms"] for s in slices)
    out["p99_ms"] = max(s["p99_ms"] for s in slices)
    out.pop("by_status", None)
    return out


def report(results: list[dict[str, Any]]) -> None:
    def med(path: str) -> float:
        values = []
        for r in results:
            v: Any = r
            for k in path.split("."):
                v = v[k]
            values.append(float(v))
        return statistics.median(values)

    r0 = results[0]
    print(f"   client {r0['client']}, {r0['connections']} connections, speed {r0['speed']:g}")
    for name in ("trivial", "alb"):
        print(
            f"   {name:8s} {med(name + '.req_per_s'):8,.0f} req/s   p50 {med(name + '.p50_ms'):6.2f} ms"
            f"   p99 {med(name + '.p99_ms'):7.2f} ms   errors {med(name + '.errors'):.0f}"
            f"   timeouts {med(name + '.timeouts'):.0f}   non-2xx {med(name + '.non_2xx'):.0f}"
        )
    share = statistics.median(r["alb"]["req_per_s"] / r["trivial"]["req_per_s"] for r in results)
    print(
        f"   ALB port / trivial app: {share:.1%}   target >= 70 %: {'met' if share >= 0.7 else 'NOT met'}"
    )
    print(
        f"   live meanwhile: page clock behind by {med('live.page_lag_p50_s'):.2f} s (max "
        f"{med('live.page_lag_max_s'):.2f} s, target <= 1 s); DescribeServices p50 "
        f"{med('live.describe_services_p50_ms'):.1f} ms, p99 {med('live.describe_services_p99_ms'):.1f} ms "
        f"(target <= 20 ms)"
    )
    for r in results:
        c = r["counted"]
        same = (c["client_requests"], c["client_by_status"]) == (
            c["stats_requests"],
            dict(c["stats_by_status"]),
        )
        print(
            f"   speed 1, 8 connections, 2,000 requests: client p50 {c['client_p50_ms']:.2f} ms,"
            f" model p50 {c['model_p50_ms']:.2f} ms; client {c['client_requests']} "
            f"{c['client_by_status']}, stats {c['stats_requests']} {c['stats_by_status']}:"
            f" {'the same' if same else 'DIFFERENT'}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    e = sub.add_parser("ecsim")
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--alb-port", type=int, required=True)
    e.add_argument("--speed", type=float, default=100.0)
    e.add_argument("--tasks", type=int, default=3)
    t = sub.add_parser("trivial")
    t.add_argument("--port", type=int, required=True)
    c = sub.add_parser("load")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--connections", type=int, default=64)
    c.add_argument("--seconds", type=float, default=10.0)
    c.add_argument("--total", type=int, default=None)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--speed", type=float, default=100.0)
    ap.add_argument("--tasks", type=int, default=3)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--client", choices=("wrk", "own"), default=None)
    ap.add_argument("--json", action="store_true", help="print each run's JSON too")
    a = ap.parse_args()
    if a.cmd == "ecsim":
        serve_ecsim(a.port, a.alb_port, a.speed, a.tasks)
    elif a.cmd == "trivial":
        serve_trivial(a.port)
    elif a.cmd == "load":
        seconds = a.seconds if a.seconds > 0 else 3600.0
        print(json.dumps(asyncio.run(_load(a.port, a.connections, seconds, a.total))))
    else:
        client = a.client or default_client()
        turn = a.seconds / SLICES
        if not (0 < a.seconds <= MAX_SECONDS) or a.connections < 1 or a.runs < 1:
            ap.error(
                f"--seconds must be above 0 and at most {MAX_SECONDS:g}, --connections and --runs at least 1"
            )
        if client == "wrk" and (turn < 1 or turn != int(turn)):
            ap.error(f"--seconds: {SLICES} turns of whole seconds each (wrk counts whole seconds)")
        results = [run(a.connections, a.seconds, a.speed, client, a.tasks) for _ in range(a.runs)]
        if a.json:
            for r in results:
                print(json.dumps(r))
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
