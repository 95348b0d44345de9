"""The built-in scenarios (YAML files in `builtin/`), by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ecsim.scenario.loader import load_file, load_text
from ecsim.scenario.spec import Scenario


def _folder() -> resources.abc.Traversable:
    return resources.files("ecsim.scenario").joinpath("builtin")


def builtin_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in _folder().iterdir() if p.name.endswith(".yaml")
    )


def builtin_text(name: str) -> str:
    return _folder().joinpath(f"{name}.yaml").read_text("utf-8")


def load_builtin(name: str) -> Scenario:
    return load_text(builtin_text(name), f"{name}.yaml", default_name=name)


def load(name_or_file: str) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    if name_or_file in builtin_names():
        return load_builtin(name_or_file)
    return load_file(Path(name_or_file))
