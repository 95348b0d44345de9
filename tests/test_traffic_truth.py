"""One truth for the traffic statistics (issue 12, point 8): what a client gets, from a traced
`w.traffic.send` or from the ALB's real port, is what `w.traffic.stats` counts, requests in
flight when a target stops included; and `since` / `until` are simulated times, whatever
second they fall in (docs/behaviour.md, "Traffic statistics").
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import pytest

import ecsim
from ecsim.awsapi import alb_app
from ecsim.live.runtime import LiveWorld
from tests.support.server import LiveServer

# --- in process ---------------------------------------------------------------------------


def _demo_at(t: float) -> ecsim.World:
    w = ecsim.World.demo(seed=0, rate=0)
    w.run_until(t)
    return w


def test_a_request_in_flight_on_a_task_that_stops_is_the_502_the_stats_count() -> None:
    """AWS: a target that dies mid-request leaves the ALB to answer 502 (docs/behaviour.md,
    "ALB-generated answers"). The trace said 200 when it was sent; once simulated time reaches
    the answer, the same trace says what the client got, and the statistics count that."""
    w = _demo_at(100.5)
    trace = w.traffic.send("/")
    assert (trace["status"], trace["answeredBy"], trace["settled"]) == (200, "target", False)
    w.chaos.kill_task(trace["target"].rsplit(":", 1)[0])
    w.advance(5)
    assert (trace["status"], trace["answeredBy"], trace["settled"]) == (502, "elb", True)
    assert trace["reason"] == "the target stopped before it answered: the connection was cut"
    assert trace["latencyMs"] == 0.0  # cut off the instant it was sent
    stats = w.traffic.stats(since=100.5)
    assert stats["by_status"] == {"502": 1}
    assert stats["by_source"] == {"elb": 1}


def test_a_request_left_alone_settles_as_it_was_traced() -> None:
    w = _demo_at(100.5)
    trace = w.traffic.send("/")
    sent = dict(trace)
    w.advance(1)
    assert trace == {**sent, "settled": True}
    assert w.traffic.stats()["by_status"] == {"200": 1}


def test_an_answer_settled_early_is_what_the_stats_count() -> None:
    """`w.traffic.settle` (the ALB port, while the clock is paused) fixes a traced request's
    answer now: what the model gives it now, kept whatever happens before simulated time
    reaches it."""
    w = _demo_at(100.5)
    cut = w.traffic.send("/")
    w.chaos.kill_task(cut["target"].rsplit(":", 1)[0])  # the same instant: cut off
    w.traffic.settle(cut)
    assert (cut["status"], cut["settled"]) == (502, True)
    kept = w.traffic.send("/")
    w.traffic.settle(kept)
    assert (kept["status"], kept["settled"]) == (200, True)
    w.chaos.kill_task(kept["target"].rsplit(":", 1)[0])  # too late: it was answered
    w.advance(5)
    assert kept["status"] == 200
    assert w.traffic.stats()["by_status"] == {"200": 1, "502": 1}
    assert w.dataplane.in_flight == 0


def test_since_and_until_are_times_not_period_indexes() -> None:
    """Statistics are kept per second; a window counts every second it reaches into, whole."""
    w = _demo_at(100.5)
    trace = w.traffic.send("/")  # answered some 20 ms later, at 100.5x
    w.advance(3)
    answered = 100.5 + trace["latencyMs"] / 1000
    assert 100.5 < answered < 101

    def count(since: float | None = None, until: float | None = None) -> int:
        return int(w.traffic.stats(since=since, until=until)["requests"])

    assert count(since=100.5) == 1  # was 0: the partial first second was dropped
    assert count(since=100.5, until=100.6) == 1  # a window inside one second
    assert count(since=100.75, until=102.5) == 1  # the second holds the answer: counted whole
    assert count(since=100.5, until=w.now) == count(since=100.5) == count()
    assert count(until=100.5) == 1  # the answer's second starts before 100.5
    assert count(since=101) == count(until=100) == 0
    assert count(since=100.5, until=100.5) == 0  # an empty window counts nothing
    assert count(since=100.5, until=100.4) == 0
    assert count(since=99, until=101) == count(since=99, until=100.5) == 1
    assert count(since=100.999999, until=101.000001) == 1  # it reaches into [100, 101)


# --- the ALB's real port ---------------------------------------------------------------------

CLIENTS = 8
LOAD_SECONDS = 3.0
KILL_AFTER = 1.5


CUT = "the target stopped before it answered: the connection was cut"


async def _load(alb_url: str, until: float, got: Counter[str], cut: Counter[str]) -> None:
    """One client: GET / in a loop; counts each answer by the status the model gives it
    (`X-Ecsim-Status` where HTTP cannot carry it), and those cut off by the kill."""
    async with httpx.AsyncClient(base_url=alb_url, timeout=30) as client:
        while time.monotonic() < until:
            r = await client.get("/")
            got[r.headers.get("X-Ecsim-Status") or str(r.status_code)] += 1
            if r.headers.get("X-Ecsim-Reason") == CUT:
                cut[str(r.status_code)] += 1


@pytest.mark.server(world="demo", rate=0, speed=10, fresh=True)
def test_alb_port_clients_get_what_the_stats_count(server: LiveServer) -> None:
    """A short load on the ALB port with a task killed mid-load: every answer the clients got,
    by status, is what `stats` counts over the same window, the requests in flight on the
    killed task included (they get the load balancer's 502 on both sides). The task answers 1 s
    slower (a FIS latency fault), so some requests are always in flight on it."""

    def prepare(w: ecsim.World) -> tuple[float, str]:
        tasks = w.ecs.list_tasks(cluster="home", serviceName="home-service")["taskArns"]
        victim = sorted(tasks)[0]
        w.chaos.delay_network(victim, delay=1.0, duration=600)
        return w.now, victim

    since, victim = server.call(prepare)
    got: Counter[str] = Counter()
    cut: Counter[str] = Counter()

    async def run() -> None:
        until = time.monotonic() + LOAD_SECONDS
        clients = [
            asyncio.create_task(_load(server.alb_url, until, got, cut)) for _ in range(CLIENTS)
        ]
        await asyncio.sleep(KILL_AFTER)
        await asyncio.to_thread(server.call, lambda w: w.chaos.kill_task(victim))
        await asyncio.gather(*clients)

    asyncio.run(run())
    stats: dict[str, Any] = server.call(lambda w: w.traffic.stats(since=since, until=w.now))
    assert stats["by_status"] == dict(sorted(got.items()))
    assert stats["requests"] == sum(got.values())
    assert cut["502"] >= 1 and set(cut) == {"502"}  # in flight on the task when it was killed
    print(f"\nALB port: {dict(got)}, {cut['502']} cut off by the kill")


def test_a_request_waiting_when_the_world_is_reset_gets_ecsims_own_503() -> None:
    """The world a request was sent to is gone: ecsim's own 503, `X-Ecsim-Status: reset`."""

    def slow_demo(seed: int) -> ecsim.World:
        w = ecsim.World.demo(seed=seed, rate=0)
        for task in w.ecs.list_tasks(cluster="home")["taskArns"]:
            w.chaos.delay_network(task, delay=5.0, duration=600)
        return w

    live = LiveWorld(slow_demo, speed=1.0)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=alb_app(live, None, 80))
        async with httpx.AsyncClient(transport=transport, base_url="http://alb") as client:
            waiting = asyncio.create_task(client.get("/"))
            await asyncio.sleep(0.3)  # the answer is due 5 simulated (= wall) seconds later
            live.reset()
            return await waiting

    began = time.monotonic()
    r = asyncio.run(get())
    assert time.monotonic() - began < 3
    assert r.status_code == 503 and r.headers["x-ecsim-status"] == "reset"
