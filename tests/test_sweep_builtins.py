"""Each built-in sweep answers its question, and its conclusion (computed from the table,
printed in one sentence with the numbers behind it) holds: checked here against the table
itself, at the built-in's own size."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest
from click.testing import CliRunner

import ecsim
from ecsim.cli.main import main
from ecsim.sweep import Sweep, Table, builtin_names, conclude, load
from ecsim.sweep.conclude import number
from ecsim.sweep.executors import local_executor


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with local_executor(2) as p:
        yield p


def run(name: str, pool: ProcessPoolExecutor) -> tuple[Sweep, Table]:
    s = load(name)
    return s, ecsim.sweep(s, pool)


def medians(s: Sweep, t: Table, column: str) -> list[float]:
    out = []
    for p in s.points:
        values = [r[column] for r in t.rows if r["point"] == p.index and r[column] is not None]
        out.append(statistics.median(float(v) for v in values))  # type: ignore[arg-type]
    return out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    x = q * (len(ordered) - 1)
    lo = int(x)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (x - lo)


def column_at(s: Sweep, t: Table, column: str, point: int) -> list[float]:
    return [float(r[column]) for r in t.rows if r["point"] == point and r[column] is not None]  # type: ignore[arg-type]


def test_the_built_ins_are_listed_with_their_question() -> None:
    assert len(builtin_names()) >= 4
    out = CliRunner().invoke(main, ["sweeps"]).output
    for name in builtin_names():
        s = load(name)
        assert name in out and s.question.split()[0] in out
        assert s.conclusion is not None and s.runs() <= 64


def test_health_check_detection(pool: ProcessPoolExecutor) -> None:
    s, t = run("health-check-detection", pool)
    assert all(r["error"] is None for r in t.rows)
    detect = medians(s, t, "time_to_detect[the hang]")
    errors = medians(s, t, "status_5xx")
    # points: (10s, 2), (10s, 3), (30s, 2), (30s, 3): detection and its 5xx grow with both
    assert detect[0] < detect[1] < detect[2] < detect[3]
    assert errors[0] < errors[1] < errors[2] < errors[3]
    # about threshold x interval: one more failed check costs one interval more
    assert 5 < detect[1] - detect[0] < 15 and 20 < detect[3] - detect[2] < 40
    answer = conclude(s, t)
    assert answer is not None
    for value in (*detect, *errors):
        assert number(value, "") in answer.sentence, answer.sentence


def test_deregistration_delay_deploy(pool: ProcessPoolExecutor) -> None:
    s, t = run("deregistration-delay-deploy", pool)
    delays = [p.values["deregistration_delay"] for p in s.points]
    assert delays == ["1s", "5s", "30s", "300s"]
    cut = medians(s, t, "status_502")
    took = medians(s, t, "deployment_duration[the deploy]")
    assert cut[0] > cut[1] >= cut[2] == cut[3] == 0  # a delay longer than the requests: none
    assert took[0] < took[2] < took[3] and took[3] > 300  # the drain is in the deploy's time
    answer = conclude(s, t)
    assert answer is not None
    for value in (*cut, *took):
        assert number(value, "") in answer.sentence, answer.sentence


def test_tasks_per_az_outage(pool: ProcessPoolExecutor) -> None:
    s, t = run("tasks-per-az-outage", pool)
    answer = conclude(s, t)
    assert answer is not None and answer.chosen is not None
    p95 = [quantile(column_at(s, t, "p99_after_detection", p.index), 0.95) for p in s.points]
    meets = [v < 200 for v in p95]
    chosen = answer.chosen.index
    assert meets[chosen] and not any(meets[:chosen]), p95  # the fewest that keep p99 down
    assert not meets[0]  # 2 tasks per AZ cannot carry 150 requests/s on 4 of them
    assert f"(tasks={answer.chosen.values['tasks']})" in answer.sentence
    assert number(round(p95[chosen], 6), "ms") in answer.sentence, answer.sentence


def test_target_tracking_ramp(pool: ProcessPoolExecutor) -> None:
    s, t = run("target-tracking-ramp", pool)
    answer = conclude(s, t)
    assert answer is not None and answer.chosen is not None
    hours = medians(s, t, "task_hours")
    p95 = [quantile(column_at(s, t, "latency_p99", p.index), 0.95) for p in s.points]
    ok = [k for k, v in enumerate(p95) if v < 100]
    assert ok and answer.chosen.index == min(ok, key=lambda k: hours[k])
    assert hours == sorted(hours, reverse=True)  # a higher target runs fewer tasks
    assert p95[-1] >= 100  # and at 90 % CPU the queue shows in p99
    assert number(hours[answer.chosen.index], "h") in answer.sentence, answer.sentence
