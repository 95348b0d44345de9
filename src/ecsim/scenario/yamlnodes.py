"""YAML read safely, with the line of every value, so errors can name the line they are about.

`read_yaml(text, file)` gives the plain data (dicts, lists, strings, numbers) and `Lines`,
which maps a path into that data (`("services", 0, "desired_count")`) to its line.

The data is built from the parser's events, one at a time and without recursion, so every
limit of `limits.py` is checked as the text is read, before the next event is even parsed:
depth, items in a list, values in all (each alias's copy counted), the size and range of
numbers. Plain values mean what they mean to PyYAML's SafeLoader (YAML 1.1: `yes` is true,
`0x1f` is 31, `~` is nothing), except that a date stays text and a merge key (`<<`) is
refused. Choice: no explicit tag is accepted, not even a standard one (`!!str`, `!!int`):
a scenario has no use for one, and quoting makes a value text.

libyaml (PyYAML's C parser) parses when it is there: PyYAML's own parser takes seconds for a
few hundred kilobytes. A file that is not valid YAML is described in PyYAML's own words (the
C parser's differ), by parsing it again with PyYAML's parser when the problem is near enough
to the start for that to be quick.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.reader import Reader
from yaml.resolver import Resolver

from ecsim.scenario import limits
from ecsim.scenario.errors import ScenarioError

Path = tuple[str | int, ...]

_FAST: Any = getattr(yaml, "CSafeLoader", None)
_SLOW: Any = yaml.SafeLoader
_REWORD_WITHIN = 64 * 1024  # characters: how far PyYAML's parser goes again, for its words
_TAG = "tag:yaml.org,2002:"


class Lines:
    """The line (1-based) of each value and of each mapping key, by path."""

    def __init__(self) -> None:
        self.values: dict[Path, int] = {}
        self.keys: dict[Path, int] = {}

    def of(self, path: Path) -> int | None:
        """The line of the value at `path`, or of the closest enclosing value we know."""
        p = tuple(path)
        while True:
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def of_key(self, path: Path) -> int | None:
        """The line of the key that names the value at `path` (its value may start later)."""
        return self.keys.get(tuple(path)) or self.of(path)


def field_name(path: Path) -> str:
    """`services[0].desired_count` for ("services", 0, "desired_count")."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def read_yaml(text: str, file: str) -> tuple[Any, Lines]:
    if len(text) > limits.MAX_BYTES or len(text.encode("utf-8", "replace")) > limits.MAX_BYTES:
        raise ScenarioError(file, None, "", too_big(len(text.encode("utf-8", "replace"))))
    bad = Reader.NON_PRINTABLE.search(text)
    if bad:
        raise _unprintable(text, file, bad.start())
    reader = _Builder(text, file)
    data = reader.read()
    if reader.empty:
        raise ScenarioError(file, 1, "", "the file is empty; expected a scenario (a mapping)")
    return data, reader.lines


def too_big(size: int | None) -> str:
    """A file (of `size` bytes, or of more than the limit) too big to read."""
    got = f"{limits.count(size)} bytes" if size is not None else "more bytes"
    return (
        f"expected a scenario file of at most {limits.count(limits.MAX_BYTES)} bytes (1 MiB); "
        f"got {got}"
    )


def _unprintable(text: str, file: str, at: int) -> ScenarioError:
    """The first character YAML does not allow (a NUL byte, a control character), located:
    its line, and the field of the value it is in (read again with it replaced)."""
    line = text.count("\n", 0, at)
    column = at - (text.rfind("\n", 0, at) + 1)
    char = text[at]
    path: Path | None = None
    clean = Reader.NON_PRINTABLE.sub("_", text)
    try:
        _Builder(clean, file, find=(line, column)).read()
    except _FoundError as found:
        path = found.path
    except ScenarioError:
        pass
    return ScenarioError(
        file,
        line + 1,
        field_name(path) if path else "",
        f"expected text without control characters; got the character U+{ord(char):04X} "
        f"({_CONTROL.get(ord(char), 'a control character')}) at column {column + 1}",
    )


_CONTROL = {
    0: "NUL",
    0x1B: "ESC",
    0x7F: "DEL",
    0xFFFE: "not a character",
    0xFFFF: "not a character",
}


class _FoundError(Exception):
    def __init__(self, path: Path) -> None:
        self.path = path


@dataclass
class _Open:
    """A mapping or list being read."""

    value: dict[str, Any] | list[Any]
    path: Path
    anchor: str | None  # the anchor it defines (while it is open, an alias to it is refused)
    key: str = ""  # a mapping's key waiting for its value (when has_key)
    has_key: bool = False


