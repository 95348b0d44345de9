"""Availability Zone and EC2 instance failures."""

from __future__ import annotations

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.events import TargetHealthChanged
from tests.conftest import advance_until, healthy, service, tasks, tg_arn


def test_az_outage_moves_the_service_to_the_other_zones() -> None:
    w = ecsim.World.demo(seed=11, rate=20)
    lost = next(t for t in tasks(w) if t["availabilityZone"] == "us-east-1a")
    ip = lost["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    start = w.now
    w.chaos.fail_az("us-east-1a")
    zones = {
        z["ZoneName"]: z["State"] for z in w.ec2.describe_availability_zones()["AvailabilityZones"]
    }
    assert zones["us-east-1a"] != "available"
    # The ALB sees the task's health checks time out (reference 3.2: Target.Timeout): at most
    # UnhealthyThresholdCount probes, each answered by its timeout, after the next interval.
    tg = w.elbv2.describe_target_groups(TargetGroupArns=[tg_arn(w)])["TargetGroups"][0]
    bound = (
        tg["HealthCheckIntervalSeconds"] * tg["UnhealthyThresholdCount"]
        + tg["HealthCheckTimeoutSeconds"]
    )

    def verdicts() -> list[TargetHealthChanged]:
        return [
            e
            for e in w.events(since=start, kind=TargetHealthChanged)
            if e.target_id == ip and e.state == "unhealthy"
        ]

    advance_until(w, lambda: bool(verdicts()), within=bound)
    assert verdicts()[0].reason == "Target.Timeout"
    assert verdicts()[0].time - start <= bound
    advance_until(
        w,
        lambda: (
            service(w)["runningCount"] == 3
            and healthy(w) == 3
            and lost["taskArn"] not in {t["taskArn"] for t in tasks(w)}
        ),
        within=600,
        step=5,
    )
    assert all(t["availabilityZone"] != "us-east-1a" for t in tasks(w))
    window = w.traffic.stats(since=start, until=w.now)
    assert window["by_status"].get("504", 0) > 0  # requests caught by the cut
    # Once the target is unhealthy and the last connection attempts timed out (10 s), only 200s.
    settled = int(verdicts()[0].time + 10) + 1
    assert set(w.traffic.stats(since=settled, until=w.now)["by_status"]) == {"200"}
    w.chaos.restore_az("us-east-1a")
    w.advance(30)
    assert service(w)["runningCount"] == 3


def test_scheduler_does_not_place_tasks_in_a_failed_zone() -> None:
    w = ecsim.World.demo(seed=12, rate=0)
    w.chaos.fail_az("us-east-1b")
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=6)
    advance_until(w, lambda: service(w)["runningCount"] >= 6, within=300)
    fresh = [t for t in tasks(w) if t["availabilityZone"] == "us-east-1b"]
    assert len(fresh) <= 1  # only the task that was there before the outage
