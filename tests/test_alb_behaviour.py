"""The ALB's data plane and health checks, with numbers
(docs/behaviour.md, "The Application Load Balancer").

Every bound below is computed from the target group / load balancer settings the test reads
back through the API (health-check interval, thresholds, deregistration delay, slow start,
idle timeout) and from the app profile the test chose (`ecsim.*` labels); the statistical
tolerances are derived where they are used.
"""

from __future__ import annotations

import math
from typing import Any

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from tests.support import advance_until, healthy, listener_arn, target_states, tasks, tg_arn
from tests.support.worlds import APP, APP_TG, demo_with_app, make_tg

# 504 when the target does not accept within 10 s (docs/behaviour.md, "ALB-generated answers")
CONNECT_TIMEOUT = 10.0
FARGATE_ENI_DELETE = (20.0, 35.0)  # ENI detach/delete (docs/behaviour.md, "Task state durations")


# --- helpers --------------------------------------------------------------------------------


def ip_of(task: dict[str, Any]) -> str:
    return str(task["attachments"][0]["details"][-1]["value"])


def tg_settings(w: ecsim.World, arn: str) -> dict[str, Any]:
    tg = w.elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    attrs = w.elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    return {**tg, **{a["Key"]: a["Value"] for a in attrs}}


def health_of(w: ecsim.World, tg: str, ip: str) -> tuple[str, str | None, str | None]:
    """(State, Reason, Description) of one target as DescribeTargetHealth answers."""
    d = w.elbv2.describe_target_health(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 80}])
    h = d["TargetHealthDescriptions"][0]["TargetHealth"]
    return h["State"], h.get("Reason"), h.get("Description")


def health_events(w: ecsim.World, tg: str, ip: str, since: float = 0.0) -> list[Any]:
    return [
        e
        for e in w.events(since=since, kind="TargetHealthChanged")
        if e.target_group_arn == tg and e.target_id == ip
    ]


def first_time(w: ecsim.World, tg: str, ip: str, state: str, since: float = 0.0) -> float:
    return next(e.time for e in health_events(w, tg, ip, since) if e.state == state)


def app_tasks(w: ecsim.World) -> list[dict[str, Any]]:
    return tasks(w, name=APP)


# --- 1. deregistration delay ----------------------------------------------------------------------
#     (docs/behaviour.md, "Deregistration delay")

SLOW = {"ecsim.latency.median": "20s", "ecsim.latency.sigma": "0"}
SLOW_LATENCY = 20.0  # every request of the SLOW app takes exactly this long (sigma 0)


def test_requests_still_running_when_the_deregistration_delay_ends_get_502() -> None:
    s = demo_with_app(
        11, labels=SLOW, desired=2, tg_attributes={"deregistration_delay.timeout_seconds": "5"}
    )
    w = s.w
    delay = float(tg_settings(w, s.tg)["deregistration_delay.timeout_seconds"])
    assert delay == 5 < SLOW_LATENCY
    w.traffic.set_rate(10)
    w.advance(2 * SLOW_LATENCY)  # both targets have a full pipeline of requests in flight
    victim, survivor = (ip_of(t) for t in app_tasks(w))
    stopped_at = w.now
    w.ecs.stop_task(cluster=CLUSTER, task=app_tasks(w)[0]["taskArn"], reason="test")
    assert health_of(w, s.tg, victim)[0] == "draining"
    w.advance(3 * SLOW_LATENCY)
    end = w.now

    expired_at = first_time(w, s.tg, victim, "unused", since=stopped_at)
    assert math.isclose(expired_at - stopped_at, delay)

    after = w.traffic.stats(since=stopped_at, until=end)
    n502 = after["by_status"]["502"]
    # The ELB itself answers them, all at the instant the delay expires.
    assert after["by_source"]["elb"] == n502
    at_expiry = w.traffic.stats(since=math.floor(expired_at), until=math.floor(expired_at) + 1)
    assert at_expiry["by_status"]["502"] == n502
    # In flight at expiry: the victim's requests that arrived in (expiry - 20 s, stop). Round
    # robin alternates strictly over the two targets then, so the survivor got as many (+-1);
    # those are the survivor's answers during [expiry, stop + 20 s).
    twin = w.traffic.stats(since=expired_at, until=stopped_at + SLOW_LATENCY)
    assert twin["by_target"][victim] == n502  # the victim's only answers in that window
    assert twin["by_status"]["200"] == twin["by_target"][survivor]
    assert abs(n502 - twin["by_target"][survivor]) <= 1
    expected = 10 / 2 * (stopped_at - (expired_at - SLOW_LATENCY))  # rate/2 x 15 s = 75
    assert abs(n502 - expected) <= 4 * math.sqrt(expected)
    # The victim's requests that finished inside the delay were answered normally.
    draining = w.traffic.stats(since=stopped_at, until=math.floor(expired_at))
    assert draining["by_target"][victim] > 0 and set(draining["by_status"]) == {"200"}
    # No request that arrived after deregistration went to the victim: those arriving during
    # the delay are answered 20 s later, all by other targets, and nothing after the expiry.
    new = w.traffic.stats(since=stopped_at + SLOW_LATENCY, until=expired_at + SLOW_LATENCY)
    assert new["requests"] > 0 and victim not in new["by_target"]
    late = w.traffic.stats(since=math.floor(expired_at) + 1, until=end)
    assert victim not in late["by_target"] and "502" not in late["by_status"]