@dataclass
class _Builder:
    text: str
    file: str
    find: tuple[int, int] | None = None  # (line, column), 0-based: raise _FoundError with its path
    lines: Lines = field(default_factory=Lines)
    empty: bool = True
    _log: list[Any] = field(default_factory=list)  # the document's events, for aliases
    _anchors: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    _values: int = 0
    _via: Any = None  # the alias (in the text) whose copy is being read, for messages

    # --- reading ------------------------------------------------------------------------

    def read(self, slow: bool = False) -> Any:
        fast = _FAST is not None and not slow
        parser = (_FAST if fast else _SLOW)(self.text)
        try:
            return self._document(self._events(parser))
        except yaml.MarkedYAMLError as e:
            if fast and "maximum nesting depth" in (e.problem or ""):
                # libyaml 0.2.6 and later stop at a depth of their own while scanning ahead,
                # before any event reaches this file's lower limit: PyYAML's own parser
                # hands the events over, and the limit is met with its path
                return _Builder(self.text, self.file, self.find).read(slow=True)
            raise self._not_yaml(e, fast=fast) from None
        except yaml.YAMLError as e:  # (the reader's: the text was checked before)
            raise ScenarioError(self.file, None, "", f"not valid YAML: {e}") from None
        finally:
            parser.dispose()

    @staticmethod
    def _events(parser: Any) -> Iterator[Any]:
        while parser.check_event():
            yield parser.get_event()

    def _not_yaml(self, error: yaml.MarkedYAMLError, fast: bool) -> ScenarioError:
        mark = error.problem_mark or error.context_mark
        if fast and mark is not None and mark.index <= _REWORD_WITHIN:
            # PyYAML's words for the same problem (it stops there too)
            end = self.text.find("\n", mark.index)
            for _ in range(3):
                end = self.text.find("\n", end + 1) if end != -1 else -1
            slow = _SLOW(self.text if end == -1 else self.text[: end + 1])
            try:
                while slow.check_event():
                    slow.get_event()
            except yaml.MarkedYAMLError as again:
                again_mark = again.problem_mark or again.context_mark
                if again_mark is not None and again_mark.line == mark.line:
                    error = again
            finally:
                slow.dispose()
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "not valid YAML"
        context = f" {error.context}" if error.context else ""
        return ScenarioError(
            self.file,
            mark.line + 1 if mark else None,
            "",
            f"not valid YAML: {problem}{context}",
        )

    def _document(self, events: Iterator[Any]) -> Any:
        root: Any = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise ScenarioError(
                        self.file,
                        event.start_mark.line + 1,
                        "",
                        "not valid YAML: expected a single document in the stream, but found "
                        "another document",
                    )
                root = self._root(events)
        return root

    def _root(self, events: Iterator[Any]) -> Any:
        """The document's value, read from its events (and the copies its aliases make)."""
        stack: list[_Open] = []
        sources: list[Iterator[tuple[int | None, Any]]] = [self._logged(events)]
        root: Any = None
        while sources:
            try:
                index, event = next(sources[-1])
            except StopIteration:
                sources.pop()
                if len(sources) == 1:
                    self._via = None
                continue
            if isinstance(event, yaml.DocumentEndEvent):
                return root
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                done = stack.pop()
                if index is not None and done.anchor is not None:
                    self._anchors[done.anchor] = (self._anchors[done.anchor][0], index)
                continue
            if isinstance(event, yaml.AliasEvent):
                sources.append(self._alias(event, stack))
                if len(sources) == 2:
                    self._via = event
                continue
            self.empty = False
            parent = stack[-1] if stack else None
            if parent is not None and isinstance(parent.value, dict) and not parent.has_key:
                self._key(parent, event)
                continue
            path: Path = ()
            if parent is not None:
                place = parent.key if isinstance(parent.value, dict) else len(parent.value)
                path = (*parent.path, place)
            self._count(event, path)
            if (
                parent is not None
                and isinstance(parent.value, list)
                and len(parent.value) >= limits.MAX_ITEMS
            ):
                raise self._fail(event, parent.path, _too_many(parent.path))
            self.lines.values[path] = event.start_mark.line + 1
            anchor = event.anchor if index is not None else None
            if anchor is not None and index is not None:
                if anchor in self._anchors:
                    raise self._fail(
                        event,
                        path,
                        f"the anchor &{anchor} is defined twice; expected each anchor once",
                    )
                last = index if isinstance(event, yaml.ScalarEvent) else None
                self._anchors[anchor] = (index, last)
            if isinstance(event, yaml.ScalarEvent):
                value: Any = self._scalar(event, path)
            else:
                if event.tag is not None:
                    raise self._fail(event, path, _tagged(event.tag))
                if len(stack) >= limits.MAX_DEPTH:
                    raise self._fail(
                        event,
                        path,
                        f"nested more than {limits.MAX_DEPTH} levels deep; expected at most "
                        f"{limits.MAX_DEPTH} (a scenario file's limit)",
                    )
                value = {} if isinstance(event, yaml.MappingStartEvent) else []
                stack.append(_Open(value, path, anchor))
            if parent is None:
                root = value
            elif isinstance(parent.value, dict):
                parent.value[parent.key] = value
                parent.key, parent.has_key = "", False
            else:
                parent.value.append(value)
        return root

    def _logged(self, events: Iterator[Any]) -> Iterator[tuple[int | None, Any]]:
        """The document's own events, kept for the aliases that copy them."""
        for event in events:
            self._log.append(event)
            yield len(self._log) - 1, event

    def _alias(self, event: Any, stack: list[_Open]) -> Iterator[tuple[int | None, Any]]:
        """The events of the value an alias names, again (their anchors not redefined)."""
        name = event.anchor
        parent = stack[-1] if stack else None
        where: Path = () if parent is None else parent.path
        if name not in self._anchors:
            raise self._fail(event, where, f"found undefined alias {name!r}")
        first, last = self._anchors[name]
        if last is None:
            raise self._fail(
                event,
                where,
                f"the alias *{name} is inside the value &{name} it names, which would repeat "
                "without end; expected a value that does not contain itself",
            )
        return ((None, e) for e in self._log[first : last + 1])

    def _count(self, event: Any, path: Path) -> None:
        self._values += 1
        if self._values > limits.MAX_VALUES:
            raise self._fail(
                event,
                path,
                f"the file makes more than {limits.count(limits.MAX_VALUES)} values (each "
                "alias's copy counted); expected a smaller scenario",
            )

    def _key(self, parent: _Open, event: Any) -> None:
        if not isinstance(event, yaml.ScalarEvent):
            raise self._fail(
                event, parent.path, "expected a plain key (text); got a mapping or a list as a key"
            )
        self._count(event, parent.path)
        value = self._scalar(event, parent.path)
        key = value if isinstance(value, str) else str(value)
        sub = (*parent.path, key)
        if key in parent.value:
            first = self.lines.keys[sub]
            raise ScenarioError(
                self.file,
                event.start_mark.line + 1,
                field_name(sub),
                f"appears twice in the same mapping (first on line {first}); "
                "expected each field once",
            )
        self.lines.keys[sub] = event.start_mark.line + 1
        parent.key, parent.has_key = key, True

    # --- plain values -------------------------------------------------------------------

    def _scalar(self, event: Any, path: Path) -> Any:
        if self.find is not None:
            start = (event.start_mark.line, event.start_mark.column)
            end = (event.end_mark.line, event.end_mark.column)
            if start <= self.find < end:
                raise _FoundError(path)
        if event.tag is not None:
            raise self._fail(event, path, _tagged(event.tag))
        text: str = event.value
        tag = _RESOLVER.resolve(yaml.ScalarNode, text, event.implicit)
        kind = tag.removeprefix(_TAG)
        if kind == "null":
            return None
        if kind == "bool":
            return _CONSTRUCTOR.bool_values[text.lower()]
        if kind == "merge":
            raise self._fail(
                event, path, "merge keys (<<) are not accepted; expected the fields written out"
            )
        if kind not in ("int", "float"):
            return text  # text; a date stays as written
        if len(text) > limits.MAX_NUMBER_TEXT:
            raise self._fail(event, path, _not_64_bits(text))
        node = yaml.ScalarNode(tag, text)
        try:  # ("0x_" looks like a whole number to YAML 1.1, but is none)
            number: int | float = (
                _CONSTRUCTOR.construct_yaml_int(node)
                if kind == "int"
                else _CONSTRUCTOR.construct_yaml_float(node)
            )
        except ValueError:
            raise self._fail(event, path, f"expected a number; got {_shown(text)}") from None
        if isinstance(number, int):
            if abs(number) > limits.MAX_INT:
                raise self._fail(event, path, _not_64_bits(text))
            return number
        real = number
        if math.isnan(real):
            raise self._fail(event, path, f"expected a number; got {text} (not a number)")
        if math.isinf(real):
            raise self._fail(event, path, f"expected a finite number; got {text}")
        return real

    def _fail(self, event: Any, path: Path, message: str) -> ScenarioError:
        """An error at `event`, or at the alias whose copy it is part of."""
        mark = (self._via or event).start_mark
        return ScenarioError(self.file, mark.line + 1, field_name(path) or "(top level)", message)


_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()


def _shown(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-10:]} ({len(text)} characters)"


def _not_64_bits(text: str) -> str:
    return (
        f"expected a number within ±{limits.MAX_INT} (64 bits) and at most "
        f"{limits.MAX_NUMBER_TEXT} characters long; got {_shown(text)}"
    )


def _tagged(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return (
        f"expected a plain value; got the YAML tag {_shown(shown)}, and a scenario file takes "
        "none (quote a value to make it text)"
    )


def _too_many(path: Path) -> str:
    what = {"timeline": "steps", "traffic": "traffic changes", "expect": "expectations"}
    name = what.get(str(path[0]), "items") if len(path) == 1 else "items"
    return (
        f"expected at most {limits.count(limits.MAX_ITEMS)} {name} (a scenario file's limit for "
        "any one list); got more"
    )
