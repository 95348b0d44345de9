"""The limits of a sweep, declared once: the loader, the schema's wording, `ecsim sweep` and
docs/sweeps.md ("Limits") follow them.

A sweep file is input from anywhere, like a scenario file (and is read with the same bounds:
`ecsim.scenario.limits`). What a sweep adds is multiplication: a few lines can ask for 10^12
runs. So the number of points (the grid of parameter values), of seeds and of runs is bounded,
and counted from the ranges as written, before any value list is made or anything runs.
"""

from __future__ import annotations

MAX_PARAMETERS = 8  # parameters of one sweep (the grid's dimensions)
MAX_POINTS = 1_000  # parameter points (each is checked as a scenario before anything runs)
MAX_SEEDS = 10_000  # seeds (runs) per point
MAX_RUNS = 100_000  # runs in one sweep: points x seeds
MAX_SEED = 2**63 - 1  # the sweep's seed, as a scenario's
MAX_RETRIES = 10  # times a run lost with its worker is tried again (Dask)


def count(n: int) -> str:
    """`10,000`."""
    return f"{n:,}"
