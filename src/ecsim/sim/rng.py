"""Seeded random streams.

Two kinds of randomness, both derived only from the world's seed and a stream name:

- `Streams.scalar(name)`: a `random.Random` for the control plane (durations, IDs), one per
  name so that adding a draw in one place does not shift the draws of another.
- `uniforms(key, start, n)`: random-access uniforms for the data plane: numbers start..
  start+n-1 of the stream `key`, whatever was drawn before (numpy's PCG64, moved ahead with
  `advance`, which costs a few dozen steps whatever the distance). Request `i` thus always
  gets the same numbers, whatever order or batch size evaluates it, so a batched evaluation
  and a one-by-one reference agree exactly.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import numpy.typing as npt


def derive_key(seed: int, name: str) -> int:
    """A stable 64-bit key for (seed, name); independent of PYTHONHASHSEED."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def uniforms(key: int, start: int, n: int) -> npt.NDArray[np.float64]:
    """Uniforms in [0, 1) for indices start..start+n-1 of the stream `key`."""
    bits = np.random.PCG64(key)
    bits.advance(start)  # one 64-bit output per uniform
    return np.random.Generator(bits).random(n)


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
