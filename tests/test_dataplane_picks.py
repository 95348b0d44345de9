"""Round robin's picks laid out as one repeated round (`engine._round_robin`) are the
remainders they stand for, whatever the counter, the pool size and the number of requests;
the compiled request kinds and plain picks (`_picks.pyx`) are what numpy finds, and a world
gives the same records and statistics with them as without them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ecsim
from ecsim.model.dataplane import engine
from ecsim.model.dataplane.engine import _round_robin
from ecsim.model.demo import CLUSTER
from tests.support.worlds import APP, demo_with_app


@pytest.mark.parametrize("size", [1, 2, 3, 10, 64])
@pytest.mark.parametrize("start", [0, 1, 9, 10, 11, 12_345_678_901])
@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 5_000])
def test_round_robin_is_the_remainder(size: int, start: int, n: int) -> None:
    picks = _round_robin(start, n, size, 40)
    want = (start + np.arange(n, dtype=np.int64)) % size + 40
    assert picks.dtype == np.int64 and np.array_equal(picks, want)


def _kinds_numpy(u: np.ndarray[Any, Any], cdf: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The definition: the first kind whose cumulative share exceeds u, capped at the last."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


@pytest.mark.skipif(engine.route_kinds is None, reason="_picks.pyx not built")
@pytest.mark.parametrize(
    "weights", [[1.0], [1.0, 1.0], [3.0, 1.0, 2.0], [1.0, 0.0, 0.0, 2.0], [0.5] * 8]
)
def test_the_compiled_kinds_are_searchsorted(weights: list[float]) -> None:
    assert engine.route_kinds is not None
    w = np.array(weights)
    cdf = np.cumsum(w) / w.sum()
    u = np.concatenate(
        [np.random.default_rng(5).random(10_000), cdf, np.nextafter(cdf, 0.0), [0.0]]
    )
    u = u[u < 1.0]
    base = 3
    route = np.empty(len(u), dtype=np.int64)
    counts = np.zeros(base + len(cdf), dtype=np.int64)
    engine.route_kinds(u, cdf, base, route, counts)
    want = _kinds_numpy(u, cdf) + base
    assert np.array_equal(route, want)
    assert np.array_equal(counts, np.bincount(want, minlength=len(counts)))
    with pytest.raises(ValueError):  # routes beyond the counts
        engine.route_kinds(u, cdf, len(counts), route, counts)


@pytest.mark.skipif(engine.pick_plain is None, reason="_picks.pyx not built")
def test_the_compiled_plain_picks_are_the_remainders_and_the_weighted_draws() -> None:
    """Round robin: each pool's targets in turn from its counter, in the requests' order;
    weighted random: target floor(u * size), capped; counters move on by each pool's
    requests (round robin's only)."""
    assert engine.pick_plain is not None
    rng = np.random.default_rng(11)
    algorithm = np.array([engine._RR, engine._WR, engine._RR, engine._RR], dtype=np.int64)
    size = np.array([3, 5, 1, 7], dtype=np.int64)
    offset = np.concatenate(([0], np.cumsum(size)[:-1])).astype(np.int64)
    rr0 = np.array([0, 4, 12_345_678_901, 6], dtype=np.int64)
    pool = rng.integers(0, 4, 20_000).astype(np.int64)
    u = np.concatenate([rng.random(19_999), [np.nextafter(1.0, 0.0)]])
    rr = rr0.copy()
    flat = np.full(len(pool), -1, dtype=np.int64)
    engine.pick_plain(pool, algorithm, size, offset, rr, u, flat)
    for p in range(4):
        mine = np.flatnonzero(pool == p)
        if algorithm[p] == engine._RR:
            want = offset[p] + (rr0[p] + np.arange(len(mine))) % size[p]
            assert rr[p] == rr0[p] + len(mine)
        else:
            want = offset[p] + np.minimum((u[mine] * size[p]).astype(np.int64), size[p] - 1)
            assert rr[p] == rr0[p]
        assert np.array_equal(flat[mine], want), p
    bad = [
        (np.array([4]), u[:1]),  # no such pool
        (np.array([1]), np.zeros(0)),  # weighted random without its number
    ]
    for pools, numbers in bad:
        with pytest.raises(ValueError):
            engine.pick_plain(pools, algorithm, size, offset, rr, numbers, flat[:1])
    lor = np.array([engine._LOR], dtype=np.int64)
    with pytest.raises(ValueError):  # not a plain algorithm
        engine.pick_plain(np.zeros(1, np.int64), lor, size[:1], offset[:1], rr, u[:1], flat[:1])


def _two_groups(algorithm: str) -> ecsim.World:
    """The demo with an app of 3 tasks: paths under /h/ go to the demo's group, the others to
    the app's, both with `algorithm`; three request kinds."""
    s = demo_with_app(4, desired=3)
    w = s.w
    groups = w.elbv2.describe_target_groups()["TargetGroups"]
    for tg in groups:
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"],
            Attributes=[{"Key": "load_balancing.algorithm.type", "Value": algorithm}],
        )
    home = next(g["TargetGroupArn"] for g in groups if g["TargetGroupName"] == "home-tg")
    w.elbv2.create_rule(
        ListenerArn=s.listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/h/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": home}],
    )
    return w


def _play(algorithm: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    w = _two_groups(algorithm)
    w.traffic.set_rate(3000.0, paths=["/", "/h/a", {"path": "/h/b", "weight": 2}])
    w.advance(20)
    arns = w.ecs.list_tasks(cluster=CLUSTER, serviceName=APP, desiredStatus="RUNNING")["taskArns"]
    w.chaos.kill_task(sorted(arns)[0])
    w.advance(40)
    return [e.to_dict() for e in w.events()], w.traffic.stats()


@pytest.mark.skipif(engine.pick_plain is None, reason="_picks.pyx not built")
@pytest.mark.parametrize("algorithm", ["round_robin", "weighted_random"])
def test_compiled_and_numpy_picks_give_the_same_world(
    algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = _play(algorithm)
    monkeypatch.setattr(engine, "route_kinds", None)
    monkeypatch.setattr(engine, "pick_plain", None)
    assert _play(algorithm) == compiled
    assert compiled[1]["requests"] > 50_000


@pytest.mark.parametrize("n", [0, 1, 7, engine._FEW_IDS, engine._FEW_IDS + 1, 5000])
def test_distinct_ids_are_numpys_unique(n: int) -> None:
    ids = np.random.default_rng(n).integers(0, max(1, n // 3), n).astype(np.int64)
    got = engine._distinct(ids)
    assert got.dtype == np.int64 and np.array_equal(got, np.unique(ids))
