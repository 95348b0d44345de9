"""The report's plots, drawn with matplotlib from the series a run folded from its events.

Each figure shares the x axis (scenario time in minutes) and marks the timeline's steps with
dotted vertical lines, so a fault and its effect line up across the plots."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ecsim.scenario.runner import Result
from ecsim.scenario.series import Series

WIDTH = 11.0
ROW = 2.6
STATUS_COLOURS = {
    "2xx": "#2ca02c",
    "3xx": "#17becf",
    "4xx": "#bcbd22",
    "500": "#9467bd",
    "502": "#d62728",
    "503": "#ff7f0e",
    "504": "#8c564b",
    "000": "#444444",
}
TARGET_COLOURS = {
    "healthy": "#2ca02c",
    "initial": "#9edae5",
    "unhealthy": "#d62728",
    "draining": "#ff7f0e",
    "unused": "#c7c7c7",
    "unavailable": "#7f7f7f",
}


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _grid(rows: int) -> tuple[Figure, Any]:
    """A figure of `rows` plots, one above the other (matplotlib's OO API: no global state)."""
    fig = Figure(figsize=(WIDTH, ROW * rows))
    axes = fig.subplots(rows, 1, squeeze=False)
    fig.subplots_adjust(hspace=0.55)
    return fig, axes


def _steps_xy(series: Series, end: float) -> tuple[list[float], list[float]]:
    """Points for a step plot over [0, end] in minutes."""
    changes = series.changes(0.0, end)
    xs = [t / 60 for t, _ in changes] + [end / 60]
    ys = [v for _, v in changes] + [changes[-1][1]]
    return xs, ys


def _marks(ax: Axes, result: Result, labels: bool) -> None:
    """A dotted line at each step; on the top plot, its label. Labels that would overlap the
    one before go one row lower."""
    placed: list[tuple[float, float, int]] = []  # (x, width in axes fraction, row)
    for record in result.steps:
        if record.step.do == "traffic.set_rate" and record.time == 0:
            continue
        ax.axvline(record.time / 60, color="#555555", linestyle=":", linewidth=1)
        if not labels or any(abs(x - record.time / result.end) < 1e-9 for x, _, _ in placed):
            continue
        label = record.step.label
        if record.step.name is None and record.step.do == "traffic.set_rate":
            label = f"load {record.args.get('rps', 0):g}/s"
        x = record.time / result.end if result.end else 0.0
        width = 0.0075 * len(label) + 0.01  # about the label's width at 8 pt on an 11 in plot
        busy = {row for px, pw, row in placed if x - px < pw}
        row = next(r for r in range(len(placed) + 1) if r not in busy)
        placed.append((x, width, row))
        ax.annotate(
            label,
            (record.time / 60, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3 - 11 * row),
            textcoords="offset points",
            fontsize=8,
            va="top",
            color="#333333",
        )


def _legend(ax: Axes, columns: int) -> None:
    """The legend above the plot's right corner, clear of the data."""
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=columns, fontsize=8, frameon=False)


def _finish(ax: Axes, result: Result, title: str, ylabel: str, first: bool) -> None:
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, result.end / 60)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    _marks(ax, result, labels=first)


def tasks_figure(result: Result) -> bytes:
    fold, end = result.fold, result.end
    services = sorted(fold.tasks)
    fig, axes = _grid(len(services))
    for i, (ax, svc) in enumerate(zip(axes[:, 0], services, strict=True)):
        for metric, colour, width, alpha, label in (
            ("desired_count", "#1f77b4", 7.0, 0.3, "desired"),
            ("pending_count", "#ff7f0e", 2.0, 1.0, "pending"),
            ("running_count", "#2ca02c", 2.0, 1.0, "running"),
        ):
            xs, ys = _steps_xy(fold.metric(metric, svc), end)
            ax.step(xs, ys, where="post", color=colour, linewidth=width, alpha=alpha, label=label)
        top = max(
            fold.metric("running_count", svc).highest(0, end),
            fold.metric("desired_count", svc).highest(0, end),
        )
        ax.set_ylim(-0.2, top + 1)
        ax.yaxis.get_major_locator().set_params(integer=True)
        _finish(ax, result, f"Tasks of service {svc}", "tasks", i == 0)
        _legend(ax, 3)
    axes[-1, 0].set_xlabel("scenario time (minutes)")
    return png(fig)