def test_a_deregistration_delay_longer_than_the_requests_loses_none() -> None:
    s = demo_with_app(
        11, labels=SLOW, desired=2, tg_attributes={"deregistration_delay.timeout_seconds": "30"}
    )
    w = s.w
    delay = float(tg_settings(w, s.tg)["deregistration_delay.timeout_seconds"])
    assert delay > SLOW_LATENCY
    w.traffic.set_rate(10)
    w.advance(2 * SLOW_LATENCY)
    victim, survivor = (ip_of(t) for t in app_tasks(w))
    stopped_at = w.now
    w.ecs.stop_task(cluster=CLUSTER, task=app_tasks(w)[0]["taskArn"], reason="test")
    w.advance(delay + 2 * SLOW_LATENCY)
    assert math.isclose(first_time(w, s.tg, victim, "unused", since=stopped_at) - stopped_at, delay)
    after = w.traffic.stats(since=stopped_at, until=w.now)
    assert set(after["by_status"]) == {"200"} and "elb" not in after["by_source"]
    # Every request in flight on the victim at the stop finished with 200 within 20 s: as many
    # as the survivor answered in that time (strict alternation before the stop, +-1).
    finishing = w.traffic.stats(since=stopped_at, until=stopped_at + SLOW_LATENCY)
    assert finishing["by_target"][victim] >= 0.8 * 10 / 2 * SLOW_LATENCY
    assert abs(finishing["by_target"][victim] - finishing["by_target"][survivor]) <= 1
    assert victim not in w.traffic.stats(since=stopped_at + SLOW_LATENCY, until=w.now)["by_target"]


# --- 2. overload: queueing, then 504 at the idle timeout ------------------------------------------
#     (docs/behaviour.md, "ALB-generated answers")

OVERLOADED = {"ecsim.capacity": "10", "ecsim.latency.median": "20ms", "ecsim.latency.sigma": "0"}
CAPACITY, MEDIAN_MS = 10.0, 20.0


def test_overload_slows_answers_then_the_alb_answers_504_at_its_idle_timeout() -> None:
    s = demo_with_app(
        12, labels=OVERLOADED, desired=1, lb_attributes={"idle_timeout.timeout_seconds": "20"}
    )
    w = s.w
    attrs = w.elbv2.describe_load_balancer_attributes(LoadBalancerArn=s.lb)["Attributes"]
    idle = float(next(a["Value"] for a in attrs if a["Key"] == "idle_timeout.timeout_seconds"))
    assert idle == 20
    rate = 3 * CAPACITY
    start = w.now
    w.traffic.set_rate(rate)
    w.advance(60)
    # The backlog grows by (rate - capacity) per second, so a request arriving `a` s after the
    # start waits about a (rate - capacity) / capacity = 2a and is answered at d = 3a: answers
    # in [d0, d1) waited between 2/3 d0 and 2/3 d1 (+-2 s of Poisson noise and per-second
    # queue steps).
    growth = (rate - CAPACITY) / rate
    p50s = []
    for d0 in range(0, 25, 5):
        win = w.traffic.stats(since=start + d0, until=start + d0 + 5)
        assert set(win["by_status"]) == {"200"}, (d0, win["by_status"])
        p50 = win["latency_ms"]["p50"] / 1000
        assert growth * d0 - 2 <= p50 <= growth * (d0 + 5) + 2, (d0, p50)
        p50s.append(p50)
    assert p50s == sorted(p50s) and p50s[-1] > 10 * p50s[0]
    # Waits reach the idle timeout for arrivals at a = idle x capacity / (rate - capacity)
    # = 10 s; their 504 comes idle seconds later, at 30 s (+-4 s of Poisson noise).
    onset = idle * CAPACITY / (rate - CAPACITY) + idle
    first_504 = next(
        t
        for t in range(int(start), int(w.now))
        if w.traffic.stats(since=t, until=t + 1)["by_status"].get("504")
    )
    assert abs(first_504 - start - onset) <= 4
    # The queue never drains (rate > capacity): from then on every answer is a 504 from the
    # ELB itself, after exactly the idle timeout.
    tail = w.traffic.stats(since=first_504 + 5, until=w.now)
    assert tail["requests"] > 0.8 * rate * (w.now - first_504 - 5)
    assert tail["by_status"] == {"504": tail["requests"]}
    assert tail["by_source"] == {"elb": tail["requests"]}
    assert abs(tail["latency_ms"]["p50"] / 1000 - idle) <= 0.01 * idle


