"""Service deployment records (issue 17, point 5): ListServiceDeployments,
DescribeServiceDeployments, DescribeServiceRevisions and StopServiceDeployment through boto3
and the AWS CLI against a live server, following AWS's pages:

- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html
- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
- https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html

The server is paused: each test moves simulated time itself (`_advance`), so a deployment is
seen in progress however loaded the machine is. docs/behaviour.md, "Service deployment
records".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecsim.model.demo import CLUSTER, SERVICE, task_definition
from tests.support.server import LiveServer, aws_cli

pytestmark = pytest.mark.server(world="demo", rate=0, speed=300, paused=True)


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def _advance_until(server: LiveServer, cond: Callable[[], bool], most: float = 1800) -> None:
    """Advance simulated time 10 s at a time until `cond()`; at most `most` seconds."""
    moved = 0.0
    while not cond():
        assert moved < most, "not reached in simulated time"
        server.call(lambda w: w.advance(10))
        moved += 10


def _deploy(ecs: Any, image: str, labels: dict[str, str] | None = None) -> str:
    """A new revision of the demo's task definition, deployed; the new record's ARN."""
    td = task_definition()
    td["containerDefinitions"][0]["image"] = image
    if labels:
        td["containerDefinitions"][0]["dockerLabels"] = labels
    arn = ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)
    return str(_latest(ecs)["serviceDeploymentArn"])


def _latest(ecs: Any) -> dict[str, Any]:
    page = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, maxResults=1)
    return dict(page["serviceDeployments"][0])


def _record(ecs: Any, arn: str) -> dict[str, Any]:
    return dict(
        ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
    )


def _status(ecs: Any, arn: str) -> str:
    return str(_record(ecs, arn)["status"])


def test_a_rolling_deployment_goes_in_progress_then_successful(server: LiveServer) -> None:
    ecs = server.client("ecs")
    before = _latest(ecs)
    assert before["status"] == "SUCCESSFUL"  # the service's first deployment, CreateService
    arn = _deploy(ecs, "app:v2")
    assert arn.startswith(
        f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/{SERVICE}/"
    )
    record = _record(ecs, arn)
    assert record["status"] == "IN_PROGRESS"
    assert record["createdAt"] == record["startedAt"]
    assert "finishedAt" not in record
    assert [r["arn"] for r in record["sourceServiceRevisions"]] == [
        before["targetServiceRevisionArn"]
    ]
    assert record["targetServiceRevision"]["requestedTaskCount"] == 3
    assert record["deploymentCircuitBreaker"] == {
        "status": "MONITORING",
        "failureCount": 0,
        "threshold": 3,
    }
    _advance_until(server, lambda: _status(ecs, arn) == "SUCCESSFUL")
    done = _record(ecs, arn)
    assert done["finishedAt"] >= done["startedAt"]
    assert done["targetServiceRevision"]["runningTaskCount"] == 3
    assert done["sourceServiceRevisions"][0]["runningTaskCount"] == 0
    assert done["deploymentCircuitBreaker"]["status"] == "MONITORING_COMPLETE"
    revisions = ecs.describe_service_revisions(
        serviceRevisionArns=[
            done["targetServiceRevision"]["arn"],
            before["targetServiceRevisionArn"],
        ]
    )["serviceRevisions"]
    assert revisions[0]["containerImages"] == [{"containerName": "app", "image": "app:v2"}]
    assert revisions[0]["launchType"] == "FARGATE"
    assert revisions[0]["loadBalancers"][0]["containerPort"] == 80
    assert revisions[0]["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    assert revisions[1]["taskDefinition"] != revisions[0]["taskDefinition"]


def test_a_failing_deployment_is_rolled_back_by_the_circuit_breaker(server: LiveServer) -> None:
    ecs = server.client("ecs")
    good = _latest(ecs)
    _advance_until(server, lambda: _status(ecs, good["serviceDeploymentArn"]) == "SUCCESSFUL")
    arn = _deploy(ecs, "app:broken", {"ecsim.start": "crash"})
    seen = set()

    def rolled_back() -> bool:
        seen.add(_status(ecs, arn))
        return "ROLLBACK_SUCCESSFUL" in seen

    _advance_until(server, rolled_back)
    assert "ROLLBACK_IN_PROGRESS" in seen
    record = _record(ecs, arn)
    assert record["statusReason"] == "ECS deployment circuit breaker: task failed to start."
    assert (
        record["rollback"]["serviceRevisionArn"]
        == _record(ecs, _latest_successful(ecs))["targetServiceRevision"]["arn"]
    )
    assert record["rollback"]["startedAt"] >= record["startedAt"]
    assert record["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert record["deploymentCircuitBreaker"]["failureCount"] >= 3
    assert "finishedAt" in record
    filtered = ecs.list_service_deployments(
        cluster=CLUSTER, service=SERVICE, status=["ROLLBACK_SUCCESSFUL"]
    )["serviceDeployments"]
    assert [r["serviceDeploymentArn"] for r in filtered] == [arn]


def _latest_successful(ecs: Any) -> str:
    rows = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, status=["SUCCESSFUL"])
    return str(rows["serviceDeployments"][0]["serviceDeploymentArn"])


def test_stop_service_deployment_rolls_back(server: LiveServer) -> None:
    ecs = server.client("ecs")
    arn = _deploy(ecs, "app:v4")
    assert _status(ecs, arn) == "IN_PROGRESS"
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn)["serviceDeploymentArn"] == arn
    assert _status(ecs, arn) == "ROLLBACK_IN_PROGRESS"
    # stopping again while it rolls back: it carries on
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn)["serviceDeploymentArn"] == arn
    assert _record(ecs, arn)["rollback"]["reason"] == "Rollback requested by StopServiceDeployment."
    _advance_until(server, lambda: _status(ecs, arn) == "ROLLBACK_SUCCESSFUL")
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert not svc["taskDefinition"].endswith(":4")  # back on the last good revision
    assert len(svc["deployments"]) == 1
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert _code(e) == "ConflictException"


def test_list_pages_and_filters(server: LiveServer) -> None:
    ecs = server.client("ecs")
    every = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    assert len(every) >= 2
    first = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, maxResults=1)
    assert first["serviceDeployments"] == every[:1]
    second = ecs.list_service_deployments(
        cluster=CLUSTER, service=SERVICE, maxResults=1, nextToken=first["nextToken"]
    )
    assert second["serviceDeployments"] == every[1:2]
    oldest = every[-1]["createdAt"]
    window = ecs.list_service_deployments(
        cluster=CLUSTER, service=SERVICE, createdAt={"before": oldest}
    )["serviceDeployments"]
    assert window == every[-1:]
    svc_arn = every[0]["serviceArn"]
    by_arn = ecs.list_service_deployments(cluster=CLUSTER, service=svc_arn)["serviceDeployments"]
    assert by_arn == every


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"service": "nope"}, "ServiceNotFoundException"),
        ({"cluster": "nope"}, "ClusterNotFoundException"),
        ({"maxResults": 10**12}, "InvalidParameterException"),
        ({"maxResults": -1}, "InvalidParameterException"),
        ({"status": ["DONE"]}, "InvalidParameterException"),
        ({"nextToken": "x\x01"}, "InvalidParameterException"),
        (
            {"service": "arn:aws:ecs:us-east-1:123456789012:task/home/x"},
            "InvalidParameterException",
        ),
    ],
)
def test_list_refuses_hostile_inputs(server: LiveServer, params: dict[str, Any], code: str) -> None:
    ecs = server.client("ecs")
    with pytest.raises(ClientError) as e:
        ecs.list_service_deployments(**{"cluster": CLUSTER, "service": SERVICE, **params})
    assert _code(e) == code


def test_describe_and_stop_refuse_hostile_inputs(server: LiveServer) -> None:
    ecs = server.client("ecs")
    before = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    missing = ["arn:aws:ecs:us-east-1:123456789012:service-deployment/home/home-service/x", "\x01"]
    answer = ecs.describe_service_deployments(serviceDeploymentArns=missing)
    assert answer["serviceDeployments"] == []
    assert [f["reason"] for f in answer["failures"]] == ["MISSING", "MISSING"]
    revisions = ecs.describe_service_revisions(serviceRevisionArns=["nope"])
    assert revisions["failures"] == [{"arn": "nope", "reason": "MISSING"}]
    for call, name in (
        (ecs.describe_service_deployments, "serviceDeploymentArns"),
        (ecs.describe_service_revisions, "serviceRevisionArns"),
    ):
        with pytest.raises(ClientError) as e:
            call(**{name: ["a"] * 21})
        assert _code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=missing[0])
    assert _code(e) == "ServiceDeploymentNotFoundException"
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(
            serviceDeploymentArn=before[0]["serviceDeploymentArn"], stopType="ABORT"
        )
    assert _code(e) == "InvalidParameterException"
    assert "ABORT" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=before[-1]["serviceDeploymentArn"])
    assert _code(e) == "ConflictException"  # completed long ago
    after = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    assert after == before


def test_the_aws_cli_lists_and_describes_deployments(server: LiveServer, tmp_path: Path) -> None:
    listed = aws_cli(
        server,
        tmp_path,
        "ecs",
        "list-service-deployments",
        "--cluster",
        CLUSTER,
        "--service",
        SERVICE,
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["serviceDeployments"]
    assert rows and all(r["serviceDeploymentArn"].count("/") == 3 for r in rows)
    described = aws_cli(
        server,
        tmp_path,
        "ecs",
        "describe-service-revisions",
        "--service-revision-arns",
        rows[0]["targetServiceRevisionArn"],
    )
    assert described.returncode == 0, described.stderr
    revision = json.loads(described.stdout)["serviceRevisions"][0]
    assert revision["serviceRevisionArn"] == rows[0]["targetServiceRevisionArn"]
