"""Container instance draining (UpdateContainerInstancesState; ECS Developer Guide "Draining
Amazon ECS container instances"; docs/behaviour.md, "Container instance draining"): what a
user of AWS sees."""

from __future__ import annotations

import math
from typing import Any

import pytest

import ecsim
from ecsim.model.errors import AwsError
from ecsim.model.events import TargetHealthChanged
from tests.support import advance_until, service, target_states, tasks
from tests.support.worlds import ec2_service_world

DRAINED = "container instance is in DRAINING state"


def ec2_cluster(
    seed: int = 21,
    instances: int = 3,
    instance_type: str = "t3.medium",
    desired: int = 4,
    cpu: int = 512,
    minimum: int = 100,
    maximum: int = 200,
) -> ecsim.World:
    """EC2 instances joined to cluster "ec2" through their user data, and a steady EC2 service
    "api" behind the demo's target group."""
    w, _ = ec2_service_world(seed, instances, instance_type, desired, cpu, minimum, maximum)
    advance_until(w, lambda: healthy_api(w) == desired, within=300)
    return w


def api_tasks(w: ecsim.World, desired: str = "RUNNING") -> list[dict[str, Any]]:
    return tasks(w, desired=desired, name="api", cluster="ec2")


def ip(task: dict[str, Any]) -> str | None:
    nics = task["containers"][0]["networkInterfaces"]
    return nics[0]["privateIpv4Address"] if nics else None


def healthy_api(w: ecsim.World) -> int:
    """api tasks RUNNING and healthy in the target group, as the ALB says."""
    states = target_states(w)
    return sum(
        1 for t in api_tasks(w) if t["lastStatus"] == "RUNNING" and states.get(ip(t)) == "healthy"
    )


def instances(w: ecsim.World) -> dict[str, dict[str, Any]]:
    arns = w.ecs.list_container_instances(cluster="ec2")["containerInstanceArns"]
    found = w.ecs.describe_container_instances(cluster="ec2", containerInstances=arns)
    return {c["containerInstanceArn"]: c for c in found["containerInstances"]}


def busiest(w: ecsim.World) -> str:
    return max(instances(w).values(), key=lambda c: c["runningTasksCount"])["containerInstanceArn"]


def drain(w: ecsim.World, arn: str, status: str = "DRAINING") -> dict[str, Any]:
    return w.ecs.update_container_instances_state(
        cluster="ec2", containerInstances=[arn], status=status
    )


@pytest.mark.parametrize(("minimum", "maximum"), [(100, 200), (50, 100), (75, 125)])
def test_draining_moves_the_service_within_its_bounds(minimum: int, maximum: int) -> None:
    w = ec2_cluster(minimum=minimum, maximum=maximum)
    desired = 4
    floor_healthy = math.ceil(desired * minimum / 100)
    ceiling = math.floor(desired * maximum / 100)
    victim = busiest(w)
    leaving = [t for t in api_tasks(w) if t["containerInstanceArn"] == victim]
    assert leaving
    start = w.now
    answer = drain(w, victim)
    assert answer["failures"] == []
    assert answer["containerInstances"][0]["status"] == "DRAINING"
    for _ in range(400):
        w.advance(1)
        live = api_tasks(w)
        assert len(live) <= ceiling, f"above maximumPercent at {w.now - start:.0f}s"
        assert healthy_api(w) >= floor_healthy, (
            f"below minimumHealthyPercent at {w.now - start:.0f}s"
        )
        fresh = [t for t in live if t["createdAt"].timestamp() > w.clock.at(start).timestamp()]
        assert all(t["containerInstanceArn"] != victim for t in fresh)
    assert service(w, "api", "ec2")["runningCount"] == desired
    assert healthy_api(w) == desired
    assert all(t["containerInstanceArn"] != victim for t in api_tasks(w))
    drained = instances(w)[victim]
    assert (drained["status"], drained["runningTasksCount"], drained["pendingTasksCount"]) == (
        "DRAINING",
        0,
        0,
    )
    stopped = w.ecs.describe_tasks(cluster="ec2", tasks=[t["taskArn"] for t in leaving])["tasks"]
    assert {t["lastStatus"] for t in stopped} == {"STOPPED"}
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    assert all(DRAINED in t["stoppedReason"] for t in stopped)
    # The orderly stop: each target drained in the target group before its task stopped.
    draining = {
        e.target_id
        for e in w.events(since=start, kind=TargetHealthChanged)
        if e.state == "draining"
    }
    assert {ip(t) for t in leaving} <= draining


