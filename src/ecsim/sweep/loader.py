"""Read a sweep file: YAML read as safely and with the same limits as a scenario file
(`ecsim.scenario.source`, `yamlnodes`), its JSON Schema (`schema.json`), then what a schema
cannot check: the base scenario, each parameter's path, the size of the grid (counted before
any value is made: `limits.py`), and every parameter point, checked by the scenario loader
exactly as if its values were written in the scenario file. Any problem raises
ScenarioError naming the sweep file, the line and the field; a value the scenario refuses
gets the scenario's own message, located at the parameter value that put it there.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path as FilePath
from typing import Any

import jsonschema

from ecsim import __version__
from ecsim.model.durations import parse_duration
from ecsim.scenario import source
from ecsim.scenario.catalog import builtin_names, builtin_text
from ecsim.scenario.errors import ScenarioError
from ecsim.scenario.loader import load_data
from ecsim.scenario.spec import Scenario, Where
from ecsim.scenario.validate import check_against, show
from ecsim.scenario.yamlnodes import Lines, Path, field_name, read_yaml
from ecsim.sweep import limits, paths
from ecsim.sweep.metrics import Metric, Value, known, names, windowed
from ecsim.sweep.spec import FIXED, Conclusion, Condition, Parameter, Point, Sweep
from ecsim.sweep.values import Range, RangeError

Folder = FilePath | Traversable
STATS = ("median", "mean", "p5", "p95", "min", "max")
_CONDITION = re.compile(
    r"^\s*(?P<stat>[a-z0-9]+)\s+(?P<column>\S+)\s*(?P<op>==|!=|>=|<=|>|<)\s*"
    r"(?P<value>-?\d+(?:\.\d+)?)\s*(?P<unit>%|ms|s|h)?\s*$"
)


@cache
def _validator() -> Any:
    text = resources.files("ecsim.sweep").joinpath("schema.json").read_text("utf-8")
    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema)


def schema() -> dict[str, Any]:
    """The sweep file's JSON Schema."""
    out: dict[str, Any] = _validator().schema
    return out


def load_file(path: str | FilePath, *, seeds: int | None = None) -> Sweep:
    """The sweep in a file (a regular file of at most 1 MiB, as a scenario file)."""
    p = FilePath(path)
    return load_text(source.read_text(p), str(p), p.parent, p.stem, seeds=seeds)


def load_text(
    text: str,
    file: str = "<sweep>",
    folder: Folder | None = None,
    default_name: str = "sweep",
    *,
    seeds: int | None = None,
) -> Sweep:
    """A sweep from its text; a base scenario file is looked for in `folder` (default: the
    current directory). `seeds` (--seeds) replaces the file's count of seeds."""
    data, lines = read_yaml(text, file)
    if not isinstance(data, dict):
        raise ScenarioError(
            file, lines.of(()), "(top level)", "expected a mapping with scenario and parameters"
        )
    check_against(_validator(), data, lines, file)
    return _Loader(data, lines, file, folder or FilePath("."), seeds).sweep(default_name)


class SeedsError(ValueError):
    """A count of seeds given apart from the file (--seeds) that the limits refuse."""


