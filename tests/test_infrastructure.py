"""Availability Zone and EC2 instance failures."""

from __future__ import annotations

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.events import TargetHealthChanged
from tests.support import advance_until, healthy, service, tasks, tg_arn
from tests.support.worlds import ec2_service_world


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
    # The ALB sees the task's health checks time out (Target.Timeout;
    # docs/behaviour.md, "Target health states and reasons"): at most
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


def ec2_world(instances: int, instance_type: str = "t3.medium") -> tuple[ecsim.World, str]:
    return ec2_service_world(13, instances, instance_type)


def test_instances_join_the_cluster_and_run_the_tasks() -> None:
    w, _ = ec2_world(2)
    arns = w.ecs.list_container_instances(cluster="ec2")["containerInstanceArns"]
    assert len(arns) == 2
    described = w.ecs.describe_container_instances(cluster="ec2", containerInstances=arns)[
        "containerInstances"
    ]
    cpu = {r["name"]: r["integerValue"] for r in described[0]["registeredResources"]}
    assert cpu["CPU"] == 2048  # t3.medium: 2 vCPUs
    advance_until(w, lambda: service(w, "api", "ec2")["runningCount"] == 4, within=120)
    placed = tasks(w, name="api", cluster="ec2")
    per_instance = sorted(sum(1 for t in placed if t["containerInstanceArn"] == a) for a in arns)
    assert per_instance == [2, 2]
    assert all(t["launchType"] == "EC2" for t in placed)
    after = w.ecs.describe_container_instances(cluster="ec2", containerInstances=arns)[
        "containerInstances"
    ]
    assert all(
        {r["name"]: r["integerValue"] for r in c["remainingResources"]}["CPU"] == 1024
        for c in after
    )


def test_a_failed_instance_stops_its_tasks_and_the_service_replaces_them() -> None:
    w, _ = ec2_world(3)
    advance_until(w, lambda: service(w, "api", "ec2")["runningCount"] == 4, within=120)
    placed = tasks(w, name="api", cluster="ec2")
    victim_ci = max(
        {t["containerInstanceArn"] for t in placed},
        key=lambda a: sum(1 for t in placed if t["containerInstanceArn"] == a),
    )
    on_it = [t["taskArn"] for t in placed if t["containerInstanceArn"] == victim_ci]
    instance_id = w.ecs.describe_container_instances(cluster="ec2", containerInstances=[victim_ci])[
        "containerInstances"
    ][0]["ec2InstanceId"]
    w.chaos.fail_instance(instance_id)
    w.advance(60)
    dead = w.ecs.describe_tasks(cluster="ec2", tasks=on_it)["tasks"]
    assert {t["lastStatus"] for t in dead} == {"STOPPED"}
    assert {t["stoppedReason"] for t in dead} == {f"Host EC2 (instance {instance_id}) terminated."}
    state = w.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
        "State"
    ]
    assert state["Name"] == "terminated"
    advance_until(w, lambda: service(w, "api", "ec2")["runningCount"] == 4, within=120)
    assert victim_ci not in {t["containerInstanceArn"] for t in tasks(w, name="api", cluster="ec2")}


def test_no_room_on_the_instances_is_a_placement_event() -> None:
    w, _ = ec2_world(1, instance_type="t3.micro")  # 2 vCPUs but only 1 GiB of memory
    w.ecs.update_service(cluster="ec2", service="api", desiredCount=6)
    w.advance(120)
    assert service(w, "api", "ec2")["runningCount"] == 1  # t3.micro: 1024 MiB * 0.95 fits one task
    messages = [e["message"] for e in service(w, "api", "ec2")["events"]]
    assert any(
        "was unable to place a task because no container instance met all of its requirements." in m
        and "has insufficient memory available." in m
        for m in messages
    )


def test_scale_in_keeps_the_zones_balanced_however_many_tasks_stop() -> None:
    """Scale-in stops from the AZ with the most tasks, counted again after
    each stop. From 0/5/4 tasks per zone (us-east-1a out, its tasks replaced in the other two,
    then a scale-out to 9), stopping three: one from 1b, then 1c and 1b in turn: 0/3/3.
    Ranking the tasks once by their zone's count would stop all three in 1b (0/2/4)
    (docs/behaviour.md, "Default placement and scale-in")."""
    w = ecsim.World.demo(seed=14, rate=0, desired=6)

    def per_az() -> dict[str, int]:
        zones: dict[str, int] = {}
        for t in tasks(w):
            if t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING":
                zones[t["availabilityZone"]] = zones.get(t["availabilityZone"], 0) + 1
        return dict(sorted(zones.items()))

    w.chaos.fail_az("us-east-1a")
    advance_until(w, lambda: per_az() == {"us-east-1b": 3, "us-east-1c": 3}, within=900)
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=9)
    advance_until(w, lambda: healthy(w) == 9 and service(w)["runningCount"] == 9, within=600)
    assert per_az() == {"us-east-1b": 5, "us-east-1c": 4}
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=6)
    w.advance(5)
    assert per_az() == {"us-east-1b": 3, "us-east-1c": 3}