def test_below_capacity_no_504_and_answers_at_the_app_median() -> None:
    s = demo_with_app(
        12, labels=OVERLOADED, desired=1, lb_attributes={"idle_timeout.timeout_seconds": "20"}
    )
    w = s.w
    start = w.now
    w.traffic.set_rate(CAPACITY / 2)
    w.advance(60)  # two long stretches: what the app served in the first must not queue
    w.advance(60)  # up in front of the second (the app is idle half of every second)
    for since in (start, start + 60):
        stats = w.traffic.stats(since=since, until=since + 60)
        assert stats["requests"] > 0.8 * CAPACITY / 2 * 60
        assert stats["by_status"] == {"200": stats["requests"]}, since - start
        # sigma 0: every answer takes the median (histogram bins are 1 % wide), plus a wait
        # only after a second with more than 10 arrivals. Waiting 1 s would need a carried
        # backlog of 10, i.e. >= 20 arrivals in one second of a Poisson(5): p ~ 3e-6.
        assert abs(stats["latency_ms"]["p50"] - MEDIAN_MS) <= 0.02 * MEDIAN_MS, since - start
        assert stats["latency_ms"]["p99"] < 1000, since - start


def test_queue_waits_do_not_depend_on_how_time_is_advanced() -> None:
    """engine.py: results are "independent of where batches start and end"."""

    def run(step: float) -> list[dict[str, Any]]:
        w = ecsim.World.demo(seed=26, rate=0)
        w.traffic.set_rate(300)  # 100 rps per task; the default capacity is 200 (profile.py)
        start = w.now
        while w.now < start + 90:
            w.advance(step)
        return [w.traffic.stats(since=start + k, until=start + k + 30) for k in (0, 30, 60)]

    stepped, at_once = run(1.0), run(45.0)
    for name, windows in (("stepped", stepped), ("at once", at_once)):
        for k, win in enumerate(windows):
            # Half capacity: nothing ever queues, answers take the app's own time (p99 of a
            # lognormal(20 ms, 0.4) is 20 x e^(2.33 x 0.4) = 51 ms).
            assert win["requests"] > 0.8 * 300 * 30, (name, k, win)
            assert win["latency_ms"]["p99"] < 60, (name, k, win)
    assert at_once == stepped


# --- 3. fail-open and no targets ------------------------------------------------------------------
#     (docs/behaviour.md, "Fail-open", "ALB-generated answers")


def test_every_target_unhealthy_the_alb_fails_open_and_routes_to_all() -> None:
    w = ecsim.World.demo(seed=13, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)  # nothing gets replaced
    hc = tg_settings(w, tg_arn(w))
    interval, timeout = hc["HealthCheckIntervalSeconds"], hc["HealthCheckTimeoutSeconds"]
    ips = {ip_of(t) for t in tasks(w)}
    assert len(ips) == 3
    sick_at = w.now
    for t in tasks(w):
        w.chaos.set_app_health(t["taskArn"], False)
    took = advance_until(w, lambda: set(target_states(w).values()) == {"unhealthy"}, within=60)
    assert took <= hc["UnhealthyThresholdCount"] * interval + timeout
    assert all(
        first_time(w, tg_arn(w), ip, "unhealthy", since=sick_at) - sick_at
        > (hc["UnhealthyThresholdCount"] - 1) * interval
        for ip in ips
    )

    start = w.now
    w.traffic.set_rate(30)
    w.advance(30)
    w.traffic.set_rate(0)
    w.advance(2)
    stats = w.traffic.stats(since=start, until=w.now)
    n = stats["requests"]
    assert n > 0.8 * 30 * 30
    # The app only fails its health-check path: the requests themselves are answered.
    assert stats["by_status"] == {"200": n} and stats["by_source"] == {"target": n}
    assert set(stats["by_target"]) == ips
    assert all(abs(c - n / 3) <= 1 for c in stats["by_target"].values())  # round robin
    trace = w.traffic.send()
    assert trace["status"] == 200 and trace["answeredBy"] == "target"
    assert trace["failOpen"] is True and "fails open" in trace["reason"]


def test_no_registered_target_answers_503() -> None:
    w = ecsim.World.demo(seed=13, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)  # nobody registers them again
    tg = tg_arn(w)
    delay = float(tg_settings(w, tg)["deregistration_delay.timeout_seconds"])
    w.elbv2.deregister_targets(
        TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 80} for ip in target_states(w)]
    )
    w.advance(delay + 1)
    assert w.elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"] == []
    start = w.now
    trace = w.traffic.send()
    assert trace["status"] == 503 and trace["answeredBy"] == "elb" and trace["target"] is None
    assert trace["targetGroup"] == tg
    w.traffic.set_rate(20)
    w.advance(10)
    stats = w.traffic.stats(since=start, until=w.now)
    assert stats["requests"] > 0.8 * 20 * 10
    assert stats["by_status"] == {"503": stats["requests"]}
    assert stats["by_source"] == {"elb": stats["requests"]} and stats["by_target"] == {}