def test_no_placement_on_a_draining_instance_and_standalone_tasks_stay() -> None:
    w = ec2_cluster(seed=22)
    victim = busiest(w)
    td = "api"
    standalone = w.ecs.run_task(
        cluster="ec2",
        taskDefinition=td,
        launchType="EC2",
        count=3,
        networkConfiguration=service(w, "api", "ec2")["networkConfiguration"],
    )["tasks"]
    mine = [t["taskArn"] for t in standalone if t["containerInstanceArn"] == victim]
    assert mine  # spread over the instances, one lands on the victim
    w.advance(60)
    drain(w, victim)
    more = w.ecs.run_task(
        cluster="ec2",
        taskDefinition=td,
        launchType="EC2",
        count=2,  # 12 places in all, 4 + 3 + 2 used: room left for the service's replacements
        networkConfiguration=service(w, "api", "ec2")["networkConfiguration"],
    )["tasks"]
    assert all(t["containerInstanceArn"] != victim for t in more)
    w.advance(300)
    still = w.ecs.describe_tasks(cluster="ec2", tasks=mine)["tasks"]
    assert {(t["lastStatus"], t["desiredStatus"]) for t in still} == {("RUNNING", "RUNNING")}
    assert instances(w)[victim]["runningTasksCount"] == len(mine)


def test_pending_service_tasks_on_the_instance_stop_at_once() -> None:
    w = ec2_cluster(seed=23)
    w.ecs.update_service(cluster="ec2", service="api", desiredCount=8)

    def starting() -> list[dict[str, Any]]:
        return [t for t in api_tasks(w) if t["lastStatus"] in ("PROVISIONING", "PENDING")]

    advance_until(w, lambda: bool(starting()), within=30, step=0.25)
    starting_now = starting()
    victim = starting_now[0]["containerInstanceArn"]
    on_it = [t["taskArn"] for t in starting_now if t["containerInstanceArn"] == victim]
    drain(w, victim)  # no time passes
    now = w.ecs.describe_tasks(cluster="ec2", tasks=on_it)["tasks"]
    assert {t["desiredStatus"] for t in now} == {"STOPPED"}
    assert all(DRAINED in t["stoppedReason"] for t in now)
    assert instances(w)[victim]["pendingTasksCount"] == 0


def test_without_room_the_tasks_stay_until_capacity_appears() -> None:
    # Two t3.medium (2048 CPU units each), four tasks of 1024: the cluster is full.
    w = ec2_cluster(seed=24, instances=2, cpu=1024)
    victim = busiest(w)
    leaving = [t["taskArn"] for t in api_tasks(w) if t["containerInstanceArn"] == victim]
    start = w.now
    drain(w, victim)
    for _ in range(120):
        w.advance(1)
        assert healthy_api(w) >= 4
    still = w.ecs.describe_tasks(cluster="ec2", tasks=leaving)["tasks"]
    assert {t["lastStatus"] for t in still} == {"RUNNING"}
    messages = [e["message"] for e in service(w, "api", "ec2")["events"]]
    assert any(
        "was unable to place a task because no container instance met all of its requirements." in m
        and "has insufficient CPU units available." in m
        for m in messages
    )
    assert service(w, "api", "ec2")["deployments"][0]["rolloutState"] == "COMPLETED"
    # More capacity joins the cluster: the tasks move to it.
    w.ec2.run_instances(
        ImageId="ami-ecs",
        InstanceType="t3.medium",
        MinCount=1,
        MaxCount=1,
        UserData="ECS_CLUSTER=ec2",
    )
    advance_until(
        w, lambda: instances(w)[victim]["runningTasksCount"] == 0 and healthy_api(w) == 4, 400
    )
    assert w.now - start > 120


