"""`--resume`: the runs already in a sweep's `runs.csv`, kept, so only the others run.

A run is known by its point and seed index, and by the sweep's digest (`Sweep.digest`: the
base scenario and the sweep file, not its count of seeds): runs of a changed sweep are refused,
never mixed in. A line the interruption cut short (no end of line) is left out and runs again.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ecsim.scenario.source import read_text
from ecsim.sweep.metrics import Value
from ecsim.sweep.spec import Sweep
from ecsim.sweep.table import numeric

Row = dict[str, Value]


class ResumeError(ValueError):
    """runs.csv is not of this sweep."""


def done_rows(sweep: Sweep, path: Path) -> list[Row]:
    """The rows of `path` (a runs.csv) that belong to `sweep`'s runs."""
    if not path.exists():
        return []
    text = read_text(path)
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # (the line being written when it stopped)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    columns = sweep.columns()
    if header != columns:
        raise ResumeError(
            f"{path}: its columns are not this sweep's (the sweep file or the scenario changed); "
            "use another --out, or remove it to start again"
        )
    points = {p.index: p for p in sweep.points}
    metrics = set(sweep.metric_columns())
    out: dict[tuple[int, int], Row] = {}
    for n, cells in enumerate(reader, start=2):
        if len(cells) != len(columns):
            continue
        raw = dict(zip(columns, cells, strict=True))
        if raw["sweep"] != sweep.digest:
            raise ResumeError(
                f"{path}:{n}: a run of another sweep (digest {raw['sweep']}, this one "
                f"{sweep.digest}: the sweep file or its scenario changed); use another --out, "
                "or remove it to start again"
            )
        try:
            point, seed_index, seed = int(raw["point"]), int(raw["seed_index"]), int(raw["seed"])
            if point not in points or not 0 <= seed_index < sweep.seeds:
                continue
            row: Row = {"sweep": sweep.digest, "point": point, "seed_index": seed_index}
            row["seed"] = seed
            row.update(points[point].values)
            row["error"] = raw["error"] or None
            for c in columns:
                if c in metrics:
                    row[c] = numeric(raw[c])
        except ValueError:
            continue  # (not a row this code wrote: it runs again)
        out[(point, seed_index)] = row
    return list(out.values())
