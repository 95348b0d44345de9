"""Benchmark 8: the AWS API's throughput, DescribeServices from 8 concurrent boto3 clients.

    python -m benchmarks.aws_api                     # 8 clients, 10 s
    python -m benchmarks.aws_api --clients 8 --seconds 5 --runs 3

Two servers, each in a process of its own, take turns under the same clients, `SLICES`
slices of each in a run (so that the host's speed, which drifts from minute to minute,
weighs on both alike):

1. `ecsim serve`'s server (the demo world, its background traffic, speed 1);
2. a bare server: a trivial ASGI app on the same uvicorn configuration answering every call
   with the bytes ecsim answered the first DescribeServices with (and a request id of its
   own). What any server on Python's usual HTTP stack allows these clients on this machine:
   the ceiling of the calls/s figure.

Each client is a boto3 ECS client in a process of its own (so the clients' own work,
botocore's serializing, signing and parsing, is not serialized by one interpreter's lock),
calling DescribeServices in a loop, each call sent when the previous answer is read. All
clients start together after a warm-up call and switch servers together.

Figures, per server: calls per second of all clients together, each call's p50/p99 as the
client saw it, errors; the clients' CPU time per call; the server process's CPU time per call
(`/proc/<pid>/stat`, over its own slices), which bounds what the server can answer
(1 / CPU per call) whatever the clients cost. On this 2-core machine the clients and the
server share the cores: the calls/s figure is what this machine allows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.alb_port import HOST, MAX_SECONDS, free_port, pct, runner, stop, wait_up

ROOT = Path(__file__).resolve().parent.parent
CLUSTER, SERVICE = "home", "home-service"
SERVERS = ("ecsim", "bare")
SLICES = 5  # turns of each server within a run
TARGET = "AmazonEC2ContainerServiceV20141113.DescribeServices"


def serve(port: int) -> None:
    """`ecsim serve` on the demo world, as started from the command line (speed 1)."""
    from ecsim.cli.serve import serve as run_server
    from ecsim.live.runtime import LiveWorld
    from ecsim.model.world import World

    live = LiveWorld(lambda seed: World.demo(seed=seed), speed=1.0)
    runner()(run_server(live, HOST, port, [], announce=lambda _: None))


def describe_services_answer(port: int) -> tuple[bytes, bytes]:
    """The body and content type of ecsim's answer to the benchmark's call."""
    import urllib.request

    call = urllib.request.Request(
        f"http://{HOST}:{port}/",
        data=json.dumps({"cluster": CLUSTER, "services": [SERVICE]}).encode(),
        headers={"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"},
    )
    with urllib.request.urlopen(call, timeout=30) as answer:
        return answer.read(), answer.headers["content-type"].encode()


def serve_bare(port: int, ecsim_port: int) -> None:
    """A trivial ASGI app answering every call with ecsim's answer's bytes, on the uvicorn
    configuration `ecsim serve` gives its main port."""
    import uvicorn

    from ecsim import awsapi

    body, media = describe_services_answer(ecsim_port)
    length = b"%d" % len(body)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # the request's body, as any server reads it
            more = (await receive()).get("more_body", False)
        headers = [
            (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
            (b"content-length", length),
            (b"content-type", media),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    config = awsapi.uvicorn_config(app, HOST, port, awsapi.API, log_level="warning", lifespan="off")
    runner()(uvicorn.Server(config).serve())


def client(ports: list[int], start_at: float, seconds: float) -> dict[str, Any]:
    """One boto3 client per server: a warm-up call each, then DescribeServices in a loop,
    from `start_at` (wall clock), `SLICES` turns of `seconds / SLICES` on each server in
    turn."""
    import boto3

    clients = [
        boto3.client(
            "ecs",
            endpoint_url=f"http://{HOST}:{port}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        for port in ports
    ]
    for ecs in clients:
        ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
    time.sleep(max(0.0, start_at - time.time()))
    turn = seconds / SLICES
    out: list[dict[str, Any]] = [{"ms": [], "errors": 0, "cpu_s": 0.0} for _ in clients]
    for k in range(SLICES * len(clients)):
        which = k % len(clients)
        ecs, mine = clients[which], out[which]
        end = start_at + (k + 1) * turn
        cpu = time.process_time()
        while time.time() < end:
            began = time.perf_counter()
            try:
                answer = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
                if not answer["services"]:
                    mine["errors"] += 1
            except Exception:
                mine["errors"] += 1
            mine["ms"].append(1000 * (time.perf_counter() - began))
        mine["cpu_s"] += time.process_time() - cpu
    return {"servers": out}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid`."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(clients: int, seconds: float) -> dict[str, Any]:
    """One run: both servers, taking turns under `clients` clients, `seconds` each."""
    port, bare_port = free_port(), free_port()
    server = _spawn("serve", "--port", str(port))
    bare: subprocess.Popen[bytes] | None = None
    try:
        wait_up(port, server, "/ecsim/api/status")
        bare = _spawn("bare", "--port", str(bare_port), "--ecsim-port", str(port))
        wait_up(bare_port, bare, "/")
        start_at = time.time() + 8.0  # the clients import boto3 and warm up meanwhile
        ports, when = f"{port},{bare_port}", repr(start_at)
        procs = [
            _spawn("client", "--ports", ports, "--start-at", when, "--seconds", repr(seconds))
            for _ in range(clients)
        ]
        pids = (server.pid, bare.pid)
        cpu = [0.0, 0.0]
        turn = seconds / SLICES
        for k in range(SLICES * len(SERVERS)):  # each server's CPU over its own turns
            time.sleep(max(0.0, start_at + k * turn - time.time()))
            before = cpu_seconds(pids[k % 2])
            time.sleep(max(0.0, start_at + (k + 1) * turn - time.time()))
            cpu[k % 2] += cpu_seconds(pids[k % 2]) - before
        results = []
        for p in procs:
            printed, err = p.communicate(timeout=120)
            if p.returncode != 0:
                raise RuntimeError(f"a client failed: {err.decode()}")
            results.append(json.loads(printed.decode().strip().splitlines()[-1])["servers"])
    finally:
        stop(server)
        if bare is not None:
            stop(bare)
    out: dict[str, Any] = {"clients": clients}
    for i, name in enumerate(SERVERS):
        mine = [r[i] for r in results]
        ms = [x for r in mine for x in r["ms"]]
        calls = max(1, len(ms))
        out[name] = {
            "calls": len(ms),
            "calls_per_s": len(ms) / seconds,
            "p50_ms": pct(ms, 0.5),
            "p99_ms": pct(ms, 0.99),
            "errors": sum(r["errors"] for r in mine),
            "server_cpu_ms_per_call": 1000 * cpu[i] / calls,
            "client_cpu_ms_per_call": 1000 * sum(r["cpu_s"] for r in mine) / calls,
        }
    out["ratio"] = out["ecsim"]["calls_per_s"] / max(1e-9, out["bare"]["calls_per_s"])
    return out


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    """`python -m benchmarks.aws_api ARGS` in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.aws_api", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE if args[0] == "client" else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def report(results: list[dict[str, Any]]) -> None:
    n = results[0]["clients"]
    for name in SERVERS:
        runs = [r[name] for r in results]

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        rate = med("calls_per_s")
        verdict = (
            ("   target >= 1,000: " + ("met" if rate >= 1000 else "NOT met"))
            if name == "ecsim"
            else ""
        )
        cpu = med("server_cpu_ms_per_call")
        print(
            f"   {name:<5}  {rate:,.0f} calls/s (min {min(r['calls_per_s'] for r in runs):,.0f},"
            f" max {max(r['calls_per_s'] for r in runs):,.0f}) from {n} boto3 clients{verdict}"
        )
        print(
            f"          per call: p50 {med('p50_ms'):.1f} ms, p99 {med('p99_ms'):.1f} ms, errors"
            f" {sum(r['errors'] for r in runs)}; server CPU {cpu:.2f} ms (at most"
            f" {1000 / max(cpu, 1e-9):,.0f} calls/s on one core); clients' CPU"
            f" {med('client_cpu_ms_per_call'):.2f} ms"
        )
    ratio = statistics.median(r["ratio"] for r in results)
    print(
        f"   ecsim / bare server: {100 * ratio:.1f} % (the bare server's calls/s is what these"
        " clients reach on this machine with any server on this HTTP stack)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    b = sub.add_parser("bare")
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--ecsim-port", type=int, required=True)
    c = sub.add_parser("client")
    c.add_argument("--ports", required=True, help="the servers' ports, comma-separated")
    c.add_argument("--start-at", type=float, required=True)
    c.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0, help="each server's time in a run")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print each run's JSON too")
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a.port)
    elif a.cmd == "bare":
        serve_bare(a.port, a.ecsim_port)
    elif a.cmd == "client":
        ports = [int(p) for p in a.ports.split(",")]
        print(json.dumps(client(ports, a.start_at, a.seconds)))
    else:
        if not (0 < a.seconds <= MAX_SECONDS) or a.clients < 1 or a.runs < 1:
            ap.error(
                f"--seconds must be above 0 and at most {MAX_SECONDS:g}, --clients and --runs at least 1"
            )
        results = [run(a.clients, a.seconds) for _ in range(a.runs)]
        if a.json:
            for r in results:
                print(json.dumps(r))
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
