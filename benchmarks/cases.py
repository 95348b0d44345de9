"""One run of one benchmark, in its own process: `python -m benchmarks.cases NAME [ARGS]`.

Prints one JSON object. The runner (`benchmarks/run.py`) starts a fresh process per run, so
that peak memory (`ru_maxrss`) belongs to that run alone.

Worlds are built through ecsim's public API (benchmarks/worlds.py); traffic starts once every
target is healthy and the clock is measured around `w.advance(...)` only, the setup apart.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import sys
import time
import tracemalloc
from typing import Any

from benchmarks.worlds import Fleet, fleet, start_traffic


def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB): `VmHWM`, the high-water mark of its own
    address space. (`ru_maxrss` is not: after fork and exec it is at least the parent's
    resident size at the fork, so a large runner would hide the run's own peak.)"""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def dataplane(
    requests: int, rate: float, algorithm: str, trace_memory: bool, capacity: str | None = None
) -> dict[str, Any]:
    """Benchmark 1 (and 4): 10 healthy targets, `requests` at `rate` req/s, lognormal answer
    times (median 20 ms); `capacity`: the app's requests per second (default 200)."""
    labels = {"ecsim.capacity": capacity} if capacity else None
    f = fleet(1, tasks=10, algorithm=algorithm, labels=labels)
    w = f.w
    start_traffic(f, rate)
    start = w.now
    if trace_memory:
        tracemalloc.start()
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0, c0 = time.perf_counter(), time.process_time()
    w.advance(requests / rate)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    page_faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
    out: dict[str, Any] = {}
    if trace_memory:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.update(traced_peak_mib=peak / 2**20, traced_end_mib=current / 2**20)
    answered = w.traffic.stats(since=start)["requests"]
    out.update(
        requests=answered,
        wall_s=wall,
        cpu_s=cpu,
        req_per_s=answered / wall,
        minor_page_faults=page_faults,
        peak_rss_mib=peak_rss_mib(),
        events=len(w.events()),
    )
    return out


def hour(reference: bool) -> dict[str, Any]:
    """Benchmark 2: 3 services x 10 tasks behind one ALB, 500 req/s in all, health checks
    every 10 s, one task killed every 5 minutes, one simulated hour."""
    f = fleet(2, lbs=1, services_per_lb=3, tasks=10, health_check_interval=10)
    w = f.w
    if reference:
        sys.path.insert(0, ".")
        from tests.reference_model import ReferenceDataPlane

        w.dataplane = ReferenceDataPlane(w, record_requests=False)  # type: ignore[assignment]
    start_traffic(f, 500)
    start = w.now
    in_flush = _time_flushes(w)
    t0, c0 = time.perf_counter(), time.process_time()
    killed = _kill_every(f, period=300.0, duration=3600.0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    stats = w.traffic.stats(since=start)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "dataplane_s": in_flush[0],
        "simulated_s": w.now - start,
        "speedup": (w.now - start) / wall,
        "requests": stats["requests"],
        "by_status": stats["by_status"],
        "killed": killed,
        "peak_rss_mib": peak_rss_mib(),
    }


def _kill_every(f: Fleet, period: float, duration: float) -> int:
    w = f.w
    end = w.now + duration
    killed = 0
    while w.now < end:
        w.advance(min(period, end - w.now))
        if w.now >= end:
            break
        service = f.services[killed % len(f.services)]
        arns = w.ecs.list_tasks(cluster="bench", serviceName=service, desiredStatus="RUNNING")
        if arns["taskArns"]:
            w.chaos.kill_task(sorted(arns["taskArns"])[0])
            killed += 1
    return killed


def _target_group_quota(lbs: int) -> None:
    """Room for `lbs` x 100 target groups: AWS's default quota is 3,000 per Region (raised on
    request), which benchmark 5's 10,000 services pass."""
    from ecsim.model.elbv2 import api

    api.MAX_TARGET_GROUPS = max(api.MAX_TARGET_GROUPS, 100 * lbs)


def scale_build(out: str, lbs: int = 10) -> dict[str, Any]:
    """Benchmark 3's world: 1,000 services x 10 tasks behind 10 ALBs (100 target groups each,
    path rules), every target healthy; pickled to `out` for the runs. Benchmark 5's: the
    same with 100 ALBs (10,000 services)."""
    t0 = time.perf_counter()
    _target_group_quota(lbs)
    f = fleet(3, lbs=lbs, services_per_lb=100, tasks=10)
    build = time.perf_counter() - t0
    with open(out, "wb") as fh:
        pickle.dump(f, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tasks = sum(len(tg.targets) for tg in f.w.elb.target_groups.values())
    return {"build_s": build, "tasks": tasks, "peak_rss_mib": peak_rss_mib()}


def scale(world: str | None, hours: float, rate: float = 5000.0, lbs: int = 10) -> dict[str, Any]:
    """Benchmark 3: 5,000 req/s in all over the scale world, one simulated hour (benchmark 5:
    50,000 req/s over its world of 100 ALBs)."""
    if world:
        with open(world, "rb") as fh:
            f = pickle.load(fh)
    else:
        _target_group_quota(lbs)
        f = fleet(3, lbs=lbs, services_per_lb=100, tasks=10)
    w = f.w
    start_traffic(f, rate)
    start = w.now
    in_flush = _time_flushes(w)
    t0, c0 = time.perf_counter(), time.process_time()
    w.advance(3600 * hours)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "dataplane_s": in_flush[0],
        "simulated_s": w.now - start,
        "requests": w.traffic.stats(since=start)["requests"],
        "events": len(w.events()),
        "peak_rss_mib": peak_rss_mib(),
    }


def _time_flushes(w: Any) -> list[float]:
    """Wall seconds spent in the data plane's flushes (where all requests are evaluated)."""
    spent = [0.0]
    dp = w.dataplane
    flush = dp.flush

    def timed(until: float | None = None) -> None:
        t = time.perf_counter()
        flush(until)
        spent[0] += time.perf_counter() - t

    dp.flush = timed
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)
    p = sub.add_parser("dataplane")
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--algorithm", default="round_robin")
    p.add_argument("--trace-memory", action="store_true")
    p.add_argument("--capacity", help="the app's capacity label (requests per second)")
    p = sub.add_parser("hour")
    p.add_argument("--reference", action="store_true")
    p = sub.add_parser("scale")
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--world", help="a world pickled by scale-build (else built here)")
    p.add_argument("--rate", type=float, default=5000.0, help="requests per second in all")
    p.add_argument("--lbs", type=int, default=10, help="load balancers (without --world)")
    p = sub.add_parser("scale-build")
    p.add_argument("--out", required=True)
    p.add_argument("--lbs", type=int, default=10, help="load balancers, 100 services each")
    args = parser.parse_args()
    if args.name == "dataplane":
        out = dataplane(args.requests, args.rate, args.algorithm, args.trace_memory, args.capacity)
    elif args.name == "hour":
        out = hour(args.reference)
    elif args.name == "scale":
        out = scale(args.world, args.hours, args.rate, args.lbs)
    else:
        out = scale_build(args.out, args.lbs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
