"""Hostile scenario files (issue 12, point 4): each is refused before anything is built or
run, with the file, the line, the field and what was expected; `ecsim run` exits 2 with that
message and no traceback, and does not hang (a subprocess with a time and a memory limit)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import ecsim
from ecsim.scenario import ScenarioError, limits, load_file, load_text
from tests.support.scenarios import demo_scenario

SRC = Path(ecsim.__file__).resolve().parent.parent
BASE = demo_scenario("hostile", "")  # lines 1-19: name, duration, the demo world
NEXT = 20  # the first line after it

LAUGHS = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
STEP = "  - at: {i}ms\n    do: ecs.describe_clusters\n"


def steps(n: int) -> str:
    return BASE + "timeline:\n" + "".join(STEP.format(i=i) for i in range(n))


@dataclass(frozen=True)
class Case:
    """A hostile file (its text, or a path it makes) and what it must get."""

    make: Callable[[Path], Path]
    line: int | None
    field: str
    message: str


def text(content: str | bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "hostile.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")
        return path

    return make


def fifo(folder: Path) -> Path:
    path = folder / "hostile.yaml"
    os.mkfifo(path)
    return path


def directory(folder: Path) -> Path:
    path = folder / "hostile.yaml"
    path.mkdir()
    return path


def dev_zero(_: Path) -> Path:
    return Path("/dev/zero")


LIST = {
    "billion-laughs": Case(
        text(LAUGHS),
        5,
        "e[5][5][7][4][5]",
        "the file makes more than 50,000 values (each alias's copy counted); expected a "
        "smaller scenario",
    ),
    "duration-inf": Case(
        text(BASE.replace("duration: 2m", "duration: .inf")),
        2,
        "duration",
        "expected a finite number; got .inf",
    ),
    "duration-1e400": Case(
        text(BASE.replace("duration: 2m", "duration: 1.0e+400")),
        2,
        "duration",
        "expected a finite number; got 1.0e+400",
    ),
    "duration-400-digits": Case(
        text(BASE.replace("duration: 2m", "duration: " + "9" * 400)),
        2,
        "duration",
        "expected a number within ±9223372036854775807 (64 bits) and at most 64 characters "
        "long; got 9999999999...9999999999 (400 characters)",
    ),
    "rate-1e12": Case(
        text(BASE + "traffic:\n  - rate: 1.0e+12\n"),
        NEXT + 1,
        "traffic[0].rate",
        "expected a number <= 20000; got 1000000000000.0",
    ),
    "desired-count-1e12": Case(
        text(BASE.replace("desired_count: 3", "desired_count: 1.0e+12")),
        18,
        "world.services[0].desired_count",
        "expected a number <= 5000; got 1000000000000.0",
    ),
    "desired-count-10**12": Case(
        text(BASE.replace("desired_count: 3", "desired_count: 1000000000000")),
        18,
        "world.services[0].desired_count",
        "expected a number <= 5000; got 1000000000000",
    ),
    "every-1ms": Case(
        text(BASE + "timeline:\n  - every: 1ms\n    do: ecs.describe_clusters\n"),
        NEXT + 1,
        "timeline[0].every",
        "expected a period of at least 1s (a scenario's shortest); got '1ms'",
    ),
    "tag-python-name": Case(
        text(BASE + "summary: !!python/name:os.system\n"),
        NEXT,
        "summary",
        "expected a plain value; got the YAML tag !!python/name:os.system, and a scenario "
        "file takes none (quote a value to make it text)",
    ),
    "tag-int-abc": Case(
        text(BASE.replace("desired_count: 3", "desired_count: !!int abc")),
        18,
        "world.services[0].desired_count",
        "expected a plain value; got the YAML tag !!int, and a scenario file takes none "
        "(quote a value to make it text)",
    ),
    "nul-byte": Case(
        text(BASE + "summary: a\x00b\n"),
        NEXT,
        "summary",
        "expected text without control characters; got the character U+0000 (NUL) at column 11",
    ),
    "recursive-alias": Case(
        text(BASE + "timeline: &t\n  - *t\n"),
        NEXT + 1,
        "timeline",
        "the alias *t is inside the value &t it names, which would repeat without end; "
        "expected a value that does not contain itself",
    ),
    "nested-20000": Case(
        text(BASE + "summary: " + "[" * 20_000 + "]" * 20_000 + "\n"),
        NEXT,
        "summary" + "[0]" * 31,
        "nested more than 32 levels deep; expected at most 32 (a scenario file's limit)",
    ),
    "duration-nan": Case(
        text(BASE.replace("duration: 2m", "duration: .nan")),
        2,
        "duration",
        "expected a number; got .nan (not a number)",
    ),
    "seed-5000-digits": Case(
        text(BASE + "seed: " + "7" * 5000 + "\n"),
        NEXT,
        "seed",
        "expected a number within ±9223372036854775807 (64 bits) and at most 64 characters "
        "long; got 7777777777...7777777777 (5000 characters)",
    ),
    "dev-zero": Case(
        dev_zero,
        None,
        "",
        "expected a scenario file (a regular file of YAML); got a character device",
    ),
    "fifo": Case(
        fifo, None, "", "expected a scenario file (a regular file of YAML); got a FIFO (named pipe)"
    ),
    "steps-10000": Case(
        text(steps(10_000)),
        NEXT + 1 + 2 * 1000,
        "timeline",
        "expected at most 1,000 steps (a scenario file's limit for any one list); got more",
    ),
    # beyond the list
    "directory": Case(
        directory, None, "", "expected a scenario file (a regular file of YAML); got a directory"
    ),
    "over-1-MiB": Case(
        text(BASE + "summary: '" + "x" * limits.MAX_BYTES + "'\n"),
        None,
        "",
        "expected a scenario file of at most 1,048,576 bytes (1 MiB); got "
        f"{len(BASE) + limits.MAX_BYTES + 12:,} bytes",
    ),
    "not-utf-8": Case(
        text(BASE.encode() + b"summary: caf\xe9\n"),
        NEXT,
        "",
        "expected UTF-8 text; got the byte 0xE9 at column 13",
    ),
    "duration-25h": Case(
        text(BASE.replace("duration: 2m", "duration: 25h")),
        2,
        "duration",
        "expected a duration of at most 24h (a scenario's longest); got '25h'",
    ),
}


def located(case: Case, path: Path) -> str:
    where = f"{path}:{case.line}" if case.line is not None else str(path)
    field = f" {case.field}:" if case.field else ""
    return f"{where}:{field} {case.message}"


def load_within(path: Path, seconds: float = 60) -> BaseException | None:
    """`load_file(path)` in a thread, so that a file that blocks fails the test instead of
    hanging it: what it raised (None if it loaded)."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            load_file(path)
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"loading {path} did not end within {seconds} s"
    return outcome[0]


