"""Seeded random streams.

Two kinds of randomness, both derived only from the world's seed and a stream name:

- `Streams.scalar(name)`: a `random.Random` for the control plane (durations, IDs), one per
  name so that adding a draw in one place does not shift the draws of another.
- `uniforms(key, start, n)`: counter-based uniforms for the data plane. Request `i` of a
  stream always gets the same numbers, whatever order or batch size evaluates it (numpy's
  Philox, keyed per stream), so a batched evaluation and a one-by-one reference agree exactly.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import numpy.typing as npt

_BLOCK = 4  # Philox4x64 yields four 64-bit words per counter value


def derive_key(seed: int, name: str) -> int:
    """A stable 64-bit key for (seed, name); independent of PYTHONHASHSEED."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def uniforms(key: int, start: int, n: int) -> npt.NDArray[np.float64]:
    """Uniforms in [0, 1) for indices start..start+n-1 of the stream `key`."""
    block, skip = divmod(start, _BLOCK)
    generator = np.random.Generator(np.random.Philox(key=key, counter=[block, 0, 0, 0]))
    return generator.random(n + skip)[skip:]


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
