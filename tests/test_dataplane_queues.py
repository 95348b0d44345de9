"""The queues' compiled pass for batches where every app is clear (`_queues.pyx`) leaves the
state and returns the waits that the numpy code of `Queues.arrive` does, batch after batch,
with apps that queue, apps that never do, and batches that pass the capacity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecsim.model.dataplane import queues
from ecsim.model.dataplane.queues import Queues


def _run(seed: int) -> list[tuple[list[float] | None, list[int], list[float], list[int]]]:
    rng = np.random.default_rng(seed)
    q = Queues()
    q.ensure(8)
    q.capacity[:8] = rng.choice([math.inf, math.inf, 5.0, 40.0, 300.0], 8)
    out = []
    now = 0.0
    for _ in range(60):
        count = int(rng.choice([1, 3, 50, 400, 2000]))
        span = float(rng.choice([0.01, 0.5, 1.0, 3.0]))
        times = np.sort(now + rng.random(count) * span)
        if rng.random() < 0.3:
            times = rng.permutation(times)
        ips = rng.integers(0, int(rng.choice([1, 4, 8])), count)
        now += span + float(rng.choice([0.0, 0.0, 2.5]))
        waits = q.arrive(ips, times)
        out.append(
            (
                None if waits is None else waits.tolist(),
                q.second.tolist(),
                q.backlog.tolist(),
                q.arrivals.tolist(),
            )
        )
    return out


@pytest.mark.skipif(queues.arrive_clear is None, reason="_queues.pyx not built")
@pytest.mark.parametrize("seed", range(16))
def test_the_compiled_pass_counts_what_numpy_counts(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = _run(seed)
    monkeypatch.setattr(queues, "arrive_clear", None)
    assert _run(seed) == compiled


def test_an_ip_out_of_range_is_left_to_numpy() -> None:
    if queues.arrive_clear is None:
        pytest.skip("_queues.pyx not built")
    q = Queues()
    q.ensure(2)
    state = q.save()
    assert not queues.arrive_clear(
        np.array([0, 99]), np.array([0.5, 0.6]), q.second, q.backlog, q.arrivals, q.capacity
    )
    assert all(np.array_equal(a, b) for a, b in zip(q.save(), state, strict=True))


def test_a_batch_over_capacity_in_all_but_not_in_any_second_is_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More arrivals in the batch than the capacity, but never in one second (with what was
    counted in the current second before it): clear, counted in the compiled pass, and the
    state the numpy code leaves."""
    if queues.arrive_clear is None:
        pytest.skip("_queues.pyx not built")
    ip = np.array([0, 1, 0, 1, 0, 1, 0, 0, 1])
    t = np.array([3.1, 3.2, 3.5, 4.0, 4.2, 5.5, 5.6, 6.0, 6.9])

    def fresh(counted: int) -> Queues:
        q = Queues()
        q.ensure(2)
        q.capacity[:2] = 2.0
        q.second[0], q.arrivals[0] = 3, counted  # counted in its current second before
        return q

    q = fresh(0)
    assert queues.arrive_clear(ip, t, q.second, q.backlog, q.arrivals, q.capacity)
    q_numpy = fresh(0)
    monkeypatch.setattr(queues, "arrive_clear", None)
    assert q_numpy.arrive(ip, t) is None
    monkeypatch.undo()
    assert all(np.array_equal(a, b) for a, b in zip(q.save(), q_numpy.save(), strict=True))
    q = fresh(1)  # then second 3 gets one arrival more than the capacity
    state = q.save()
    assert not queues.arrive_clear(ip, t, q.second, q.backlog, q.arrivals, q.capacity)
    assert all(np.array_equal(a, b) for a, b in zip(q.save(), state, strict=True))