def test_below_minimum_healthy_targets_the_alb_also_routes_to_unhealthy_ones() -> None:
    w = ecsim.World.demo(seed=14, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    tg = tg_arn(w)
    sick = tasks(w)[0]
    w.chaos.set_app_health(sick["taskArn"], False)
    advance_until(w, lambda: target_states(w)[ip_of(sick)] == "unhealthy", within=60)

    def burst() -> dict[str, Any]:
        """20 s of traffic, then quiet until every request is answered."""
        start = w.now
        w.traffic.set_rate(30)
        w.advance(20)
        w.traffic.set_rate(0)
        w.advance(2)
        return w.traffic.stats(since=start, until=w.now)

    # Default minimum 1: two healthy targets are enough, the unhealthy one gets nothing.
    assert ip_of(sick) not in burst()["by_target"]
    # 2 healthy < minimum 3: the ALB routes to all registered targets
    # (docs/behaviour.md, "Fail-open").
    key = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg, Attributes=[{"Key": key, "Value": "3"}]
    )
    stats = burst()
    n = stats["requests"]
    assert len(stats["by_target"]) == 3 and stats["by_status"] == {"200": n}
    assert all(abs(c - n / 3) <= 1 for c in stats["by_target"].values())  # round robin
    assert w.traffic.send()["failOpen"] is True


# --- 4. a dead target still registered: 502, then 504 once its ENI is gone ------------------------
#     (docs/behaviour.md, "ALB-generated answers")


def test_a_dead_registered_target_gets_502_until_it_turns_unhealthy() -> None:
    w = ecsim.World.demo(seed=15, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)  # nobody deregisters the dead task
    tg = tg_arn(w)
    hc = tg_settings(w, tg)
    interval, timeout = hc["HealthCheckIntervalSeconds"], hc["HealthCheckTimeoutSeconds"]
    rate = 30
    w.traffic.set_rate(rate)
    w.advance(5)
    victim = tasks(w)[0]
    ip = ip_of(victim)
    killed_at = w.now
    w.chaos.kill_task(victim["taskArn"])
    w.advance(60)
    unhealthy_at = first_time(w, tg, ip, "unhealthy", since=killed_at)
    assert unhealthy_at - killed_at <= hc["UnhealthyThresholdCount"] * interval + timeout

    stats = w.traffic.stats(since=killed_at, until=w.now)
    n502 = stats["by_status"]["502"]
    # Every request to the dead task got a 502 from the ELB (nothing listens: TCP RST).
    assert stats["by_target"][ip] == n502 == stats["by_source"]["elb"]
    # Until it turns unhealthy the dead task keeps its round-robin third of the requests.
    window = w.traffic.stats(since=killed_at, until=math.floor(unhealthy_at))
    assert abs(3 * window["by_status"]["502"] - window["requests"]) <= 9
    expected = rate / 3 * (unhealthy_at - killed_at)
    assert abs(n502 - expected) <= 4 * math.sqrt(expected)
    # Afterwards no request reaches it and nothing fails.
    after = w.traffic.stats(since=math.floor(unhealthy_at) + 1, until=w.now)
    assert ip not in after["by_target"] and set(after["by_status"]) == {"200"}


def test_fail_open_to_a_stopped_task_waits_the_connect_timeout_then_504() -> None:
    w = ecsim.World.demo(seed=16, rate=0, desired=1)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    tg = tg_arn(w)
    victim = tasks(w)[0]
    ip = ip_of(victim)
    w.traffic.set_rate(20)
    w.advance(2)
    killed_at = w.now
    w.chaos.kill_task(victim["taskArn"])
    w.advance(60)
    stopped = [
        e
        for e in w.events(since=killed_at, kind="TaskStateChanged")
        if e.task_arn == victim["taskArn"] and e.last_status == "STOPPED"
    ]
    assert len(stopped) == 1
    eni_gone = stopped[0].time
    lo, hi = FARGATE_ENI_DELETE
    assert lo <= eni_gone - killed_at <= hi + 1  # + the agent noticing the exit
    assert target_states(w) == {ip: "unhealthy"}  # still registered: fail-open to it

    # Before the ENI is deleted, nothing listens at the address: 502 at once.
    before = w.traffic.stats(since=killed_at, until=math.floor(eni_gone))
    assert before["by_status"] == {"502": before["requests"]} and before["requests"] > 0
    assert before["latency_ms"]["p99"] < 100
    # After: connections to the vanished address time out, the ELB answers 504 after 10 s.
    after = w.traffic.stats(since=math.ceil(eni_gone) + CONNECT_TIMEOUT, until=w.now)
    assert after["requests"] > 0
    assert after["by_status"] == {"504": after["requests"]}
    assert after["by_source"] == {"elb": after["requests"]} and after["by_target"] == {
        ip: after["requests"]
    }
    assert abs(after["latency_ms"]["p50"] - 1000 * CONNECT_TIMEOUT) <= 0.01 * 1000 * CONNECT_TIMEOUT
    # Nothing was answered in the connect-timeout gap right after the ENI went away.
    gap = w.traffic.stats(since=math.ceil(eni_gone), until=math.floor(eni_gone + CONNECT_TIMEOUT))
    assert gap["requests"] == 0
    trace = w.traffic.send()
    assert trace["status"] == 504 and trace["latencyMs"] == 1000 * CONNECT_TIMEOUT
    assert trace["failOpen"] is True and "10 s" in trace["reason"]
    assert trace["targetGroup"] == tg and trace["target"] == f"{ip}:80"


