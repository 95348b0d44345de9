"""EC2 task placement strategies and constraints
(docs/behaviour.md, "Task placement"; ECS Developer Guide "task
placement strategies", "task placement constraints", "cluster query language"): what a user
of AWS sees on a cluster of several instances over three AZs."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import ecsim
from ecsim.model.errors import AwsError
from tests.support import advance_until
from tests.support.worlds import launch_container_instances

CLUSTER = "pl"


def cluster(
    types: tuple[str, ...] = ("t3.medium",) * 4, seed: int = 5
) -> tuple[ecsim.World, str, list[str]]:
    """Instances of `types` joined to cluster "pl", round-robin over us-east-1a/b/c; an EC2
    task definition of 512 CPU units (4 tasks fill a t3.medium)."""
    w = ecsim.World(seed=seed)
    w.ecs.create_cluster(clusterName=CLUSTER)
    subnets = launch_container_instances(w, CLUSTER, list(types))
    w.advance(120)
    td = w.ecs.register_task_definition(
        family="pl",
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{"name": "app", "image": "app:1", "cpu": 512, "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    return w, td, subnets


def create(
    w: ecsim.World, td: str, subnets: list[str], desired: int, name: str = "svc", **extra: Any
) -> dict[str, Any]:
    return w.ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=td,
        desiredCount=desired,
        launchType="EC2",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        **extra,
    )["service"]


def describe(w: ecsim.World, name: str = "svc") -> dict[str, Any]:
    found: dict[str, Any] = w.ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
    return found


def running(w: ecsim.World, name: str = "svc") -> list[dict[str, Any]]:
    arns = w.ecs.list_tasks(cluster=CLUSTER, serviceName=name)["taskArns"]
    if not arns:
        return []
    found = w.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return [t for t in found if t["lastStatus"] == "RUNNING"]


def instance_info(w: ecsim.World) -> dict[str, dict[str, str]]:
    """Container instance ARN -> its AZ and instance type, as DescribeContainerInstances says."""
    arns = w.ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    found = w.ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
    return {
        c["containerInstanceArn"]: {a["name"]: a["value"] for a in c["attributes"]}
        for c in found["containerInstances"]
    }


def per_instance(tasks: list[dict[str, Any]]) -> Counter[str]:
    return Counter(t["containerInstanceArn"] for t in tasks)


def steady(w: ecsim.World, n: int, name: str = "svc") -> list[dict[str, Any]]:
    advance_until(w, lambda: len(running(w, name)) == n, within=300)
    return running(w, name)


def test_binpack_fills_one_instance_before_the_next() -> None:
    w, td, subnets = cluster()
    create(w, td, subnets, 6, placementStrategy=[{"type": "binpack", "field": "cpu"}])
    counts = per_instance(steady(w, 6))
    assert sorted(counts.values()) == [2, 4]  # one full (4 x 512 of 2048), the rest on one
    order = list(instance_info(w))
    assert counts[order[0]] == 4  # ties go to the first registered instance


def test_scale_in_follows_the_strategy() -> None:
    """The guide: binpack scales in where the most of the resource is left once the task is
    gone (so a half-empty instance empties); spread keeps the field's values balanced."""
    for strategy, placed, after in (
        ("binpack", [2, 4], [4]),
        ("spread", [1, 1, 2, 2], [1, 1, 1, 1]),
    ):
        w, td, subnets = cluster()  # four t3.medium instances
        field = "cpu" if strategy == "binpack" else "instanceId"
        create(w, td, subnets, 6, placementStrategy=[{"type": strategy, "field": field}])
        assert sorted(per_instance(steady(w, 6)).values()) == placed
        w.ecs.update_service(cluster=CLUSTER, service="svc", desiredCount=4)
        assert sorted(per_instance(steady(w, 4)).values()) == after, strategy


def test_binpack_by_memory_picks_the_instance_with_least_memory_left() -> None:
    # a t3.large has more memory than a t3.medium: binpack on memory fills the medium first
    w, td, subnets = cluster(("t3.large", "t3.medium"))
    create(w, td, subnets, 3, placementStrategy=[{"type": "binpack", "field": "memory"}])
    counts = per_instance(steady(w, 3))
    info = instance_info(w)
    assert {info[arn]["ecs.instance-type"]: n for arn, n in counts.items()} == {"t3.medium": 3}


def test_spread_by_instance_balances_instances() -> None:
    w, td, subnets = cluster()
    create(w, td, subnets, 8, placementStrategy=[{"type": "spread", "field": "instanceId"}])
    assert sorted(per_instance(steady(w, 8)).values()) == [2, 2, 2, 2]


