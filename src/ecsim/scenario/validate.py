"""Check a scenario's shape against the published JSON Schema (`schema.json`), and turn the
first problem (in file order) into a message that names the line and the field, and says
what was expected."""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from ecsim.model.durations import parse_duration
from ecsim.model.verbs import catalog
from ecsim.model.verbs.spec import Verb
from ecsim.scenario import limits
from ecsim.scenario.errors import ScenarioError
from ecsim.scenario.yamlnodes import Lines, Path, field_name

_TYPES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "nothing",
}


# The parts of the schema that restate a parameter of one of ecsim's own verbs: generated
# from its declaration (model/verbs/catalog.py), whatever schema.json says (a test keeps the
# file's copy equal to the declaration's, for editors that read the file).
GENERATED: dict[tuple[str, ...], tuple[Verb, str]] = {
    ("$defs", "traffic", "properties", "rate"): (catalog.SET_RATE, "rps"),
    ("$defs", "traffic", "properties", "paths"): (catalog.SET_RATE, "paths"),
}


@cache
def _file() -> dict[str, Any]:
    text = resources.files("ecsim.scenario").joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def generated() -> dict[tuple[str, ...], dict[str, Any]]:
    """The generated parts of the schema, by their place in it: the verbs' parameters, and
    the scenario file's own limits (scenario/limits.py)."""
    verbs = {
        where: {
            **verb.param(name).schema(),
            "$comment": f"generated from {verb.do}'s {name} (ecsim.model.verbs.catalog)",
        }
        for where, (verb, name) in GENERATED.items()
    }
    own = {
        where: {**part, "$comment": "generated from ecsim.scenario.limits"}
        for where, part in limits.schema_parts().items()
    }
    return {**verbs, **own}


def _parts() -> str:
    """The generated parts as one text: the key of the schema (and validator) built with
    them, so that a changed declaration gets a new one."""
    return json.dumps({"/".join(k): v for k, v in generated().items()}, sort_keys=True)


def schema() -> dict[str, Any]:
    """The scenario file's JSON Schema: schema.json with its generated parts."""
    return _schema(_parts())


@cache
def _schema(parts: str) -> dict[str, Any]:
    out = copy.deepcopy(_file())
    for where, part in json.loads(parts).items():
        *parents, last = where.split("/")
        node = out
        for key in parents:
            node = node[key]
        node[last] = part
    return out


def _maximum_seconds(
    validator: Any, maximum: float, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """`maximumSeconds`: a duration, written as a number or as text (`25h`), at most this
    many seconds (one the schema's other keywords refuse is left to them)."""
    if isinstance(instance, bool) or not isinstance(instance, int | float | str):
        return
    try:
        seconds = parse_duration(instance)
    except ValueError:
        return
    if not math.isfinite(seconds) or seconds > maximum:
        yield ValidationError(f"{instance!r} is longer than {maximum} seconds")


@cache
def _validator(parts: str) -> jsonschema.protocols.Validator:
    base = jsonschema.validators.validator_for(_schema(parts))
    cls = jsonschema.validators.extend(base, {"maximumSeconds": _maximum_seconds})
    return cls(_schema(parts))


def show(value: Any) -> str:
    """A value as the user wrote it, for 'got ...'."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def check_shape(data: Any, lines: Lines, file: str) -> None:
    """Raise ScenarioError for the first place (in file order) where `data` breaks the schema."""
    check_against(_validator(_parts()), data, lines, file)


def check_against(validator: Any, data: Any, lines: Lines, file: str) -> None:
    """Raise ScenarioError for the first place (in file order) where `data` breaks the
    schema of `validator` (a jsonschema validator): the scenario's, or another file's read
    the same way (a sweep file, ecsim.sweep)."""
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    errors.sort(key=lambda e: (lines.of(tuple(e.absolute_path)) or 0, -len(e.absolute_path)))
    raise _located(errors[0], lines, file)


def _located(error: ValidationError, lines: Lines, file: str) -> ScenarioError:
    path: Path = tuple(error.absolute_path)
    validator = error.validator
    instance = error.instance
    sub: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(sub.get("properties", {}))
        extra = sorted(k for k in instance if k not in known)
        key = extra[0]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return ScenarioError(
            file,
            lines.of_key((*path, key)),
            field_name((*path, key)),
            f"unknown field{hint}; expected one of: {', '.join(known)}",
        )
    if validator == "required" and isinstance(instance, dict):
        missing = [k for k in error.validator_value if k not in instance]
        what = f" ({sub['description']})" if "description" in sub else ""
        return ScenarioError(
            file,
            lines.of(path),
            field_name(path) or "(top level)",
            f"missing the required field {missing[0]!r}{what}",
        )
    if validator in ("oneOf", "anyOf"):
        description = sub.get("description")
        if description:
            return ScenarioError(
                file,
                lines.of(path),
                field_name(path),
                f"expected {description}; got {show(instance)}",
            )
        if error.context:
            return _located(best_match(error.context), lines, file)
    expected = sub.get("description")
    if validator == "type":
        types = error.validator_value
        names = [types] if isinstance(types, str) else list(types)
        expected = " or ".join(_TYPES.get(t, t) for t in names)
        if "description" in sub:
            expected += f" ({sub['description']})"
    elif validator == "enum":
        expected = "one of " + ", ".join(str(v) for v in error.validator_value)
    elif validator == "const":
        expected = repr(error.validator_value)
    elif validator == "maximumSeconds":
        expected = (
            f"a duration of at most {limits.span(error.validator_value)} (a scenario's longest)"
        )
    elif validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
        expected = f"a number {sign[str(validator)]} {error.validator_value}"
    elif validator in ("minItems", "maxItems"):
        word = "at least" if validator == "minItems" else "at most"
        expected = f"a list of {word} {error.validator_value} items"
    elif validator in ("minProperties", "maxProperties"):
        expected = expected or f"{error.validator_value} field(s)"
    elif validator == "minLength":
        expected = "a non-empty text"
    elif expected is None:
        expected = error.message
    return ScenarioError(
        file,
        lines.of(path),
        field_name(path) or "(top level)",
        f"expected {expected}; got {show(instance)}",
    )