# --- 5. least outstanding requests vs round robin -------------------------------------------------
#     (docs/behaviour.md, "Routing algorithms"; design.md)


def _dead_target_502s(algorithm: str) -> tuple[int, int, float]:
    """(502s, requests, unhealthy_at - killed_at) while a killed task is still routable."""
    s = demo_with_app(
        17,
        labels={"ecsim.latency.median": "500ms"},
        desired=3,
        tg_attributes={"load_balancing.algorithm.type": algorithm},
    )
    w = s.w
    assert tg_settings(w, s.tg)["load_balancing.algorithm.type"] == algorithm
    w.chaos.crash_controller(CLUSTER, APP)
    w.traffic.set_rate(30)
    w.advance(5)
    victim = app_tasks(w)[0]
    killed_at = w.now
    w.chaos.kill_task(victim["taskArn"])
    w.advance(30)
    unhealthy_at = first_time(w, s.tg, ip_of(victim), "unhealthy", since=killed_at)
    # From 2 s after the kill on, every answer is to a request sent after it (the app's p99 is
    # 0.5 s x e^(2.33 x 0.4) = 1.3 s), until the target is out of the rotation.
    window = w.traffic.stats(since=killed_at + 2, until=math.floor(unhealthy_at))
    after = w.traffic.stats(since=math.floor(unhealthy_at) + 1, until=w.now)
    assert "502" not in after["by_status"]
    return window["by_status"]["502"], window["requests"], unhealthy_at - killed_at


def test_least_outstanding_requests_sends_more_to_a_dead_target_than_round_robin() -> None:
    rr_502, rr_n, rr_took = _dead_target_502s("round_robin")
    lor_502, lor_n, lor_took = _dead_target_502s("least_outstanding_requests")
    assert rr_took == lor_took  # same seed: health checks take it out at the same instant
    # Round robin: a third, whatever the target does (strict alternation, +-1 per target).
    assert abs(3 * rr_502 - rr_n) <= 6
    # LOR: the dead task fails in 1 ms, so it nearly always has 0 outstanding. A healthy task
    # that wins a request is busy for its answer time, E[S] = 0.5 s x e^(0.4^2/2) = 0.54 s, so
    # each of the 2 healthy tasks wins at most ~1/E[S] of the 30 requests/s, and the dead one
    # at least the rest; allow 4 binomial sd.
    mean_s = 0.5 * math.exp(0.4**2 / 2)
    floor_share = 1 - 2 / (30 * mean_s)
    sd = math.sqrt(floor_share * (1 - floor_share) / lor_n)
    assert lor_502 / lor_n >= floor_share - 4 * sd
    assert lor_502 > 2 * rr_502


# --- 6. slow start --------------------------------------------------------------------------------
#     (docs/behaviour.md, "Slow start")


def _slow_start_shares(step: float | None) -> tuple[str, dict[int, dict[str, Any]], list[str]]:
    """Scale 2 -> 3 with a 60 s slow start; per-15-s windows after the new target's health."""
    s = demo_with_app(18, desired=2)
    w = s.w
    old = sorted(target_states(w, APP_TG))
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=s.tg, Attributes=[{"Key": "slow_start.duration_seconds", "Value": "60"}]
    )
    w.traffic.set_rate(300)
    w.ecs.update_service(cluster=CLUSTER, service=APP, desiredCount=3)
    advance_until(w, lambda: healthy(w, APP_TG) == 3, within=120)
    new = (set(target_states(w, APP_TG)) - set(old)).pop()
    healthy_at = first_time(w, s.tg, new, "healthy")
    a = math.ceil(healthy_at)  # whole seconds: the statistics are kept per second
    if step is None:
        w.run_until(a + 90)
    else:
        while w.now < a + 90:
            w.advance(step)
    windows = {k: w.traffic.stats(since=a + k, until=a + k + 15) for k in range(0, 90, 15)}
    return new, windows, old


def test_targets_already_healthy_do_not_enter_slow_start() -> None:
    s = demo_with_app(18, desired=2)
    w = s.w
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=s.tg, Attributes=[{"Key": "slow_start.duration_seconds", "Value": "60"}]
    )
    start = w.now
    w.traffic.set_rate(300)
    w.advance(15)
    w.traffic.set_rate(0)
    w.advance(2)
    stats = w.traffic.stats(since=start, until=w.now)
    counts = list(stats["by_target"].values())
    assert len(counts) == 2 and abs(counts[0] - counts[1]) <= 1  # plain round robin at once


