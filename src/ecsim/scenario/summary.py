"""The numbers that matter after a run: requests by answer and by who answered, availability,
latency p50/p99, the fewest running and healthy tasks, and the time to recover after each
fault. Plain values only, rounded, so a summary can be compared with a golden copy."""

from __future__ import annotations

from typing import Any

from ecsim.scenario.operations import FAULTS
from ecsim.scenario.runner import Result
from ecsim.scenario.series import Series, combine


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def whole(result: Result) -> Series:
    """1 while every service runs its desired count and each of its target groups has as many
    healthy targets as the services using it want; 0 otherwise."""
    fold = result.fold
    parts: list[Series] = []
    checks: list[tuple[int, list[int]]] = []  # (index of running, indexes of desired) >=
    users: dict[str, list[str]] = {}
    for svc, groups in result.services.items():
        for tg in groups:
            users.setdefault(tg, []).append(svc)

    def index(s: Series) -> int:
        parts.append(s)
        return len(parts) - 1

    for svc in result.services:
        checks.append(
            (index(fold.metric("running_count", svc)), [index(fold.metric("desired_count", svc))])
        )
    for tg, svcs in users.items():
        checks.append(
            (
                index(fold.metric("healthy_targets", tg)),
                [index(fold.metric("desired_count", s)) for s in svcs],
            )
        )
    if not parts:
        return Series(initial=1.0)

    def ok(values: list[float]) -> float:
        return float(all(values[have] >= sum(values[w] for w in want) for have, want in checks))

    return combine(parts, ok)


def faults(result: Result) -> list[dict[str, Any]]:
    """For each fault step: whether it disrupted the service (before the next fault) and how
    long after it everything was whole again."""
    ran = [r for r in result.steps if r.step.do in FAULTS and r.error is None]
    state = whole(result)
    out = []
    for i, record in enumerate(ran):
        t = record.time
        next_fault = ran[i + 1].time if i + 1 < len(ran) else result.end
        broke = state.first_where(t, max(t, next_fault - 1e-6), lambda v: v < 1)
        entry: dict[str, Any] = {
            "at_s": _r(t),
            "do": record.step.do,
            "step": record.step.label,
            "disrupted": broke is not None,
            "recovered_after_s": 0.0 if broke is None else None,
        }
        if broke is not None:
            back = state.first_where(broke[0], result.end, lambda v: v >= 1)
            entry["recovered_after_s"] = None if back is None else _r(back[0] - t)
        out.append(entry)
    return out


def summarize(result: Result) -> dict[str, Any]:
    end = result.end
    fold = result.fold
    stats = result.traffic(0.0, end)
    services = {}
    for svc in sorted(fold.tasks):
        running = fold.metric("running_count", svc)
        desired = fold.metric("desired_count", svc)
        services[svc] = {
            "desired_at_end": int(desired.value_at(end)),
            "running_at_end": int(running.value_at(end)),
            "min_running": int(running.lowest(0, end)),
            "max_running": int(running.highest(0, end)),
            "max_pending": int(fold.metric("pending_count", svc).highest(0, end)),
        }
    target_groups = {}
    for tg in sorted(fold.targets):
        healthy = fold.metric("healthy_targets", tg)
        target_groups[tg] = {
            "healthy_at_end": int(healthy.value_at(end)),
            "min_healthy": int(healthy.lowest(0, end)),
            "max_unhealthy": int(fold.metric("unhealthy_targets", tg).highest(0, end)),
        }
    summary: dict[str, Any] = {
        "scenario": result.scenario.name,
        "seed": result.world.seed,
        "duration_s": _r(end),
        "started_at_s": _r(result.t0),
        "passed": result.passed,
        "requests": {
            "total": stats["requests"],
            "by_status": stats["by_status"],
            "by_source": stats["by_source"],
        },
        "availability_percent": _r(stats["availability"], 4),
        "latency_ms": stats["latency_ms"],
        "services": services,
        "target_groups": target_groups,
        "faults": faults(result),
        "steps": [r.to_dict() for r in result.steps],
        "expectations": [o.to_dict() for o in result.outcomes],
    }
    if result.unsteady:  # only then: the summaries of steady worlds stay as they were
        summary["not_steady"] = list(result.unsteady)
    return summary
