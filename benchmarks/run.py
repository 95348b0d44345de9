"""Run ecsim's benchmarks and print their figures: median of N runs, with min and max.

    python -m benchmarks                 # 1 to 4, 5 runs each
    python -m benchmarks --only 1,4      # some of them
    python -m benchmarks --runs 7
    python -m benchmarks --only 6       # the ALB's real port (python -m benchmarks.alb_port)
    python -m benchmarks --only 8       # the AWS API (python -m benchmarks.aws_api)

Every run is a fresh process (`python -m benchmarks.cases ...`), so peak memory is that run's.
Benchmark 3 builds its world once (minutes: the control plane), pickles it, and every run
starts from the pickle; its build time is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import alb_port
from ecsim.model.dataplane import lor
from ecsim.sim.heap import keep_freed_heap

ROOT = Path(__file__).resolve().parent.parent


def case(*args: str) -> dict[str, Any]:
    """One run in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.cases", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmarks.cases {' '.join(args)} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def spread(values: list[float], fmt: Callable[[float], str]) -> str:
    return f"{fmt(statistics.median(values))}  (min {fmt(min(values))}, max {fmt(max(values))})"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def mega(x: float) -> str:
    return f"{x / 1e6:.2f} M"


def secs(x: float) -> str:
    return f"{x:.2f} s"


def mib(x: float) -> str:
    return f"{x:.1f} MiB"


def bench1(runs: int) -> None:
    print("1. Data plane: 10 healthy targets, 1,000,000 requests at 1,000 req/s, lognormal")
    print("   answer times (median 20 ms); simulated requests per wall second")
    for algorithm, target in (("round_robin", 5e6), ("least_outstanding_requests", 1e6)):
        results = [case("dataplane", "--algorithm", algorithm) for _ in range(runs)]
        rates = [r["req_per_s"] for r in results]
        faults = [r["minor_page_faults"] for r in results]
        med = statistics.median(rates)
        print(
            f"   {algorithm:28s} {spread(rates, mega)} req/s"
            f"   target >= {target / 1e6:.0f} M: {verdict(med >= target)}"
        )
        print(f"   {'':28s} minor page faults while it runs: {spread(faults, '{:,.0f}'.format)}")


def bench2(runs: int) -> None:
    print("2. The hour: 3 services x 10 tasks behind one ALB, 500 req/s in all, health checks")
    print("   every 10 s, a task killed every 5 minutes, one simulated hour")
    fast, ref, ratio, dp = [], [], [], []
    for _ in range(runs):
        a = case("hour")
        b = case("hour", "--reference")
        if (a["requests"], a["by_status"]) != (b["requests"], b["by_status"]):
            raise RuntimeError(f"the fast path and the reference disagree: {a} {b}")
        fast.append(a["wall_s"])
        dp.append(a["dataplane_s"])
        ref.append(b["wall_s"])
        ratio.append(b["wall_s"] / a["wall_s"])
    requests = a["requests"]
    print(f"   requests {requests:,}, answers {a['by_status']}, tasks killed {a['killed']}")
    print(
        f"   fast path     {spread(fast, secs)}   simulated/wall "
        f"{3600 / statistics.median(fast):,.0f}x   target <= 1 s: "
        f"{verdict(statistics.median(fast) <= 1)}"
    )
    print(f"     of which the data plane (flushes) {spread(dp, secs)}")
    print(
        f"   reference     {spread(ref, secs)}   simulated/wall {3600 / statistics.median(ref):,.0f}x"
    )
    print(
        f"   fast / reference speed-up {spread(ratio, lambda x: f'{x:.1f}x')}"
        f"   target >= 100x: {verdict(statistics.median(ratio) >= 100)}"
    )


def bench3(runs: int, lbs: int = 10, rate: int = 5000) -> list[dict[str, Any]]:
    if lbs == 10:
        print("3. Scale: 1,000 services x 10 tasks behind 10 ALBs (100 target groups each),")
        print("   5,000 req/s in all, one simulated hour")
    size = ["--lbs", str(lbs), "--rate", str(rate)]
    with tempfile.TemporaryDirectory() as tmp:
        world = os.path.join(tmp, "scale.pickle")
        try:
            built = case("scale-build", "--out", world, "--lbs", str(lbs))
        except RuntimeError as e:  # a world that cannot be pickled: each run builds its own
            print(f"   the world could not be pickled ({str(e).strip().splitlines()[-1]});")
            print("   each run builds its own (not counted in wall; in peak memory)")
            results = [case("scale", *size) for _ in range(runs)]
        else:
            print(f"   build (not counted): {built['build_s']:.0f} s, {built['tasks']:,} tasks")
            results = [case("scale", "--world", world, *size) for _ in range(runs)]
    if lbs != 10:
        return results
    wall = [r["wall_s"] for r in results]
    dp = [r["dataplane_s"] for r in results]
    rss = [r["peak_rss_mib"] for r in results]
    print(f"   requests {results[0]['requests']:,}")
    print(
        f"   wall          {spread(wall, secs)}   target <= 60 s: {verdict(statistics.median(wall) <= 60)}"
    )
    print(f"     of which the data plane (flushes) {spread(dp, secs)}")
    print(
        f"   peak memory   {spread(rss, mib)} (process, incl. the loaded world)"
        f"   target <= 1 GiB: {verdict(statistics.median(rss) <= 1024)}"
    )
    return results