def test_slow_start_ramps_a_newly_healthy_targets_share_over_the_window() -> None:
    new, windows, old = _slow_start_shares(step=1.0)
    n = 3
    share = {k: win["by_target"].get(new, 0) / win["requests"] for k, win in windows.items()}
    # A linear ramp over 60 s: over the first 15 s the new target's weight is 0..1/4 of a full
    # target's, over the last 15 s 3/4..1. Whether the ramp is linear in weight or in share,
    # that puts its share at 1/8..1/5 of 1/n at first and at 0.875/n..0.92/n at the end.
    # 300 rps x 15 s = 4500 requests a window: one binomial sd <= sqrt(1/4 / 4500) = 0.0075.
    sd = math.sqrt(0.25 / windows[0]["requests"])
    assert 0 < share[0] < 0.5 / n
    assert share[0] < share[15] < share[30] < share[45]
    assert 0.875 / n - 4 * sd <= share[45] <= 1 / n + 4 * sd
    # Once the window is over: plain round robin, a third each (answers are counted when they
    # arrive back, so the ~10 requests in flight at each window edge may fall either side).
    for k in (60, 75):
        counts = windows[k]["by_target"]
        assert set(counts) == {new, *old}
        assert all(abs(c / windows[k]["requests"] - 1 / n) <= 0.005 for c in counts.values())


def test_slow_start_share_does_not_depend_on_how_time_is_advanced() -> None:
    # engine.py: results are "independent of where batches start and end". Advancing 90 s at
    # once must route every request exactly as advancing 1 s at a time does.
    new, stepped, _ = _slow_start_shares(step=1.0)
    new2, at_once, _ = _slow_start_shares(step=None)
    assert new == new2
    for k in (0, 15, 30, 45):
        assert at_once[k]["by_target"] == stepped[k]["by_target"], k
    assert at_once[0]["by_target"][new] / at_once[0]["requests"] < 0.5 / 3


# --- 7. listener rules ----------------------------------------------------------------------------
#     (docs/behaviour.md, "Listener rules")


def _rules_world() -> tuple[ecsim.World, dict[str, str], dict[str, str], list[str]]:
    """The demo plus four target groups over its 3 tasks and rules on its listener."""
    w = ecsim.World.demo(seed=19, rate=0)
    ips = sorted(target_states(w))
    members = {"api": ips[:1], "other": ips[1:2], "blue": ips[:2], "green": ips[2:]}
    tgs: dict[str, str] = {}
    for name, group in members.items():
        arn = make_tg(w, name, HealthCheckIntervalSeconds=10)
        w.elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": 80} for i in group])
        tgs[name] = arn
    listener = listener_arn(w)

    def rule(priority: int, conditions: list[dict[str, Any]], action: dict[str, Any]) -> str:
        out = w.elbv2.create_rule(
            ListenerArn=listener, Priority=priority, Conditions=conditions, Actions=[action]
        )
        return str(out["Rules"][0]["RuleArn"])

    rules = {
        "admin": rule(
            5,
            [{"Field": "path-pattern", "Values": ["/admin/*"]}],
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "403", "ContentType": "text/plain"},
            },
        ),
        "host": rule(
            10,
            [{"Field": "host-header", "Values": ["api.example.com"]}],
            {"Type": "forward", "TargetGroupArn": tgs["api"]},
        ),
        "path": rule(
            20,
            [{"Field": "path-pattern", "Values": ["/api/*"]}],
            {"Type": "forward", "TargetGroupArn": tgs["other"]},
        ),
        "split": rule(
            30,
            [{"Field": "path-pattern", "Values": ["/shop/*"]}],
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": tgs["blue"], "Weight": 80},
                        {"TargetGroupArn": tgs["green"], "Weight": 20},
                    ]
                },
            },
        ),
    }
    advance_until(
        w,
        lambda: all(s == "healthy" for name in members for s in target_states(w, name).values()),
        within=60,
    )
    return w, tgs, rules, ips


def test_listener_rules_by_priority_then_the_default_action() -> None:
    w, tgs, rules, _ = _rules_world()
    default_rule = w.elbv2.describe_rules(ListenerArn=listener_arn(w))["Rules"][-1]
    assert default_rule["IsDefault"] is True

    def route(path: str, host: str | None = None) -> tuple[int, str | None, str | None, str]:
        t = w.traffic.send(path, host)
        return t["status"], t["rule"], t["targetGroup"], t["answeredBy"]

    # Host and path both match: the lower priority number (10) wins over 20.
    assert route("/api/x", "api.example.com") == (200, rules["host"], tgs["api"], "target")
    assert route("/api/x", "API.Example.com") == (200, rules["host"], tgs["api"], "target")
    assert route("/api/x") == (200, rules["path"], tgs["other"], "target")
    # The fixed-response rule (priority 5) answers itself with its status code.
    assert route("/admin/users", "api.example.com") == (403, rules["admin"], None, "elb")
    # No rule matches: the default action (the demo's target group).
    assert route("/", "www.example.com") == (200, default_rule["RuleArn"], tg_arn(w), "target")
    assert route("/apix") == (200, default_rule["RuleArn"], tg_arn(w), "target")
    # Swap the priorities: now the path rule comes first.
    w.elbv2.set_rule_priorities(
        RulePriorities=[
            {"RuleArn": rules["host"], "Priority": 20},
            {"RuleArn": rules["path"], "Priority": 10},
        ]
    )
    assert route("/api/x", "api.example.com") == (200, rules["path"], tgs["other"], "target")
    assert route("/", "api.example.com") == (200, rules["host"], tgs["api"], "target")
    # Fixed-response answers are counted as ELB answers with their own status (from the next
    # second on: the requests sent above are answered in this one).
    start = w.now
    w.traffic.set_rate(20, paths=["/admin/x"])
    w.advance(10)
    stats = w.traffic.stats(since=start + 1, until=w.now)
    assert stats["by_status"] == {"403": stats["requests"]} and stats["requests"] > 0.8 * 20 * 9
    assert stats["by_source"] == {"elb": stats["requests"]}


