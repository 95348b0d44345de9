"""The built-in sweeps (YAML files in `builtin/`, their base scenarios in
`builtin/scenarios/`), by name."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ecsim.sweep.loader import load_file, load_text
from ecsim.sweep.spec import Sweep


def _folder() -> Traversable:
    return resources.files("ecsim.sweep").joinpath("builtin")


def builtin_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in _folder().iterdir() if p.name.endswith(".yaml")
    )


def load_builtin(name: str, *, seeds: int | None = None) -> Sweep:
    text = _folder().joinpath(f"{name}.yaml").read_text("utf-8")
    return load_text(text, f"{name}.yaml", _folder(), name, seeds=seeds)


def load(name_or_file: str, *, seeds: int | None = None) -> Sweep:
    """A built-in sweep by name, or a sweep file by path."""
    if name_or_file in builtin_names():
        return load_builtin(name_or_file, seeds=seeds)
    return load_file(Path(name_or_file), seeds=seeds)
