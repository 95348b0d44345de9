"""Traced requests sent together (`Traffic.send_many`, what the ALB's real port does with the
requests of one turn of its event loop) get exactly what as many `send` calls give them: the
same traces, targets, answers and statistics, whatever the algorithm, while tasks die."""

from __future__ import annotations

from typing import Any

import pytest

from ecsim.model.dataplane.traced import KEPT
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from ecsim.scenario.catalog import builtin_names, load_builtin
from ecsim.scenario.runner import Runner

PATHS = [("/", None), ("/x", None), ("/", "h.example")]


def _world(algorithm: str) -> World:
    w = World.demo(rate=300, desired=5)
    tg = next(iter(w.elb.target_groups.values()))
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg.arn,
        Attributes=[{"Key": "load_balancing.algorithm.type", "Value": algorithm}],
    )
    w.advance(5)
    return w


def _run(batched: bool, algorithm: str) -> list[Any]:
    w = _world(algorithm)
    out: list[Any] = []
    for step in range(30):
        requests = PATHS * (step % 5 + 1)
        if batched:
            out.append(w.traffic.send_many(requests))
        else:
            out.append([w.traffic.send(path, host) for path, host in requests])
        if step == 12:
            w.chaos.kill_task(w.ecs.list_tasks(cluster="home")["taskArns"][0])
        w.advance(0.013)
    w.advance(2)
    out.append(w.traffic.stats())
    return out


@pytest.mark.parametrize(
    "algorithm", ["round_robin", "least_outstanding_requests", "weighted_random"]
)
def test_sent_together_as_one_by_one(algorithm: str) -> None:
    together, one_by_one = _run(True, algorithm), _run(False, algorithm)
    assert together == one_by_one
    assert all(t["settled"] for batch in together[:-1] for t in batch)
    assert together[-1]["requests"] > 0


def test_one_refused_request_refuses_the_batch() -> None:
    w = World.demo(rate=0)
    with pytest.raises(ValueError):
        w.traffic.send_many([("/", None), ("no-slash", None)])


class _Probing(Runner):
    """A scenario run that also sends traced requests to every load balancer each step."""

    def __init__(self, scenario: Any, fresh: bool) -> None:
        super().__init__(scenario)
        self.fresh = fresh
        self.sent: list[Any] = []

    def advance_to(self, t: float) -> None:
        target = self.fold.t0 + t
        while self.w.now < target - 1e-9:
            self.w.run_until(min(target, self.w.now + 7.0))
            if self.fresh:  # as if routing changed before each batch
                self.w.dataplane.routing_epoch += 1
            for lb in sorted(self.w.elb.load_balancers.values(), key=lambda b: b.name):
                try:
                    self.sent.append(self.w.traffic.send_many(PATHS * 2, lb.name))
                except AwsError as e:
                    self.sent.append(e.code)


@pytest.mark.parametrize("name", builtin_names())
def test_routing_kept_between_batches_as_resolved_afresh(name: str) -> None:
    """Traced requests reuse their kinds' routing until the data plane hears of a change
    (`traced.py`): every built-in scenario, probed every 7 simulated seconds, gives the same
    traces, events and statistics as resolving each batch afresh."""
    runs = []
    for fresh in (False, True):
        r = _Probing(load_builtin(name), fresh)
        r.run()
        runs.append((r.sent, [e.to_dict() for e in r.w.events()], r.w.traffic.stats()))
    assert runs[0] == runs[1]
    assert any(isinstance(batch, list) for batch in runs[0][0])


def test_ever_new_paths_keep_a_bounded_routing_memory() -> None:
    """A client that asks a new path with every request (a load tool's random URLs) does
    not grow what the port keeps between routing changes."""
    w = World.demo(rate=0)
    for batch in range(3 * KEPT // 500):
        traces = w.traffic.send_many([(f"/item/{batch}-{i}", None) for i in range(500)])
        assert all(t["status"] is not None for t in traces)
        w.advance(0.01)
    assert len(w.dataplane.traced_routes._routes) <= KEPT
