"""YAML read with the line of every value, so errors can name the line they are about.

`read_yaml(text, file)` gives the plain data (dicts, lists, strings, numbers) and `Lines`,
which maps a path into that data (`("services", 0, "desired_count")`) to its line.
"""

from __future__ import annotations

from typing import Any

import yaml

from ecsim.scenario.errors import ScenarioError

Path = tuple[str | int, ...]


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
    lines = Lines()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = e.problem or "not valid YAML"
        context = f" {e.context}" if e.context else ""
        raise ScenarioError(file, line, "", f"not valid YAML: {problem}{context}") from None
    if root is None:
        raise ScenarioError(file, 1, "", "the file is empty; expected a scenario (a mapping)")
    constructor = yaml.SafeLoader("")

    def walk(node: yaml.Node, path: Path) -> Any:
        lines.values[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    key = str(key)
                sub = (*path, key)
                if key in out:
                    first = lines.keys[sub]
                    raise ScenarioError(
                        file,
                        key_node.start_mark.line + 1,
                        field_name(sub),
                        f"appears twice in the same mapping (first on line {first}); "
                        "expected each field once",
                    )
                lines.keys[sub] = key_node.start_mark.line + 1
                out[key] = walk(value_node, sub)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, (*path, i)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    return walk(root, ()), lines
