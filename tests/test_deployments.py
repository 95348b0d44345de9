"""Rolling deployments within minimumHealthyPercent / maximumPercent, and the circuit breaker."""

from __future__ import annotations

from collections import defaultdict

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.events import TargetHealthChanged, TaskStateChanged
from tests.support import advance_until, healthy, service, tasks, tg_arn
from tests.support.worlds import register_revision

LIVE = {"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"}


def snapshot(w: ecsim.World) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Target states and live tasks now: the starting point of `fold`."""
    h = w.elbv2.describe_target_health(TargetGroupArn=tg_arn(w))["TargetHealthDescriptions"]
    states = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in h}
    live = {t["taskArn"]: (t["lastStatus"], t["desiredStatus"]) for t in tasks(w)}
    return states, live


def fold(
    w: ecsim.World, since: float, start: tuple[dict[str, str], dict[str, tuple[str, str]]]
) -> tuple[int, int]:
    """(fewest healthy targets, most live tasks) at any instant since `since`, from the events."""
    state, live = dict(start[0]), dict(start[1])
    fewest = sum(1 for s in state.values() if s == "healthy")
    most = len(live)
    by_time: dict[float, list[object]] = defaultdict(list)
    for e in w.events(since=since):
        by_time[e.time].append(e)
    for t in sorted(by_time):
        for e in by_time[t]:
            if isinstance(e, TargetHealthChanged) and e.target_group_arn == tg_arn(w):
                state[e.target_id] = e.state
            elif isinstance(e, TaskStateChanged) and e.group == f"service:{SERVICE}":
                live[e.task_arn] = (e.last_status, e.desired_status)
        fewest = min(fewest, sum(1 for s in state.values() if s == "healthy"))
        most = max(most, sum(1 for s, d in live.values() if s in LIVE and d == "RUNNING"))
    return fewest, most


def test_rolling_deployment_stays_within_min_100_max_200() -> None:
    w = ecsim.World.demo(seed=5)
    w.traffic.set_rate(50)
    before = {t["taskArn"] for t in tasks(w)}
    revision = register_revision(w, {"ecsim.latency.median": "25ms"})
    start, at_start = w.now, snapshot(w)
    answer = w.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=revision)
    assert [d["status"] for d in answer["service"]["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert answer["service"]["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    took = advance_until(
        w,
        lambda: (
            len(service(w)["deployments"]) == 1
            and service(w)["deployments"][0]["rolloutState"] == "COMPLETED"
        ),
        within=900,
    )
    fewest, most = fold(w, start, at_start)
    assert fewest >= 3
    assert most <= 6
    now = tasks(w)
    assert len(now) == 3 and {t["taskDefinitionArn"] for t in now} == {revision}
    assert not before & {t["taskArn"] for t in now}
    assert healthy(w) == 3 and took < 900
    stats = w.traffic.stats(since=start, until=w.now)
    assert set(stats["by_status"]) == {"200"}
    messages = [e["message"] for e in service(w)["events"]]
    assert any("deployment completed." in m for m in messages)


def test_bad_deployment_trips_the_circuit_breaker_and_rolls_back() -> None:
    w = ecsim.World.demo(seed=6)
    good = service(w)["deployments"][0]
    bad = register_revision(w, {"ecsim.health": "failing"})
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)
    failed = service(w)["deployments"][0]
    assert failed["taskDefinition"] == bad

    def rolled_back() -> bool:
        deployments = service(w)["deployments"]
        return (
            len(deployments) == 1
            and deployments[0]["id"] == good["id"]
            and deployments[0]["rolloutState"] == "COMPLETED"
        )

    advance_until(w, rolled_back, within=3600, step=5)
    svc = service(w)
    assert svc["taskDefinition"] == good["taskDefinition"]
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"]["threshold"] == 3
    messages = [e["message"] for e in reversed(svc["events"])]
    failed_msg = f"(service {SERVICE}) (deployment {failed['id']}) deployment failed: tasks failed health checks."
    back_msg = f"(service {SERVICE}) rolling back to deployment {good['id']}."
    assert failed_msg in messages and back_msg in messages
    assert messages.index(failed_msg) < messages.index(back_msg)
    unhealthy = [m for m in messages if "is unhealthy in (target-group" in m]
    assert len(unhealthy) >= 3
    assert all(
        "due to (reason Health checks failed with these codes: [503])." in m for m in unhealthy
    )
    assert healthy(w) == 3
    assert {t["taskDefinitionArn"] for t in tasks(w)} == {good["taskDefinition"]}
    stopped = [t for t in tasks(w, desired="STOPPED") if t["taskDefinitionArn"] == bad]
    reasons = [t["stoppedReason"] for t in stopped]
    elb = [
        r for r in reasons if r == f"Task failed ELB health checks in (target-group {tg_arn(w)})"
    ]
    assert len(elb) >= 3
    rest = set(reasons) - set(elb)
    assert rest <= {f"Scaling activity initiated by (deployment {good['id']})"}


def test_tasks_that_never_start_trip_the_breaker_in_stage_one() -> None:
    w = ecsim.World.demo(seed=8)
    good = service(w)["deployments"][0]["id"]
    bad = register_revision(w, {"ecsim.start": "pull-error"})
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)
    advance_until(
        w,
        lambda: service(w)["deployments"][0]["id"] == good and len(service(w)["deployments"]) == 1,
        within=3600,
        step=5,
    )
    failed = [t for t in tasks(w, desired="STOPPED") if t["taskDefinitionArn"] == bad]
    never_started = [t for t in failed if t["stopCode"] == "TaskFailedToStart"]
    assert len(never_started) >= 3
    assert all(t["stoppedReason"].startswith("CannotPullContainerError:") for t in never_started)
    assert {t["stopCode"] for t in failed} <= {"TaskFailedToStart", "ServiceSchedulerInitiated"}
    messages = [e["message"] for e in service(w)["events"]]
    assert any(m.endswith("deployment failed: tasks failed to start.") for m in messages)
    assert healthy(w) == 3


def test_scale_out_and_in_follow_desired_count(demo: ecsim.World) -> None:
    demo.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=5)
    assert service(demo)["desiredCount"] == 5 and service(demo)["runningCount"] == 3
    advance_until(
        demo, lambda: service(demo)["runningCount"] == 5 and healthy(demo) == 5, within=120
    )
    azs = sorted(t["availabilityZone"] for t in tasks(demo))
    assert (
        azs.count("us-east-1a") <= 2
        and azs.count("us-east-1b") <= 2
        and azs.count("us-east-1c") <= 2
    )
    demo.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1)
    advance_until(demo, lambda: service(demo)["runningCount"] == 1, within=120)
    assert len(service(demo)["deployments"]) == 1


def test_a_grace_period_ending_between_two_floats_does_not_freeze_time() -> None:
    """Found by the property test: `now - started < grace` held while `started + grace - now`
    rounded to 0.0, so the scheduler woke itself at the same instant forever."""
    w = ecsim.World.demo(seed=2)
    bad = register_revision(w, {"ecsim.health": "failing"})
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)
    w.advance(44)
    for _ in range(10_000):
        if not w.kernel.step(w.now + 60):
            break
    assert w.now > 95  # time moved past the instant where it used to stop (89.92 s)
    w.advance(600)
    assert service(w)["deployments"][0]["taskDefinition"] != bad  # rolled back
