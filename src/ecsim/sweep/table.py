"""The tidy table of a sweep: one row per run (its key, its parameter values, its error and
its metrics), sorted by (point, seed index), so it is the same, bit for bit, whatever ran it.

CSV is written with the csv module (pandas is not a dependency): a number as Python writes
it (`repr`: it reads back to the same float), nothing as an empty cell, true/false. Parquet
when pyarrow is installed (the `[dask]` extra).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecsim.sweep.metrics import Value

Row = dict[str, Value]


def cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def parse(text: str, like: Value) -> Value:
    """A CSV cell read back as the type of `like` (a value of the same column)."""
    if text == "":
        return None
    if isinstance(like, bool):
        return text == "true"
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        return float(text)
    return text


def numeric(text: str) -> Value:
    """A metric cell read back: a whole number, a float, or nothing."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


@dataclass
class Table:
    columns: list[str]
    rows: list[Row]

    @staticmethod
    def of(columns: list[str], rows: Iterable[Row]) -> Table:
        ordered = sorted(rows, key=lambda r: (int(r["point"] or 0), int(r["seed_index"] or 0)))
        return Table(columns, [{c: r.get(c) for c in columns} for r in ordered])

    def column(self, name: str) -> list[Value]:
        return [r[name] for r in self.rows]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for r in self.rows:
            writer.writerow([cell(r[c]) for c in self.columns])
        return out.getvalue()

    def to_csv(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(self.csv_text(), "utf-8")
        return p

    def to_parquet(self, path: str | Path) -> Path:
        """The table as Parquet (needs pyarrow: `pip install 'ecsim[dask]'`)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        data: dict[str, Any] = {}
        for c in self.columns:
            values = self.column(c)
            kinds = {type(v) for v in values if v is not None}
            if kinds == {int, float}:
                values = [None if v is None else float(v) for v in values]
            elif len(kinds) > 1:
                values = [None if v is None else cell(v) for v in values]
            data[c] = values
        p = Path(path)
        pq.write_table(pa.table(data), p)
        return p


def has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
