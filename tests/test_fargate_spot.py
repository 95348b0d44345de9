"""Fargate capacity providers and Fargate Spot interruptions (issue 17, point 4), through boto3
and ecsim's own API against a live server, following AWS's pages:

- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
  (FARGATE and FARGATE_SPOT, base and weight; "Handling Fargate Spot termination notices":
  the two-minute warning, TerminationNotice, "Your Spot Task was interrupted.", SIGTERM, a
  service launching replacements on Fargate Spot)
- https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html

docs/behaviour.md, "Fargate capacity providers".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.ecs.capacity import StrategyItem, choose
from tests.support.server import LiveServer, wait_for

pytestmark = pytest.mark.server(world="demo", rate=5, speed=300, fresh=True)

SPOT_3_TO_1 = [
    {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
    {"capacityProvider": "FARGATE_SPOT", "weight": 3},
]


@pytest.fixture(autouse=True)
def _fargate_providers(server: LiveServer) -> None:
    """The demo's cluster with both Fargate capacity providers associated, as a strategy
    needs (PutClusterCapacityProviders)."""
    server.client("ecs").put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[],
    )


def _tasks(ecs: Any, desired: str = "RUNNING") -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus=desired)["taskArns"]
    return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []


def _providers(ecs: Any) -> Counter[str]:
    return Counter(
        t.get("capacityProviderName", "-") for t in _tasks(ecs) if t["lastStatus"] == "RUNNING"
    )


def test_base_then_weights() -> None:
    """The base first, then the weights over the tasks beyond it."""
    strategy = (StrategyItem("FARGATE", 1, 2), StrategyItem("FARGATE_SPOT", 3, 0))
    placed: list[str] = []
    for _ in range(10):
        placed.append(choose(strategy, placed))
    assert placed[:2] == ["FARGATE", "FARGATE"]
    assert Counter(placed[2:]) == {"FARGATE_SPOT": 6, "FARGATE": 2}


def test_a_service_spreads_its_tasks_by_the_strategy(server: LiveServer) -> None:
    ecs = server.client("ecs")
    svc = ecs.update_service(
        cluster=CLUSTER, service=SERVICE, desiredCount=5, capacityProviderStrategy=SPOT_3_TO_1
    )["service"]
    assert svc["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    assert "launchType" not in svc
    assert svc["deployments"][0]["capacityProviderStrategy"] == svc["capacityProviderStrategy"]
    # base 1 on FARGATE, the other 4 split 3:1
    wait_for(lambda: _providers(ecs) == {"FARGATE": 2, "FARGATE_SPOT": 3})
    assert all(t["launchType"] == "FARGATE" for t in _tasks(ecs))


def test_a_spot_interruption_stops_the_task_and_the_service_replaces_it_on_spot(
    server: LiveServer,
) -> None:
    ecs = server.client("ecs")
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, desiredCount=4, capacityProviderStrategy=SPOT_3_TO_1
    )
    wait_for(lambda: _providers(ecs) == {"FARGATE": 2, "FARGATE_SPOT": 2})
    victim = next(t for t in _tasks(ecs) if t.get("capacityProviderName") == "FARGATE_SPOT")
    r = httpx.post(
        f"{server.url}/ecsim/api/chaos/interrupt-spot", json={"task": victim["taskArn"]}, timeout=30
    )
    assert r.status_code == 200, r.text
    noticed = ecs.describe_tasks(cluster=CLUSTER, tasks=[victim["taskArn"]])["tasks"][0]
    assert noticed["desiredStatus"] == "STOPPED"
    assert noticed["stopCode"] == "TerminationNotice"
    assert noticed["stoppedReason"] == "Your Spot Task was interrupted."
    wait_for(
        lambda: (
            ecs.describe_tasks(cluster=CLUSTER, tasks=[victim["taskArn"]])["tasks"][0]["lastStatus"]
            == "STOPPED"
        )
    )
    # the replacement goes to Fargate Spot again, by the strategy
    wait_for(lambda: _providers(ecs) == {"FARGATE": 2, "FARGATE_SPOT": 2})
    running = {t["taskArn"] for t in _tasks(ecs)}
    assert victim["taskArn"] not in running


def test_only_spot_tasks_are_interrupted(server: LiveServer) -> None:
    ecs = server.client("ecs")
    task = _tasks(ecs)[0]  # the demo's tasks run with the FARGATE launch type
    r = httpx.post(
        f"{server.url}/ecsim/api/chaos/interrupt-spot", json={"task": task["taskArn"]}, timeout=30
    )
    assert r.status_code == 400
    assert "FARGATE_SPOT" in r.text
    again = ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"][0]
    assert again["desiredStatus"] == "RUNNING"


def test_run_task_with_a_strategy(server: LiveServer) -> None:
    ecs = server.client("ecs")
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    run = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=svc["taskDefinition"],
        count=4,
        networkConfiguration=svc["networkConfiguration"],
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    assert [t["capacityProviderName"] for t in run["tasks"]] == ["FARGATE_SPOT"] * 4


@pytest.mark.parametrize(
    ("extra", "strategy", "message"),
    [
        (
            {"launchType": "FARGATE"},
            [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again.",
        ),
        ({}, [{"capacityProvider": "my-asg-provider", "weight": 1}], "my-asg-provider"),
        (
            {},
            [
                {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 1},
            ],
            "base",
        ),
        ({}, [{"capacityProvider": "FARGATE_SPOT", "weight": 0}], "weight"),
        (
            {},
            [
                {"capacityProvider": "FARGATE_SPOT", "weight": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 2},
            ],
            "more than once",
        ),
        ({}, [{"capacityProvider": "FARGATE_SPOT", "weight": 1001}], "weight"),
        ({}, [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 100_001}], "base"),
    ],
    ids=[
        "with-launch-type",
        "unknown",
        "two-bases",
        "no-weight",
        "twice",
        "weight-1001",
        "big-base",
    ],
)
def test_bad_strategies_are_refused_and_change_nothing(
    server: LiveServer, extra: dict[str, Any], strategy: list[dict[str, Any]], message: str
) -> None:
    ecs = server.client("ecs")
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    with pytest.raises(ClientError) as e:
        ecs.create_service(
            cluster=CLUSTER,
            serviceName="spot-service",
            taskDefinition=svc["taskDefinition"],
            desiredCount=1,
            networkConfiguration=svc["networkConfiguration"],
            capacityProviderStrategy=strategy,
            **extra,
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert message in e.value.response["Error"]["Message"]
    assert not any(
        a.endswith("/spot-service") for a in ecs.list_services(cluster=CLUSTER)["serviceArns"]
    )


def test_a_strategy_needs_its_providers_associated_with_the_cluster(server: LiveServer) -> None:
    ecs = server.client("ecs")
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER, capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[]
    )
    with pytest.raises(ClientError) as e:
        ecs.update_service(
            cluster=CLUSTER,
            service=SERVICE,
            capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "not associated" in e.value.response["Error"]["Message"]
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["capacityProviderStrategy"] == []


def test_the_clusters_default_strategy_is_used_without_a_launch_type(server: LiveServer) -> None:
    """RunTask with neither a launch type nor a strategy runs by the cluster's default
    capacity provider strategy (PutClusterCapacityProviders)."""
    ecs = server.client("ecs")
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    run = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=svc["taskDefinition"],
        count=2,
        networkConfiguration=svc["networkConfiguration"],
    )
    assert [t["capacityProviderName"] for t in run["tasks"]] == ["FARGATE_SPOT"] * 2
    with_launch = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=svc["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
    )
    assert "capacityProviderName" not in with_launch["tasks"][0]
