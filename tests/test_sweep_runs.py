"""A sweep's runs: the same rows, bit for bit, whatever runs them (1 or 2 local worker
processes, a thread pool); a run that fails is a row with its error; `--resume` after an
interrupted sweep gives the same files as a sweep never interrupted; a changed sweep is
refused, not mixed in."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import ecsim
from ecsim.cli import sweep as cli_sweep
from ecsim.sweep import load_file, run_seed
from ecsim.sweep.table import Table

SWEEP = """name: small
question: What does the desired count change when a task is killed?
scenario: auto-healing
seed: 7
seeds: 3
parameters:
  - name: tasks
    path: world.services[home-service].desired_count
    values: [2, 3, 4]
metrics:
  - availability
  - errors
  - latency_p99
  - time_to_detect
  - time_to_recover
  - tasks_launched
  - task_hours
  - expectations_met
conclusion:
  compare: [status_502]
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SWEEP)
    return path


def test_the_rows_are_the_same_whatever_runs_them(small: Path) -> None:
    s = load_file(small)
    one = ecsim.sweep(s, workers=1)
    two = ecsim.sweep(s, workers=2)
    with ThreadPoolExecutor(2) as pool:
        threads = ecsim.sweep(s, pool)
    assert one.rows == two.rows == threads.rows
    assert one.csv_text() == two.csv_text() == threads.csv_text()
    assert [(r["point"], r["seed_index"]) for r in one.rows] == [
        (p, i) for p in range(3) for i in range(3)
    ]
    # each run's seed: the sweep's seed and the seed index, the same at every point
    assert [r["seed"] for r in one.rows] == [run_seed(7, i) for _ in range(3) for i in range(3)]
    assert len({r["seed"] for r in one.rows}) == 3
    first = one.rows[3]  # tasks=3: auto-healing as written, which passes
    assert first["tasks"] == 3 and first["error"] is None and first["expectations_met"] == 6
    assert (
        first["tasks_launched"] == 1 and first["status_502"] and first["time_to_recover[the kill]"]
    )
    assert 0 < float(first["time_to_detect[the kill]"] or 0) < 60
    # 5 minutes of 3 tasks (and the replacement's share) is about 0.25 task-hours
    assert 0.24 < float(first["task_hours"] or 0) < 0.3


def test_a_failed_run_is_a_row_with_its_error(tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(
        "scenario: auto-healing\nseeds: 2\nparameters:\n"
        "  - path: world.task_definitions[home-app].app.health\n    values: [passing, failing]\n"
        "  - name: victim\n    path: timeline[the kill].with.task\n"
        "    values: ['${task:home-service}', '${task:home-service:7}']\n"
        "metrics: [availability, expectations_met]\n"
    )
    with ThreadPoolExecutor(2) as pool:
        table = ecsim.sweep(str(path), pool)
    errors = {(r["health"], r["victim"]): r["error"] for r in table.rows}
    assert errors[("passing", "${task:home-service}")] is None
    missing = str(errors[("passing", "${task:home-service:7}")])
    assert (
        missing.startswith("step the kill at 60s (auto-healing.yaml:")
        and "ReferenceError" not in missing
    )
    assert "cannot resolve a reference" in missing and "(and " in missing  # expectations failed too
    never = str(errors[("failing", "${task:home-service}")])
    assert never.startswith("RunError: auto-healing: the world did not become steady")
    rows = {(r["health"], r["victim"]): r for r in table.rows}
    assert rows[("failing", "${task:home-service}")]["availability"] is None  # no metrics
    assert rows[("passing", "${task:home-service:7}")]["availability"] is not None


def files(folder: Path) -> dict[str, bytes]:
    return {
        name: (folder / name).read_bytes() for name in ("runs.csv", "summary.csv", "runs.parquet")
    }


def test_resume_after_an_interruption_equals_a_sweep_never_interrupted(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tmp_path / "whole"
    assert cli_sweep.execute(str(small), None, 2, None, str(whole), False) == 0
    cut = tmp_path / "cut"
    seen: list[int] = []

    def interrupted(self: Any, done: int, total: int) -> None:
        seen.append(done)
        if done >= 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_sweep.ProgressLine, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli_sweep.execute(str(small), None, 1, None, str(cut), False)
    monkeypatch.undo()
    with (cut / "runs.csv").open() as f:
        kept = list(csv.DictReader(f))
    assert 3 <= len(kept) < 9 and not (cut / "summary.csv").exists()
    with (cut / "runs.csv").open("a") as f:
        f.write(kept[0]["sweep"] + ",2,2,123")  # a line cut short by the interruption
    assert cli_sweep.execute(str(small), None, 2, None, str(cut), True) == 0
    assert files(cut) == files(whole)
    # and once more: everything is there, nothing runs
    assert cli_sweep.execute(str(small), None, 2, None, str(cut), True) == 0
    assert files(cut) == files(whole)


def test_resume_refuses_the_runs_of_a_changed_sweep(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    small.write_text(SWEEP.replace("seeds: 3", "seeds: 1"))
    assert cli_sweep.execute(str(small), None, 1, None, str(out), False) == 0
    # more seeds is the same sweep, extended: the first seed's runs are kept
    small.write_text(SWEEP)
    assert cli_sweep.execute(str(small), None, 2, None, str(out), True) == 0
    assert len(Table.of([], []).rows) == 0
    with (out / "runs.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 9
    small.write_text(SWEEP.replace("values: [2, 3, 4]", "values: [2, 3, 5]"))
    before = (out / "runs.csv").read_bytes()
    assert cli_sweep.execute(str(small), None, 1, None, str(out), True) == 2
    assert (out / "runs.csv").read_bytes() == before
