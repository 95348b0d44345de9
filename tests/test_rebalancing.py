"""Availability Zone rebalancing (model/ecs/rebalancing.py,
docs/behaviour.md, "Availability Zone rebalancing"): once steady, a
service with `availabilityZoneRebalancing` ENABLED evens its tasks out over its AZs, one
started task then one stopped at a time, with AWS's service event messages."""

from __future__ import annotations

from collections import Counter

import pytest

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.errors import AwsError
from ecsim.model.events import ServiceEvent, TaskStateChanged
from ecsim.scenario import load_text, run
from tests.support import service_task_arns
from tests.support.worlds import ec2_service_world

AZS = ("us-east-1a", "us-east-1b", "us-east-1c")


def per_az(w: ecsim.World) -> dict[str, int]:
    tasks = w.ecs.describe_tasks(cluster=CLUSTER, tasks=service_task_arns(w))["tasks"]
    running = Counter(
        t["availabilityZone"]
        for t in tasks
        if t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING"
    )
    return {az: running[az] for az in AZS}


def messages(w: ecsim.World, since: float) -> list[str]:
    return [
        e.message for e in w.events(since=since, kind=ServiceEvent) if isinstance(e, ServiceEvent)
    ]


def outage(seed: int, rebalancing: str | None = None, **deployment: int) -> ecsim.World:
    """The demo (3 tasks, one per AZ) after us-east-1a was down long enough for its task to
    be replaced in another zone, just as it comes back."""
    w = ecsim.World.demo(seed=seed, rate=20)
    params: dict[str, object] = {}
    if rebalancing is not None:
        params["availabilityZoneRebalancing"] = rebalancing
    if deployment:
        params["deploymentConfiguration"] = deployment
    if params:
        w.ecs.update_service(cluster=CLUSTER, service=SERVICE, **params)
        w.advance(60)
    assert per_az(w) == {"us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1}
    w.chaos.fail_az("us-east-1a")
    w.advance(500)  # its unreachable task was replaced in another zone
    counts = per_az(w)
    assert counts["us-east-1a"] == 0 and sum(counts.values()) == 3
    w.chaos.restore_az("us-east-1a")
    return w


def test_after_an_az_comes_back_its_tasks_are_rebalanced_start_first() -> None:
    w = outage(seed=4)
    back = w.now
    before = per_az(w)
    assert before["us-east-1a"] == 0 and sum(before.values()) == 3
    w.advance(180)
    assert per_az(w) == {"us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1}
    said = messages(w, back)
    counts = ", ".join(f"{n} in {az}" for az, n in before.items() if az != "us-east-1a")
    assert said[0] == (
        f"service ({SERVICE}) is not AZ balanced with 0 tasks in us-east-1a, "
        f"{counts.replace(', ', ', and ')}. AZ Rebalancing in progress."
    )
    started = [m for m in said if "to AZ Rebalance" in m]
    stopped = [m for m in said if "due to AZ rebalancing" in m]
    assert len(started) == len(stopped) == 1
    assert started[0].startswith(
        f"{SERVICE} has started 1 tasks in us-east-1a to AZ Rebalance: (task "
    )
    crowded = max(before, key=lambda az: before[az])
    assert stopped[0].startswith(f"{SERVICE} has stopped 1 running tasks in {crowded} due to AZ")
    assert said.index(started[0]) < said.index(stopped[0])
    balanced = [m for m in said if "is AZ balanced" in m]
    assert balanced == [
        f"service ({SERVICE}) is AZ balanced with 1 tasks in us-east-1a, 1 tasks in "
        "us-east-1b, and 1 tasks in us-east-1c."
    ]
    assert said.index(balanced[0]) > said.index(stopped[0])
    # start first: never fewer than 3 healthy tasks, and no failed request
    stats = w.traffic.stats(since=back)
    assert set(stats["by_status"]) == {"200"}
    stops = [
        e
        for e in w.events(since=back, kind=TaskStateChanged)
        if isinstance(e, TaskStateChanged) and e.last_status == "STOPPED"
    ]
    primary = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    reason = f"Scaling activity initiated by (deployment {primary['deployments'][0]['id']})"
    assert [e.stopped_reason for e in stops] == [reason]


def test_disabled_leaves_the_zones_uneven() -> None:
    w = outage(seed=4, rebalancing="DISABLED")
    before = per_az(w)
    w.advance(300)
    assert per_az(w) == before and before["us-east-1a"] == 0
    assert not [m for m in messages(w, 0) if "AZ balanced" in m or "AZ Rebalance" in m]


def test_without_room_to_start_it_stops_first_within_minimum_healthy() -> None:
    w = outage(seed=4, maximumPercent=100, minimumHealthyPercent=50)
    back = w.now
    w.advance(240)
    assert per_az(w) == {"us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1}
    said = messages(w, back)
    stopped = next(i for i, m in enumerate(said) if "due to AZ rebalancing" in m)
    started = next(i for i, m in enumerate(said) if "has started 1 tasks" in m)
    assert stopped < started  # the replacement goes where the fewest run
    assert any("is AZ balanced" in m for m in said)


def test_the_setting_create_default_update_keeps_and_bad_values() -> None:
    w = ecsim.World.demo(seed=1)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["availabilityZoneRebalancing"] == "ENABLED"  # CreateService's default
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=4)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["availabilityZoneRebalancing"] == "ENABLED"  # not given: kept
    deployments = len(svc["deployments"])
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, availabilityZoneRebalancing="DISABLED")
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["availabilityZoneRebalancing"] == "DISABLED"
    assert len(svc["deployments"]) == deployments  # "doesn't trigger a new deployment"
    with pytest.raises(AwsError) as caught:
        w.ecs.update_service(cluster=CLUSTER, service=SERVICE, availabilityZoneRebalancing="on")
    assert caught.value.code == "InvalidParameterException"
    assert "ENABLED or DISABLED" in caught.value.message


def test_binpack_services_default_to_disabled(ec2_world: ecsim.World) -> None:
    w = ec2_world
    td = w.ecs.list_task_definitions(familyPrefix="api")["taskDefinitionArns"][0]
    made = {}
    for name, strategy in (
        ("packed", [{"type": "binpack", "field": "memory"}]),
        ("spread", [{"type": "spread", "field": "attribute:ecs.availability-zone"}]),
    ):
        made[name] = w.ecs.create_service(
            cluster="ec2",
            serviceName=name,
            taskDefinition=td,
            desiredCount=1,
            launchType="EC2",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": [s["SubnetId"] for s in w.ec2.describe_subnets()["Subnets"]]
                }
            },
            placementStrategy=strategy,
        )["service"]["availabilityZoneRebalancing"]
    assert made == {"packed": "DISABLED", "spread": "ENABLED"}


