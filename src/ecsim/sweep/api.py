"""`ecsim.sweep(spec, executor=None)`: run every (point, seed) of a sweep and return the table.

import ecsim
table = ecsim.sweep("health-check-detection")            # worker processes, here
table = ecsim.sweep("my-sweep.yaml", executor=client)    # a distributed.Client
table.to_csv("runs.csv")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecsim.sweep.catalog import load
from ecsim.sweep.executors import OnRows, Progress, execute
from ecsim.sweep.metrics import Value
from ecsim.sweep.run import Task
from ecsim.sweep.spec import Sweep, run_seed
from ecsim.sweep.table import Table

Row = dict[str, Value]


def tasks(s: Sweep, skip: set[tuple[int, int]] | None = None) -> list[Task]:
    """The runs of `s` in (point, seed index) order, but those in `skip`."""
    columns = tuple(s.metric_columns())
    metrics = tuple(s.metrics)
    return [
        Task(s.digest, p.index, i, run_seed(s.seed, i), p.values, p.scenario, metrics, columns)
        for p in s.points
        for i in range(s.seeds)
        if skip is None or (p.index, i) not in skip
    ]


def sweep(
    spec: Sweep | str | Path,
    executor: Any = None,
    *,
    seeds: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    on_rows: OnRows | None = None,
    done: list[Row] | None = None,
) -> Table:
    """Run the sweep `spec` (a loaded Sweep, a built-in sweep's name or a sweep file) and
    return its table, rows sorted by (point, seed index).

    `executor`: None for `workers` processes on this machine (default: one per CPU), any
    `concurrent.futures.Executor`, or a `distributed.Client`. `done`: rows already run
    (`--resume`), not run again."""
    s = spec if isinstance(spec, Sweep) else load(str(spec), seeds=seeds)
    kept = list(done or [])
    todo = tasks(s, {(int(r["point"] or 0), int(r["seed_index"] or 0)) for r in kept})
    offset = len(kept)

    def moved(n: int, total: int) -> None:
        if progress is not None:
            progress(offset + n, offset + total)

    rows = execute(todo, executor, workers=workers, progress=moved, on_rows=on_rows)
    return Table.of(s.columns(), [*kept, *rows])