def test_spread_by_host_is_spread_by_instance() -> None:
    w, td, subnets = cluster()
    create(w, td, subnets, 4, placementStrategy=[{"type": "spread", "field": "host"}])
    assert sorted(per_instance(steady(w, 4)).values()) == [1, 1, 1, 1]


def test_spread_by_availability_zone_balances_azs_then_binpack_within() -> None:
    # instances: 1a, 1b, 1c, 1a. AZ spread then binpack: one task per AZ each round, and in
    # us-east-1a both tasks go on the same instance.
    w, td, subnets = cluster()
    create(
        w,
        td,
        subnets,
        6,
        placementStrategy=[
            {"type": "spread", "field": "attribute:ecs.availability-zone"},
            {"type": "binpack", "field": "memory"},
        ],
    )
    tasks = steady(w, 6)
    assert Counter(t["availabilityZone"] for t in tasks) == {
        "us-east-1a": 2,
        "us-east-1b": 2,
        "us-east-1c": 2,
    }
    in_1a = {t["containerInstanceArn"] for t in tasks if t["availabilityZone"] == "us-east-1a"}
    assert len(in_1a) == 1


def test_spread_by_instance_type() -> None:
    w, td, subnets = cluster(("t3.medium", "t3.medium", "m5.large"))
    create(w, td, subnets, 4, placementStrategy=[{"type": "spread", "field": INSTANCE_TYPE_FIELD}])
    info = instance_info(w)
    kinds = Counter(info[t["containerInstanceArn"]]["ecs.instance-type"] for t in steady(w, 4))
    assert kinds == {"t3.medium": 2, "m5.large": 2}


INSTANCE_TYPE_FIELD = "attribute:ecs.instance-type"


def test_distinct_instance_never_co_locates_and_says_why_it_cannot_place() -> None:
    w, td, subnets = cluster(("t3.medium",) * 3)
    create(w, td, subnets, 5, placementConstraints=[{"type": "distinctInstance"}])
    tasks = steady(w, 3)
    w.advance(120)
    tasks = running(w)
    assert len(tasks) == 3 and sorted(per_instance(tasks).values()) == [1, 1, 1]
    svc = describe(w)
    assert svc["runningCount"] == 3 and svc["desiredCount"] == 5
    messages = [e["message"] for e in svc["events"]]
    assert any(
        m.startswith(
            "(service svc) was unable to place a task because no container instance met all "
            "of its requirements. The closest matching (container-instance "
        )
        and 'encountered error "DistinctInstance placement constraint unsatisfied".' in m
        for m in messages
    ), messages
    assert svc["placementConstraints"] == [{"type": "distinctInstance"}]


def test_member_of_restricts_to_matching_instances() -> None:
    w, td, subnets = cluster(("t3.medium", "t3.medium", "m5.large", "c5.large", "t3.medium"))
    info = instance_info(w)
    cases = {
        "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]": lambda i: (
            i["ecs.availability-zone"] in ("us-east-1a", "us-east-1b")
        ),
        "attribute:ecs.instance-type == m5.large": lambda i: i["ecs.instance-type"] == "m5.large",
        "attribute:ecs.instance-type =~ t3.*": lambda i: i["ecs.instance-type"].startswith("t3."),
        "not(attribute:ecs.instance-type =~ t3.*)": lambda i: (
            not i["ecs.instance-type"].startswith("t3.")
        ),
        "attribute:ecs.instance-type == t3.medium and attribute:ecs.availability-zone != "
        "us-east-1a": lambda i: (
            i["ecs.instance-type"] == "t3.medium" and i["ecs.availability-zone"] != "us-east-1a"
        ),
        "attribute:ecs.availability-zone == us-east-1c || attribute:ecs.instance-type == "
        "'m5.large'": lambda i: (
            i["ecs.availability-zone"] == "us-east-1c" or i["ecs.instance-type"] == "m5.large"
        ),
    }
    for n, (expression, allowed) in enumerate(cases.items()):
        name = f"m{n}"
        create(
            w,
            td,
            subnets,
            3,
            name=name,
            placementConstraints=[{"type": "memberOf", "expression": expression}],
        )
        tasks = steady(w, 3, name)
        assert all(allowed(info[t["containerInstanceArn"]]) for t in tasks), expression
        w.ecs.update_service(cluster=CLUSTER, service=name, desiredCount=0)
        advance_until(w, lambda name=name: not running(w, name), within=300)


def test_member_of_with_no_match_places_nothing_and_says_why() -> None:
    w, td, subnets = cluster()
    create(
        w,
        td,
        subnets,
        2,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.instance-type == p3.2xlarge"}
        ],
    )
    w.advance(120)
    svc = describe(w)
    assert svc["runningCount"] == 0 and svc["pendingCount"] == 0
    assert any(
        'encountered error "MemberOf placement constraint unsatisfied".' in e["message"]
        for e in svc["events"]
    )


