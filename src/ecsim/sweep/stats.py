"""Per parameter point and metric: how many runs gave a value, the median, the 5th and 95th
percentiles, the mean and the 95 % confidence interval of the mean (Student's t). Pure Python,
deterministic: the same table gives the same summary, bit for bit."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from ecsim.sweep.metrics import Value
from ecsim.sweep.spec import Sweep
from ecsim.sweep.table import Table, cell

# Student's t, two-sided 95 %, by degrees of freedom (then 40, 60, 120 and beyond).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
_T95_FAR = ((40, 2.021), (60, 2.000), (120, 1.980))


def t95(df: int) -> float:
    if df <= len(_T95):
        return _T95[df - 1]
    for limit, t in _T95_FAR:
        if df <= limit:
            return t
    return 1.960


def percentile(ordered: list[float], q: float) -> float:
    """The q-th quantile (0..1) of sorted values, interpolated linearly (numpy's default)."""
    x = q * (len(ordered) - 1)
    lo = math.floor(x)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (x - lo)


@dataclass(frozen=True)
class Stats:
    n: int
    missing: int
    median: float | None = None
    p5: float | None = None
    p95: float | None = None
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    min: float | None = None
    max: float | None = None

    def get(self, stat: str) -> float | None:
        value: float | None = getattr(self, stat)
        return value


def describe(values: list[Value]) -> Stats:
    numbers = sorted(
        float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
    )
    missing = len(values) - len(numbers)
    if not numbers:
        return Stats(0, missing)
    n = len(numbers)
    mean = math.fsum(numbers) / n
    half = 0.0
    if n > 1:
        sd = math.sqrt(math.fsum((x - mean) ** 2 for x in numbers) / (n - 1))
        half = t95(n - 1) * sd / math.sqrt(n)
    r = _round
    return Stats(
        n,
        missing,
        r(percentile(numbers, 0.5)),
        r(percentile(numbers, 0.05)),
        r(percentile(numbers, 0.95)),
        r(mean),
        r(mean - half),
        r(mean + half),
        r(numbers[0]),
        r(numbers[-1]),
    )


def _round(x: float) -> float:
    return round(x, 6)


def by_point(sweep: Sweep, table: Table, column: str) -> list[Stats]:
    """The stats of `column` at each point, in point order."""
    values: dict[int, list[Value]] = {p.index: [] for p in sweep.points}
    for r in table.rows:
        values[int(r["point"] or 0)].append(r[column])
    return [describe(values[p.index]) for p in sweep.points]


SUMMARY = ("n", "missing", "median", "p5", "p95", "mean", "ci95_low", "ci95_high")


def summary_csv(sweep: Sweep, table: Table) -> str:
    """One row per parameter point and metric column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    params = [p.name for p in sweep.parameters]
    writer.writerow(["point", *params, "metric", *SUMMARY])
    columns = sweep.metric_columns()
    stats = {c: by_point(sweep, table, c) for c in columns}
    for k, point in enumerate(sweep.points):
        for c in columns:
            s = stats[c][k]
            writer.writerow(
                [
                    point.index,
                    *(cell(point.values[p]) for p in params),
                    c,
                    s.n,
                    s.missing,
                    *(cell(v) for v in (s.median, s.p5, s.p95, s.mean, s.ci_low, s.ci_high)),
                ]
            )
    return out.getvalue()


def write_summary(sweep: Sweep, table: Table, path: Path) -> Path:
    path.write_text(summary_csv(sweep, table), "utf-8")
    return path