def test_weighted_forward_splits_80_20() -> None:
    w, _, _, ips = _rules_world()
    start = w.now
    w.traffic.set_rate(200, paths=["/shop/cart"])
    w.advance(20)
    w.traffic.set_rate(0)
    w.advance(2)
    stats = w.traffic.stats(since=start, until=w.now)
    n = stats["requests"]
    assert n > 0.8 * 200 * 20 and stats["by_status"] == {"200": n}
    green = stats["by_target"][ips[2]] / n  # green holds only the third task
    # Each request picks its group independently with p = 20/(80+20): binomial, sd =
    # sqrt(p(1-p)/n) ~ 0.0065 for n ~ 3800; allow 4 sd.
    p = 20 / (80 + 20)
    assert abs(green - p) <= 4 * math.sqrt(p * (1 - p) / n)
    # Inside blue (round robin) its two targets split the 80 % evenly.
    assert abs(stats["by_target"][ips[0]] - stats["by_target"][ips[1]]) <= 1


# --- 8. health states, reasons and thresholds as DescribeTargetHealth shows them ------------------
#     (docs/behaviour.md, "Target health checks", "Target health states and reasons")


def _watch(
    w: ecsim.World, tg: str, until: Any, within: float
) -> list[tuple[str, str | None, str | None]]:
    """Distinct successive (State, Reason, Description) of the group's first target, polled."""
    seen: list[tuple[str, str | None, str | None]] = []
    deadline = w.now + within
    while w.now < deadline:
        d = w.elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if d:
            h = d[0]["TargetHealth"]
            entry = (h["State"], h.get("Reason"), h.get("Description"))
            if not seen or seen[-1] != entry:
                seen.append(entry)
            if until(entry):
                return seen
        w.advance(0.25)
    raise AssertionError(f"not reached within {within} s: {seen}")


INITIAL = [
    ("initial", "Elb.RegistrationInProgress", "Target registration is in progress"),
    ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress"),
]


def test_new_target_is_initial_then_healthy_after_one_passing_check() -> None:
    # The app is up at once and answers its health checks in 1 s, so the first probe passes after 1 s.
    s = demo_with_app(
        20, labels={"ecsim.startup": "0s", "ecsim.health.latency": "1s"}, desired=1, wait=False
    )
    w = s.w
    seen = _watch(w, s.tg, lambda e: e[0] == "healthy", within=120)
    assert seen == [*INITIAL, ("healthy", None, None)]
    ip = ip_of(app_tasks(w)[0])
    hc = tg_settings(w, s.tg)
    checking = next(
        e.time for e in health_events(w, s.tg, ip) if e.reason == "Elb.InitialHealthChecking"
    )
    became = first_time(w, s.tg, ip, "healthy")
    # In service after ONE passing check (docs/behaviour.md, "Target health checks"), not
    # HealthyThresholdCount (5) of
    # them: the verdict of the first probe (1 s answer) comes before a second probe is sent.
    assert hc["HealthyThresholdCount"] == 5
    assert math.isclose(became - checking, 1.0)
    assert became - checking < hc["HealthCheckTimeoutSeconds"] < hc["HealthCheckIntervalSeconds"]


def test_failing_health_path_reports_response_code_mismatch() -> None:
    s = demo_with_app(21, labels={"ecsim.health": "failing"}, desired=1, wait=False)
    w = s.w
    seen = _watch(w, s.tg, lambda e: e[0] == "unhealthy", within=120)
    assert seen == [
        *INITIAL,
        (
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [503]",
        ),
    ]
    ip = ip_of(app_tasks(w)[0])
    hc = tg_settings(w, s.tg)
    checking = next(
        e.time for e in health_events(w, s.tg, ip) if e.reason == "Elb.InitialHealthChecking"
    )
    # UnhealthyThresholdCount consecutive failures: probes at 0, 10 s; the app answers fast.
    took = first_time(w, s.tg, ip, "unhealthy") - checking
    assert (hc["UnhealthyThresholdCount"] - 1) * hc["HealthCheckIntervalSeconds"] <= took
    assert took < (hc["UnhealthyThresholdCount"] - 1) * hc["HealthCheckIntervalSeconds"] + 1


