"""The specification of ecsim's own verbs: what each one takes, its limits and its defaults.

A verb (`chaos.stress_cpu`, `traffic.set_rate`, `time.speed`, ...) is declared once, as a
`Verb` of `Param`s (model/verbs/catalog.py), and every face reads that declaration: the Python
API (`w.chaos`, `w.traffic`) and the live world's clock check their arguments with `check`;
ecsim's JSON API writes its request schemas (and its OpenAPI document) with `properties`; the
page checks its commands with `check` and words the refusal its own way; the scenario loader
checks a step's parameters with `check_param` and takes its durations and faults from here.

A refused value raises a `ParameterError`, which is also the verb's own AWS-style error
(`InvalidParameterException` for chaos, `ValidationError` for traffic and time) and a
`ValueError`: callers catch it as they caught the model's errors before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast

from ecsim.model.errors import AwsError, InvalidParameterException

# number: int or float; integer: a whole number (2.0 is taken, as 2); duration: a number of
# seconds (scenario files may write it as 90s, 5m, 250ms); string: non-empty text; bool: true or
# false; choice: one of `choices`; task: a task's ID, ARN or IP address (in Python also a
# DescribeTasks dict); path: a request path (`/...`); paths: request kinds, paths or
# {path, host, weight} mappings.
Kind = Literal["number", "integer", "duration", "string", "bool", "choice", "task", "path", "paths"]
NUMERIC = ("number", "integer", "duration")
_PATH_KEYS = ("path", "host", "weight")


class ParameterError(AwsError, ValueError):
    """A verb's parameter its specification refuses: `param` must be `must`, got `value`.

    Raised as an instance of the verb's error class too (`InvalidParameterException`,
    `ValidationError`), so it keeps that AWS code and HTTP status.
    """

    def __init__(
        self, verb: str, param: str, must: str, value: Any, message: str | None = None
    ) -> None:
        super().__init__(message or f"{param} must be {must}, got {value!r}")
        self.verb = verb
        self.param = param
        self.must = must
        self.value = value


_ERRORS: dict[type[AwsError], type[ParameterError]] = {}


def _error_class(base: type[AwsError]) -> type[ParameterError]:
    """A ParameterError that is also a `base` (same code, same status)."""
    cls = _ERRORS.get(base)
    if cls is None:
        made = type(base.__name__, (ParameterError, base), {"__module__": __name__})
        cls = _ERRORS[base] = cast(type[ParameterError], made)
    return cls


class _RefusedError(Exception):
    """A value a Param does not take; `must` says what it takes."""

    def __init__(self, must: str) -> None:
        super().__init__(must)
        self.must = must


def _show(x: float) -> str:
    """A limit as people write it: 100, 0.001, 43200 (never 4.32e+04)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass
class Param:
    """One parameter of a verb. `lo`/`hi` bound numbers (inclusive unless `lo_open`/`hi_open`);
    `default` is what an omitted (or None) parameter becomes: None means "not given", which the
    verb's description explains (e.g. blackhole_port's port: the container's)."""

    name: str
    kind: Kind
    description: str
    default: Any = None
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    unit: str = ""  # after numbers in messages: "s", "%", "requests/s"
    what: str = ""  # a noun for messages: "a TCP port"
    note: str = ""  # said after the limits: "100 % is a blackhole"
    choices: tuple[str, ...] = ()

    # --- words ----------------------------------------------------------------------------

    def limits(self) -> str:
        """The bounds in words: "above 0 and at most 100 %", "between 1 and 65535"."""
        unit = f" {self.unit}" if self.unit else ""
        lo = None if self.lo is None else _show(self.lo)
        hi = None if self.hi is None else _show(self.hi)
        if lo is not None and hi is not None:
            if not self.lo_open and not self.hi_open:
                return f"between {lo} and {hi}{unit}"
            low = f"above {lo}" if self.lo_open else f"at least {lo}"
            high = f"below {hi}" if self.hi_open else f"at most {hi}"
            return f"{low} and {high}{unit}"
        if lo is not None:
            return f"{'above' if self.lo_open else 'at least'} {lo}{unit}"
        if hi is not None:
            return f"{'below' if self.hi_open else 'at most'} {hi}{unit}"
        return ""

    def must(self) -> str:
        """What the parameter must be, for messages: "above 0 and at most 100 %"."""
        if self.kind in NUMERIC:
            limits = self.limits()
            if limits:
                text = f"{self.what} {limits}" if self.what else limits
            else:
                text = (
                    self.what
                    or {
                        "number": "a number",
                        "integer": "a whole number",
                        "duration": "a number of seconds",
                    }[self.kind]
                )
        else:
            text = (
                self.what
                or {
                    "string": "a non-empty string",
                    "bool": "true or false",
                    "choice": "one of " + ", ".join(self.choices),
                    "task": "a task ID, ARN or IP address",
                    "path": "a request path starting with /",
                    "paths": "a non-empty list of request paths (/...) or {path, host, weight}",
                }[self.kind]
            )
        return f"{text} ({self.note})" if self.note else text

    # --- values ---------------------------------------------------------------------------

    def within(self, x: float) -> bool:
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return not (self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi))

    def take(self, value: Any) -> Any:
        """`value` as the verb gets it (2.0 -> 2 for an integer), or raise _RefusedError."""
        kind = self.kind
        if kind in NUMERIC:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise _RefusedError(self.must())
            if kind == "integer":
                if value != int(value):
                    raise _RefusedError("a whole number")
                value = int(value)
            if not self.within(value):
                raise _RefusedError(self.must())
            return value
        ok = {
            "string": lambda v: isinstance(v, str) and bool(v.strip()),
            "bool": lambda v: isinstance(v, bool),
            "choice": lambda v: isinstance(v, str) and v in self.choices,
            "task": lambda v: (isinstance(v, str) and bool(v.strip())) or isinstance(v, dict),
            "path": _is_path,
            "paths": _is_paths,
        }[kind]
        if not ok(value):
            raise _RefusedError(self.must())
        return value

    # --- JSON Schema ----------------------------------------------------------------------

    def schema(self) -> dict[str, Any]:
        """The parameter as JSON Schema (draft 2020-12), with its limits and default."""
        out: dict[str, Any] = {}
        if self.kind in NUMERIC:
            out["type"] = "integer" if self.kind == "integer" else "number"
            if self.lo is not None:
                out["exclusiveMinimum" if self.lo_open else "minimum"] = _json_number(self.lo)
            if self.hi is not None:
                out["exclusiveMaximum" if self.hi_open else "maximum"] = _json_number(self.hi)
        elif self.kind == "bool":
            out["type"] = "boolean"
        elif self.kind == "choice":
            out["type"] = "string"
            out["enum"] = list(self.choices)
        elif self.kind == "path":
            out.update(PATH_SCHEMA)
        elif self.kind == "paths":
            out.update(PATHS_SCHEMA)
        else:
            out.update({"type": "string", "minLength": 1})
        if self.default is not None:
            numeric = self.kind in NUMERIC and not isinstance(self.default, bool)
            out["default"] = _json_number(self.default) if numeric else self.default
        out["description"] = self.description
        return out


