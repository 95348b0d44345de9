"""`ecsim sweep FILE|NAME`: run a sweep (here, or on a Dask cluster with --dask), with a
progress line and ETA on stderr; print the medians per point and the sweep's conclusion;
with --out DIR write runs.csv (runs.parquet with pyarrow), summary.csv and report.html.

Exit 0 when the sweep ran (runs that failed are rows with their error), 2 when the file or
an option is wrong (nothing runs), 1 when the cluster cannot be reached.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import click

from ecsim.scenario import ScenarioError
from ecsim.sweep import SeedsError, Sweep, Table, conclude, load, sweep
from ecsim.sweep.conclude import number
from ecsim.sweep.resume import ResumeError, done_rows
from ecsim.sweep.stats import by_point, write_summary
from ecsim.sweep.table import cell, has_pyarrow

RUNS = "runs.csv"


class ProgressLine:
    """`  120/400 runs  30 %  11.8 runs/s  ETA 0:24` on stderr: rewritten in place on a
    terminal, a line every tenth of the way otherwise. (Wall time, for the ETA only.)"""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.first: int | None = None
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if self.first is None:
            self.first = done - 1 if done else 0
        elapsed = time.monotonic() - self.started
        ran = done - self.first
        rate = ran / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        eta = f"{int(left // 60)}:{int(left % 60):02d}"
        text = (
            f"  {done}/{total} runs  {100 * done // max(1, total)} %  {rate:.1f} runs/s  ETA {eta}"
        )
        if self.tty:  # (click.echo flushes)
            click.echo("\r" + text.ljust(60), file=self.stream, nl=done == total)
        elif 10 * done // max(1, total) > self.shown:
            self.shown = 10 * done // max(1, total)
            click.echo(text, file=self.stream)


class RunsFile:
    """runs.csv written as rows arrive (an interrupted sweep keeps them for --resume), then
    rewritten sorted at the end."""

    def __init__(self, path: Path, columns: list[str], kept: list[dict[str, Any]]) -> None:
        self.path = path
        self.columns = columns
        self.file = path.open("w", encoding="utf-8", newline="", buffering=1)  # line by line
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.writer.writerow(columns)
        self.add(kept)

    def add(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            self.writer.writerow([cell(r.get(c)) for c in self.columns])

    def close(self) -> None:
        self.file.close()


def _fail(message: str) -> int:
    click.echo(f"error: {message}", err=True)
    return 2


def execute(
    name_or_file: str,
    seeds: int | None,
    workers: int | None,
    dask: str | None,
    out: str | None,
    resume: bool,
) -> int:
    if resume and out is None:
        raise click.BadParameter(
            "--resume needs --out DIR (the sweep to resume)", param_hint="--resume"
        )
    try:
        s = load(name_or_file, seeds=seeds)
    except SeedsError as e:
        raise click.BadParameter(str(e), param_hint="--seeds") from None
    except ScenarioError as e:
        return _fail(str(e))
    folder = Path(out) if out is not None else None
    kept: list[dict[str, Any]] = []
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            return _fail(f"--out {out}: not a directory")
        if resume:
            try:
                kept = done_rows(s, folder / RUNS)
            except (ResumeError, ScenarioError) as e:
                return _fail(str(e))
        folder.mkdir(parents=True, exist_ok=True)
    where = f"on {dask}" if dask else f"on {workers or os.cpu_count()} local worker(s)"
    click.echo(
        f"sweep {s.name}: {len(s.points)} points x {s.seeds} seeds = {s.runs()} runs of "
        f"{s.base} {where}" + (f", {len(kept)} already done" if kept else ""),
        err=True,
    )
    executor: Any = None
    if dask:
        try:
            from distributed import Client
        except ImportError:
            return _fail("--dask needs Dask distributed: pip install 'ecsim[dask]'")
        try:
            executor = Client(dask, timeout="20s")  # type: ignore[no-untyped-call, unused-ignore]
        except OSError as e:
            click.echo(f"error: --dask {dask}: cannot reach the scheduler: {e}", err=True)
            return 1
    runs = RunsFile(folder / RUNS, s.columns(), kept) if folder is not None else None
    try:
        table = sweep(
            s,
            executor,
            workers=workers,
            progress=ProgressLine(sys.stderr),
            on_rows=runs.add if runs is not None else None,
            done=kept,
        )
    finally:
        if runs is not None:
            runs.close()
        if executor is not None:
            executor.close()
    show(s, table)
    if folder is not None:
        write(s, table, folder)
    return 0


def write(s: Sweep, table: Table, folder: Path) -> None:
    from ecsim.sweep.report import write_report

    table.to_csv(folder / RUNS)
    written = [folder / RUNS]
    if has_pyarrow():
        written.append(table.to_parquet(folder / "runs.parquet"))
    written.append(write_summary(s, table, folder / "summary.csv"))
    written.append(write_report(s, table, folder))
    click.echo("\nWritten: " + ", ".join(str(p) for p in written))


def show(s: Sweep, table: Table) -> None:
    """Medians per point of the first metric columns, and the conclusion."""
    if s.question:
        click.secho(s.question, bold=True)
    first: list[str] = []
    if s.conclusion is not None:
        c = s.conclusion
        first = [*c.compare, *(w.column for w in c.where)]
        if c.minimize is not None and c.minimize not in {p.name for p in s.parameters}:
            first.append(c.minimize)
    ordered = dict.fromkeys([*first, *s.metric_columns()])
    columns = [c for c in ordered if any(st.n for st in by_point(s, table, c))][:6]
    params = [p.name for p in s.parameters]
    head = [*params, *(f"{c}" for c in columns), "errors"]
    rows = []
    stats = {c: by_point(s, table, c) for c in columns}
    for k, point in enumerate(s.points):
        errors = sum(1 for r in table.rows if r["point"] == point.index and r["error"])
        rows.append(
            [cell(point.values[p]) for p in params]
            + [number(stats[c][k].median, s.unit(c)) for c in columns]
            + [str(errors)]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    click.echo(f"\nMedians over {s.seeds} seeds per point:")
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for r in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    answer = conclude(s, table)
    if answer is not None:
        click.echo("")
        click.secho(answer.sentence, fg="green")