@pytest.fixture
def ec2_world() -> ecsim.World:
    w, _ = ec2_service_world(seed=31, instances=3, desired=0)
    return w


SCENARIO = """name: rebalancing
duration: 12m
seed: 8
world:
  clusters: [home]
  task_definitions:
    - family: home-app
      app: {{startup: 3s}}
  target_groups:
    - name: home-tg
      health_check: {{interval: 10s}}
  load_balancers:
    - name: home-alb
      listeners:
        - port: 80
          default_action: {{forward: home-tg}}
  services:
    - name: home-service
      cluster: home
      task_definition: home-app
      desired_count: 6
      target_groups: [home-tg]
      availability_zone_rebalancing: {setting}
traffic:
  - rate: 30
timeline:
  - {{at: 1m, name: the outage, do: chaos.fail_az, with: {{az: us-east-1a}}}}
  - {{at: 8m, name: the recovery, do: chaos.restore_az, with: {{az: us-east-1a}}}}
expect:
  - event: is AZ balanced
    service: home-service
    within: 3m
    of: the recovery
"""


@pytest.mark.parametrize(("setting", "balanced"), [("ENABLED", True), ("DISABLED", False)])
def test_a_scenario_file_sets_the_service_s_rebalancing(setting: str, balanced: bool) -> None:
    result = run(load_text(SCENARIO.format(setting=setting)))
    assert result.passed is balanced


def test_a_service_pinned_to_one_zone_is_balanced_there(ec2_world: ecsim.World) -> None:
    """memberOf keeps the service in us-east-1a: the other zones do not count, so nothing
    churns (a task started elsewhere could never even the zones out)."""
    w = ec2_world
    td = w.ecs.list_task_definitions(familyPrefix="api")["taskDefinitionArns"][0]
    subnets = [s["SubnetId"] for s in w.ec2.describe_subnets()["Subnets"]]
    made = w.ecs.create_service(
        cluster="ec2",
        serviceName="pinned",
        taskDefinition=td,
        desiredCount=2,
        launchType="EC2",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.availability-zone == us-east-1a"}
        ],
    )["service"]
    assert made["availabilityZoneRebalancing"] == "ENABLED"
    start = w.now
    w.advance(600)
    tasks = w.ecs.describe_tasks(
        cluster="ec2", tasks=w.ecs.list_tasks(cluster="ec2", serviceName="pinned")["taskArns"]
    )["tasks"]
    assert {t["availabilityZone"] for t in tasks} == {"us-east-1a"} and len(tasks) == 2
    said = [
        e.message
        for e in w.events(since=start, kind=ServiceEvent)
        if isinstance(e, ServiceEvent) and e.service == "pinned"
    ]
    assert not [m for m in said if "AZ" in m]
