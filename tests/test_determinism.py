"""Same seed, same calls: the same events, IDs and timings; another seed: other task IDs."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.sim import normals, rng, uniforms
from ecsim.sim.rng import NORMAL_BLOCK
from tests.support import service_task_arns
from tests.support.worlds import register_revision


def timeline(seed: int) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """The demo, a task killed, the scheduler crashed and restored, a deployment, traffic."""
    w = ecsim.World.demo(seed=seed, record_requests=True)
    w.traffic.set_rate(80)
    w.advance(30)
    victim = sorted(service_task_arns(w))[0]
    w.chaos.kill_task(victim, reason="oom")
    w.advance(20)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    w.advance(45.5)
    w.chaos.restore_controller(CLUSTER, SERVICE)
    w.advance(60)
    revision = register_revision(w, {"ecsim.latency.median": "30ms"})
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=revision)
    w.traffic.set_rate(150)
    w.advance(200)
    w.traffic.send()
    w.advance(10)
    return [e.to_dict() for e in w.events()], service_task_arns(w), list(w.dataplane.log)


def test_same_seed_same_history() -> None:
    events_a, arns_a, log_a = timeline(seed=11)
    events_b, arns_b, log_b = timeline(seed=11)
    kinds = {e["type"] for e in events_a}
    # the timeline did what it meant to do
    assert {"TaskStateChanged", "TargetHealthChanged", "ControllerStatusChanged"} <= kinds
    assert {"DeploymentChanged", "RequestsCompleted", "TrafficChanged"} <= kinds
    assert len(arns_a) > 3
    assert events_a == events_b
    assert arns_a == arns_b
    assert log_a == log_b


def test_other_seed_other_task_ids() -> None:
    _, arns_a, _ = timeline(seed=11)
    _, arns_b, _ = timeline(seed=12)

    def ids(arns: list[str]) -> set[str]:
        return {a.rsplit("/", 1)[-1] for a in arns}

    assert ids(arns_a).isdisjoint(ids(arns_b))


def answers(seed: int, steps: list[float], kill_at: float) -> list[tuple[Any, ...]]:
    """Every request's answer when time is advanced in `steps`, a task killed at `kill_at`."""
    w = ecsim.World.demo(seed=seed, record_requests=True)
    start = w.now
    w.traffic.set_rate(700)  # above the three tasks' capacity (200 rps each): queues build up
    victim = sorted(service_task_arns(w))[0]
    for step in steps:
        if w.now - start == kill_at:
            w.chaos.kill_task(victim)
        w.advance(step)
    w.traffic.set_rate(0)
    w.advance(120)
    assert w.dataplane.in_flight == 0
    return sorted(
        (r["lb"], r["index"], r["t"], r["done"], r["status"], r["slot"]) for r in w.dataplane.log
    )


def test_batch_boundaries_do_not_change_answers() -> None:
    """The data plane evaluates requests in batches between control-plane events; where the
    caller's `advance` calls cut time must not change any answer (engine docstring)."""
    whole = answers(3, [30.0, 30.0, 60.0], kill_at=30.0)
    cut = answers(3, [3.25, 6.75, 20.0, 0.5, 29.5, 17.25, 42.75], kill_at=30.0)
    fine = answers(3, [1.0] * 120, kill_at=30.0)
    assert len(whole) > 80_000
    assert {a[4] for a in whole} >= {200, 502}
    assert whole == cut
    assert whole == fine


def test_random_access_streams_give_each_index_the_same_numbers() -> None:
    """Uniforms and normals are keyed by index: any slice equals the same slice of one long
    draw, across the normals' block edges too."""
    key = 12345
    total = 3 * NORMAL_BLOCK + 17
    for draw in (uniforms, normals):
        whole = draw(key, 0, total)
        for start, n in (
            (0, 1),
            (5, 10),
            (NORMAL_BLOCK - 3, 7),
            (NORMAL_BLOCK, NORMAL_BLOCK),
            (NORMAL_BLOCK + 1, 2 * NORMAL_BLOCK + 16),
            (total - 1, 1),
            (7, 0),
        ):
            assert np.array_equal(draw(key, start, n), whole[start : start + n]), (draw, start, n)
        assert not np.array_equal(draw(key + 1, 0, 64), whole[:64])
    z = normals(key, 0, 200_000)
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1.0) < 0.01
    # blocks are distinct substreams, not copies of each other
    assert not np.array_equal(z[:NORMAL_BLOCK], z[NORMAL_BLOCK : 2 * NORMAL_BLOCK])


