"""A sweep's answer in one sentence, computed from its table (never written in advance):

- `compare: [columns]`: the median of each column at each point (the lowest and the highest
  when there are more than 4 points);
- `minimize: <column or parameter>` with `where: [conditions]`: among the points that meet
  every condition (`p95 latency_p99 < 200`: a statistic of a column over the point's runs),
  the one with the lowest median of the column (or the lowest value of the parameter).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from ecsim.sweep.spec import Condition, Point, Sweep
from ecsim.sweep.stats import Stats, by_point
from ecsim.sweep.table import Table

OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Answer:
    sentence: str
    chosen: Point | None = None  # minimize: the point chosen (None when none qualifies)
    qualifying: tuple[int, ...] = ()  # minimize: the points that meet every condition


def number(value: float | None, u: str) -> str:
    """`20.5 s`, `99.87 %`, `612`: a statistic with its unit."""
    if value is None:
        return "none"
    whole = value == int(value) or abs(value) >= 1000
    text = f"{value:,.0f}" if whole else f"{value:.4g}"
    return f"{text} {u}" if u else text


def at(point: Point) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in point.values.items()) + ")"


def conclude(sweep: Sweep, table: Table) -> Answer | None:
    c = sweep.conclusion
    if c is None:
        return None
    if c.minimize is not None:
        return _minimize(sweep, table, c.minimize, list(c.where))
    return Answer(_compare(sweep, table, list(c.compare)))


def _seeds(table: Table, sweep: Sweep) -> str:
    n = len(table.rows) // max(1, len(sweep.points))
    return f"median of {n} seed{'s' if n != 1 else ''} per point"


def _compare(sweep: Sweep, table: Table, columns: list[str]) -> str:
    parts = []
    for column in columns:
        medians = [
            (s.median, p) for s, p in zip(by_point(sweep, table, column), sweep.points, strict=True)
        ]
        known = [(m, p) for m, p in medians if m is not None]
        if not known:
            parts.append(f"{column} has no value at any point")
            continue
        if len(sweep.points) <= 4:
            listed = ", ".join(f"{number(m, sweep.unit(column))} at {at(p)}" for m, p in medians)
            parts.append(f"{column} is {listed}")
        else:
            lo = min(known, key=lambda x: x[0])
            hi = max(known, key=lambda x: x[0])
            parts.append(
                f"{column} is lowest at {at(lo[1])} ({number(lo[0], sweep.unit(column))}) and highest at "
                f"{at(hi[1])} ({number(hi[0], sweep.unit(column))})"
            )
    return f"{'; '.join(parts)} ({_seeds(table, sweep)})."


def _meets(stats: dict[str, list[Stats]], k: int, cond: Condition) -> bool:
    value = stats[cond.column][k].get(cond.stat)
    return value is not None and OPS[cond.op](value, cond.value)


def _minimize(sweep: Sweep, table: Table, target: str, where: list[Condition]) -> Answer:
    stats = {cond.column: by_point(sweep, table, cond.column) for cond in where}
    params = {p.name for p in sweep.parameters}
    if target not in params:
        stats[target] = by_point(sweep, table, target)
    ok = [k for k in range(len(sweep.points)) if all(_meets(stats, k, c) for c in where)]
    conditions = " and ".join(c.text for c in where) or "no condition"

    def key(k: int) -> tuple[float, int]:
        if target in params:
            v = sweep.points[k].values[target]
            return (float(v) if isinstance(v, int | float) else 0.0, k)
        m = stats[target][k].median
        return (float("inf") if m is None else m, k)

    def shown(k: int) -> str:
        got = [
            f"{c.stat} {c.column} {number(stats[c.column][k].get(c.stat), sweep.unit(c.column))}"
            for c in where
        ]
        if target not in params:
            got.insert(0, f"median {target} {number(stats[target][k].median, sweep.unit(target))}")
        return ", ".join(got)

    if not ok:
        if not where:
            return Answer("No point has a value to compare.")
        first = where[0]

        def distance(k: int) -> float:
            v = stats[first.column][k].get(first.stat)
            return float("inf") if v is None else abs(v - first.value)

        near = min(range(len(sweep.points)), key=distance)
        return Answer(
            f"No point meets {conditions} ({_seeds(table, sweep)}); the closest is "
            f"{at(sweep.points[near])} ({shown(near)})."
        )
    best = min(ok, key=key)
    what = f"the lowest {target}" if target in params else f"the lowest median {target}"
    others = [k for k in range(len(sweep.points)) if k not in ok]
    failing = ""
    if others:
        failing = "; not met at " + "; ".join(
            f"{at(sweep.points[k])} ({shown(k)})" for k in others[:3]
        )
        if len(others) > 3:
            failing += f" and {len(others) - 3} more"
    return Answer(
        f"{len(ok)} of {len(sweep.points)} points meet {conditions}, and {what} among them is at "
        f"{at(sweep.points[best])} ({shown(best)}){failing} ({_seeds(table, sweep)}).",
        sweep.points[best],
        tuple(ok),
    )
