"""Traced requests sent together (`Traffic.send_many`, what the ALB's real port does with the
requests of one turn of its event loop) get exactly what as many `send` calls give them: the
same traces, targets, answers and statistics, whatever the algorithm, while tasks die."""

from __future__ import annotations

from typing import Any

import pytest

from ecsim.model.world import World

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
