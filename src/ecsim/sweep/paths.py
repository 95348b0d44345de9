"""Parameter paths: where in a scenario document a sweep puts its values.

    duration                                             a top-level field
    world.target_groups[home-tg].health_check.interval   a list item by name
    world.task_definitions[1].app.latency.median         a list item by index (from 0)
    world.load_balancers[home-alb].listeners[port=80]    a list item by one of its fields
    timeline[the outage].at                              a timeline step by its name
    settings.scheduler.interval                          any field of the file

A field is `.name` (letters, digits, `_` and `-`); a list item is `[N]` (its index), `[text]`
(the item whose `name` or `family` is the text, or the item that is the text itself, as in
`clusters[home]`) or `[field=text]` (the item whose field has that value, compared as text).
The last field may be missing from the scenario (it is added, as if written); the fields on
the way to it may be missing too (they are added as mappings). A list item must exist, and a
name must pick exactly one: two task definitions of one family are picked by index.

`resolve` turns a path into the concrete path of the document (indexes, the form a scenario
error names), so an error of the scenario about the substituted value is traced back to the
parameter that put it there.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

Concrete = tuple[str | int, ...]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NAMES = ("name", "family")  # what `[text]` compares, in this order


class PathError(ValueError):
    """A path that cannot be read, or that names nothing in the document."""


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Item:
    """A list item: by index (`index`), by name (`field` None) or by a field's value."""

    index: int | None = None
    field: str | None = None
    value: str = ""

    def __str__(self) -> str:
        if self.index is not None:
            return f"[{self.index}]"
        return f"[{self.field}={self.value}]" if self.field else f"[{self.value}]"


Part = Key | Item


def parse(text: str) -> tuple[Part, ...]:
    """The parts of a path; PathError saying where it cannot be read."""
    parts: list[Part] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "[":
            end = text.find("]", i)
            if end == -1:
                raise PathError(f"a `[` without its `]` at character {i + 1}")
            parts.append(_item(text[i + 1 : end], i))
            i = end + 1
            continue
        if parts:
            if c != ".":
                raise PathError(f"expected `.` or `[` at character {i + 1}; got {c!r}")
            i += 1
        m = _KEY.match(text, i)
        if m is None:
            raise PathError(
                f"expected a field name (letters, digits, _ and -) at character {i + 1}"
            )
        parts.append(Key(m.group(0)))
        i = m.end()
    if not parts or not isinstance(parts[0], Key):
        raise PathError(
            "expected a path starting with a field, e.g. world.services[web].desired_count"
        )
    return tuple(parts)


def _item(inside: str, at: int) -> Item:
    text = inside.strip()
    if not text:
        raise PathError(f"an empty `[]` at character {at + 1}; expected an index or a name")
    if text.isdigit():
        if len(text) > 6:
            raise PathError(f"the index {text} is too large")
        return Item(index=int(text))
    field, eq, value = text.partition("=")
    if eq:
        if not _KEY.fullmatch(field.strip()) or not value.strip():
            raise PathError(f"expected [field=value] at character {at + 1}; got [{inside}]")
        return Item(field=field.strip(), value=value.strip())
    return Item(value=text)


def show(parts: tuple[Part, ...]) -> str:
    out = ""
    for p in parts:
        out += str(p) if isinstance(p, Item) else (f".{p.name}" if out else p.name)
    return out


def resolve(document: Any, parts: tuple[Part, ...]) -> Concrete:
    """The concrete path (keys and indexes) that `parts` names in `document`; PathError when
    a list item is missing, a name picks none or several, or a value on the way is not a
    mapping or a list as the path needs."""
    node: Any = document
    out: list[str | int] = []
    for k, part in enumerate(parts):
        here = show(parts[:k]) or "the scenario"
        if isinstance(part, Key):
            if node is None:  # (a field on the way, to be added)
                out.append(part.name)
                continue
            if not isinstance(node, dict):
                raise PathError(
                    f"{here} is {_kind(node)}, not a mapping with a field {part.name!r}"
                )
            out.append(part.name)
            node = node.get(part.name)
            continue
        if not isinstance(node, list):
            what = "missing" if node is None else _kind(node)
            raise PathError(f"{here} is {what}, not a list to pick {part} from")
        index = _pick(node, part, here)
        out.append(index)
        node = node[index]
    return tuple(out)


def _pick(items: list[Any], part: Item, here: str) -> int:
    if part.index is not None:
        if part.index >= len(items):
            raise PathError(
                f"{here} has {len(items)} item(s) (indexes 0 to {len(items) - 1}); got {part}"
            )
        return part.index
    if part.field is not None:
        found = [
            i
            for i, x in enumerate(items)
            if isinstance(x, dict) and _text(x.get(part.field)) == part.value
        ]
        names = [_text(x.get(part.field)) for x in items if isinstance(x, dict) and part.field in x]
    else:
        found = [i for i, x in enumerate(items) if _name(x) == part.value]
        names = [n for n in (_name(x) for x in items) if n is not None]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise PathError(
            f"{here} has {len(found)} items {part} (indexes {', '.join(map(str, found))}); "
            "expected one: pick it by index"
        )
    close = difflib.get_close_matches(part.value, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(dict.fromkeys(names)) or "none has a name; pick by index"
    raise PathError(f"{here} has no item {part}{hint}; expected one of: {listed}")


def _name(x: Any) -> str | None:
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        for key in _NAMES:
            if key in x:
                return _text(x[key])
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"the value {value!r}"


def put(document: Any, path: Concrete, value: Any) -> None:
    """Set the value at `path` (from `resolve`) in `document`, adding the missing mappings on
    the way."""
    node = document
    for part in path[:-1]:
        if isinstance(part, str) and node.get(part) is None:
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
