"""Scenario files: a world, a timeline of calls and expectations, run headless.

from ecsim.scenario import load, run, summarize
result = run(load("auto-healing"))
print(summarize(result)["availability_percent"], result.passed)
"""

from __future__ import annotations

from ecsim.scenario.catalog import builtin_names, load
from ecsim.scenario.errors import ScenarioError
from ecsim.scenario.loader import load_file, load_text
from ecsim.scenario.runner import Result, RunError, run
from ecsim.scenario.spec import Scenario
from ecsim.scenario.summary import summarize

__all__ = [
    "Result",
    "RunError",
    "Scenario",
    "ScenarioError",
    "builtin_names",
    "load",
    "load_file",
    "load_text",
    "run",
    "summarize",
]
