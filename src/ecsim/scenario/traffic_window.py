"""Traffic metrics over a window of scenario time, read from the world's statistics."""

from __future__ import annotations

from typing import Any

from ecsim.model.world import World


def window(
    w: World, t0: float, a: float, b: float, load_balancer: str | None = None
) -> dict[str, Any]:
    """`w.traffic.stats` over [t0 + a, t0 + b), plus availability (% of answers that are not
    5xx and not a failed connection) and requests per second."""
    stats = w.traffic.stats(since=t0 + a, until=t0 + b, load_balancer=load_balancer)
    total = int(stats["requests"])
    bad = sum(n for code, n in stats["by_status"].items() if code[0] == "5" or code == "000")
    stats["availability"] = None if total == 0 else 100.0 * (total - bad) / total
    stats["rps"] = total / (b - a) if b > a else None
    return stats


def metric(stats: dict[str, Any], name: str) -> float | None:
    """One traffic metric (see conditions.py) of a `window()`."""
    if name == "requests":
        return float(stats["requests"])
    if name in ("rps", "availability"):
        value = stats[name]
        return None if value is None else float(value)
    if name in ("latency_p50", "latency_p99"):
        value = stats["latency_ms"][name.removeprefix("latency_")]
        return None if value is None else float(value)
    if name in ("from_elb", "from_target"):
        return float(stats["by_source"].get(name.removeprefix("from_"), 0))
    code = name.removeprefix("status_")
    if code.endswith("xx"):
        return float(sum(n for c, n in stats["by_status"].items() if c[0] == code[0]))
    return float(stats["by_status"].get(code, 0))
