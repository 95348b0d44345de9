"""Broken sweep files: each gets one message naming the file, the line and the field (a
value the scenario refuses gets the scenario's own message, located at the sweep's value),
`ecsim sweep` exits 2, and nothing runs. Hostile sizes are refused by their count, before
any value list is made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecsim.cli.main import main
from ecsim.scenario import ScenarioError
from ecsim.sweep import load_file, load_text
from ecsim.sweep.paths import PathError, parse, resolve

BASE = """name: broken
question: How many 5xx at each desired count?
scenario: auto-healing
seeds: 3
parameters:
  - name: tasks
    path: world.services[home-service].desired_count
    values: [2, 3]
metrics:
  - availability
  - errors
"""


def broken(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new)


CASES = [
    pytest.param(
        broken("parameters:", "paramters:"),
        "sweep.yaml:5: paramters: unknown field (did you mean 'parameters'?)",
        id="unknown-field",
    ),
    pytest.param(
        broken("scenario: auto-healing\n", ""),
        "sweep.yaml:1: (top level): missing the required field 'scenario'",
        id="missing-field",
    ),
    pytest.param(
        broken("scenario: auto-healing", "scenario: auto-heal"),
        "sweep.yaml:3: scenario: no built-in scenario and no file 'auto-heal' (did you mean 'auto-healing'?)",
        id="unknown-scenario",
    ),
    pytest.param(
        broken("services[home-service].desired_count", "services[home-service.desired_count"),
        "sweep.yaml:7: parameters[0].path: world.services[home-service.desired_count: a `[` without its `]`",
        id="path-syntax",
    ),
    pytest.param(
        broken("services[home-service]", "services[home-svc]"),
        "sweep.yaml:7: parameters[0].path: world.services[home-svc].desired_count: world.services has no item [home-svc] (did you mean 'home-service'?)",
        id="path-names-nothing",
    ),
    pytest.param(
        broken("values: [2, 3]", "values: [2, three]"),
        "sweep.yaml:8: parameters[0].values[1]: world.services[0].desired_count: expected a whole number; got 'three' (at the point tasks=three)",
        id="value-refused-by-the-scenario",
    ),
    pytest.param(
        broken(
            "    path: world.services[home-service].desired_count\n    values: [2, 3]",
            "    path: duration\n    values: [5m, 25h]",
        ),
        "sweep.yaml:8: parameters[0].values[1]: duration: expected a duration of at most 24h (a scenario's longest); got '25h'",
        id="duration-too-long",
    ),
    pytest.param(
        broken("values: [2, 3]", "range: {from: 0, to: 1000000000000, step: 1}"),
        "sweep.yaml:8: parameters[0].range: the range has 1,000,000,000,001 values; expected at most 1,000",
        id="range-of-10-to-the-12",
    ),
    pytest.param(
        broken("values: [2, 3]", "range: {from: 0, to: 1.0e+308, step: 1}"),
        "sweep.yaml:8: parameters[0].range: the range has about 10^308 values",
        id="range-to-1e308",
    ),
    pytest.param(
        broken("values: [2, 3]", "range: {from: 0, to: .inf, step: 1}"),
        "sweep.yaml:8: parameters[0].range.to: expected a finite number; got .inf",
        id="range-to-inf",
    ),
    pytest.param(
        broken("values: [2, 3]", "range: {from: 1, to: 5, step: -1}"),
        "sweep.yaml:8: parameters[0].range.step: expected a step above 0; got -1",
        id="negative-step",
    ),
    pytest.param(
        broken(
            "    values: [2, 3]\n",
            "    values: [2, 3]\n"
            + "".join(
                f"  - name: p{i}\n    path: world.target_groups[home-tg].health_check.{k}\n"
                "    range: {from: 2, to: 40, step: 1}\n"
                for i, k in enumerate(("healthy_threshold", "unhealthy_threshold"))
            ),
        ),
        "sweep.yaml:5: parameters: the grid has 3,042 points (2 x 39 x 39 values); expected at most 1,000 (a sweep's limit)",
        id="grid-too-big",
    ),
    pytest.param(
        broken("seeds: 3", "seeds: 10000").replace(
            "values: [2, 3]", "range: {from: 1, to: 20, step: 1}"
        ),
        "sweep.yaml:4: seeds: the sweep makes 200,000 runs (20 points x 10,000 seeds); expected at most 100,000 (a sweep's limit)",
        id="too-many-runs",
    ),
    pytest.param(
        broken("seeds: 3", "seeds: -1"),
        "sweep.yaml:4: seeds: expected a number >= 1; got -1",
        id="negative-seeds",
    ),
    pytest.param(
        broken("  - availability", "  - latency_p95"),
        "sweep.yaml:10: metrics[0]: unknown metric 'latency_p95' (did you mean 'latency_p99'?)",
        id="unknown-metric",
    ),
    pytest.param(
        broken("  - availability", "  - {metric: availability, name: a, between: [the kil, end]}"),
        "sweep.yaml:10: metrics[0].between[0]: unknown step name 'the kil' (did you mean 'the kill'?)",
        id="unknown-step-in-a-window",
    ),
    pytest.param(
        BASE + "conclusion:\n  compare: [status_5x]\n",
        "sweep.yaml:13: conclusion.compare[0]: unknown column 'status_5x' (did you mean 'status_5xx'?)",
        id="unknown-column",
    ),
    pytest.param(
        broken("question: How", "question: !!python/name:os.system How"),
        "sweep.yaml:2: question: expected a plain value; got the YAML tag !!python/name:os.system",
        id="yaml-tag",
    ),
    pytest.param(
        broken("question: How", "question: \x07How"),
        "sweep.yaml:2: question: expected text without control characters; got the character U+0007",
        id="control-character",
    ),
    pytest.param(
        BASE + "set:\n  world.task_definitions[home-app].cpu: 99999\n",
        "sweep.yaml:13: set.world.task_definitions[home-app].cpu: auto-healing.yaml: "
        "world.task_definitions[0]: AWS refused register_task_definition: ClientException",
        id="set-value-refused",
    ),
    pytest.param(
        broken("  - name: tasks\n", "  - name: point\n"),
        "sweep.yaml:6: parameters[0].name: 'point' is a column of every row",
        id="reserved-name",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_a_broken_sweep_file_is_located(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_text(text, "sweep.yaml")
    assert str(e.value).startswith(message), str(e.value)


@pytest.mark.parametrize(("text", "message"), CASES[:12])
def test_ecsim_sweep_exits_2_with_the_message(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert done.output.startswith(f"error: {path.parent}/{message}"), done.output
    assert not out.exists()  # nothing ran, nothing written


def test_seeds_beyond_the_limits_are_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(BASE)
    for seeds, said in (
        ("100000", "expected from 1 to 10,000 seeds"),
        ("0", "0 is not in the range"),
    ):
        done = CliRunner().invoke(main, ["sweep", str(path), "--seeds", seeds])
        assert done.exit_code == 2 and said in done.output, done.output
    big = BASE.replace("values: [2, 3]", "range: {from: 1, to: 20, step: 1}")
    path.write_text(big)
    done = CliRunner().invoke(main, ["sweep", str(path), "--seeds", "6000"])
    assert done.exit_code == 2 and "the sweep makes 120,000 runs" in done.output, done.output


def test_a_base_scenario_file_is_read_relative_to_the_sweep(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "duration: 1m\nworld:\n  clusters: [c]\n  task_definitions: [{family: f}]\n"
        "  services: [{name: s, cluster: c, task_definition: f, desired_count: 1}]\n"
    )
    (tmp_path / "sweep.yaml").write_text(
        "scenario: base.yaml\nparameters:\n  - {path: 'world.services[s].desired_count', values: [1, 2]}\n"
    )
    s = load_file(tmp_path / "sweep.yaml")
    assert [p.values for p in s.points] == [{"desired_count": 1}, {"desired_count": 2}]
    assert s.points[1].scenario.world["services"][0]["desired_count"] == 2
    (tmp_path / "base.yaml").write_text("duration: 1m\nworld: {clusters: [c, c]}\n")
    with pytest.raises(
        ScenarioError,
        match=r"sweep.yaml:1: scenario: the scenario is broken: .*base.yaml:2: world.clusters\[1\]",
    ):
        load_file(tmp_path / "sweep.yaml")


def test_paths_reach_any_field() -> None:
    doc = {
        "world": {
            "task_definitions": [{"family": "a"}, {"family": "a"}],
            "load_balancers": [{"name": "lb", "listeners": [{"port": 80}, {"port": 8080}]}],
            "clusters": ["home"],
        },
        "timeline": [{"name": "the kill", "at": 60}],
    }
    assert resolve(doc, parse("world.load_balancers[lb].listeners[port=8080].rules")) == (
        "world", "load_balancers", 0, "listeners", 1, "rules",
    )  # fmt: skip
    assert resolve(doc, parse("timeline[the kill].at")) == ("timeline", 0, "at")
    assert resolve(doc, parse("world.clusters[home]")) == ("world", "clusters", 0)
    assert resolve(doc, parse("settings.scheduler.interval")) == (
        "settings",
        "scheduler",
        "interval",
    )
    assert resolve(doc, parse("world.task_definitions[1].app.capacity"))[:3] == (
        "world",
        "task_definitions",
        1,
    )
    for bad, said in (
        (
            "world.task_definitions[a].cpu",
            "has 2 items [a] (indexes 0, 1); expected one: pick it by index",
        ),
        ("world.task_definitions[2].cpu", "has 2 item(s) (indexes 0 to 1); got [2]"),
        ("world.clusters.home", "world.clusters is a list, not a mapping"),
        ("[0]", "expected a path starting with a field"),
        ("world..x", "expected a field name"),
        ("world.x y", "expected `.` or `[` at character 8"),
    ):
        with pytest.raises(
            PathError, match=said.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
        ):
            resolve(doc, parse(bad))


def test_import_ecsim_imports_neither_sweeps_nor_dask() -> None:
    code = (
        "import sys, ecsim; assert 'ecsim.sweep' not in sys.modules; "
        "assert not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules); "
        "import ecsim.sweep; assert callable(ecsim.sweep); "
        "assert not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