def test_task_definition_constraints_apply_too() -> None:
    w, _, subnets = cluster()
    td_1b = w.ecs.register_task_definition(
        family="pl-1b",
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{"name": "app", "image": "app:1", "cpu": 256, "memory": 256}],
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.availability-zone == us-east-1b"}
        ],
    )["taskDefinition"]
    assert td_1b["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.availability-zone == us-east-1b"}
    ]
    create(w, td_1b["taskDefinitionArn"], subnets, 3)
    assert {t["availabilityZone"] for t in steady(w, 3)} == {"us-east-1b"}


def random_placement(seed: int) -> list[str]:
    w, td, subnets = cluster(seed=seed)
    order = list(instance_info(w))
    create(w, td, subnets, 6, placementStrategy=[{"type": "random"}])
    tasks = sorted(steady(w, 6), key=lambda t: t["createdAt"])
    return [str(order.index(t["containerInstanceArn"])) for t in tasks]


def test_random_is_deterministic_per_seed() -> None:
    first = random_placement(3)
    assert random_placement(3) == first
    others = {tuple(random_placement(s)) for s in (4, 5, 6)}
    assert len(others | {tuple(first)}) > 1  # different seeds, different choices
    assert len(set(first)) > 1  # not all on one instance


def test_update_service_changes_where_later_tasks_go() -> None:
    w, td, subnets = cluster()
    create(w, td, subnets, 4, placementStrategy=[{"type": "spread", "field": "instanceId"}])
    assert sorted(per_instance(steady(w, 4)).values()) == [1, 1, 1, 1]
    first = describe(w)["deployments"][0]["id"]

    binpack = [{"type": "binpack", "field": "cpu"}]
    answer = w.ecs.update_service(cluster=CLUSTER, service="svc", placementStrategy=binpack)
    assert answer["service"]["placementStrategy"] == binpack
    # a placement change starts a deployment
    # (docs/behaviour.md, "Deployments"): the new tasks are packed
    advance_until(
        w,
        lambda: (
            len(describe(w)["deployments"]) == 1
            and describe(w)["deployments"][0]["id"] != first
            and len(running(w)) == 4
        ),
        within=600,
    )
    # the old tasks still held 512 CPU units on every instance while the new ones started:
    # the first instance took 3 (full), the fourth went to the next-fullest
    assert sorted(per_instance(running(w)).values()) == [1, 3]

    # not given: unchanged; an empty list removes the strategy (back to ECS's default)
    w.ecs.update_service(cluster=CLUSTER, service="svc", desiredCount=5)
    assert describe(w)["placementStrategy"] == binpack
    w.ecs.update_service(cluster=CLUSTER, service="svc", placementStrategy=[])
    assert describe(w)["placementStrategy"] == []


def test_run_task_strategy_and_constraints() -> None:
    w, td, subnets = cluster()
    net = {"awsvpcConfiguration": {"subnets": subnets}}
    out = w.ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=td,
        count=3,
        launchType="EC2",
        networkConfiguration=net,
        placementStrategy=[{"type": "binpack", "field": "cpu"}],
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.availability-zone != us-east-1a"}
        ],
    )
    assert not out["failures"]
    assert len({t["containerInstanceArn"] for t in out["tasks"]}) == 1
    assert {t["availabilityZone"] for t in out["tasks"]} <= {"us-east-1b", "us-east-1c"}

    none = w.ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=td,
        launchType="EC2",
        networkConfiguration=net,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.availability-zone == us-west-2a"}
        ],
    )
    assert none["tasks"] == []
    assert none["failures"][0]["reason"] == "MemberOf placement constraint unsatisfied."

    distinct = w.ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=td,
        count=6,
        group="one-each",
        launchType="EC2",
        networkConfiguration=net,
        placementConstraints=[{"type": "distinctInstance"}],
    )
    assert len({t["containerInstanceArn"] for t in distinct["tasks"]}) == 4
    assert [f["reason"] for f in distinct["failures"]] == [
        "DistinctInstance placement constraint unsatisfied."
    ] * 2


def test_no_strategy_keeps_the_default_az_then_instance_spread() -> None:
    w, td, subnets = cluster()
    svc = create(w, td, subnets, 4)
    assert svc["placementStrategy"] == [] and svc["placementConstraints"] == []
    tasks = steady(w, 4)
    assert sorted(Counter(t["availabilityZone"] for t in tasks).values()) == [1, 1, 2]
    assert sorted(per_instance(tasks).values()) == [1, 1, 1, 1]