def test_hanging_app_reports_timeout() -> None:
    s = demo_with_app(22, labels={"ecsim.hang": "true"}, desired=1, wait=False)
    w = s.w
    seen = _watch(w, s.tg, lambda e: e[0] == "unhealthy", within=120)
    assert seen == [*INITIAL, ("unhealthy", "Target.Timeout", "Request timed out")]
    ip = ip_of(app_tasks(w)[0])
    hc = tg_settings(w, s.tg)
    checking = next(
        e.time for e in health_events(w, s.tg, ip) if e.reason == "Elb.InitialHealthChecking"
    )
    # The second failed probe's verdict comes when its timeout (5 s) runs out.
    took = first_time(w, s.tg, ip, "unhealthy") - checking
    expected = (hc["UnhealthyThresholdCount"] - 1) * hc["HealthCheckIntervalSeconds"] + hc[
        "HealthCheckTimeoutSeconds"
    ]
    assert math.isclose(took, expected, abs_tol=0.01)


def test_dead_container_reports_failed_health_checks_then_timeout_once_the_eni_is_gone() -> None:
    w = ecsim.World.demo(seed=23, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    tg = tg_arn(w)
    victim = tasks(w)[0]
    ip = ip_of(victim)
    killed_at = w.now
    w.chaos.kill_task(victim["taskArn"])
    advance_until(w, lambda: health_of(w, tg, ip)[0] == "unhealthy", within=60)
    assert health_of(w, tg, ip) == (
        "unhealthy",
        "Target.FailedHealthChecks",
        "Health checks failed",
    )
    # Once the ENI is deleted (20-35 s after the stop, docs/behaviour.md, "Task state durations")
    # probes get no answer.
    w.run_until(
        killed_at + FARGATE_ENI_DELETE[1] + 1 + 2 * tg_settings(w, tg)["HealthCheckIntervalSeconds"]
    )
    dead = w.ecs.describe_tasks(cluster=CLUSTER, tasks=[victim["taskArn"]])["tasks"][0]
    assert dead["lastStatus"] == "STOPPED"
    assert health_of(w, tg, ip) == ("unhealthy", "Target.Timeout", "Request timed out")


def test_draining_target_reports_deregistration_in_progress_then_is_gone() -> None:
    w = ecsim.World.demo(seed=24, rate=0)  # scheduler alive: it deregisters the task
    tg = tg_arn(w)
    delay = float(tg_settings(w, tg)["deregistration_delay.timeout_seconds"])
    victim = tasks(w)[0]
    ip = ip_of(victim)
    stopped_at = w.now
    w.ecs.stop_task(cluster=CLUSTER, task=victim["taskArn"], reason="test")
    draining = (
        "draining",
        "Target.DeregistrationInProgress",
        "Target deregistration is in progress",
    )
    assert health_of(w, tg, ip) == draining
    w.run_until(stopped_at + delay - 0.5)
    assert health_of(w, tg, ip) == draining  # for the whole delay, even with nothing in flight
    task = w.ecs.describe_tasks(cluster=CLUSTER, tasks=[victim["taskArn"]])["tasks"][0]
    assert task["lastStatus"] == "DEACTIVATING"  # ECS waits for the draining to finish
    w.run_until(stopped_at + delay + 0.5)
    listed = w.elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert ip not in {d["Target"]["Id"] for d in listed}
    assert health_of(w, tg, ip) == (
        "unused",
        "Target.NotRegistered",
        "Target is not registered to the target group",
    )


def test_recovery_from_unhealthy_takes_healthy_threshold_passes() -> None:
    w = ecsim.World.demo(seed=25, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)  # the unhealthy task is not replaced
    tg = tg_arn(w)
    hc = tg_settings(w, tg)
    interval, timeout = hc["HealthCheckIntervalSeconds"], hc["HealthCheckTimeoutSeconds"]
    unhealthy_n, healthy_n = hc["UnhealthyThresholdCount"], hc["HealthyThresholdCount"]
    assert (interval, unhealthy_n, healthy_n) == (10, 2, 5)
    task = tasks(w)[0]
    ip = ip_of(task)
    sick_at = w.now
    w.chaos.set_app_health(task["taskArn"], False)
    advance_until(w, lambda: health_of(w, tg, ip)[0] == "unhealthy", within=60)
    went = first_time(w, tg, ip, "unhealthy", since=sick_at) - sick_at
    # The first failing probe comes within one interval, the verdict U-1 intervals later.
    assert (unhealthy_n - 1) * interval < went <= unhealthy_n * interval + timeout
    w.advance(3)
    well_at = w.now
    w.chaos.set_app_health(task["taskArn"], True)
    # One pass is not enough to come back: still unhealthy after H-1 intervals.
    w.run_until(well_at + (healthy_n - 1) * interval)
    assert health_of(w, tg, ip)[0] == "unhealthy"
    advance_until(w, lambda: health_of(w, tg, ip)[0] == "healthy", within=60)
    back = first_time(w, tg, ip, "healthy", since=well_at) - well_at
    assert (healthy_n - 1) * interval < back <= healthy_n * interval + timeout
    assert health_of(w, tg, ip) == ("healthy", None, None)
