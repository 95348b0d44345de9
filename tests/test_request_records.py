"""The data plane's per-second records: `RequestsCompleted` events read sealed rows of the
statistics' ledger, and `w.traffic.stats()` windows add up exactly the records of the seconds
they reach into (whole seconds: a bound inside a second brings it in), also across blocks of
compressed latency histograms and while a task is replaced."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections import Counter

import pytest

import ecsim
from ecsim.model.events import Event, RequestsCompleted


@pytest.fixture(scope="module")
def long_run() -> tuple[ecsim.World, list[dict[str, object]]]:
    """The demo at 40 req/s for 20 minutes with a task killed on the way; the records as
    subscribers saw them when they were emitted."""
    w = ecsim.World.demo(seed=3, rate=40.0)
    seen: list[dict[str, object]] = []

    def keep(e: Event) -> None:
        if isinstance(e, RequestsCompleted):
            seen.append(e.to_dict())

    w.subscribers.append(keep)
    w.advance(400)
    running = w.ecs.list_tasks(cluster="home", serviceName="home-service")["taskArns"]
    w.chaos.kill_task(sorted(running)[0])
    w.advance(800)
    return w, seen


def records(w: ecsim.World) -> list[RequestsCompleted]:
    return [e for e in w.events(kind=RequestsCompleted) if isinstance(e, RequestsCompleted)]


def test_records_read_back_as_they_were_emitted(
    long_run: tuple[ecsim.World, list[dict[str, object]]],
) -> None:
    w, seen = long_run
    assert [e.to_dict() for e in records(w)] == seen
    assert len(seen) >= 1100  # one per second with answers
    ledger = next(iter(w.dataplane.stats.lbs.values()))
    assert len(ledger.latency.blocks) == ledger.index.size // 256 >= 4  # compressed blocks


@pytest.mark.parametrize(
    ("since", "until"),
    [(None, None), (0, 1e9), (100, 355), (255.5, 770.25), (511, 513), (900, 901), (1000, None)],
)
def test_windows_add_up_the_records_they_reach_into(
    long_run: tuple[ecsim.World, list[dict[str, object]]],
    since: float | None,
    until: float | None,
) -> None:
    w, _ = long_run
    lo = -1e18 if since is None else since
    hi = 1e18 if until is None else until
    status: Counter[str] = Counter()
    target: Counter[str] = Counter()
    source: Counter[str] = Counter()
    for e in records(w):
        if e.time > lo and e.time - e.period < hi:  # the record's second meets [lo, hi)
            status.update(e.by_status)
            target.update(e.by_target)
            source.update(e.by_source)
    stats = w.traffic.stats(since=since, until=until)
    assert stats["by_status"] == dict(sorted(status.items()))
    assert stats["by_target"] == dict(sorted(target.items()))
    assert stats["by_source"] == dict(sorted(source.items()))
    assert stats["requests"] == sum(status.values())
    if stats["requests"]:
        p50, p99 = stats["latency_ms"]["p50"], stats["latency_ms"]["p99"]
        assert 5 < p50 < p99 < 1000  # the demo's app answers in ~20 ms (lognormal)


def test_a_record_is_a_plain_immutable_value(
    long_run: tuple[ecsim.World, list[dict[str, object]]],
) -> None:
    w, _ = long_run
    e = records(w)[500]
    same = RequestsCompleted(
        e.time, e.load_balancer, e.period, e.by_status, e.by_target, e.by_source
    )
    assert e == same and hash(e) == hash(same)
    assert e != RequestsCompleted(e.time, e.load_balancer, e.period, {"200": 1})
    assert pickle.loads(pickle.dumps(e)) == e
    assert copy.deepcopy(e) == e
    assert repr(e) == repr(same)
    assert e.to_dict()["by_target"] == e.by_target
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.period = 5.0  # type: ignore[misc]
    for record in (e, same):
        record.by_status["200"] = -1  # a copy: the record does not change
    assert e == same and same.by_status == e.by_status != {"200": -1}