class _Loader:
    def __init__(
        self, data: dict[str, Any], lines: Lines, file: str, folder: Folder, seeds: int | None
    ) -> None:
        self.data = data
        self.lines = lines
        self.file = file
        self.folder = folder
        self.seeds_given = seeds

    def fail(self, path: Path, message: str, *, key: bool = False) -> ScenarioError:
        line = self.lines.of_key(path) if key else self.lines.of(path)
        return ScenarioError(self.file, line, field_name(path) or "(top level)", message)

    def where(self, path: Path) -> Where:
        return Where(self.file, self.lines.of(path), field_name(path))

    # --- the whole file -------------------------------------------------------------------

    def sweep(self, default_name: str) -> Sweep:
        d = self.data
        base_text, base_file, base_name = self.base(d["scenario"])
        base, base_lines = read_yaml(base_text, base_file)
        try:
            base_scenario = load_data(copy.deepcopy(base), base_lines, base_file, base_name)
        except ScenarioError as e:
            raise self.fail(("scenario",), f"the scenario is broken: {e}") from None
        fixed = self.fixed(base, base_lines, base_file, base_name)
        parameters = self.parameters()
        seeds = self.seeds(parameters)
        metrics = self.metrics(base_scenario)
        points = self.points(fixed, base_lines, base_file, base_name, parameters)
        out = Sweep(
            name=d.get("name", default_name),
            file=self.file,
            question=d.get("question", ""),
            base=base_scenario.name,
            seed=d.get("seed", 0),
            seeds=seeds,
            parameters=parameters,
            metrics=metrics,
            points=points,
            digest=self.digest(base_text),
            lines={field_name(p): line for p, line in self.lines.values.items()},
        )
        self.columns(out)
        out.conclusion = self.conclusion(out)
        return out

    def base(self, name: str) -> tuple[str, str, str]:
        """(text, file name, default name) of the base scenario."""
        if name in builtin_names():
            return builtin_text(name), f"{name}.yaml", name
        if isinstance(self.folder, FilePath):
            p = self.folder / name
            if p.exists() or name.endswith((".yaml", ".yml")):
                try:
                    return source.read_text(p), str(p), p.stem
                except ScenarioError as e:
                    raise self.fail(("scenario",), str(e)) from None
        else:
            t = self.folder.joinpath(name)
            if t.is_file():
                stem = name.rsplit("/", 1)[-1].removesuffix(".yaml")
                return t.read_text("utf-8"), name.rsplit("/", 1)[-1], stem
        close = difflib.get_close_matches(name, builtin_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise self.fail(
            ("scenario",),
            f"no built-in scenario and no file {name!r}{hint}; expected a built-in scenario's "
            "name (ecsim scenarios) or a scenario file",
        )

    # --- fixed changes (`set`) ------------------------------------------------------------

    def fixed(self, base: Any, lines: Lines, file: str, name: str) -> Any:
        """The base document with `set`'s changes, checked as a scenario."""
        changes = self.data.get("set", {})
        if not changes:
            return base
        doc = copy.deepcopy(base)
        where: list[tuple[paths.Concrete, Where]] = []
        for key, value in changes.items():
            at: Path = ("set", key)
            concrete = self.path(doc, key, at, key=True)
            paths.put(doc, concrete, value)
            where.append((concrete, Where(self.file, self.lines.of_key(at), field_name(at))))
        self.check(doc, lines, file, name, where, "")
        return doc

    def path(self, doc: Any, text: str, at: Path, *, key: bool = False) -> paths.Concrete:
        try:
            return paths.resolve(doc, paths.parse(text))
        except paths.PathError as e:
            raise self.fail(at, f"{text}: {e}", key=key) from None

    def check(
        self,
        doc: Any,
        lines: Lines,
        file: str,
        name: str,
        where: list[tuple[paths.Concrete, Where]],
        point: str,
    ) -> Scenario:
        """`doc` checked as a scenario file; its error located at the sweep's value."""
        try:
            return load_data(doc, lines, file, name)
        except ScenarioError as e:
            blamed = next(
                (w for concrete, w in where if _within(e.field, field_name(concrete))),
                None,
            )
            at = f" (at the point {point})" if point else ""
            if blamed is None:  # the values together: the point, at its first value
                blamed = where[0][1]
                message = f"{file}: {e.field}: {e.message}{at}" if e.field else f"{e}{at}"
            else:
                message = f"{e.field}: {e.message}{at}"
            raise ScenarioError(blamed.file, blamed.line, blamed.field, message) from None

    # --- the grid -------------------------------------------------------------------------

    def parameters(self) -> list[Parameter]:
        out: list[Parameter] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(self.data["parameters"]):
            at: Path = ("parameters", i)
            try:
                parts = paths.parse(raw["path"])
            except paths.PathError as e:
                raise self.fail((*at, "path"), f"{raw['path']}: {e}") from None
            last = next(p.name for p in reversed(parts) if isinstance(p, paths.Key))
            name = raw.get("name", last.replace("-", "_"))
            if name in seen:
                raise self.fail(
                    (*at, "name") if "name" in raw else (*at, "path"),
                    f"{name!r} is already the name of parameters[{seen[name]}]; expected a "
                    "name used once (give one with `name:`)",
                )
            if name in (*FIXED, "error"):
                raise self.fail(
                    (*at, "name"), f"{name!r} is a column of every row; expected another name"
                )
            seen[name] = i
            if ("values" in raw) == ("range" in raw):
                raise self.fail(at, "expected exactly one of `values` (a list) or `range`")
            if "range" in raw:
                values = self.range((*at, "range"), raw["range"])
            else:
                values = tuple(raw["values"])
            out.append(Parameter(name, raw["path"], values, self.where((*at, "path"))))
        return out

    def range(self, at: Path, raw: dict[str, Any]) -> tuple[Any, ...]:
        try:
            r = Range(raw)
        except RangeError as e:
            raise self.fail((*at, e.key), str(e)) from None
        n = r.size()
        if n > limits.MAX_POINTS:
            raise self.fail(
                at,
                f"the range has {_many(n)} values; expected at most "
                f"{limits.count(limits.MAX_POINTS)} (a sweep's limit of points)",
            )
        return tuple(r.values())

    def seeds(self, parameters: list[Parameter]) -> int:
        sizes = [len(p.values) for p in parameters]
        points = 1
        for size in sizes:
            points *= size
        grid = " x ".join(map(str, sizes))
        if points > limits.MAX_POINTS:
            raise self.fail(
                ("parameters",),
                f"the grid has {_many(points)} points ({grid} values); expected at most "
                f"{limits.count(limits.MAX_POINTS)} (a sweep's limit)",
                key=True,
            )
        seeds: int = self.data.get("seeds", 10)
        if self.seeds_given is not None:
            seeds = self.seeds_given
            if not 1 <= seeds <= limits.MAX_SEEDS:
                raise SeedsError(
                    f"expected from 1 to {limits.count(limits.MAX_SEEDS)} seeds; got {seeds}"
                )
        runs = points * seeds
        if runs > limits.MAX_RUNS:
            message = (
                f"the sweep makes {_many(runs)} runs ({points:,} points x {seeds:,} seeds); "
                f"expected at most {limits.count(limits.MAX_RUNS)} (a sweep's limit)"
            )
            if self.seeds_given is not None:
                raise SeedsError(message)
            raise self.fail(
                ("seeds",) if "seeds" in self.data else ("parameters",), message, key=True
            )
        return seeds

    def points(
        self, doc: Any, lines: Lines, file: str, name: str, parameters: list[Parameter]
    ) -> list[Point]:
        out: list[Point] = []
        indexes = [range(len(p.values)) for p in parameters]
        for n, combo in enumerate(itertools.product(*indexes)):
            point = copy.deepcopy(doc)
            where: list[tuple[paths.Concrete, Where]] = []
            values: dict[str, Value] = {}
            for k, (p, j) in enumerate(zip(parameters, combo, strict=True)):
                at: Path = ("parameters", k, "path")
                concrete = self.path(point, p.path, at)
                value = copy.deepcopy(p.values[j])
                paths.put(point, concrete, value)
                value_at: Path = ("parameters", k, "values", j)
                if "range" in self.data["parameters"][k]:
                    value_at = ("parameters", k, "range")
                where.append((concrete, self.where(value_at)))
                values[p.name] = _cell(value)
            shown = ", ".join(f"{k}={v}" for k, v in values.items())
            scenario = self.check(point, lines, file, name, where, shown)
            out.append(Point(n, values, scenario))
        return out

    # --- metrics ----------------------------------------------------------------------------

    def metrics(self, base: Scenario) -> list[Metric]:
        raw_list = self.data.get("metrics")
        if raw_list is None:
            from ecsim.sweep.metrics import ALL

            return [Metric(m, m) for m in ALL]
        out: list[Metric] = []
        steps = sorted({s.name for s in base.steps if s.name})
        for i, raw in enumerate(raw_list):
            at: Path = ("metrics", i)
            spec = {"metric": raw} if isinstance(raw, str) else raw
            metric = spec["metric"]
            mat: Path = at if isinstance(raw, str) else (*at, "metric")
            if not known(metric):
                close = difflib.get_close_matches(metric, names(), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(
                    mat, f"unknown metric {metric!r}{hint}; expected one of: {', '.join(names())}"
                )
            between = None
            if "between" in spec:
                if not windowed(metric) and metric != "errors":
                    raise self.fail(
                        (*at, "between"), f"{metric} is not counted over a window", key=True
                    )
                between = (
                    self.bound((*at, "between", 0), spec["between"][0], steps),
                    self.bound((*at, "between", 1), spec["between"][1], steps),
                )
            name = spec.get("name", metric)
            if between is not None and "name" not in spec:
                raise self.fail(
                    at,
                    f"a metric over a window needs a `name` for its column (e.g. {metric}_window)",
                )
            out.append(Metric(metric, name, between))
        return out

    def bound(self, at: Path, value: Any, steps: list[str]) -> float | str:
        if isinstance(value, str) and (value == "end" or value in steps):
            return value
        if isinstance(value, str) and value and not value[0].isdigit():
            close = difflib.get_close_matches(value, steps, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.fail(
                at,
                f"unknown step name {value!r}{hint}; expected a duration, end, or one of: {', '.join(steps) or 'none'}",
            )
        try:
            return parse_duration(value)
        except ValueError as e:
            raise self.fail(at, f"expected a duration like 90s, a step name or end: {e}") from None

    def columns(self, s: Sweep) -> None:
        """Metric columns that clash with a parameter's or another metric's."""
        params = {p.name for p in s.parameters}
        seen: set[str] = set()
        for i, m in enumerate(s.metrics):
            for c in m.columns(s.points[0].scenario):
                if c in params or c in FIXED or c == "error":
                    raise self.fail(
                        ("metrics", i),
                        f"the column {c!r} is also a parameter's or a row's own; expected another name",
                    )
            if m.name in seen:
                raise self.fail(
                    ("metrics", i),
                    f"the metric {m.name!r} is asked twice; expected each once (give one a `name`)",
                )
            seen.add(m.name)

    # --- the conclusion ---------------------------------------------------------------------

    def conclusion(self, s: Sweep) -> Conclusion | None:
        raw = self.data.get("conclusion")
        if raw is None:
            return None
        columns = s.metric_columns()
        params = [p.name for p in s.parameters]
        for i, c in enumerate(raw.get("compare", [])):
            self.column(("conclusion", "compare", i), c, columns)
        if "minimize" in raw:
            self.column(("conclusion", "minimize"), raw["minimize"], [*columns, *params])
        elif "where" in raw:
            raise self.fail(("conclusion", "where"), "`where` goes with `minimize`", key=True)
        where = []
        for i, text in enumerate(raw.get("where", [])):
            at: Path = ("conclusion", "where", i)
            m = _CONDITION.match(text)
            if m is None:
                raise self.fail(
                    at,
                    f"expected `<statistic> <column> <op> <number>`, e.g. 'p95 latency_p99 < 200'; got {text!r}",
                )
            if m["stat"] not in STATS:
                raise self.fail(
                    at, f"unknown statistic {m['stat']!r}; expected one of: {', '.join(STATS)}"
                )
            self.column(at, m["column"], columns)
            where.append(
                Condition(m["stat"], m["column"], m["op"], float(m["value"]), text.strip())
            )
        return Conclusion(tuple(raw.get("compare", [])), raw.get("minimize"), tuple(where))

    def column(self, at: Path, name: str, columns: list[str]) -> None:
        if name in columns:
            return
        close = difflib.get_close_matches(name, columns, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise self.fail(at, f"unknown column {name!r}{hint}; expected one of: {', '.join(columns)}")

    # --- the key of its runs ----------------------------------------------------------------

    def digest(self, base_text: str) -> str:
        """What the runs depend on: the base scenario's text, the file without the parts
        that change no run (seeds, name, question, conclusion), and ecsim's version."""
        kept = {
            k: v
            for k, v in self.data.items()
            if k not in ("seeds", "name", "question", "conclusion")
        }
        text = json.dumps(
            {"sweep": kept, "scenario": base_text, "ecsim": __version__}, sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _within(error_field: str, value_field: str) -> bool:
    """Whether a scenario error at `error_field` is about the value at `value_field`."""
    return error_field == value_field or error_field.startswith(
        (value_field + ".", value_field + "[")
    )


def _cell(value: Any) -> Value:
    """A parameter value as a table cell: as written, or a mapping or list as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    out: Value = value
    return out


def _many(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


__all__ = ["SeedsError", "load_file", "load_text", "schema", "show"]
