"""One run of a sweep: (parameter point, seed index) -> one row of plain values.

A run never raises: a run that fails (an AWS error in a step, an expectation that does not
hold, a world that never becomes steady, anything else) is a row whose `error` says why; its
metrics are there whenever the run reached its end. The function is a plain top-level one,
so it pickles to any executor's worker, and what it returns depends only on its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecsim.scenario.runner import Result, run
from ecsim.scenario.spec import Scenario
from ecsim.sweep.metrics import Metric, Value, collect


@dataclass(frozen=True)
class Task:
    """What a worker needs for one run (pickled to it)."""

    digest: str
    point: int
    seed_index: int
    seed: int
    values: dict[str, Value]
    scenario: Scenario
    metrics: tuple[Metric, ...]
    columns: tuple[str, ...]  # the metric columns, every row has them all


def run_one(task: Task) -> dict[str, Value]:
    """The row of one run."""
    row: dict[str, Value] = {
        "sweep": task.digest,
        "point": task.point,
        "seed_index": task.seed_index,
        "seed": task.seed,
        **task.values,
        "error": None,
    }
    found: dict[str, Value] = {}
    try:
        result = run(task.scenario, seed=task.seed)
        found = collect(result, list(task.metrics))
        row["error"] = failure(result)
    except Exception as e:  # a run is a row, whatever happened in it
        row["error"] = f"{type(e).__name__}: {e}"
    for column in task.columns:
        row[column] = found.get(column)
    return row


def run_many(tasks: list[Task]) -> list[dict[str, Value]]:
    """Rows of several runs: one unit of work for an executor (fewer round trips)."""
    return [run_one(t) for t in tasks]


def failure(result: Result) -> str | None:
    """Why a finished run failed, in one line; None when it passed."""
    problems: list[str] = []
    if result.unsteady:
        problems.append(f"not steady: {result.unsteady[0]}")
    for record in result.steps:
        if record.unexpected:
            where = record.step.where
            problems.append(
                f"step {record.step.label} at {record.time:g}s ({where.file}:{where.line}): "
                f"{record.error}"
            )
    for outcome in result.outcomes:
        if not outcome.passed:
            e = outcome.expectation
            problems.append(
                f"expectation not met: {e.text} ({e.where.file}:{e.where.line}): {outcome.detail}"
            )
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return _one_line(problems[0]) + more


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())
