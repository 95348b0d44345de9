"""A sweep's HTML report: one self-contained page (plots embedded as PNG data URIs) whose
plots answer the question at a glance, drawn with matplotlib's object API (no global state).

- one parameter: for each metric, the median against the parameter's values, with a band from
  the 5th to the 95th percentile;
- two parameters: for each metric, a heatmap of the median over the grid, each cell labelled;
- more: the median at each point, in point order;
- and for each metric, the distribution over the seeds at each point (box plots).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from matplotlib.figure import Figure

from ecsim.model.durations import parse_duration
from ecsim.sweep.conclude import conclude, number
from ecsim.sweep.metrics import Value
from ecsim.sweep.spec import Sweep
from ecsim.sweep.stats import Stats, by_point
from ecsim.sweep.table import Table, cell

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
.answer { background: #f6f8fa; padding: 1em; border-radius: 6px; }
img { max-width: 100%; } table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
.row { display: flex; flex-wrap: wrap; gap: 1em; } .row img { max-width: 560px; }
"""


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _x(values: list[Value]) -> list[float] | None:
    """Parameter values as numbers (durations in seconds), or None if they are not."""
    out = []
    for v in values:
        if isinstance(v, bool):
            return None
        if isinstance(v, int | float):
            out.append(float(v))
            continue
        try:
            out.append(parse_duration(str(v)))
        except ValueError:
            return None
    return out


def _label(sweep: Sweep, column: str) -> str:
    u = sweep.unit(column)
    return f"{column} ({u})" if u else column


def _lines(sweep: Sweep, column: str, stats: list[Stats]) -> str:
    p = sweep.parameters[0]
    values = [pt.values[p.name] for pt in sweep.points]
    xs = _x(values)
    fig = Figure(figsize=(5.6, 3.4))
    ax = fig.subplots()
    positions = xs if xs is not None else list(range(len(values)))
    kept = [(x, s) for x, s in zip(positions, stats, strict=True) if s.median is not None]
    if kept:
        ax.fill_between(
            [x for x, _ in kept],
            [s.p5 or 0.0 for _, s in kept],
            [s.p95 or 0.0 for _, s in kept],
            alpha=0.25,
            label="p5 - p95",
        )
        ax.plot(
            [x for x, _ in kept], [s.median or 0.0 for _, s in kept], marker="o", label="median"
        )
        ax.legend(fontsize=8)
    ax.set_xticks(positions, [str(v) for v in values])
    ax.set_xlabel(p.name)
    ax.set_ylabel(_label(sweep, column))
    ax.grid(alpha=0.3)
    return _png(fig)


def _heatmap(sweep: Sweep, column: str, stats: list[Stats]) -> str:
    a, b = sweep.parameters[0], sweep.parameters[1]
    grid = [[float("nan")] * len(b.values) for _ in a.values]
    for k, s in enumerate(stats):
        i, j = divmod(k, len(b.values))
        grid[i][j] = float("nan") if s.median is None else s.median
    fig = Figure(figsize=(5.6, 3.4))
    ax = fig.subplots()
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label=_label(sweep, column))
    ax.set_xticks(range(len(b.values)), [cell(v) for v in b.values])
    ax.set_yticks(range(len(a.values)), [cell(v) for v in a.values])
    ax.set_xlabel(b.name)
    ax.set_ylabel(a.name)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v == v:
                ax.text(j, i, f"{v:.4g}", ha="center", va="center", color="w", fontsize=8)
    ax.set_title(f"median {column}", fontsize=9)
    return _png(fig)


def _points(sweep: Sweep, column: str, stats: list[Stats]) -> str:
    fig = Figure(figsize=(5.6, 3.4))
    ax = fig.subplots()
    kept = [(k, s) for k, s in enumerate(stats) if s.median is not None]
    ax.errorbar(
        [k for k, _ in kept],
        [s.median or 0.0 for _, s in kept],
        yerr=[
            [(s.median or 0) - (s.p5 or 0) for _, s in kept],
            [(s.p95 or 0) - (s.median or 0) for _, s in kept],
        ],
        fmt="o",
    )
    ax.set_xlabel("point")
    ax.set_ylabel(_label(sweep, column))
    ax.grid(alpha=0.3)
    return _png(fig)


