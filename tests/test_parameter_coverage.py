"""Nothing accepted and ignored (issue 17, point 6): every member of every input shape of every
operation ecsim serves (botocore's models) is declared modelled, refused or without effect
(`model/*/coverage.py`); each refused one is refused through boto3 with the service's code and
a message naming it; a sample of the modelled ones shows its effect; `docs/awsapi.md` shows
the declarations' table.
"""

from __future__ import annotations

import datetime
import pathlib
import re
from typing import Any

import botocore.exceptions
import pytest

from ecsim.awsapi.coverage import COVERAGES, markdown
from ecsim.awsapi.protocol.shapes import snake
from ecsim.awsapi.services import SERVICES, AwsService
from ecsim.model.aws.coverage import Handling, Member, values_at
from ecsim.model.elbv2.api import LOAD_BALANCER_ATTRIBUTE_CHECKS
from ecsim.model.elbv2.coverage import LOAD_BALANCER_ATTRIBUTES
from ecsim.model.elbv2.resources import DEFAULT_LOAD_BALANCER_ATTRIBUTES
from tests.support.server import LiveServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The code of a refusal, as boto3 reports it.
REFUSAL_CODES = {
    "ecs": "UnsupportedFeatureException",
    "elbv2": "ValidationError",
    "ec2": "InvalidParameterValue",
    "cloudwatch": "InvalidParameterValue",
    "application-autoscaling": "ValidationException",
}
BY_NAME = {s.name: s for s in SERVICES}


def _shape_at(service: AwsService, operation: str, path: str) -> Any:
    """botocore's shape of the member at `path`, None if the model has no such member."""
    shape: Any = service.model.operation_model(operation).input_shape
    for part in path.split("."):
        name = part.removesuffix("[]")
        if shape.type_name != "structure" or name not in shape.members:
            return None
        shape = shape.members[name]
        if part.endswith("[]"):
            if shape.type_name != "list":
                return None
            shape = shape.member
    return shape


def _refused() -> list[tuple[str, str, Member]]:
    return [
        (name, operation, member)
        for name, coverage in COVERAGES.items()
        for operation, members in sorted(coverage.operations.items())
        for member in members.values()
        if member.handling is Handling.REFUSED
    ]


# --- the walk ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_member_of_every_served_operation_is_declared(service: AwsService) -> None:
    coverage = COVERAGES[service.name]
    assert sorted(coverage.operations) == sorted(service.modelled())
    for operation, members in coverage.operations.items():
        given = set(service.model.operation_model(operation).input_shape.members)
        tops = {path.split(".")[0].removesuffix("[]") for path in members}
        assert tops == given, (operation, given - tops, tops - given)
        for path in members:
            assert _shape_at(service, operation, path) is not None, (operation, path)
            if "." in path:  # a structure declared member by member is declared whole
                parent, _, _ = path.rpartition(".")
                shape: Any = _shape_at(service, operation, parent)
                siblings = {f"{parent}.{m}" for m in shape.members}
                assert siblings <= set(members), (operation, siblings - set(members))


def test_every_refused_member_has_a_refused_example_and_a_passing_default() -> None:
    for _, operation, member in _refused():
        top = member.path.split(".")[0].removesuffix("[]")
        found = [value for _, value in values_at(member.example, top, member.path)]
        assert found and not all(member.passes(v) for v in found), (operation, member.path)
        assert member.passes(None), (operation, member.path)


def test_every_load_balancer_attribute_is_declared() -> None:
    assert sorted(LOAD_BALANCER_ATTRIBUTES) == sorted(LOAD_BALANCER_ATTRIBUTE_CHECKS)
    for key, member in LOAD_BALANCER_ATTRIBUTES.items():
        if member.handling is Handling.REFUSED:
            default = DEFAULT_LOAD_BALANCER_ATTRIBUTES.get(key, member.default)
            assert member.passes(default) and not member.passes(member.example), key


