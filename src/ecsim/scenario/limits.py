"""The limits of a scenario file, declared once: the loader, the schema (its generated parts,
`validate.py`), `ecsim run` and docs/scenarios.md ("Limits") follow them.

A scenario file is input from anywhere (a download, a colleague, a course), so reading one is
bounded: a file that asks for more than these is refused with its line and field (exit 2),
within a second, before anything is built or run.

Choices:

- Reading: at most `MAX_BYTES` of a regular file (never a FIFO, a device or a directory), as
  YAML with no tags at all (`!!python/...`, `!!int`, `!foo`: quote a value to make it text),
  nested at most `MAX_DEPTH` deep, at most `MAX_ITEMS` items in any one list (so at most that
  many timeline steps), at most `MAX_VALUES` values in all, counting every copy an alias
  (`*name`) makes, and no alias inside the value it names.
- Numbers: finite (no `.inf`, `.nan`, `1e400`), whole numbers within 64 bits.
- Time: a run simulates at most `MAX_DURATION` (a day), and no duration in a file is longer;
  a repeated step runs at most every `MIN_EVERY`, and a run makes at most `MAX_CALLS` calls.
- Counts: a service's desired count (and its auto scaling range) at most `MAX_DESIRED_COUNT`,
  AWS's default quota of tasks per service, until the model declares its own quota; a seed
  within 0..`MAX_SEED` (a 64-bit integer; `ecsim.World` takes any non-negative integer).
"""

from __future__ import annotations

from typing import Any

MAX_BYTES = 1024 * 1024  # a scenario file; the built-in ones are about 5 KiB
MAX_DEPTH = 32  # mappings and lists nested; the built-in scenarios need 9
MAX_ITEMS = 1_000  # items in one list: timeline steps, traffic changes, expectations, ...
MAX_VALUES = 50_000  # values (mapping keys included), every alias's copy counted
MAX_INT = 2**63 - 1  # whole numbers lie within -MAX_INT..MAX_INT
MAX_NUMBER_TEXT = 64  # characters of a number as written (a longer one is refused unread)

MAX_DURATION = 24 * 3600.0  # seconds: a run's length (`duration`, --until), and any duration
MIN_EVERY = 1.0  # seconds: the shortest period of a repeated step
MAX_CALLS = 10_000  # calls the timeline makes in one run (each repetition counted)

MAX_DESIRED_COUNT = 5_000  # AWS: tasks per service (default quota)
MAX_SEED = MAX_INT


def span(seconds: float) -> str:
    """`24h`, `1s`: a limit in seconds as a scenario file writes it."""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"


def count(n: int) -> str:
    """`10,000`."""
    return f"{n:,}"


def schema_parts() -> dict[tuple[str, ...], dict[str, Any]]:
    """The parts of the scenario schema that state these limits, by their place in it."""
    return {
        ("properties", "seed"): {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_SEED,
            "description": f"a seed from 0 to {MAX_SEED}; same seed, same run",
        },
        ("$defs", "duration"): {
            "description": "a duration like 90s, 5m, 1h or 250ms (a plain number is seconds)",
            "oneOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": "^\\s*(\\d+(\\.\\d+)?\\s*(ms|min|s|m|h|d)?\\s*)+$"},
            ],
            "maximumSeconds": MAX_DURATION,  # ecsim's own keyword (scenario/validate.py)
        },
        ("$defs", "service", "properties", "desired_count"): {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_DESIRED_COUNT,
        },
        ("$defs", "service", "properties", "auto_scaling", "properties", "min"): {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_DESIRED_COUNT,
        },
        ("$defs", "service", "properties", "auto_scaling", "properties", "max"): {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_DESIRED_COUNT,
        },
        ("$defs", "step", "properties", "times"): {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CALLS,
        },
    }