def targets_figure(result: Result) -> bytes:
    fold, end = result.fold, result.end
    groups = sorted(fold.targets)
    fig, axes = _grid(len(groups))
    for i, (ax, tg) in enumerate(zip(axes[:, 0], groups, strict=True)):
        series = fold.targets[tg]
        states = [s for s in TARGET_COLOURS if series[s].highest(0, end) > 0]
        times = sorted({0.0, end, *(t for s in states for t in series[s].times if 0 <= t <= end)})
        xs = [t / 60 for t in times]
        stacks = [[series[s].value_at(t) for t in times] for s in states]
        if states:
            ax.stackplot(
                xs,
                stacks,
                labels=states,
                colors=[TARGET_COLOURS[s] for s in states],
                step="post",
                alpha=0.9,
            )
        top = max((sum(col) for col in zip(*stacks, strict=True)), default=1)
        ax.set_ylim(0, top + 1)
        ax.yaxis.get_major_locator().set_params(integer=True)
        _finish(ax, result, f"Targets of target group {tg}, by health state", "targets", i == 0)
        _legend(ax, len(states) or 1)
    axes[-1, 0].set_xlabel("scenario time (minutes)")
    return png(fig)


def _status_class(code: str) -> str:
    if code in STATUS_COLOURS:
        return code
    if code[0] in "234":
        return f"{code[0]}xx"
    return "500" if code[0] == "5" else "000"


def bin_width(end: float) -> int:
    """Seconds per bar: about 200 bars over the run, at least five seconds (Poisson arrivals
    make single seconds noisy)."""
    return max(5, round(end / 200))


def requests_figure(result: Result) -> bytes:
    per_second = result.fold.answers_per_second()
    width = bin_width(result.end)
    bins = list(range(0, int(result.end), width))
    grouped: dict[int, Counter[str]] = {b: Counter() for b in bins}
    for second, counts in per_second.items():
        b = (second // width) * width
        if b in grouped:
            for code, n in counts.items():
                grouped[b][_status_class(code)] += n
    classes = [c for c in STATUS_COLOURS if any(grouped[b][c] for b in bins)]
    fig = Figure(figsize=(WIDTH, ROW * 1.2))
    ax = fig.subplots()
    if classes and bins:
        xs = [b / 60 for b in bins] + [bins[-1] / 60 + width / 60]
        stacks = [
            [grouped[b][c] / width for b in bins] + [grouped[bins[-1]][c] / width] for c in classes
        ]
        ax.stackplot(
            xs, stacks, labels=classes, colors=[STATUS_COLOURS[c] for c in classes], step="post"
        )
        _legend(ax, len(classes))
    _finish(ax, result, "Requests per second, by answer", "requests/s", True)
    ax.set_xlabel("scenario time (minutes)")
    return png(fig)


def latency_figure(result: Result) -> bytes:
    width = bin_width(result.end)
    xs, p50, p99 = [], [], []
    for a in range(0, int(result.end), width):
        stats = result.traffic(a, min(a + width, result.end))
        xs.append((a + width / 2) / 60)
        p50.append(stats["latency_ms"]["p50"])
        p99.append(stats["latency_ms"]["p99"])
    fig = Figure(figsize=(WIDTH, ROW * 1.2))
    ax = fig.subplots()
    ax.plot(xs, [float("nan") if v is None else v for v in p99], color="#d62728", label="p99")
    ax.plot(xs, [float("nan") if v is None else v for v in p50], color="#1f77b4", label="p50")
    values = [v for v in p50 + p99 if v]
    scale = "linear"
    if values:
        _legend(ax, 2)
        if max(values) / min(values) > 20:
            scale = "log"
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            ax.set_ylim(0, max(values) * 1.15)
    label = "ms (log scale)" if scale == "log" else "ms"
    _finish(ax, result, f"Latency seen by clients (per {width} s)", label, True)
    ax.set_xlabel("scenario time (minutes)")
    return png(fig)


def figures(result: Result) -> dict[str, bytes]:
    """Name -> PNG of every plot that has something to show."""
    out: dict[str, bytes] = {}
    if result.fold.tasks:
        out["tasks"] = tasks_figure(result)
    if result.fold.targets:
        out["targets"] = targets_figure(result)
    if result.fold.answers:
        out["requests"] = requests_figure(result)
        out["latency"] = latency_figure(result)
    return out