def bench5(runs: int) -> None:
    print("5. Large scale: 10,000 services x 10 tasks behind 100 ALBs (100 target groups each),")
    print("   50,000 req/s in all, one simulated hour (the world takes long to build)")
    results = bench3(runs, lbs=100, rate=50_000)
    wall = [r["wall_s"] for r in results]
    rss = [r["peak_rss_mib"] for r in results]
    print(f"   requests {results[0]['requests']:,}")
    print(
        f"   wall          {spread(wall, secs)}   aim <= 3 min: "
        f"{verdict(statistics.median(wall) <= 180)}"
    )
    print(
        f"     of which the data plane (flushes) {spread([r['dataplane_s'] for r in results], secs)}"
    )
    print(
        f"   peak memory   {spread(rss, mib)}   aim <= 4 GiB: "
        f"{verdict(statistics.median(rss) <= 4096)}"
    )


def bench4(runs: int) -> None:
    print("4. Memory: benchmark 1 (round robin) at 1 and 10 million requests; peak memory")
    variants = (
        ("a. as specified, 1,000 req/s (10 M requests = 10x the simulated time)", "1000", None),
        (
            "b. the same 1,000 simulated seconds (10x the rate; capacity 5,000/s: no queue)",
            None,
            "5000",
        ),
    )
    for title, rate, capacity in variants:
        print(f"   {title}")
        rss: dict[int, float] = {}
        for requests in (1_000_000, 10_000_000):
            args = ["dataplane", "--requests", str(requests)]
            args += ["--rate", rate or str(requests / 1000)]
            if capacity:
                args += ["--capacity", capacity]
            rs = [case(*args) for _ in range(runs)]
            tr = [case(*args, "--trace-memory") for _ in range(runs)]
            rss[requests] = statistics.median(r["peak_rss_mib"] for r in rs)
            print(
                f"   {requests:>10,} requests: peak RSS {spread([r['peak_rss_mib'] for r in rs], mib)};"
                f" Python heap (tracemalloc) peak {spread([r['traced_peak_mib'] for r in tr], mib)},"
                f" kept at the end {spread([r['traced_end_mib'] for r in tr], mib)}"
            )
        growth = rss[10_000_000] / rss[1_000_000] - 1
        print(
            f"   10 M vs 1 M peak RSS: {growth:+.1%}   target within 10%: "
            f"{verdict(abs(growth) <= 0.10)}"
        )


def bench7(runs: int) -> None:
    from benchmarks.sweep_bench import report

    report(runs, spread, verdict)


def bench6(runs: int) -> None:
    print("6. The ALB's real port: a trivial ASGI app on uvicorn and `ecsim serve --alb-port`")
    print(
        "   (speed 100; httptools and uvloop both), 64 connections for 10 s each; the live server meanwhile"
    )
    alb_port.report(
        [alb_port.run(64, 10.0, 100.0, alb_port.default_client(), 3) for _ in range(runs)]
    )


def bench8(runs: int) -> None:
    from benchmarks import aws_api

    print("8. The AWS API: DescribeServices from 8 concurrent boto3 clients (processes of their")
    print("   own) against `ecsim serve` (the demo world, speed 1) and a bare server answering")
    print("   ecsim's bytes, taking turns, 10 s each")
    aws_api.report([aws_api.run(8, 10.0) for _ in range(runs)])


def calibrate() -> str:
    """Fixed workloads, to compare the host's speed across runs (lower is faster)."""
    py, gen = [], []
    for _ in range(5):
        t = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i & 7
        py.append(time.process_time() - t)
        t = time.process_time()
        generator = np.random.Generator(np.random.Philox(key=1))
        for _ in range(10):  # in blocks: the runner stays small (see cases.peak_rss_mib)
            generator.random(1_000_000)
        gen.append(time.process_time() - t)
    return (
        f"host speed (median of 5, lower is faster): a Python loop of 1 M steps "
        f"{statistics.median(py) * 1e3:.0f} ms, 10 M Philox uniforms "
        f"{statistics.median(gen) * 1e3:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--only",
        default="1,2,3,4",
        help="which benchmarks, e.g. 1,4 (5: 10,000 services, 6: the ALB port, 7: a sweep,"
        " 8: the AWS API)",
    )
    args = parser.parse_args()
    chosen = {int(x) for x in args.only.split(",")}
    print(
        f"ecsim benchmarks: median of {args.runs} runs (min, max). Python "
        f"{platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(calibrate())
    walk = "compiled (_lor.pyx)" if lor.compiled_walk else "in Python (_lor.pyx not built)"
    heap = "kept" if keep_freed_heap() else "glibc's default"
    print(f"least outstanding requests walk: {walk}; freed heap memory: {heap}")
    started = time.perf_counter()
    for number, bench in (
        (1, bench1),
        (2, bench2),
        (3, bench3),
        (4, bench4),
        (5, bench5),
        (6, bench6),
        (7, bench7),
        (8, bench8),
    ):
        if number in chosen:
            print()
            bench(args.runs)
    print(f"\n(total {time.perf_counter() - started:.0f} s; {calibrate()})")


if __name__ == "__main__":
    main()
