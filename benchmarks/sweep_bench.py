"""Benchmark 7: a sweep of 200 runs of a 10-minute scenario (the built-in rolling-deployment:
3 tasks, 50 or 100 requests/s, a deploy at 1m), on 1 and 2 local worker processes and on a
Dask cluster of 2 worker processes on this machine.

    python -m benchmarks --only 7

Figures: runs per wall second with 1 and 2 local workers (the pool started inside the timed
sweep, as `ecsim sweep` does), their ratio (target >= 1.8x on 2 cores), and the Dask path's
overhead per run against the local path with the same 2 workers, both warm (the pool, or the
cluster, started and used once before the clock runs; target <= 10 %). The rows of every
path are checked equal before any figure is printed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import ecsim
from ecsim.sweep import Sweep, load_text
from ecsim.sweep.executors import local_executor

SWEEP = """name: bench
scenario: rolling-deployment
seed: 0
seeds: 100
set:
  expect: []
parameters:
  - path: traffic[0].rate
    values: [50, 100]
metrics: [availability, errors, latency_p99, deployment_duration, task_hours]
"""
RUNS = 200


def spec() -> Sweep:
    s = load_text(SWEEP, "bench.yaml")
    assert s.runs() == RUNS
    return s


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def measure(repeats: int) -> dict[str, Any]:
    s = spec()
    one, two, warm, dask = [], [], [], []
    reference = None
    for _ in range(repeats):
        t, table = timed(lambda: ecsim.sweep(s, workers=1))
        one.append(t)
        reference = reference or table.rows
        assert table.rows == reference
        t, table = timed(lambda: ecsim.sweep(s, workers=2))
        two.append(t)
        assert table.rows == reference
    with local_executor(2) as pool:
        ecsim.sweep(load_text(SWEEP.replace("seeds: 100", "seeds: 2"), "warm.yaml"), pool)
        for _ in range(repeats):
            t, table = timed(lambda: ecsim.sweep(s, pool))
            warm.append(t)
            assert table.rows == reference
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        ecsim.sweep(load_text(SWEEP.replace("seeds: 100", "seeds: 2"), "warm.yaml"), client)
        for _ in range(repeats):
            t, table = timed(lambda: ecsim.sweep(s, client))
            dask.append(t)
            assert table.rows == reference
    return {"one": one, "two": two, "warm": warm, "dask": dask}


def report(repeats: int, spread: Callable[..., str], verdict: Callable[[bool], str]) -> None:
    print("7. Sweeps: 200 runs of a 10-minute scenario (rolling-deployment, 2 points x 100")
    print("   seeds); runs per wall second, and the Dask path's overhead per run")
    m = measure(repeats)

    def rate(x: float) -> str:
        return f"{x:.1f} runs/s"

    def rates(key: str) -> list[float]:
        return [RUNS / t for t in m[key]]

    print(f"   local, 1 worker   {spread(rates('one'), rate)}")
    print(f"   local, 2 workers  {spread(rates('two'), rate)}")
    ratio = [a / b for a, b in zip(m["one"], m["two"], strict=True)]
    print(
        f"   2 workers / 1     {spread(ratio, lambda x: f'{x:.2f}x')}   target >= 1.8x: "
        f"{verdict(statistics.median(ratio) >= 1.8)}"
    )
    print(f"   local, 2 warm workers {spread(rates('warm'), rate)}")
    print(f"   Dask, 2 workers   {spread(rates('dask'), rate)}")
    over = (statistics.median(m["dask"]) - statistics.median(m["warm"])) / statistics.median(
        m["warm"]
    )
    per_run = (statistics.median(m["dask"]) - statistics.median(m["warm"])) / RUNS * 1000
    print(
        f"   Dask overhead per run against local (warm, 2 workers): {per_run:+.2f} ms "
        f"({over:+.1%})   target <= 10 %: {verdict(over <= 0.10)}"
    )
