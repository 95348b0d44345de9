"""Bad input gets AWS's error codes and statuses; a crash inside the model is a 500 that leaves
the server and the world running; the AWS CLI itself works against the server (issue 5)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ecsim.model.world import World
from tests.support.server import LiveServer, aws_cli

ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


pytestmark = pytest.mark.server(world="demo", speed=60)


def code_of(call: Any, **params: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call(**params)
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_unknown_cluster_service_and_target_group(server: LiveServer) -> None:
    ecs, elb = server.client("ecs"), server.client("elbv2")
    assert code_of(ecs.describe_services, cluster="nope", services=["x"]) == (
        "ClusterNotFoundException",
        400,
    )
    assert code_of(ecs.update_service, cluster="home", service="nope", desiredCount=1) == (
        "ServiceNotFoundException",
        400,
    )
    assert code_of(elb.describe_target_groups, Names=["nope"]) == ("TargetGroupNotFound", 400)
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_services(cluster="nope")


def test_batch_reads_report_missing_names_as_failures(server: LiveServer) -> None:
    ecs = server.client("ecs")
    out = ecs.describe_services(cluster="home", services=["home-service", "ghost"])
    assert [s["serviceName"] for s in out["services"]] == ["home-service"]
    assert out["failures"] == [
        {"arn": "arn:aws:ecs:us-east-1:123456789012:service/home/ghost", "reason": "MISSING"}
    ]
    out = ecs.describe_tasks(cluster="home", tasks=["0123456789abcdef0123456789abcdef"])
    assert out["tasks"] == [] and out["failures"][0]["reason"] == "MISSING"


def test_values_the_sdk_would_refuse_reach_the_server_and_get_aws_codes(
    server: LiveServer,
) -> None:
    ecs = server.client("ecs", parameter_validation=False)
    elb = server.client("elbv2", parameter_validation=False)
    ec2 = server.client("ec2", parameter_validation=False)
    # negative desired count
    code, status = code_of(
        ecs.update_service, cluster="home", service="home-service", desiredCount=-1
    )
    assert (code, status) == ("InvalidParameterException", 400)
    # a bad ARN
    assert code_of(ecs.stop_task, cluster="home", task="arn:aws:ecs:bogus")[0] == (
        "InvalidParameterException"
    )
    assert code_of(elb.describe_target_health, TargetGroupArn="not-an-arn") == (
        "ValidationError",
        400,
    )
    assert code_of(elb.describe_load_balancers, LoadBalancerArns=["home-alb"])[0] == (
        "ValidationError"
    )
    # missing required parameters
    assert code_of(ecs.create_service, cluster="home")[0] == "InvalidParameterException"
    assert code_of(elb.create_target_group)[0] == "ValidationError"
    assert code_of(ec2.create_vpc)[0] == "MissingParameter"
    # a value of the wrong type, on each protocol
    assert (
        code_of(ecs.update_service, cluster="home", service="home-service", desiredCount="three")[0]
        == "SerializationException"
    )
    assert code_of(elb.create_target_group, Name="x", Port="eighty")[0] == "ValidationError"
    # nothing changed
    svc = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    assert svc["desiredCount"] == 3


def test_operations_ecsim_does_not_know_or_model(server: LiveServer) -> None:
    ecs, elb, ec2 = server.client("ecs"), server.client("elbv2"), server.client("ec2")
    assert code_of(ecs.discover_poll_endpoint) == ("UnsupportedFeatureException", 400)
    assert code_of(elb.describe_ssl_policies)[0] == "InvalidAction"
    assert code_of(ec2.describe_key_pairs)[0] == "UnsupportedOperation"
    r = httpx.post(
        server.url,
        headers={
            "X-Amz-Target": f"{ECS_TARGET}.NoSuchOperation",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b"{}",
    )
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"
    r = httpx.post(
        server.url,
        headers={"X-Amz-Target": f"{ECS_TARGET}.ListClusters"},
        content=b"{not json",
    )
    assert r.status_code == 400 and r.json()["__type"] == "SerializationException"
    r = httpx.post(server.url, data={"Action": "NoSuchAction", "Version": "2015-12-01"})
    assert r.status_code == 400 and b"<Code>InvalidAction</Code>" in r.content
    assert b"<Type>Sender</Type>" in r.content
    r = httpx.post(server.url, data={"Version": "2016-11-15"})
    assert r.status_code == 400 and b"<Code>MissingAction</Code>" in r.content


def test_the_service_is_told_by_the_signature_when_the_version_is_missing(
    server: LiveServer,
) -> None:
    auth = (
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/elasticloadbalancing/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    r = httpx.post(
        server.url, data={"Action": "DescribeLoadBalancers"}, headers={"Authorization": auth}
    )
    assert r.status_code == 200 and b"<LoadBalancerName>home-alb</LoadBalancerName>" in r.content


def test_a_crash_inside_the_model_is_a_500_and_the_world_carries_on(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    ecs, elb = server.client("ecs"), server.client("elbv2")

    def boom(**_: Any) -> Any:
        raise RuntimeError("a bug")

    def patch(world: World) -> None:
        world.ecs.list_clusters = boom  # type: ignore[method-assign]
        world.elbv2.describe_load_balancers = boom  # type: ignore[method-assign]

    def unpatch(world: World) -> None:
        del world.ecs.list_clusters
        del world.elbv2.describe_load_balancers

    def unwritable(world: World) -> None:  # answers the protocol layer cannot write
        world.ecs.list_clusters = lambda **_: {"clusterArns": [object()]}  # type: ignore[method-assign]
        world.elbv2.describe_load_balancers = lambda **_: {"LoadBalancers": 5}  # type: ignore[method-assign]

    before = server.call(lambda w: w.now)
    for broken in (patch, unwritable):
        server.call(broken)
        try:
            assert code_of(ecs.list_clusters) == ("ServerException", 500)
            assert code_of(elb.describe_load_balancers) == ("InternalFailure", 500)
        finally:
            server.call(unpatch)
    assert "ListClusters failed unexpectedly" in caplog.text and "a bug" in caplog.text
    assert ecs.list_clusters()["clusterArns"]
    svc = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    assert svc["runningCount"] == 3
    assert server.call(lambda w: w.now) > before  # time still moves


def test_the_aws_cli_itself(server: LiveServer, tmp_path: Any) -> None:
    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return aws_cli(server, tmp_path, *args, region="eu-west-1")

    out = aws("ecs", "list-clusters")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["clusterArns"] == [
        "arn:aws:ecs:us-east-1:123456789012:cluster/home"
    ]
    out = aws("elbv2", "describe-target-groups", "--names", "nope")
    assert out.returncode != 0 and "TargetGroupNotFound" in out.stderr, out.stderr


def test_deployment_controllers_other_than_ecs_are_refused_not_simulated_wrongly(
    server: LiveServer,
) -> None:
    ecs = server.client("ecs")
    service = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    for kind in ("CODE_DEPLOY", "EXTERNAL"):
        for call, params in (
            (ecs.create_service, {"serviceName": f"bg-{kind.lower()}", "desiredCount": 1}),
            (ecs.update_service, {"service": "home-service"}),
        ):
            with pytest.raises(ClientError) as e:
                call(
                    cluster="home",
                    taskDefinition=service["taskDefinition"],
                    deploymentController={"type": kind},
                    **params,
                )
            assert e.value.response["Error"]["Code"] == "UnsupportedFeatureException"
            assert kind in e.value.response["Error"]["Message"]
    names = ecs.list_services(cluster="home")["serviceArns"]
    assert not [n for n in names if "/bg-" in n]  # nothing was created
    ecs.update_service(cluster="home", service="home-service", deploymentController={"type": "ECS"})
