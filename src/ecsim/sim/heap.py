"""Keep freed heap memory in the process for the next batch of requests.

The data plane evaluates requests in numpy batches whose temporaries are a few hundred KiB
each. glibc's malloc serves such blocks from the heap or from fresh mappings, and hands the
top of the heap back to the operating system as soon as a little more than the largest recent
block is free there. So every batch maps or grows memory again and takes a page fault for
each 4 KiB it touches: about 20,000 faults per million requests, a fifth of the data plane's
time (benchmark 1). Serving blocks of up to `HEAP_BLOCK_MIB` from the heap
(`M_MMAP_THRESHOLD`) and trimming its top only beyond `ECSIM_HEAP_KEEP_MIB`
(`M_TRIM_THRESHOLD`) removes them. Peak memory is unchanged: the pages kept are ones the
batches used, and will use again.

This is process-wide, so it is applied once, when the first data plane is created, and only
on glibc. `ECSIM_HEAP_KEEP_MIB` sets the amount (default 64; 0 leaves malloc alone; anything
else is warned about and the default used).
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings

KEEP_MIB = 64
HEAP_BLOCK_MIB = 4  # the arrays of the largest batch (2**18 requests) are 2 MiB
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_applied: bool | None = None


def keep_freed_heap() -> bool:
    """Apply the setting once per process; whether malloc took it."""
    global _applied
    if _applied is None:
        _applied = _tune_malloc(_keep_mib())
    return _applied


def _keep_mib() -> int:
    raw = os.environ.get("ECSIM_HEAP_KEEP_MIB", "").strip()
    if not raw:
        return KEEP_MIB
    if not raw.isdigit():
        warnings.warn(
            f"ECSIM_HEAP_KEEP_MIB must be a whole number of MiB (0: off), got {raw!r}; "
            f"using {KEEP_MIB}",
            RuntimeWarning,
            stacklevel=2,
        )
        return KEEP_MIB
    return int(raw)


def _tune_malloc(mib: int) -> bool:
    if mib <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: other options
            return False
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, HEAP_BLOCK_MIB << 20)
            and libc.mallopt(_M_TRIM_THRESHOLD, mib << 20)
        )
    except (OSError, AttributeError):
        return False