@pytest.mark.parametrize("name", list(LIST))
def test_the_python_loader_refuses_with_line_and_field(name: str, tmp_path: Path) -> None:
    case = LIST[name]
    path = case.make(tmp_path)
    error = load_within(path)
    assert isinstance(error, ScenarioError), repr(error)
    assert (error.file, error.line, error.field) == (str(path), case.line, case.field)
    assert error.message == case.message
    assert str(error) == located(case, path)


# `ecsim run`, its memory limited to 4 GiB first, so that a bomb fails fast
COMMAND = (
    "import resource; hard = resource.getrlimit(resource.RLIMIT_AS)[1]; "
    "soft = 4 << 30 if hard == resource.RLIM_INFINITY else min(4 << 30, hard); "
    "resource.setrlimit(resource.RLIMIT_AS, (soft, hard)); "
    "from ecsim.cli.main import main; main()"
)


def ecsim_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`ecsim run ARGS` in a process of its own: killed if it takes longer than `timeout`."""
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", COMMAND, "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": path},
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("name", list(LIST))
def test_ecsim_run_exits_2_with_the_located_message(name: str, tmp_path: Path) -> None:
    case = LIST[name]
    path = case.make(tmp_path)
    done = ecsim_run(str(path))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {located(case, path)}\n"
    assert done.stdout == ""


# --- the step limit, and what stays accepted ------------------------------------------------


def test_a_timeline_at_the_step_limit_loads() -> None:
    s = load_text(steps(limits.MAX_ITEMS), "steps.yaml")
    assert len(s.steps) == limits.MAX_ITEMS


def test_aliases_that_stay_small_are_read_as_written_out() -> None:
    step = "    do: ecs.update_service\n"
    aliased = BASE + (
        "timeline:\n"
        "  - at: 10s\n" + step + "    with: &call {cluster: home, service: home-service, "
        "desiredCount: 4}\n"
        "  - at: 20s\n" + step + "    with: *call\n"
    )
    written = aliased.replace("&call ", "").replace(
        "*call", "{cluster: home, service: home-service, desiredCount: 4}"
    )
    one, two = load_text(aliased, "a.yaml"), load_text(written, "a.yaml")
    assert [s.args for s in one.steps] == [s.args for s in two.steps]
    # a copy's values are on the lines of the value the anchor names (where they are written)
    assert one.lines["timeline[1].with.desiredCount"] == one.lines["timeline[0].with"] == NEXT + 3


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        pytest.param(
            "summary: !!str 12\n",
            f"x.yaml:{NEXT}: summary: expected a plain value; got the YAML tag !!str, and a "
            "scenario file takes none (quote a value to make it text)",
            id="standard-tag",
        ),
        pytest.param(
            "summary: !local x\n",
            f"x.yaml:{NEXT}: summary: expected a plain value; got the YAML tag !local, and a "
            "scenario file takes none (quote a value to make it text)",
            id="local-tag",
        ),
        pytest.param(
            "timeline: !!python/object/apply:os.system [ls]\n",
            f"x.yaml:{NEXT}: timeline: expected a plain value; got the YAML tag "
            "!!python/o...:os.system (31 characters), and a scenario file takes none "
            "(quote a value to make it text)",
            id="tagged-list",
        ),
        pytest.param(
            "timeline: *nowhere\n",
            f"x.yaml:{NEXT}: (top level): found undefined alias 'nowhere'",
            id="undefined-alias",
        ),
        pytest.param(
            "summary: &a x\nexplanation: &a y\n",
            f"x.yaml:{NEXT + 1}: explanation: the anchor &a is defined twice; expected each "
            "anchor once",
            id="anchor-twice",
        ),
        pytest.param(
            "settings:\n  <<: {stats_period: 5}\n",
            f"x.yaml:{NEXT + 1}: settings: merge keys (<<) are not accepted; expected the "
            "fields written out",
            id="merge-key",
        ),
        pytest.param(
            "? [a, b]\n: c\n",
            f"x.yaml:{NEXT}: (top level): expected a plain key (text); got a mapping or a list "
            "as a key",
            id="list-key",
        ),
        pytest.param(
            "---\nname: again\n",
            f"x.yaml:{NEXT}: not valid YAML: expected a single document in the stream, but found "
            "another document",
            id="two-documents",
        ),
        pytest.param(
            "seed: 9223372036854775808\n",
            f"x.yaml:{NEXT}: seed: expected a number within ±9223372036854775807 (64 bits) and "
            "at most 64 characters long; got 9223372036854775808",
            id="seed-2**63",
        ),
        pytest.param(
            "seed: 0x_\n",
            f"x.yaml:{NEXT}: seed: expected a number; got 0x_",
            id="looks-like-a-number",
        ),
        pytest.param(
            "seed: -1\n",
            f"x.yaml:{NEXT}: seed: expected a number >= 0; got -1",
            id="seed-negative",
        ),
        pytest.param(
            "timeline:\n  - at: 1e400\n    do: ecs.describe_clusters\n",
            f"x.yaml:{NEXT + 1}: timeline[0].at: expected a duration like 90s, 5m, 1h or 250ms "
            "(a plain number is seconds); got '1e400'",
            id="at-1e400-text",
        ),
        pytest.param(
            "timeline:\n  - at: " + "9" * 400 + "s\n    do: ecs.describe_clusters\n",
            f"x.yaml:{NEXT + 1}: timeline[0].at: expected a duration of at most 24h (a "
            f"scenario's longest); got '{'9' * 400}s'",
            id="at-400-digits-text",
        ),
        pytest.param(
            "timeline:\n  - every: 0.5\n    do: ecs.describe_clusters\n",
            f"x.yaml:{NEXT + 1}: timeline[0].every: expected a period of at least 1s (a "
            "scenario's shortest); got 0.5",
            id="every-half-second",
        ),
        pytest.param(
            "timeline:\n  - every: 1s\n    times: 100000\n    do: ecs.describe_clusters\n",
            f"x.yaml:{NEXT + 2}: timeline[0].times: expected a number <= 10000; got 100000",
            id="times",
        ),
        pytest.param(
            "expect:\n  - that: running_count(home-service) == 3\n    between: [0s, 1000000h]\n",
            f"x.yaml:{NEXT + 2}: expect[0].between[1]: expected a duration of at most 24h (a "
            "scenario's longest); got '1000000h'",
            id="between",
        ),
    ],
)
def test_more_hostile_yaml(rest: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_text(BASE + rest, "x.yaml")
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            "{scheduler: {interval: 0.000001}}",
            "settings.scheduler.interval: expected a period of at least 1s (a scenario's "
            "shortest); got 1e-06",
            id="interval",
        ),
        pytest.param(
            "{scheduler: {interval: abc}}",
            "settings.scheduler.interval: expected a number >= 0; got 'abc'",
            id="type",
        ),
        pytest.param(
            "{tasks: {activating: [3, 1]}}",
            "settings.tasks.activating: expected a range [low, high] of numbers >= 0; got a list",
            id="range",
        ),
        pytest.param(
            "{scheduler: {start_replacement_first: 1}}",
            "settings.scheduler.start_replacement_first: expected true or false; got 1",
            id="bool",
        ),
    ],
)
def test_settings_have_their_types_and_no_period_below_a_second(
    settings: str, message: str
) -> None:
    with pytest.raises(ScenarioError) as e:
        load_text(BASE + f"settings: {settings}\n", "x.yaml")
    assert str(e.value) == f"x.yaml:{NEXT}: {message}"
    good = "{scheduler: {interval: 5, reaction: [1, 2]}, autoscaling: {period: 30}}"
    assert load_text(BASE + f"settings: {good}\n", "x.yaml").settings["scheduler"]["interval"] == 5


def test_a_world_duration_is_at_most_a_day() -> None:
    text = BASE.replace(
        "    - family: home-app\n", "    - family: home-app\n      stop_timeout: 1.0e+300\n"
    )
    with pytest.raises(ScenarioError) as e:
        load_text(text, "x.yaml")
    assert str(e.value) == (
        "x.yaml:7: world.task_definitions[0].stop_timeout: expected a duration of at most 24h "
        "(a scenario's longest); got 1e+300"
    )


def test_a_repeated_step_makes_at_most_the_declared_number_of_calls() -> None:
    text = BASE.replace("duration: 2m", "duration: 24h") + (
        "timeline:\n  - every: 5s\n    do: ecs.describe_clusters\n"
    )
    with pytest.raises(ScenarioError) as e:
        load_text(text, "x.yaml")
    assert str(e.value) == (
        f"x.yaml:{NEXT + 1}: timeline[0]: this step runs 17,281 times in 24h, which makes "
        "17,281 calls; expected at most 10,000 calls in a run (a scenario's limit): a longer "
        "`every`, or `times` or `until`"
    )
    assert (
        load_text(text.replace("every: 5s", "every: 10s"), "x.yaml").steps[0].count(86400) == 8641
    )


# --- `ecsim run`'s own options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        pytest.param(
            ("--until", "100000h"),
            "Invalid value for --until: expected at most 24h (a scenario's longest); got '100000h'",
            id="until",
        ),
        pytest.param(
            ("--until", "9" * 400 + "s"),
            "Invalid value for --until: expected at most 24h",
            id="until-inf",
        ),
        pytest.param(
            ("--seed", str(2**64)),
            f"Invalid value for --seed: expected a seed from 0 to {limits.MAX_SEED}; got {2**64}",
            id="seed",
        ),
        pytest.param(("--seed", "7" * 5000), "Invalid value for '--seed'", id="seed-digits"),
    ],
)
def test_ecsim_run_options_within_the_limits(
    args: tuple[str, ...], said: str, tmp_path: Path
) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BASE)
    done = ecsim_run(str(path), *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert said in done.stderr


def test_ecsim_run_until_a_day_refuses_a_step_that_would_run_too_often(tmp_path: Path) -> None:
    path = tmp_path / "often.yaml"
    path.write_text(BASE + "timeline:\n  - every: 5s\n    do: ecs.describe_clusters\n")
    done = ecsim_run(str(path), "--until", "24h")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == (
        f"error: --until 24h: {path}:{NEXT + 1}: timeline[0]: this step runs 17,281 times in "
        "24h, which makes 17,281 calls; expected at most 10,000 calls in a run (a scenario's "
        "limit): a longer `every`, or `times` or `until`\n"
    )