def _json_number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _is_path(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("/")


def _is_paths(v: Any) -> bool:
    if not isinstance(v, list | tuple) or not v:
        return False
    for item in v:
        if isinstance(item, dict):
            weight = item.get("weight", 1)
            if (
                not set(item) <= set(_PATH_KEYS)
                or not _is_path(item.get("path"))
                or not isinstance(item.get("host", ""), str)
                or isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not weight > 0
            ):
                return False
        elif not _is_path(item):
            return False
    return True


PATH_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^/"}
PATHS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {
        "oneOf": [
            PATH_SCHEMA,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["path"],
                "properties": {
                    "path": PATH_SCHEMA,
                    "host": {"type": "string"},
                    "weight": {"type": "number", "exclusiveMinimum": 0},
                },
            },
        ]
    },
}


@dataclass(frozen=True, eq=False)
class Verb:
    """One of ecsim's own verbs, on one surface: `chaos`, `traffic` (of `w`) or `time` (of the
    live world). `fault`: a scenario's summary measures the time to recover after it.
    `error`: the AWS-style error a refused parameter raises. `action`: the AWS FIS action it
    injects, if any."""

    surface: str
    name: str
    summary: str
    params: tuple[Param, ...] = ()
    description: str = ""
    fault: bool = False
    error: type[AwsError] = InvalidParameterException
    action: str = ""

    @property
    def do(self) -> str:
        """The verb as a scenario step names it: `chaos.stress_cpu`."""
        return f"{self.surface}.{self.name}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    @property
    def durations(self) -> tuple[str, ...]:
        """The parameters in seconds that a scenario file may write as durations (`2m`)."""
        return tuple(p.name for p in self.params if p.kind == "duration")

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.do} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params if not p.required}


def refuse(verb: Verb, param: str, must: str, value: Any, message: str | None = None) -> NoReturn:
    """Raise the verb's ParameterError."""
    raise _error_class(verb.error)(verb.do, param, must, value, message)


def check_param(verb: Verb, name: str, value: Any) -> Any:
    """One parameter's value as the verb takes it; raise ParameterError when refused."""
    if name not in verb.names:
        refuse(
            verb,
            name,
            "one of " + ", ".join(verb.names),
            value,
            f"{verb.name} has no parameter {name!r}; expected: {', '.join(verb.names)}",
        )
    p = verb.param(name)
    if value is None:
        if p.required:
            refuse(verb, name, p.must(), value, f"{name} is required")
        return p.default
    try:
        return p.take(value)
    except _RefusedError as e:
        must = e.must
    refuse(verb, name, must, value)


def check(verb: Verb, args: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of `verb`, checked, with the defaults of those not given (an argument
    of None counts as not given); raise the verb's ParameterError for the first one refused
    (an unknown name, a required one missing, a value out of its limits)."""
    for name in args:
        if name not in verb.names:
            check_param(verb, name, args[name])
    return {p.name: check_param(verb, p.name, args.get(p.name)) for p in verb.params}


def properties(verb: Verb, key: Callable[[str], str] = str) -> dict[str, Any]:
    """The JSON Schema of each parameter, by name (`key` renames them, e.g. to camelCase)."""
    return {key(p.name): p.schema() for p in verb.params}


def schema(verb: Verb, key: Callable[[str], str] = str) -> dict[str, Any]:
    """The verb's arguments as one JSON Schema object (no other property allowed)."""
    return {
        "type": "object",
        "properties": properties(verb, key),
        "required": [key(n) for n in verb.required],
        "additionalProperties": False,
    }