def test_modelled_members_are_read_by_their_facade() -> None:
    """Each modelled top-level member's name is read somewhere in its service's code (a
    quoted name in the facade or its helpers); Params refuses any member given and unread,
    so a modelled member the facade forgot could not even be sent."""
    sources = {
        name: "".join(
            path.read_text()
            for package in {"ecs", "elbv2", "ec2", "cloudwatch", "autoscaling", "aws"}
            if package in (name.replace("application-", ""), "aws")
            for path in (ROOT / "src/ecsim/model" / package).glob("*.py")
            if path.name != "coverage.py"
        )
        for name in COVERAGES
    }
    for name, coverage in COVERAGES.items():
        for operation, members in coverage.operations.items():
            for member in members.values():
                if member.handling is Handling.MODELLED and "." not in member.path:
                    assert f'"{member.path}"' in sources[name], (name, operation, member.path)


# --- the refusals, through boto3 --------------------------------------------------------------


def _minimal(shape: Any) -> Any:
    """A value botocore's validation takes for `shape`: required members only."""
    kind = shape.type_name
    if kind == "structure":
        return {n: _minimal(shape.members[n]) for n in shape.required_members}
    if kind == "list":
        least = shape.metadata.get("min", 0)
        return [_minimal(shape.member) for _ in range(max(least, 1 if least else 0))]
    if kind == "map":
        return {}
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("double", "float"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    if shape.enum:
        return shape.enum[0]
    return "x" * max(1, int(shape.metadata.get("min", 1)))


@pytest.mark.server(world="demo", rate=0, speed=300)
@pytest.mark.parametrize(
    ("name", "operation", "member"),
    _refused(),
    ids=[f"{n}-{o}-{m.path}" for n, o, m in _refused()],
)
def test_a_refused_member_is_refused_naming_it(
    server: LiveServer, name: str, operation: str, member: Member
) -> None:
    service = BY_NAME[name]
    params = _minimal(service.model.operation_model(operation).input_shape)
    top = member.path.split(".")[0].removesuffix("[]")
    params[top] = member.example
    client = server.client(name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        getattr(client, snake(operation))(**params)
    error = e.value.response["Error"]
    assert error["Code"] == REFUSAL_CODES[name], error
    where = re.sub(r"\[\]", "[0]", member.path)
    assert f"parameter {where}:" in error["Message"], error["Message"]


@pytest.mark.server(world="demo", rate=0, speed=300)
def test_load_balancer_attributes_refused_unless_aws_default(server: LiveServer) -> None:
    elb = server.client("elbv2")
    lb = elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    for key, member in LOAD_BALANCER_ATTRIBUTES.items():
        if member.handling is not Handling.REFUSED:
            continue
        with pytest.raises(botocore.exceptions.ClientError) as e:
            elb.modify_load_balancer_attributes(
                LoadBalancerArn=lb, Attributes=[{"Key": key, "Value": member.example}]
            )
        assert e.value.response["Error"]["Code"] == "ValidationError"
        assert f"attribute {key}:" in e.value.response["Error"]["Message"]
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb, Attributes=[{"Key": key, "Value": member.default}]
        )
    # without effect on what ecsim models: kept and answered
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=lb, Attributes=[{"Key": "routing.http2.enabled", "Value": "false"}]
    )
    answered = elb.describe_load_balancer_attributes(LoadBalancerArn=lb)["Attributes"]
    assert {"Key": "routing.http2.enabled", "Value": "false"} in answered


# --- a sample of the modelled members, and defaults that tools send --------------------------