def _distribution(sweep: Sweep, table: Table, column: str) -> str:
    per: dict[int, list[float]] = {p.index: [] for p in sweep.points}
    for r in table.rows:
        v = r[column]
        if isinstance(v, int | float) and not isinstance(v, bool):
            per[int(r["point"] or 0)].append(float(v))
    fig = Figure(figsize=(5.6, 3.4))
    ax = fig.subplots()
    data = [per[p.index] for p in sweep.points]
    labels = [
        "\n".join(f"{cell(v)}" for v in p.values.values()) or str(p.index) for p in sweep.points
    ]
    ax.boxplot([d or [float("nan")] for d in data], whis=(5, 95))
    ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=7)
    ax.set_ylabel(_label(sweep, column))
    ax.set_title(f"{column} over the seeds at each point", fontsize=9)
    ax.grid(alpha=0.3)
    return _png(fig)


def render(sweep: Sweep, table: Table) -> str:
    e = html.escape
    answer = conclude(sweep, table)
    errors = sum(1 for r in table.rows if r["error"])
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ecsim sweep: {e(sweep.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(sweep.name)}</h1>",
        f"<p>{e(sweep.question)}</p>" if sweep.question else "",
        f"<p>Scenario {e(sweep.base)}; {len(sweep.points)} points x {sweep.seeds} seeds = "
        f"{len(table.rows)} runs ({errors} with an error); sweep {e(sweep.digest)}.</p>",
    ]
    if answer is not None:
        parts.append(f'<p class="answer">{e(answer.sentence)}</p>')
    for column in sweep.metric_columns():
        stats = by_point(sweep, table, column)
        u = sweep.unit(column)
        if not any(s.n for s in stats):
            continue
        values = {r[column] for r in table.rows}
        if len(values) == 1:  # the same in every run: said, not drawn
            parts.append(
                f"<h2>{e(column)}</h2><p>{e(number(stats[0].median, u))} in every run.</p>"
            )
            continue
        if len(sweep.parameters) == 1:
            main = _lines(sweep, column, stats)
        elif len(sweep.parameters) == 2:
            main = _heatmap(sweep, column, stats)
        else:
            main = _points(sweep, column, stats)
        parts.append(f"<h2>{e(column)}</h2><div class='row'>")
        parts.append(f'<img alt="{e(column)}" src="{main}">')
        parts.append(
            f'<img alt="{e(column)} distribution" src="{_distribution(sweep, table, column)}">'
        )
        parts.append(
            "</div><table><tr><th>point</th><th>median</th><th>p5 - p95</th><th>mean (95 % CI)</th><th>runs</th></tr>"
        )
        for point, s in zip(sweep.points, stats, strict=True):
            where = ", ".join(f"{k}={cell(v)}" for k, v in point.values.items())
            parts.append(
                f"<tr><td>{e(where)}</td><td>{e(number(s.median, u))}</td>"
                f"<td>{e(number(s.p5, u))} - {e(number(s.p95, u))}</td>"
                f"<td>{e(number(s.mean, u))} ({e(number(s.ci_low, u))} - "
                f"{e(number(s.ci_high, u))})</td><td>{s.n}</td></tr>"
            )
        parts.append("</table>")
    failed = [r for r in table.rows if r["error"]][:20]
    if failed:
        parts.append(
            "<h2>Runs with an error</h2><table><tr><th>point</th><th>seed</th><th>error</th></tr>"
        )
        for r in failed:
            parts.append(
                f"<tr><td>{r['point']}</td><td>{r['seed_index']}</td><td>{e(str(r['error']))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def write_report(sweep: Sweep, table: Table, folder: Path) -> Path:
    path = folder / "report.html"
    path.write_text(render(sweep, table), "utf-8")
    return path
