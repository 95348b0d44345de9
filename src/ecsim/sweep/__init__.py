"""What-if sweeps: one scenario run over a grid of settings and many seeds, on this machine
or on a Dask distributed cluster, into one tidy table (docs/sweeps.md).

    from ecsim.sweep import load, sweep
    table = sweep(load("health-check-detection"))
    print(len(table.rows), table.columns)

Depends only on `ecsim.scenario` and `ecsim.model` (pyproject.toml's import contracts);
Dask is imported only when a `distributed.Client` is given.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ecsim.sweep.api import sweep, tasks
from ecsim.sweep.catalog import builtin_names, load
from ecsim.sweep.conclude import Answer, conclude
from ecsim.sweep.loader import SeedsError, load_file, load_text
from ecsim.sweep.run import run_one
from ecsim.sweep.spec import Sweep, run_seed
from ecsim.sweep.table import Table

__all__ = [
    "Answer",
    "SeedsError",
    "Sweep",
    "Table",
    "builtin_names",
    "conclude",
    "load",
    "load_file",
    "load_text",
    "run_one",
    "run_seed",
    "sweep",
    "tasks",
]


class _CallableModule(types.ModuleType):
    """`ecsim.sweep(spec, executor=None)`: the package is also the function (importing the
    package `ecsim.sweep` makes it the attribute `sweep` of `ecsim`, so the two are one)."""

    def __call__(self, spec: Any, executor: Any = None, **kwargs: Any) -> Table:
        return sweep(spec, executor, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
