"""The data plane's route table (engine.py, `_Targets`): many request kinds, weighted
forwards (one group without targets), fixed responses and unmatched paths give the same
requests and answers as the per-request reference; traced requests sent together in a mixed
batch get what one-by-one sends get; and the guided search of request kinds finds what
`searchsorted` finds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ecsim
from ecsim.model.dataplane import engine
from ecsim.model.demo import CLUSTER
from tests.reference_model import ReferenceDataPlane
from tests.support.worlds import APP, demo_with_app, make_tg

# more kinds than engine._FEW_KINDS: the guided search; weights make some kinds rare
KINDS: list[str | dict[str, Any]] = [
    {"path": "/", "weight": 3},
    "/w/a",
    "/w/b",
    "/f/a",
    "/h/x",
    "/e/x",
    {"path": "/z/x", "weight": 0.5},
    "/nomatch/x",
    {"path": "/h/y", "weight": 2},
    "/w/c",
    {"path": "/f/b", "weight": 0.25},
    "/h/z",
]


def _tg(w: ecsim.World, name: str) -> str:
    return str(w.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"])


def world(seed: int) -> ecsim.World:
    """The demo with an app of 3 tasks, plus rules: a weighted forward over the demo's group,
    the app's and one without targets; a fixed response; a forward to the demo's group; a
    forward to the empty group; a forward of weight 0."""
    s = demo_with_app(seed, desired=3)
    w = s.w
    home, app, empty = _tg(w, "home-tg"), _tg(w, f"{APP}-tg"), make_tg(w, "empty-tg")
    rules: list[tuple[str, dict[str, Any]]] = [
        (
            "/w/*",
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": home, "Weight": 3},
                        {"TargetGroupArn": app, "Weight": 1},
                        {"TargetGroupArn": empty, "Weight": 1},
                    ]
                },
            },
        ),
        ("/f/*", {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}),
        ("/h/*", {"Type": "forward", "TargetGroupArn": home}),
        ("/e/*", {"Type": "forward", "TargetGroupArn": empty}),
        (
            "/z/*",
            {
                "Type": "forward",
                "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": app, "Weight": 0}]},
            },
        ),
    ]
    for priority, (pattern, action) in enumerate(rules, start=10):
        w.elbv2.create_rule(
            ListenerArn=s.listener,
            Priority=priority,
            Conditions=[{"Field": "path-pattern", "Values": [pattern]}],
            Actions=[action],
        )
    return w


def play(seed: int, *, reference: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    w = world(seed)
    if reference:
        w.dataplane = ReferenceDataPlane(w)  # type: ignore[assignment]
    else:
        w.dataplane.record_requests = True
    w.traffic.set_rate(400.0, paths=KINDS)
    w.advance(20)
    arns = w.ecs.list_tasks(cluster=CLUSTER, serviceName=APP, desiredStatus="RUNNING")["taskArns"]
    w.chaos.kill_task(sorted(arns)[0])
    w.advance(40)
    log = sorted(w.dataplane.log, key=lambda r: (r["lb"], r["index"], r["t"], r["done"]))
    return log, w.traffic.stats()


@pytest.mark.parametrize("seed", [1, 2])
def test_many_kinds_weighted_and_fixed_routes_match_the_reference(seed: int) -> None:
    fast_log, fast_stats = play(seed, reference=False)
    ref_log, ref_stats = play(seed, reference=True)
    statuses = {r["status"] for r in fast_log}
    assert {200, 418, 503} <= statuses, statuses  # every kind of route was met
    assert len(fast_log) == len(ref_log)
    for a, b in zip(fast_log, ref_log, strict=True):
        assert a == b, (a, b)
    assert fast_stats == ref_stats


def _cdf(weights: list[float]) -> np.ndarray[Any, Any]:
    w = np.array(weights, dtype=np.float64)
    return np.cumsum(w) / w.sum()


CDFS = [
    _cdf([1.0] * 100),
    _cdf([1.0] * 9),
    _cdf([1.0, 0.0, 0.0, 2.0, 1.0, 0.0, 4.0, 1.0, 1.0, 1.0]),  # ties
    _cdf([1e-9, 1.0, 1e-9, 3.0, 1e-12, 1.0, 1.0, 1.0, 2.0]),  # cells with several entries
    _cdf([0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625, 0.0625, 0.0625, 0.0]),  # entries on edges
    _cdf(list(np.random.default_rng(7).random(5000))),  # more entries than cells
]


@pytest.mark.parametrize("cdf", CDFS)
def test_guided_search_finds_what_searchsorted_finds(cdf: np.ndarray[Any, Any]) -> None:
    rng = np.random.default_rng(3)
    edges = np.arange(engine._GUIDE, dtype=np.float64) / engine._GUIDE
    inside = cdf[cdf < 1.0]
    u = np.concatenate(
        [
            rng.random(20_000),
            edges,
            np.nextafter(edges[1:], 0.0),
            inside,
            np.nextafter(inside, 0.0),
            np.nextafter(inside, 1.0),
            [0.0, np.nextafter(1.0, 0.0)],
        ]
    )
    guide = engine._guide(cdf)
    expected = np.searchsorted(cdf, u, side="right")
    assert np.array_equal(engine._guided_search(cdf, guide, u), expected)


def test_a_batch_of_fixed_answers_and_forwards_is_as_sent_one_by_one() -> None:
    """A batch that mixes the load balancer's own answers (a fixed response, a group without
    targets) with requests sent to targets keeps each trace with its request, in order."""
    paths = [(k if isinstance(k, str) else str(k["path"]), None) for k in KINDS] * 2

    def play(batched: bool) -> list[Any]:
        w = world(1)
        out: list[Any] = []
        for _ in range(20):
            if batched:
                out.append(w.traffic.send_many(paths))
            else:
                out.append([w.traffic.send(path, host) for path, host in paths])
            w.advance(0.37)
        w.advance(3)
        return [*out, w.traffic.stats()]

    together = play(True)
    assert together == play(False)
    assert {t["status"] for batch in together[:-1] for t in batch} >= {200, 418, 503}
