"""ecsim: a time-accurate simulator of Amazon ECS services and tasks behind an Application
Load Balancer.

    import ecsim
    w = ecsim.World.demo(seed=0)     # the seed's architecture, already steady
    w.traffic.set_rate(50)
    w.advance(60)
    print(w.traffic.stats(since=w.now - 60))

    table = ecsim.sweep("health-check-detection")   # many runs: docs/sweeps.md
"""

import importlib
from typing import Any

from ecsim.model import errors
from ecsim.model.errors import AwsError
from ecsim.model.settings import Settings
from ecsim.model.world import World

__all__ = ["AwsError", "Settings", "World", "errors", "sweep"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`ecsim.sweep`, imported when first used: `import ecsim` stays light (no jsonschema
    checks, and never Dask, which a sweep imports only for a distributed.Client)."""
    if name == "sweep":
        return importlib.import_module("ecsim.sweep")  # (callable: ecsim.sweep(spec))
    raise AttributeError(f"module 'ecsim' has no attribute {name!r}")
