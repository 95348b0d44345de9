"""The wire protocols against botocore itself: whatever botocore's serializers write, ecsim
reads back to the same parameters; whatever ecsim writes, botocore's parsers read back to the
same answer. No server needed."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any
from urllib.parse import parse_qsl

import botocore.session
import pytest
from botocore import parsers, serialize

from ecsim.awsapi.protocol import json as json_protocol
from ecsim.awsapi.protocol import query as query_protocol
from ecsim.awsapi.services import EC2, ECS, ELBV2, AwsService

UTC = dt.UTC
WHEN = dt.datetime(2026, 1, 1, 12, 30, 5, 250000, tzinfo=UTC)


def request_form(service: AwsService, op: str, params: dict[str, Any]) -> dict[str, str]:
    model = service.model.operation_model(op)
    ser = serialize.create_serializer(service.protocol)
    body = ser.serialize_to_request(params, model)["body"]
    return {k: str(v) for k, v in body.items()}


QUERY_CASES = [
    (
        ELBV2,
        "CreateRule",
        {
            "ListenerArn": "arn:l",
            "Priority": 10,
            "Conditions": [
                {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v2"]}},
                {"Field": "host-header", "Values": ["a.example.com"]},
            ],
            "Actions": [
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": "arn:a", "Weight": 3},
                            {"TargetGroupArn": "arn:b", "Weight": 1},
                        ],
                        "TargetGroupStickinessConfig": {"Enabled": False},
                    },
                }
            ],
        },
    ),
    (
        ELBV2,
        "ModifyTargetGroupAttributes",
        {
            "TargetGroupArn": "arn:tg",
            "Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
        },
    ),
    (ELBV2, "DescribeTargetGroups", {"Names": []}),
    (ELBV2, "CreateTargetGroup", {"Name": "tg", "HealthCheckEnabled": True, "Port": 80}),
    (
        EC2,
        "DescribeSubnets",
        {
            "Filters": [{"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]}],
            "SubnetIds": ["subnet-1"],
            "DryRun": False,
        },
    ),
    (
        EC2,
        "RunInstances",
        {
            "ImageId": "ami-1",
            "MinCount": 1,
            "MaxCount": 2,
            "UserData": "ECS_CLUSTER=home",
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "x"}]}
            ],
        },
    ),
    (EC2, "CreateVpc", {"CidrBlock": "10.1.0.0/16", "AmazonProvidedIpv6CidrBlock": False}),
]


@pytest.mark.parametrize(("service", "op", "params"), QUERY_CASES, ids=[c[1] for c in QUERY_CASES])
def test_query_requests_read_back_as_botocore_wrote_them(
    service: AwsService, op: str, params: dict[str, Any]
) -> None:
    form = request_form(service, op, params)
    dialect = query_protocol.EC2 if service is EC2 else query_protocol.QUERY
    operation = service.model.operation_model(op)
    if op == "RunInstances":  # botocore base64-encodes UserData in a handler, not the serializer
        form["UserData"] = params["UserData"]
    assert query_protocol.parse_request(form, operation, dialect) == params


def test_ec2_refuses_a_parameter_the_operation_lacks() -> None:
    operation = EC2.model.operation_model("DescribeVpcs")
    form = {"Action": "DescribeVpcs", "Version": "2016-11-15", "Bogus.1": "x"}
    with pytest.raises(Exception, match="Bogus is not recognized") as e:
        query_protocol.parse_request(form, operation, query_protocol.EC2)
    assert getattr(e.value, "code", None) == "UnknownParameter"


def test_a_query_value_of_the_wrong_type_is_a_validation_error() -> None:
    operation = ELBV2.model.operation_model("CreateTargetGroup")
    form = {"Name": "tg", "Port": "eighty"}
    with pytest.raises(Exception, match="Port") as e:
        query_protocol.parse_request(form, operation, query_protocol.QUERY)
    assert getattr(e.value, "code", None) == "ValidationError"


def parse_answer(service: AwsService, op: str, body: bytes, status: int = 200) -> dict[str, Any]:
    operation = service.model.operation_model(op)
    parser = parsers.create_parser(service.protocol)
    response = {"body": body, "headers": {}, "status_code": status}
    parsed: dict[str, Any] = parser.parse(response, operation.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_elbv2_answers_parse_back_in_botocore() -> None:
    answer = {
        "LoadBalancers": [
            {
                "LoadBalancerArn": "arn:lb",
                "LoadBalancerName": "home-alb",
                "CreatedTime": WHEN,
                "State": {"Code": "active"},
                "AvailabilityZones": [
                    {"ZoneName": "us-east-1a", "SubnetId": "subnet-1", "LoadBalancerAddresses": []}
                ],
                "SecurityGroups": ["sg-1", "sg-2"],
            }
        ],
        "NextMarker": "m<&>",
    }
    op = ELBV2.model.operation_model("DescribeLoadBalancers")
    body = query_protocol.serialize_response(
        answer, op, ELBV2.namespace, "rid", query_protocol.QUERY
    )
    assert b'<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing' in body
    assert b"<CreatedTime>2026-01-01T12:30:05.250Z</CreatedTime>" in body
    parsed = parse_answer(ELBV2, "DescribeLoadBalancers", body)
    assert parsed == answer


def test_ec2_answers_parse_back_in_botocore() -> None:
    answer = {
        "Vpcs": [
            {
                "VpcId": "vpc-1",
                "CidrBlock": "10.0.0.0/16",
                "IsDefault": True,
                "Tags": [{"Key": "Name", "Value": "main"}],
                "CidrBlockAssociationSet": [
                    {
                        "AssociationId": "a",
                        "CidrBlock": "10.0.0.0/16",
                        "CidrBlockState": {"State": "associated"},
                    }
                ],
            }
        ]
    }
    op = EC2.model.operation_model("DescribeVpcs")
    body = query_protocol.serialize_response(answer, op, EC2.namespace, "rid", query_protocol.EC2)
    assert b"<vpcSet><item>" in body and b"<requestId>rid</requestId>" in body
    assert parse_answer(EC2, "DescribeVpcs", body) == answer


def test_ecs_answers_parse_back_in_botocore_with_epoch_timestamps() -> None:
    answer = {
        "services": [
            {
                "serviceName": "s",
                "desiredCount": 3,
                "createdAt": WHEN,
                "deployments": [{"id": "ecs-svc/1", "createdAt": WHEN, "runningCount": 3}],
                "controllerStatus": "ACTIVE",  # ecsim's own field, kept on the wire
            }
        ],
        "failures": [{"arn": "arn:x", "reason": "MISSING"}],
    }
    op = ECS.model.operation_model("DescribeServices")
    body = json_protocol.serialize_response(answer, op.output_shape)
    assert b'"createdAt":1767270605.25' in body and b'"controllerStatus":"ACTIVE"' in body
    parsed = parse_answer(ECS, "DescribeServices", body)
    assert parsed["services"][0]["createdAt"] == WHEN
    assert parsed["failures"] == answer["failures"]


class _Kind(enum.Enum):
    X = 1


def test_json_answers_write_each_value_as_its_shape_says() -> None:
    """The writers built per shape (json.py) write what walking the shapes wrote: a
    timestamp given as epoch seconds or a blob given as text converted, None left out of a
    structure and kept in a list, members unknown to the model and enums written plainly,
    a non-finite number as null."""
    op = ECS.model.operation_model("DescribeServices")
    answer = {
        "services": [
            {
                "serviceName": "s",
                "createdAt": 1767270605,  # epoch seconds, not a datetime
                "status": None,
                "tags": [{"key": "k", "value": "v"}],
                "ecsimOwn": {
                    "at": WHEN,
                    "nan": float("nan"),
                    "kind": _Kind.X,
                },
            },
            None,
        ],
    }
    body = json_protocol.serialize_response(answer, op.output_shape)
    assert body == (
        b'{"services":[{"serviceName":"s","createdAt":1767270605,'
        b'"tags":[{"key":"k","value":"v"}],'
        b'"ecsimOwn":{"at":1767270605.25,"nan":null,"kind":1}},null]}'
    )
    # the same shapes again: the writers are kept, not rebuilt
    assert json_protocol.serialize_response(answer, op.output_shape) == body


def test_json_answers_orjson_refuses_are_written_by_the_standard_library() -> None:
    """orjson writes answers; what it refuses (an integer past 64 bits, a lone surrogate, a
    nesting past its depth) is written by the standard library instead, not lost. Text
    beyond ASCII goes out as UTF-8 and reads back the same in botocore."""
    op = ECS.model.operation_model("DescribeServices")
    for own, written in (
        (2**70, b"1180591620717411303424"),
        ("\ud800", b'"\\ud800"'),
    ):
        body = json_protocol.serialize_response(
            {"services": [{"serviceName": "s", "ecsimOwn": own}]}, op.output_shape
        )
        assert body == b'{"services":[{"serviceName":"s","ecsimOwn":' + written + b"}]}"
    deep: list[Any] = []
    for _ in range(300):  # past orjson's depth (254)
        deep = [deep]
    body = json_protocol.serialize_response({"failures": deep}, op.output_shape)
    assert json.loads(body) == {"failures": deep}
    text = "café ✓ 東京"
    body = json_protocol.serialize_response({"services": [{"serviceName": text}]}, op.output_shape)
    assert text.encode() in body
    assert parse_answer(ECS, "DescribeServices", body)["services"][0]["serviceName"] == text


def test_errors_parse_in_botocore_with_their_codes() -> None:
    json_error = json_protocol.error_body("ClusterNotFoundException", "Cluster not found.")
    parsed = parsers.create_parser("json").parse(
        {"body": json_error, "headers": {}, "status_code": 400}, None
    )
    assert parsed["Error"] == {"Code": "ClusterNotFoundException", "Message": "Cluster not found."}
    xml = query_protocol.error_body(
        "TargetGroupNotFound", "nope", 400, "rid", ELBV2.namespace, query_protocol.QUERY
    )
    parsed = parsers.create_parser("query").parse(
        {"body": xml, "headers": {}, "status_code": 400}, None
    )
    assert parsed["Error"]["Code"] == "TargetGroupNotFound" and parsed["Error"]["Type"] == "Sender"
    xml = query_protocol.error_body(
        "InvalidVpcID.NotFound", "x", 400, "rid", EC2.namespace, query_protocol.EC2
    )
    parsed = parsers.create_parser("ec2").parse(
        {"body": xml, "headers": {}, "status_code": 400}, None
    )
    assert parsed["Error"]["Code"] == "InvalidVpcID.NotFound"


def test_every_modelled_operation_is_an_aws_operation() -> None:
    session = botocore.session.get_session()
    for service in (ECS, ELBV2, EC2):
        ops = service.modelled()
        assert ops, service.name
        assert set(ops) <= set(session.get_service_model(service.name).operation_names)
    assert {"CreateService", "DescribeServices", "StopTask", "ListClusters"} <= set(ECS.modelled())


def test_json_requests_read_typed_values() -> None:
    op = ECS.model.operation_model("UpdateService")
    body = b'{"service": "s", "desiredCount": 2, "forceNewDeployment": true}'
    assert json_protocol.parse_request(body, op.input_shape) == {
        "service": "s",
        "desiredCount": 2,
        "forceNewDeployment": True,
    }
    with pytest.raises(Exception, match="desiredCount") as e:
        json_protocol.parse_request(b'{"service": "s", "desiredCount": "2"}', op.input_shape)
    assert getattr(e.value, "code", None) == "SerializationException"
    with pytest.raises(Exception, match="not valid JSON"):
        json_protocol.parse_request(b"{", op.input_shape)
    assert parse_qsl("a=") == []  # (why the dispatcher keeps blank values: `Names=` is a list)


def test_the_documented_operations_are_the_modelled_ones() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "awsapi.md").read_text()
    section = text.split("### Operations", 1)[1].split("###", 1)[0]
    for service, label in ((ECS, "ECS"), (ELBV2, "ELBv2"), (EC2, "EC2")):
        item = re.search(rf"^- {label}: (.*?)\.\n(?=- |\n)", section, re.M | re.S)
        assert item is not None, label
        documented = {op.strip() for op in item.group(1).replace("\n", " ").split(",")}
        assert documented == set(service.modelled()), label
