"""sim/heap.py: malloc keeps freed heap memory once per process, as ECSIM_HEAP_KEEP_MIB says.

Each case runs in a fresh interpreter: the setting is process-wide and applied once.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

GLIBC = platform.libc_ver()[0] == "glibc"

PROBE = """
import warnings
warnings.simplefilter("always")
import ecsim
from ecsim.sim import heap
with warnings.catch_warnings(record=True) as caught:
    ecsim.World.demo(seed=1)
    ecsim.World.demo(seed=2)
print(heap.keep_freed_heap(), len(caught), caught[0].message if caught else "")
"""


def probe(value: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "ECSIM_HEAP_KEEP_MIB"}
    if value is not None:
        env["ECSIM_HEAP_KEEP_MIB"] = value
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    applied, warnings, message = (out.stdout.rstrip("\n") + " ").split(" ", 2)
    return [applied, warnings, message.strip()]


@pytest.mark.skipif(not GLIBC, reason="M_TRIM_THRESHOLD and M_MMAP_THRESHOLD are glibc's")
def test_a_world_keeps_freed_heap_by_default_and_not_when_told() -> None:
    assert probe(None) == ["True", "0", ""]
    assert probe("128") == ["True", "0", ""]
    assert probe("0") == ["False", "0", ""]


@pytest.mark.skipif(not GLIBC, reason="M_TRIM_THRESHOLD and M_MMAP_THRESHOLD are glibc's")
def test_a_bad_setting_is_warned_about_once_and_the_default_used() -> None:
    applied, warnings, message = probe("lots")
    assert (applied, warnings) == ("True", "1")
    assert "ECSIM_HEAP_KEEP_MIB must be a whole number of MiB" in message
    assert "'lots'" in message
