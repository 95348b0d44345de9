"""Benchmark 8: the AWS API's throughput, DescribeServices from 8 concurrent boto3 clients.

    python -m benchmarks.aws_api                     # 8 clients, 10 s
    python -m benchmarks.aws_api --clients 8 --seconds 5 --runs 3

`ecsim serve`'s server (the demo world, its background traffic, speed 1) runs in a process of
its own; each client is a boto3 ECS client in a process of its own (so the clients' own work,
botocore's serializing, signing and parsing, is not serialized by one interpreter's lock),
calling DescribeServices in a loop, each call sent when the previous answer is read. All
clients start together after a warm-up call and stop together.

Figures: calls per second of all clients together, each call's p50/p99 as the client saw it,
errors; and the server process's CPU time per call (`/proc/<pid>/stat`), which bounds what the
server can answer (1 / CPU per call) whatever the clients cost. On this 2-core machine the
clients and the server share the cores: the calls/s figure is what this machine allows, the
CPU per call is the server's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.alb_port import HOST, free_port, pct, runner, stop, wait_up

ROOT = Path(__file__).resolve().parent.parent
CLUSTER, SERVICE = "home", "home-service"


def serve(port: int) -> None:
    """`ecsim serve` on the demo world, as started from the command line (speed 1)."""
    from ecsim.cli.serve import serve as run_server
    from ecsim.live.runtime import LiveWorld
    from ecsim.model.world import World

    live = LiveWorld(lambda seed: World.demo(seed=seed), speed=1.0)
    runner()(run_server(live, HOST, port, [], announce=lambda _: None))


def client(port: int, start_at: float, seconds: float) -> dict[str, Any]:
    """One boto3 client: a warm-up call, then DescribeServices in a loop from `start_at`
    (wall clock) for `seconds`."""
    import boto3

    ecs = boto3.client(
        "ecs",
        endpoint_url=f"http://{HOST}:{port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    ms: list[float] = []
    errors = 0
    cpu = time.process_time()
    while time.time() < end:
        began = time.perf_counter()
        try:
            out = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
            if not out["services"]:
                errors += 1
        except Exception:
            errors += 1
        ms.append(1000 * (time.perf_counter() - began))
    return {"ms": ms, "errors": errors, "cpu_s": time.process_time() - cpu}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid`."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(clients: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.aws_api", "serve", "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_up(port, server, "/ecsim/api/status")
        start_at = time.time() + 8.0  # the clients import boto3 and warm up meanwhile
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.aws_api",
                    "client",
                    "--port",
                    str(port),
                    "--start-at",
                    repr(start_at),
                    "--seconds",
                    repr(seconds),
                ],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(clients)
        ]
        time.sleep(max(0.0, start_at - time.time()))
        cpu0 = cpu_seconds(server.pid)
        time.sleep(seconds)
        cpu1 = cpu_seconds(server.pid)
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            if p.returncode != 0:
                raise RuntimeError(f"a client failed: {err.decode()}")
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        stop(server)
    ms = [x for r in results for x in r["ms"]]
    return {
        "clients": clients,
        "calls": len(ms),
        "calls_per_s": len(ms) / seconds,
        "p50_ms": pct(ms, 0.5),
        "p99_ms": pct(ms, 0.99),
        "errors": sum(r["errors"] for r in results),
        "server_cpu_ms_per_call": 1000 * (cpu1 - cpu0) / max(1, len(ms)),
        "client_cpu_ms_per_call": 1000 * sum(r["cpu_s"] for r in results) / max(1, len(ms)),
    }


def report(results: list[dict[str, Any]], spread: Any = None, verdict: Any = None) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    n = results[0]["clients"]
    rate = med("calls_per_s")
    ok = "met" if rate >= 1000 else "NOT met"
    print(
        f"   {n} boto3 clients: {rate:,.0f} calls/s (min {min(r['calls_per_s'] for r in results):,.0f},"
        f" max {max(r['calls_per_s'] for r in results):,.0f})   target >= 1,000: {ok}"
    )
    print(
        f"   per call as the clients saw it: p50 {med('p50_ms'):.1f} ms, p99 {med('p99_ms'):.1f} ms;"
        f" errors {sum(r['errors'] for r in results)}"
    )
    cpu = med("server_cpu_ms_per_call")
    print(
        f"   server CPU per call {cpu:.2f} ms: at most {1000 / cpu:,.0f} calls/s on one core"
        f" whatever the clients cost; the boto3 clients' own CPU per call"
        f" {med('client_cpu_ms_per_call'):.2f} ms"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    c = sub.add_parser("client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--start-at", type=float, required=True)
    c.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print each run's JSON too")
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a.port)
    elif a.cmd == "client":
        print(json.dumps(client(a.port, a.start_at, a.seconds)))
    else:
        results = [run(a.clients, a.seconds) for _ in range(a.runs)]
        if a.json:
            for r in results:
                print(json.dumps(r))
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