def test_active_again_takes_new_tasks_and_nothing_moves_back() -> None:
    w = ec2_cluster(seed=25, instances=2, cpu=1024, desired=2)
    # Draining alone moves nothing back; AZ rebalancing would (tests/test_rebalancing.py).
    w.ecs.update_service(cluster="ec2", service="api", availabilityZoneRebalancing="DISABLED")
    victim = busiest(w)
    drain(w, victim)
    advance_until(w, lambda: instances(w)[victim]["runningTasksCount"] == 0, within=400)
    assert w.ecs.list_container_instances(cluster="ec2", status="DRAINING")[
        "containerInstanceArns"
    ] == [victim]
    cluster = w.ecs.describe_clusters(clusters=["ec2"])["clusters"][0]
    assert cluster["registeredContainerInstancesCount"] == 2  # ACTIVE and DRAINING
    answer = drain(w, victim, "ACTIVE")
    assert answer["containerInstances"][0]["status"] == "ACTIVE"
    assert (
        w.ecs.list_container_instances(cluster="ec2", status="DRAINING")["containerInstanceArns"]
        == []
    )
    w.advance(120)
    assert instances(w)[victim]["runningTasksCount"] == 0  # AWS does not move tasks back
    w.ecs.update_service(cluster="ec2", service="api", desiredCount=4)
    advance_until(w, lambda: healthy_api(w) == 4, within=300)
    assert instances(w)[victim]["runningTasksCount"] == 2  # the only instance with room


def test_chaos_drain_instance_is_the_same_as_the_api() -> None:
    def run(use_chaos: bool) -> list[dict[str, Any]]:
        w = ec2_cluster(seed=26)
        victim = instances(w)[busiest(w)]
        if use_chaos:
            w.chaos.drain_instance(victim["ec2InstanceId"])
        else:
            drain(w, victim["containerInstanceArn"])
        w.advance(300)
        return [e.to_dict() for e in w.events()]

    assert run(True) == run(False)


def test_same_seed_same_events() -> None:
    def run() -> list[dict[str, Any]]:
        w = ec2_cluster(seed=27)
        drain(w, busiest(w))
        w.advance(300)
        return [e.to_dict() for e in w.events()]

    assert run() == run()


def test_bad_input_gets_aws_codes() -> None:
    w = ec2_cluster(seed=28, instances=2, desired=2)
    arn = next(iter(instances(w)))

    def code(**params: Any) -> str:
        with pytest.raises(AwsError) as e:
            w.ecs.update_container_instances_state(**params)
        return e.value.code

    assert code(cluster="ec2", containerInstances=[arn], status="STOPPED") == (
        "InvalidParameterException"
    )
    assert code(cluster="ec2", containerInstances=[arn], status="INACTIVE") == (
        "InvalidParameterException"
    )
    assert code(cluster="ec2", containerInstances=[arn]) == "InvalidParameterException"
    assert code(cluster="nope", containerInstances=[arn], status="DRAINING") == (
        "ClusterNotFoundException"
    )
    assert code(cluster="ec2", containerInstances=[arn] * 11, status="DRAINING") == (
        "InvalidParameterException"
    )
    assert code(cluster="ec2", containerInstances=[], status="DRAINING") == (
        "InvalidParameterException"
    )
    assert code(cluster="ec2", containerInstances=[arn], status="DRAINING", force=True) == (
        "InvalidParameterException"
    )
    answer = w.ecs.update_container_instances_state(
        cluster="ec2", containerInstances=[arn.rsplit("/", 1)[1], "0" * 32], status="DRAINING"
    )
    assert [c["containerInstanceArn"] for c in answer["containerInstances"]] == [arn]
    assert answer["failures"] == [
        {
            "arn": f"arn:aws:ecs:us-east-1:123456789012:container-instance/ec2/{'0' * 32}",
            "reason": "MISSING",
        }
    ]
    # A terminated instance is INACTIVE: it cannot change status.
    w.chaos.fail_instance(arn)
    gone = w.ecs.update_container_instances_state(
        cluster="ec2", containerInstances=[arn], status="ACTIVE"
    )
    assert gone["containerInstances"] == []
    assert [f["reason"] for f in gone["failures"]] == ["INACTIVE"]
    assert arn not in w.ecs.list_container_instances(cluster="ec2")["containerInstanceArns"]