BAD_INPUT = [
    ({"placementStrategy": [{"type": "pack"}]}, "InvalidParameterException", "type"),
    (
        {"placementStrategy": [{"type": "binpack", "field": "disk"}]},
        "InvalidParameterException",
        "binpack",
    ),
    ({"placementStrategy": [{"type": "spread"}]}, "InvalidParameterException", "spread"),
    (
        {"placementStrategy": [{"type": "spread", "field": "cpu"}]},
        "InvalidParameterException",
        "spread",
    ),
    (
        {"placementStrategy": [{"type": "random"}] * 6},
        "InvalidParameterException",
        "at most 5",
    ),
    (
        {"placementConstraints": [{"type": "distinctInstance"}] * 11},
        "InvalidParameterException",
        "at most 10",
    ),
    (
        {"placementConstraints": [{"type": "sameInstance"}]},
        "InvalidParameterException",
        "constraint type",
    ),
    (
        {"placementConstraints": [{"type": "distinctInstance", "expression": "x == y"}]},
        "InvalidParameterException",
        "expression",
    ),
    ({"placementConstraints": [{"type": "memberOf"}]}, "InvalidParameterException", "expression"),
    (
        {"placementConstraints": [{"type": "memberOf", "expression": "attribute:x == (a"}]},
        "InvalidParameterException",
        "expression",
    ),
    (
        {"placementConstraints": [{"type": "memberOf", "expression": "attribute:x in a, b"}]},
        "InvalidParameterException",
        "expression",
    ),
    (
        {"placementConstraints": [{"type": "memberOf", "expression": "task:group == db"}]},
        "UnsupportedFeatureException",
        "attribute:ecs.availability-zone",
    ),
    (
        {"placementConstraints": [{"type": "memberOf", "expression": "attribute:n >= 2"}]},
        "UnsupportedFeatureException",
        "operator >=",
    ),
    (
        {"placementConstraints": [{"type": "memberOf", "expression": "x" * 2001}]},
        "InvalidParameterException",
        "2000",
    ),
]


@pytest.mark.parametrize(("extra", "code", "says"), BAD_INPUT)
def test_bad_placement_input_is_refused(extra: dict[str, Any], code: str, says: str) -> None:
    w, td, subnets = cluster(("t3.medium",))
    with pytest.raises(AwsError) as e:
        create(w, td, subnets, 1, **extra)
    assert e.value.code == code and says in str(e.value), str(e.value)
    with pytest.raises(AwsError) as e:
        w.ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=td,
            launchType="EC2",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
            **extra,
        )
    assert e.value.code == code
    create(w, td, subnets, 1, name="ok")
    with pytest.raises(AwsError) as e:
        w.ecs.update_service(cluster=CLUSTER, service="ok", **extra)
    assert e.value.code == code
    assert describe(w, "ok")["placementStrategy"] == []  # nothing changed


def test_fargate_refuses_strategies_and_constraints() -> None:
    w = ecsim.World.demo(seed=1, rate=0)
    svc = w.ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    base = {
        "cluster": "home",
        "taskDefinition": svc["taskDefinition"],
        "networkConfiguration": svc["networkConfiguration"],
    }
    for extra, says in (
        ({"placementStrategy": [{"type": "spread", "field": "instanceId"}]}, "strategies"),
        ({"placementConstraints": [{"type": "distinctInstance"}]}, "constraints"),
    ):
        message = f"Placement {says} are not supported with FARGATE launch type."
        with pytest.raises(AwsError) as e:
            w.ecs.create_service(serviceName="f", desiredCount=1, **base, **extra)
        assert (e.value.code, e.value.message) == ("InvalidParameterException", message)
        with pytest.raises(AwsError) as e:
            w.ecs.update_service(cluster="home", service="home-service", **extra)
        assert (e.value.code, e.value.message) == ("InvalidParameterException", message)
        with pytest.raises(AwsError) as e:
            w.ecs.run_task(**base, **extra)
        assert (e.value.code, e.value.message) == ("InvalidParameterException", message)
    # empty lists are no placement at all
    w.ecs.update_service(
        cluster="home", service="home-service", placementStrategy=[], placementConstraints=[]
    )


def test_task_definition_takes_member_of_only() -> None:
    w = ecsim.World(seed=1)
    base: dict[str, Any] = {
        "family": "x",
        "networkMode": "awsvpc",
        "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 256, "memory": 256}],
    }
    with pytest.raises(AwsError) as e:
        w.ecs.register_task_definition(**base, placementConstraints=[{"type": "distinctInstance"}])
    assert e.value.code == "ClientException"
    with pytest.raises(AwsError) as e:
        w.ecs.register_task_definition(
            **base, placementConstraints=[{"type": "memberOf", "expression": "== x"}]
        )
    assert e.value.code == "InvalidParameterException"