@pytest.mark.server(world="demo", rate=0, speed=300)
def test_what_infrastructure_tools_send_by_default_passes(server: LiveServer) -> None:
    """CDK, CloudFormation and Terraform send AWS's defaults explicitly: they change nothing."""
    ecs = server.client("ecs")
    svc = ecs.update_service(
        cluster="home",
        service="home-service",
        capacityProviderStrategy=[],
        deploymentConfiguration={
            "strategy": "ROLLING",
            "bakeTimeInMinutes": 0,
            "alarms": {"alarmNames": [], "enable": False, "rollback": False},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        serviceRegistries=[],
        enableExecuteCommand=True,
        platformVersion="LATEST",
        deploymentController={"type": "ECS"},
        propagateTags="SERVICE",
        serviceConnectConfiguration={"enabled": False},
    )["service"]
    assert svc["enableExecuteCommand"] is True
    assert svc["platformVersion"] == "LATEST"
    described = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    assert described["enableExecuteCommand"] is True
    assert ecs.list_services(cluster="home", schedulingStrategy="REPLICA")["serviceArns"]


@pytest.mark.server(world="demo", rate=0, speed=300)
def test_modelled_echoes_and_client_tokens(server: LiveServer) -> None:
    ecs = server.client("ecs")
    td = ecs.register_task_definition(
        family="echo",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx", "essential": True}],
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        ephemeralStorage={"sizeInGiB": 30},
        enableFaultInjection=True,
    )["taskDefinition"]
    assert td["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert td["ephemeralStorage"] == {"sizeInGiB": 30}
    assert td["enableFaultInjection"] is True
    network = ecs.describe_services(cluster="home", services=["home-service"])["services"][0][
        "networkConfiguration"
    ]
    call = {
        "cluster": "home",
        "taskDefinition": "echo",
        "launchType": "FARGATE",
        "networkConfiguration": network,
        "enableExecuteCommand": True,
        "clientToken": "retry-1",
    }
    first = ecs.run_task(**call)["tasks"]
    again = ecs.run_task(**call)["tasks"]
    assert [t["taskArn"] for t in again] == [t["taskArn"] for t in first]
    assert first[0]["enableExecuteCommand"] is True
    with pytest.raises(botocore.exceptions.ClientError):
        ecs.run_task(**{**call, "count": 2})  # the same token, other parameters

    ec2 = server.client("ec2")
    group = ec2.describe_security_groups()["SecurityGroups"][0]
    subnet = next(s for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == group["VpcId"])
    launch = {
        "ImageId": "ami-12345678",
        "MinCount": 1,
        "MaxCount": 1,
        "SubnetId": subnet["SubnetId"],
        "SecurityGroupIds": [group["GroupId"]],
        "KeyName": "ops",
        "IamInstanceProfile": {"Name": "ecsInstanceRole"},
        "ClientToken": "launch-1",
    }
    instance = ec2.run_instances(**launch)["Instances"][0]
    assert ec2.run_instances(**launch)["Instances"][0]["InstanceId"] == instance["InstanceId"]
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
    shown = described["Reservations"][0]["Instances"][0]
    assert shown["KeyName"] == "ops"
    assert shown["SecurityGroups"] == [
        {"GroupId": group["GroupId"], "GroupName": group["GroupName"]}
    ]
    assert shown["IamInstanceProfile"]["Arn"].endswith(":instance-profile/ecsInstanceRole")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.run_instances(**{**launch, "KeyName": "other"})
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatch"


@pytest.mark.server(world="demo", rate=0, speed=300)
def test_list_container_instances_filter(server: LiveServer) -> None:
    ecs = server.client("ecs")
    every = ecs.list_container_instances(cluster="home")["containerInstanceArns"]
    none = ecs.list_container_instances(
        cluster="home", filter="attribute:ecs.availability-zone == nowhere-1z"
    )["containerInstanceArns"]
    assert none == []
    if every:
        zone = ecs.describe_container_instances(cluster="home", containerInstances=every[:1])[
            "containerInstances"
        ][0]["attributes"]
        az = next(a["value"] for a in zone if a["name"] == "ecs.availability-zone")
        some = ecs.list_container_instances(
            cluster="home", filter=f"attribute:ecs.availability-zone == {az}"
        )["containerInstanceArns"]
        assert every[0] in some


# --- the documentation --------------------------------------------------------------------------


def test_the_doc_shows_the_declarations() -> None:
    doc = (ROOT / "docs/awsapi.md").read_text()
    start = doc.index("<!-- coverage table: python -m ecsim.awsapi.coverage -->\n")
    start = doc.index("\n", start) + 1
    end = doc.index("<!-- end of the coverage table -->", start)
    assert doc[start:end] == markdown(), "regenerate it: python -m ecsim.awsapi.coverage"
