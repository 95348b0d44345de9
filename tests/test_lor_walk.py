"""lor.py: the walks of homogeneous pools pick exactly what a naive loop and the heap pick,
and the compiled walk (_lor.pyx) picks what they pick, for homogeneous and mixed pools.

Inputs are drawn to hit the cases that decide picks: ties in count (small pools, heavy load),
arrivals at the same instant, answers at exactly an arrival instant (prior and new ones), prior
outstanding requests, and tie uniforms on the steps of `int(u * ties)` and next to 1.
"""

from __future__ import annotations

import math
import shutil
import sysconfig

import numpy as np
import pytest

from ecsim.model.dataplane import lor


def naive(
    t: np.ndarray,
    u: np.ndarray,
    done: np.ndarray,
    m: int,
    prior_done: np.ndarray,
    prior_j: np.ndarray,
) -> list[int]:
    """Request by request: drop what is answered by the arrival, then the rule as written."""
    outstanding = list(zip(prior_done.tolist(), prior_j.tolist(), strict=True))
    picks: list[int] = []
    for k in range(len(t)):
        outstanding = [(d, j) for d, j in outstanding if d > t[k]]
        counts = [0] * m
        for _, j in outstanding:
            counts[j] += 1
        low = min(counts)
        tied = [j for j in range(m) if counts[j] == low]
        j = tied[min(int(u[k] * len(tied)), len(tied) - 1)]
        picks.append(j)
        outstanding.append((float(done[k]), j))
    return picks


def world(seed: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    grid = float(rng.choice([0.001, 0.004, 0.0]))  # coarse instants make exact ties
    t = 10 + np.cumsum(rng.exponential(1 / float(rng.choice([50.0, 400.0, 3000.0])), n))
    lat = float(rng.choice([0.002, 0.02, 0.3])) * np.exp(0.8 * rng.standard_normal(n))
    done = t + lat
    if grid:
        t = np.round(t / grid) * grid
        done = np.maximum(np.round(done / grid) * grid, t + grid)
    steps = lor._tie_steps(m) or [0.5]
    u = rng.random(n)
    special = rng.random(n) < 0.3
    u[special] = rng.choice(
        [0.0, 1 - 2**-53, *steps, *(math.nextafter(s, 0) for s in steps)], int(special.sum())
    )
    n_p = int(rng.integers(0, 4 * m + 1))
    prior_j = rng.integers(0, m, n_p)
    prior_done = t[0] + rng.random(n_p) * float(rng.choice([0.01, 0.5]))
    if n_p and grid:
        prior_done[::2] = rng.choice(t, len(prior_done[::2]))  # answered exactly at an arrival
    return t, u, done, prior_done.astype(np.float64), prior_j.astype(np.int64)


@pytest.mark.parametrize("m", [1, 2, 3, 5, 10, 12, 13, 16])
@pytest.mark.parametrize("seed", range(25))
def test_walk_matches_a_naive_loop_and_the_heap(seed: int, m: int) -> None:
    t, u, done, prior_done, prior_j = world(seed * 100 + m, m)
    walked = lor._walk(t, u, done, m, prior_done, prior_j)
    assert walked is not None
    expected = naive(t, u, done, m, prior_done, prior_j)
    assert walked.tolist() == expected
    heaped = lor._heap(t, u, done[None, :], np.zeros(m, dtype=np.int64), m, prior_done, prior_j)
    assert heaped.tolist() == expected
    for walk in walks():
        picked = walk(t, u, done[None, :], np.zeros(m, dtype=np.int64), m, prior_done, prior_j)
        assert picked.tolist() == expected, walk


def walks() -> list[lor.Walk]:
    """The entry point's walks: in Python, and compiled where it was built."""
    return [lor.walk_in_python] + ([lor.compiled_walk] if lor.compiled_walk else [])


def test_the_compiled_walk_is_built_where_a_compiler_is() -> None:
    """pip builds _lor.pyx where it finds a C compiler; without one, lor.py walks alone."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    assert bool(lor.compiled_walk) == bool(shutil.which(compiler))


@pytest.mark.parametrize("seed", range(40))
def test_mixed_pools_pick_what_the_heap_picks(seed: int) -> None:
    """Targets of several classes answer the same request at different instants."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 20))
    t, u, done, prior_done, prior_j = world(seed + 7000, m)
    classes = int(rng.integers(1, 4))
    cls = rng.integers(0, classes, m).astype(np.int64)
    slow = np.vstack([t + (done - t) * float(f) for f in rng.choice([0.5, 1.0, 3.0], classes)])
    if rng.random() < 0.3:
        slow[0] = t  # answered at its own arrival instant
    expected = lor._heap(t, u, slow, cls, m, prior_done, prior_j).tolist()
    for walk in walks():
        assert walk(t, u, slow, cls, m, prior_done, prior_j).tolist() == expected, walk


def test_walk_keeps_its_state_across_batches() -> None:
    """Two batches with the outstanding carried over pick what one batch picks."""
    t, u, done, prior_done, prior_j = world(7, 10)
    whole = lor._walk(t, u, done, 10, prior_done, prior_j)
    assert whole is not None
    h = len(t) // 2
    first = lor._walk(t[:h], u[:h], done[:h], 10, prior_done, prior_j)
    assert first is not None
    cls = np.zeros(10, dtype=np.int64)
    rest_done, rest_j = lor.still_outstanding(
        prior_done, prior_j, done[None, :h], cls, first, float(t[h - 1])
    )
    second = lor._walk(t[h:], u[h:], done[h:], 10, rest_done, rest_j)
    assert second is not None
    assert first.tolist() + second.tolist() == whole.tolist()


@pytest.mark.parametrize("m", [2, 7, 12])
def test_cells_of_u_are_exact(m: int) -> None:
    """Every u in a cell takes the same tied target for every number of ties, the same as
    `min(int(u * n), n - 1)` on u itself."""
    tab = lor._tables(m)
    rng = np.random.default_rng(m)
    steps = tab.steps.tolist()
    u = np.concatenate(
        (
            rng.random(20000),
            steps,
            [math.nextafter(s, 0) for s in steps],
            [math.nextafter(s, 1) for s in steps],
            [0.0, 1 - 2**-53, 0.5],
        )
    )
    cells = tab.cells_of(u)
    assert cells.tolist() == np.searchsorted(tab.steps, u, side="right").tolist()
    for x, c in zip(u.tolist(), cells.tolist(), strict=True):
        assert tab.tie[c][1:] == [min(int(x * n), n - 1) for n in range(1, m + 1)]


def test_walk_leaves_answers_at_their_own_arrival_to_the_heap() -> None:
    t = np.array([1.0, 2.0])
    assert (
        lor._walk(t, np.array([0.1, 0.2]), t.copy(), 3, np.zeros(0), np.zeros(0, dtype=np.int64))
        is None
    )
