"""Seeded random streams.

Two kinds of randomness, both derived only from the world's seed and a stream name:

- `Streams.scalar(name)`: a `random.Random` for the control plane (durations, IDs), one per
  name so that adding a draw in one place does not shift the draws of another.
- `uniforms(key, start, n)`: random-access uniforms for the data plane: numbers start..
  start+n-1 of the stream `key`, whatever was drawn before (numpy's PCG64, moved ahead with
  `advance`, which costs a few dozen steps whatever the distance). Request `i` thus always
  gets the same numbers, whatever order or batch size evaluates it, so a batched evaluation
  and a one-by-one reference agree exactly.
- `normals(key, start, n)`: random-access standard normals, the same way by blocks (see there).
"""

from __future__ import annotations

import functools
import hashlib
import random
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

_Fill = Callable[[int, int, npt.NDArray[np.float64], int], None]
fill_normals: _Fill | None
fill_uniforms: _Fill | None
_running_sum: Callable[[npt.NDArray[np.float64]], None] | None
try:
    from ecsim.sim._draws import fill_normals, fill_uniforms
    from ecsim.sim._draws import running_sum as _running_sum
except ImportError:  # not built (no C compiler where the package was installed): numpy draws
    fill_normals = fill_uniforms = _running_sum = None


def derive_key(seed: int, name: str) -> int:
    """A stable 64-bit key for (seed, name); independent of PYTHONHASHSEED."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def uniforms(key: int, start: int, n: int) -> npt.NDArray[np.float64]:
    """Uniforms in [0, 1) for indices start..start+n-1 of the stream `key`: numpy's, drawn
    by the compiled loop where it was built (`_draws.pyx`: the same numbers, without
    setting and advancing a generator object: from a third of the time for a few numbers
    to three quarters for many)."""
    if fill_uniforms is not None:
        out = np.empty(n)
        state = _origin(key)
        fill_uniforms(state["state"], state["inc"], out, start)
        return out
    bits, generator, origin = _stream(key)
    bits.state = origin  # the stream's start, whatever was read from it before
    bits.advance(start)  # one 64-bit output per uniform
    return generator.random(n)


def running_sum(x: npt.NDArray[np.float64]) -> None:
    """`np.cumsum(x, out=x)` for a contiguous float64 array: arrival gaps into arrival times
    (the data plane's horizon), by the compiled loop where it was built, the same sums."""
    if _running_sum is None:
        np.cumsum(x, out=x)
    else:
        _running_sum(x)


_STREAMS = 4096  # seeded streams a thread keeps, at most
_local = threading.local()


def _origin(key: int) -> dict[str, int]:
    """The seeded state of stream `key` (PCG64's `state` and `inc`)."""
    state: dict[str, int] = _stream(key)[2]["state"]
    return state


def _stream(key: int) -> tuple[np.random.PCG64, np.random.Generator, Any]:
    """The generator of stream `key` and its seeded state, kept per thread: seeding costs
    several times what a small batch's draws do (the ALB's real port draws a few dozen per
    event-loop turn), and setting a state back costs a fifth of it."""
    streams: dict[int, tuple[np.random.PCG64, np.random.Generator, Any]] | None
    streams = getattr(_local, "streams", None)
    if streams is None:
        streams = _local.streams = {}
    stream = streams.get(key)
    if stream is None:
        bits = np.random.PCG64(key)
        if len(streams) >= _STREAMS:
            streams.clear()
        stream = streams[key] = (bits, np.random.Generator(bits), bits.state)
    return stream


NORMAL_BLOCK = 4096


def normals(key: int, start: int, n: int) -> npt.NDArray[np.float64]:
    """Standard normals for indices start..start+n-1 of the stream `key`.

    numpy's ziggurat (`Generator.standard_normal`) is about three times faster than turning
    two uniforms into a normal, but it uses a varying number of 64-bit outputs per normal, so
    exact random access is by block: number `i` is number `i % NORMAL_BLOCK` of the normals
    drawn from PCG64(key) advanced to `(i // NORMAL_BLOCK) * 2**64`. A block never draws more
    than a few thousand outputs, so blocks never overlap. Blocks read in part (the edges of a
    batch, the requests of small batches) are kept for the next read.
    """
    out = np.empty(n)
    if n <= 0:
        return out
    end = start + n
    for block in range(start // NORMAL_BLOCK, (end - 1) // NORMAL_BLOCK + 1):
        first = block * NORMAL_BLOCK
        lo, hi = max(start, first), min(end, first + NORMAL_BLOCK)
        if hi - lo < NORMAL_BLOCK:
            out[lo - start : hi - start] = _normal_block(key, block)[lo - first : hi - first]
        else:
            _draw_block(key, block, out[lo - start : hi - start])
    return out


def _draw_block(key: int, block: int, out: npt.NDArray[np.float64]) -> None:
    """The normals of one whole block into `out`, from the thread's seeded stream `key` set
    back to its start (seeding anew costs more than drawing a block); drawn by the compiled
    ziggurat where it was built (`_draws.pyx`: the same numbers, in a third of the time)."""
    if fill_normals is not None:
        state = _origin(key)
        fill_normals(state["state"], state["inc"], out, block << 64)
        return
    bits, generator, origin = _stream(key)
    bits.state = origin
    bits.advance(block << 64)
    generator.standard_normal(out=out)


@functools.lru_cache(maxsize=64)
def _normal_block(key: int, block: int) -> npt.NDArray[np.float64]:
    z = np.empty(NORMAL_BLOCK)
    _draw_block(key, block, z)
    z.flags.writeable = False
    return z


class Streams:
    """Named random streams of one world."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._scalars: dict[str, random.Random] = {}

    def scalar(self, name: str) -> random.Random:
        stream = self._scalars.get(name)
        if stream is None:
            stream = random.Random(derive_key(self.seed, name))
            self._scalars[name] = stream
        return stream

    def key(self, name: str) -> int:
        return derive_key(self.seed, name)