@pytest.mark.skipif(rng.fill_normals is None, reason="sim/_draws.pyx not built")
def test_the_compiled_draws_are_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled ziggurat (`_draws.pyx`) draws numpy's `standard_normal` to the bit:
    a million normals of several streams and blocks, among them draws of the ziggurat's
    tail (beyond its last layer, |z| > 3.6542) and of its wedges; its uniforms are numpy's
    `random`, and its advance numpy's `PCG64.advance`, far steps included; its running
    sums are numpy's `cumsum`; and `normals` and `uniforms` give the same numbers with it as
    without it."""
    assert rng.fill_normals is not None
    draws = []
    for key, block in ((1, 0), (12345, 3), (2**63 + 5, 1000), (987654321987, 1 << 40)):
        bits = np.random.PCG64(key)
        bits.advance(block << 64)
        state = bits.state["state"]
        compiled = np.empty(250_000)
        rng.fill_normals(state["state"], state["inc"], compiled)
        want = np.random.Generator(bits).standard_normal(250_000)
        assert np.array_equal(compiled.view(np.int64), want.view(np.int64)), (key, block)
        draws.append(compiled)
    assert (np.abs(np.concatenate(draws)) > 3.6542).sum() > 50  # the tail, not only layers
    assert rng.fill_uniforms is not None
    for key, steps in ((1, 0), (12345, 7), (2**63 + 5, 2**64 + 3), (987654321987, 2**130 + 9)):
        bits = np.random.PCG64(key)
        origin = bits.state["state"]
        compiled = np.empty(100_000)
        rng.fill_uniforms(origin["state"], origin["inc"], compiled, steps)
        normal = np.empty(10_000)
        rng.fill_normals(origin["state"], origin["inc"], normal, steps)
        bits.advance(steps)  # numpy takes the steps modulo 2**128
        generator = np.random.Generator(bits)
        state = bits.state
        assert np.array_equal(compiled.view(np.int64), generator.random(100_000).view(np.int64))
        bits.state = state
        assert np.array_equal(
            normal.view(np.int64), generator.standard_normal(10_000).view(np.int64)
        )
    for gaps in (np.zeros(0), np.array([0.5]), np.random.default_rng(3).exponential(0.01, 50_000)):
        times = 1e6 + gaps  # arrival gaps from a far start: the sums round as numpy's do
        want = np.cumsum(times)
        rng.running_sum(times)
        assert np.array_equal(times.view(np.int64), want.view(np.int64))
    with_it = normals(77, 5, 3 * NORMAL_BLOCK), uniforms(77, 2**70, 5000), uniforms(78, 3, 1)
    monkeypatch.setattr(rng, "fill_normals", None)
    monkeypatch.setattr(rng, "fill_uniforms", None)
    rng._normal_block.cache_clear()
    without = normals(77, 5, 3 * NORMAL_BLOCK), uniforms(77, 2**70, 5000), uniforms(78, 3, 1)
    assert all(np.array_equal(a, b) for a, b in zip(with_it, without, strict=True))


def test_reading_one_kind_or_a_time_on_gives_the_same_records_as_filtering_the_log() -> None:
    """w.events(since, kind) reads per-kind lists; they hold exactly the log's records, in
    its order, also the data plane's, which are dated before the instant they are recorded."""
    w = ecsim.World.demo(seed=4, rate=40)
    w.chaos.kill_task(sorted(service_task_arns(w))[0])
    w.advance(120.5)
    log = w.events()
    assert all(b.time >= a.time for a, b in itertools.pairwise(log))
    for kind in [*sorted({e.kind for e in log}), "NoSuchKind"]:
        for since in (None, 0.0, 45.0, 60.0, w.now, w.now + 1):
            expected = [e for e in log if e.kind == kind and (since is None or e.time >= since)]
            assert w.events(since=since, kind=kind) == expected, (kind, since)
    assert w.events(since=60.0) == [e for e in log if e.time >= 60.0]


def test_records_laid_down_together_are_those_laid_down_one_by_one() -> None:
    """`EventLog.emit_many` leaves the log, each kind's list and what subscribers hear as
    `emit` does, for records after the last ones and for records dated before them."""
    from ecsim.model.context import EventLog
    from ecsim.model.events import Event, RequestsCompleted, TrafficChanged

    def records(times: list[float]) -> list[Event]:
        return [RequestsCompleted(t, "lb", 1.0, {"200": 1}) for t in times]

    batches = [records([1.0, 2.0, 2.0]), records([]), records([0.5, 3.0]), records([3.0, 4.0])]
    logs = EventLog(), EventLog()
    heard: tuple[list[Event], list[Event]] = ([], [])
    for log, seen in zip(logs, heard, strict=True):
        log.subscribers.append(seen.append)
        log.emit(TrafficChanged(1.5, "lb", 10.0))
    for batch in batches:
        logs[0].emit_many(batch)
        for event in batch:
            logs[1].emit(event)
    assert logs[0].events() == logs[1].events() and len(logs[0].events()) == 8
    assert logs[0].events(kind=RequestsCompleted) == logs[1].events(kind=RequestsCompleted)
    assert heard[0] == heard[1]


def test_uniforms_are_the_seeded_streams_whatever_was_read_before_and_on_any_thread() -> None:
    """`uniforms` keeps each stream's generator (seeding costs more than a small read) and
    sets its state back for each read: number i of stream k is PCG64(k)'s output i, read in
    any order, interleaved with other streams, and on several threads at once."""
    import concurrent.futures

    def fresh(key: int, start: int, n: int) -> np.ndarray[Any, Any]:
        bits = np.random.PCG64(key)
        bits.advance(start)
        return np.random.Generator(bits).random(n)

    reads = [(k, s, n) for k in (1, 2**63 + 5, 77) for s, n in ((0, 5), (1000, 40), (3, 1))]
    for key, start, n in reads[::-1] + reads:
        assert np.array_equal(uniforms(key, start, n), fresh(key, start, n))

    def many(offset: int) -> bool:
        return all(
            np.array_equal(uniforms(k, s + offset, n), fresh(k, s + offset, n))
            for _ in range(200)
            for k, s, n in reads
        )

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert all(pool.map(many, range(8)))
