"""The random numbers of the client requests.

Request `i` of a load balancer's client stream always gets the same `LANES` numbers, whatever
the order or batch size that evaluates it: number `i` of each of seven random-access streams,
one per lane, keyed by the client stream and the lane. Lane `Z` holds standard normals
(`ecsim.sim.normals`), the others uniforms in [0, 1) (`ecsim.sim.uniforms`). A lane is only
drawn where it is used (`lane_draws`): round robin over apps without errors reads two of
the seven. A one-request-at-a-time reference (tests/reference_model.py) reads the same
numbers (`request_draws`, every lane) and must reach the same answers.

How a request turns its numbers into arrival gap, kind, target and answer is the model's
definition, written out where it is used (engine.py, and independently in the reference):

- arrival gap: `-log1p(-u[GAP]) / rate` (exponential: Poisson arrivals);
- request kind: the first kind whose cumulative weight share exceeds `u[KIND]`;
- target group of a weighted forward: the same rule with `u[GROUP]`;
- target (weighted random, slow start, least-outstanding ties): `u[PICK]`;
- answer time: lognormal, `exp(log_mu + sigma * u[Z])`;
- error answer (500): `u[ERR] < error_rate`;
- packet loss (a FIS fault): the answer is retransmitted `n` times, `n` the number of
  `j = 1..8` with `1 - u[LOSS] < loss ** j`, adding `0.2 s x (2 ** n - 1)`.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from ecsim.sim import normals, uniforms
from ecsim.sim.rng import derive_key

F64 = npt.NDArray[np.float64]

LANES = 7
GAP, KIND, GROUP, PICK, Z, ERR, LOSS = range(LANES)


@functools.lru_cache(maxsize=4096)
def lane_key(key: int, lane: int) -> int:
    """The stream of one lane of the client stream `key` (remembered: a hash per call costs
    more than a small batch's draws)."""
    return derive_key(key, f"lane{lane}")


def lane_draws(key: int, lane: int, start: int, n: int) -> F64:
    """Lane `lane` of requests start..start+n-1 of the client stream `key`."""
    if start < 0 or n < 0:
        raise ValueError(f"start and n must be >= 0, got start={start}, n={n}")
    draw = normals if lane == Z else uniforms
    return draw(lane_key(key, lane), start, n)


def request_draws(key: int, start: int, n: int) -> F64:
    """Every lane of requests start..start+n-1 of the stream `key`, shape (n, LANES)."""
    return np.stack([lane_draws(key, lane, start, n) for lane in range(LANES)], axis=1)


AHEAD = 1024  # numbers of a lane drawn at once for `Ahead`


class Ahead:
    """The lanes of a client stream whose requests are read in order, a few at a time (the
    traced requests of the ALB's real port, a few dozen per turn of its event loop): each
    lane is drawn `AHEAD` numbers at a time, and a batch reads its part. The numbers are
    those of `lane_draws`, which depend only on each request's index."""

    def __init__(self, key: int) -> None:
        self.key = key
        self._lanes: dict[int, tuple[int, F64]] = {}  # lane -> (first index, numbers)

    def take(self, lane: int, start: int, n: int) -> F64:
        """Lane `lane` of requests start..start+n-1."""
        held = self._lanes.get(lane)
        if held is not None:
            first, numbers = held
            if first <= start and start + n <= first + len(numbers):
                return numbers[start - first : start - first + n]
        numbers = lane_draws(self.key, lane, start, max(n, AHEAD))
        self._lanes[lane] = (start, numbers)
        return numbers[:n]
