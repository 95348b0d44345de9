"""Hostile input on the wire gets AWS's errors, never a 500 or an answer a client cannot parse,
and no connection is held for ever (issue 12: points 5 and 6, the request limits).

Against a live server: boto3 clients and raw requests on localhost. The limits are in
docs/awsapi.md, "Limits" (`ecsim.awsapi.limits`, `ecsim.awsapi.connections`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from botocore.exceptions import ClientError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ecsim.awsapi import connections
from ecsim.awsapi.limits import MAX_AWS_BODY, MAX_JSON_DEPTH, MAX_NATIVE_BODY
from ecsim.awsapi.protocol import query as query_protocol
from ecsim.awsapi.services import EC2
from tests.support.server import LiveServer, serving

pytestmark = pytest.mark.server(world="demo", speed=60)

ECS_TARGET = "AmazonEC2ContainerServiceV20141113"
CW_TARGET = "GraniteServiceVersion20100801"


def client_error(call: Any, **params: Any) -> tuple[int, str, str]:
    """The HTTP status, AWS code and message botocore parsed from the error answer."""
    with pytest.raises(ClientError) as e:
        call(**params)
    error = e.value.response
    return (
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Code"],
        error["Error"]["Message"],
    )


def xml_error(response: httpx.Response) -> tuple[int, str]:
    """The status and the `Code` of a query-protocol error, the answer parsed as XML (an
    answer XML 1.0 cannot parse fails here)."""
    root = ElementTree.fromstring(response.content)
    code = root.find(".//{*}Code")
    assert code is not None, response.text
    return response.status_code, str(code.text)


def json_post(server: LiveServer, target: str, body: bytes | str, version: str = "1.1") -> Any:
    return httpx.post(
        f"{server.url}/",
        content=body,
        headers={"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}"},
        timeout=60,
    )


# --- control characters in names, paths, descriptions ----------------------------------------


def test_a_control_character_in_a_health_check_path_is_refused_in_awss_words(
    server: LiveServer,
) -> None:
    elb, ec2 = server.client("elbv2"), server.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    status, code, message = client_error(
        elb.create_target_group,
        Name="ctl-path",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/\x01",
    )
    assert (status, code) == (400, "ValidationError")
    assert message == (
        "The HealthCheckPath value is not valid. HealthCheckPath must begin with a '/' "
        "character and only contain printable ASCII characters, without spaces."
    )
    # nothing was stored: every unfiltered describe still parses in boto3
    groups = elb.describe_target_groups()["TargetGroups"]
    assert "ctl-path" not in [g["TargetGroupName"] for g in groups]
    arn = groups[0]["TargetGroupArn"]  # ModifyTargetGroup checks the same way
    status, code, _ = client_error(
        elb.modify_target_group, TargetGroupArn=arn, HealthCheckPath="/a b"
    )
    assert (status, code) == (400, "ValidationError")


def test_a_control_character_in_a_security_group_is_refused_in_awss_words(
    server: LiveServer,
) -> None:
    ec2 = server.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    status, code, message = client_error(
        ec2.create_security_group, GroupName="ctl", Description="d\x01", VpcId=vpc
    )
    assert (status, code) == (400, "InvalidParameterValue")
    assert message == (
        "Invalid security group description. Valid descriptions are strings less than 256 "
        "characters from the following set: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*"
    )
    assert client_error(ec2.create_security_group, GroupName="c\x02", Description="d")[:2] == (
        400,
        "InvalidParameterValue",
    )
    status, code, message = client_error(
        ec2.create_security_group, GroupName="ctl", Description="d\u00e9"
    )
    assert (status, code) == (400, "InvalidParameterValue")
    assert message.endswith("Character sets beyond ASCII are not supported.")
    names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert "ctl" not in names


def test_any_other_string_the_xml_cannot_carry_is_refused_by_the_query_protocols(
    server: LiveServer,
) -> None:
    elb, ec2 = server.client("elbv2"), server.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    status, code, message = client_error(
        elb.create_target_group,
        Name="ctl-tag",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        Tags=[{"Key": "k", "Value": "v\x01"}],
    )
    assert (status, code) == (400, "ValidationError")
    assert message.startswith(
        "1 validation error detected: Value 'v\\x01' at 'Tags.member.1.Value'"
    )
    # a name that is only looked up: refused too, the message valid XML
    status, code, message = client_error(elb.describe_target_groups, Names=["x\x01"])
    assert (status, code) == (400, "ValidationError")
    assert "U+0001" in message
    assert client_error(ec2.describe_vpcs, Filters=[{"Name": "tag:k", "Values": ["\x00"]}])[:2] == (
        400,
        "InvalidParameterValue",
    )
    assert elb.describe_target_groups()["TargetGroups"]
    assert ec2.describe_security_groups()["SecurityGroups"]


def test_error_answers_that_echo_the_request_are_valid_xml(server: LiveServer) -> None:
    elb_form = {"Action": "Describe\x01Things", "Version": "2015-12-01"}
    assert xml_error(httpx.post(f"{server.url}/", data=elb_form)) == (400, "InvalidAction")
    ec2_form = {"Action": "DescribeVpcs", "Version": "2016-11-15", "Bo\x01gus": "x"}
    assert xml_error(httpx.post(f"{server.url}/", data=ec2_form)) == (400, "UnknownParameter")
    bad_integer = {"Action": "DescribeTargetGroups", "Version": "2015-12-01", "PageSize": "\x02"}
    assert xml_error(httpx.post(f"{server.url}/", data=bad_integer)) == (400, "ValidationError")


def test_text_stored_through_another_face_is_written_as_valid_xml(server: LiveServer) -> None:
    """The XML writer never writes what XML 1.0 cannot carry: a text stored below the
    facades (which refuse such a tag value now, as AWS does) reads back through boto3 with
    U+FFFD in its place (and a carriage return as itself)."""

    def store(w: Any) -> None:
        group = w.ec2.create_security_group(GroupName="noted", Description="noted")
        w.net.tag(group["GroupId"], {"note": "a\x01\rb"})

    server.call(store)
    groups = server.client("ec2").describe_security_groups()["SecurityGroups"]
    noted = next(g for g in groups if g["GroupName"] == "noted")
    assert noted["Tags"] == [{"Key": "note", "Value": "a\ufffd\rb"}]


# --- JSON nesting ---------------------------------------------------------------------------


def test_json_nested_5000_deep_is_a_serialization_exception(server: LiveServer) -> None:
    deep = "[" * 5000 + "]" * 5000
    r = json_post(server, f"{ECS_TARGET}.ListServices", '{"cluster": ' + deep + "}")
    assert r.status_code == 400
    assert r.json() == {
        "__type": "SerializationException",
        "message": f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
    }
    just_over = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH  # one more level: the object
    r = json_post(server, f"{ECS_TARGET}.ListServices", '{"cluster": ' + just_over + "}")
    assert (r.status_code, r.json()["__type"]) == (400, "SerializationException")
    r = json_post(server, f"{CW_TARGET}.ListMetrics", '{"Dimensions": ' + deep + "}", "1.0")
    assert (r.status_code, r.json()["__type"]) == (400, "SerializationException")
    assert r.headers["x-amzn-query-error"] == "SerializationException;Sender"
    assert server.client("ecs").list_services(cluster="home")["serviceArns"]


def test_json_nested_5000_deep_gets_the_native_apis_json_error(server: LiveServer) -> None:
    deep = "[" * 5000 + "]" * 5000
    r = httpx.post(f"{server.url}/ecsim/api/traffic/rate", content='{"rps": ' + deep + "}")
    assert r.status_code == 400
    assert r.json() == {
        "code": "ValidationError",
        "message": f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
    }
    r = httpx.post(f"{server.url}/ecsim/ui/command", content='{"cmd": ' + deep + "}")
    assert (r.status_code, r.json()["type"]) == (400, "error")


def test_a_lone_surrogate_echoed_by_the_native_api_is_valid_json(server: LiveServer) -> None:
    r = httpx.post(
        f"{server.url}/ecsim/api/chaos/kill-task",
        content=b'{"task": "\\ud800", "reason": "crash"}',
    )
    assert r.status_code == 400
    assert r.json()["code"] == "InvalidParameterException"
    assert "\ud800" in r.json()["message"]


# --- bodies ---------------------------------------------------------------------------------


def test_a_20_mb_body_is_refused_with_413_in_each_protocols_shape(server: LiveServer) -> None:
    names = ["a" * 100] * 200_000  # 20.6 MB of JSON, sent by boto3
    status, code, message = client_error(server.client("ecs").describe_clusters, clusters=names)
    assert (status, code) == (413, "RequestEntityTooLarge")
    assert message.endswith(f"exceeded {MAX_AWS_BODY} bytes")
    big = b"x" * (20 * 1024 * 1024)
    r = json_post(server, f"{CW_TARGET}.ListMetrics", big, "1.0")
    assert (r.status_code, r.json()["__type"]) == (413, "RequestEntityTooLarge")
    assert r.headers["x-amzn-query-error"] == "RequestEntityTooLarge;Sender"
    ec2 = server.client("ec2")  # the query protocol: EC2's error shape, as boto3 reads it
    status, code, _ = client_error(
        ec2.describe_vpcs, Filters=[{"Name": "tag:k", "Values": [big.decode()]}]
    )
    assert (status, code) == (413, "RequestEntityTooLarge")

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once the limit is read
        for _ in range(20):
            yield b"Action=DescribeLoadBalancers&Version=2015-12-01&" + b"x" * 1024 * 1024

    r = httpx.post(f"{server.url}/", content=chunks(), timeout=60)
    assert xml_error(r) == (413, "RequestEntityTooLarge")
    r = httpx.post(f"{server.url}/ecsim/api/traffic/rate", content=big, timeout=60)
    assert r.status_code == 413
    assert r.json()["code"] == "RequestEntityTooLarge"
    assert r.json()["message"].endswith(f"exceeded {MAX_NATIVE_BODY} bytes")
    r = httpx.post(f"{server.url}/ecsim/ui/command", content=big, timeout=60)
    assert r.status_code == 413  # the connection's own limit, for a route without one
    assert server.client("ecs").describe_clusters(clusters=["home"])["clusters"]


def test_ten_thousand_filters_are_read_in_linear_time() -> None:
    form = {f"Filter.{i}.Value.1": "x" for i in range(1, 10_001)}
    form.update({f"Filter.{i}.Name": "tag:k" for i in range(1, 10_001)})
    start = time.monotonic()
    params = query_protocol.parse_request(
        form, EC2.model.operation_model("DescribeInstances"), query_protocol.EC2
    )
    assert len(params["Filters"]) == 10_000
    assert time.monotonic() - start < 3  # was quadratic: 24 s


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    ["1e300", "-1e12", "NaN", "-Infinity", "1" + "0" * 400],
    ids=["1e300", "-1e12", "NaN", "-Infinity", "10**400"],
)
def test_a_cloudwatch_timestamp_out_of_range_is_an_invalid_parameter_value(
    server: LiveServer, start: str
) -> None:
    body = (
        '{"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount", "StartTime": '
        + start
        + ', "EndTime": 1767229200, "Period": 60, "Statistics": ["Sum"]}'
    )
    r = json_post(server, f"{CW_TARGET}.GetMetricStatistics", body, "1.0")
    assert r.status_code == 400
    assert r.json()["__type"] == "InvalidParameterValue"
    assert r.json()["message"].startswith("The parameter StartTime is not a valid timestamp")
    assert r.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"


def test_a_cloudwatch_timestamp_out_of_range_in_the_query_protocol(server: LiveServer) -> None:
    form = {
        "Action": "GetMetricData",
        "Version": "2010-08-01",
        "StartTime": "2026-01-01T00:00:00Z",
        "EndTime": "1e300",
        "MetricDataQueries.member.1.Id": "a",
        "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "RequestCount",
        "MetricDataQueries.member.1.MetricStat.Period": "60",
        "MetricDataQueries.member.1.MetricStat.Stat": "Sum",
    }
    assert xml_error(httpx.post(f"{server.url}/", data=form)) == (400, "InvalidParameterValue")


def test_nan_in_a_json_number_is_a_serialization_exception(server: LiveServer) -> None:
    body = (
        '{"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", '
        '"ResourceId": "service/home/home-service", "PolicyName": "nan", '
        '"PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": '
        '{"TargetValue": NaN, "PredefinedMetricSpecification": '
        '{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}'
    )
    r = json_post(server, "AnyScaleFrontendService.PutScalingPolicy", body)
    assert (r.status_code, r.json()["__type"]) == (400, "SerializationException")


def test_an_integer_beyond_64_bits_is_a_serialization_exception(server: LiveServer) -> None:
    """A JSON integer wider than any of AWS's (10**400): no facade turns it into a float."""
    scaling = server.client("application-autoscaling")
    target = {
        "ServiceNamespace": "ecs",
        "ScalableDimension": "ecs:service:DesiredCount",
        "ResourceId": "service/home/home-service",
    }
    desired = server.client("ecs").describe_services(cluster="home", services=["home-service"])
    count = desired["services"][0]["desiredCount"]
    scaling.register_scalable_target(**target, MinCapacity=count, MaxCapacity=count)
    body = (
        '{"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", '
        '"ResourceId": "service/home/home-service", "PolicyName": "wide", '
        '"PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": '
        '{"TargetValue": 50.0, "ScaleOutCooldown": 1' + "0" * 400 + ", "
        '"PredefinedMetricSpecification": {"PredefinedMetricType": '
        '"ECSServiceAverageCPUUtilization"}}}'
    )
    r = json_post(server, "AnyScaleFrontendService.PutScalingPolicy", body)
    scaling.deregister_scalable_target(**target)
    assert (r.status_code, r.json()["__type"]) == (400, "SerializationException")
    r = json_post(server, f"{ECS_TARGET}.ListServices", '{"maxResults": -1' + "0" * 400 + "}")
    assert (r.status_code, r.json()["__type"]) == (400, "SerializationException")


def test_numbers_written_as_text_of_5000_digits_are_refused(server: LiveServer) -> None:
    elb = server.client("elbv2")
    tg = elb.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    digits = "1" + "0" * 5000  # int() of it raises ValueError
    attribute = {"Key": "deregistration_delay.timeout_seconds", "Value": digits}
    status, code, _ = client_error(
        elb.modify_target_group_attributes, TargetGroupArn=tg, Attributes=[attribute]
    )
    assert (status, code) == (400, "ValidationError")
    status, code, _ = client_error(
        elb.modify_target_group, TargetGroupArn=tg, HealthCheckPort=digits
    )
    assert (status, code) == (400, "ValidationError")
    assert client_error(elb.describe_target_groups, Marker=digits)[:2] == (400, "ValidationError")
    assert client_error(elb.describe_target_groups, Marker="\u00b2")[:2] == (400, "ValidationError")


# --- the ALB's real port --------------------------------------------------------------------


def test_a_redirect_of_a_path_with_control_characters_is_answered(server: LiveServer) -> None:
    elb = server.client("elbv2")
    lb = elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]
    elb.create_rule(
        ListenerArn=listener,
        Priority=7,
        Conditions=[{"Field": "path-pattern", "Values": ["/hardening-redirect*"]}],
        Actions=[
            {"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301", "Path": "/#{path}"}}
        ],
    )
    r = httpx.get(f"{server.alb_url}/hardening-redirect%01%0d%0a%ff")
    assert r.status_code == 301
    assert r.headers["location"].endswith("/hardening-redirect%01%0d%0a%ff")


# --- connections ----------------------------------------------------------------------------


def _raw(url: str, payload: bytes) -> bytes:
    """Send `payload` on a new connection; everything the server answers until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(payload)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_request_heads_over_the_albs_limits_are_refused(server: LiveServer) -> None:
    long_line = b"GET /" + b"a" * 17_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    long_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 17_000 + b"\r\n\r\n"
    many = b"".join(b"X-%d: %s\r\n" % (i, b"b" * 10_000) for i in range(7))
    many_headers = b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    assert _raw(server.url, long_line).startswith(b"HTTP/1.1 414 ")
    assert _raw(server.url, long_header).startswith(b"HTTP/1.1 431 ")
    assert _raw(server.url, many_headers).startswith(b"HTTP/1.1 431 ")
    for payload in (long_line, long_header, many_headers):  # the ALB answers 400, its page
        answer = _raw(server.alb_url, payload)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert b"server: awselb/2.0" in answer
        assert answer.endswith(
            b"<center><h1>400 Bad Request</h1></center>\r\n</body>\r\n</html>\r\n"
        )
    assert httpx.get(f"{server.url}/ecsim/api/status").status_code == 200


def test_half_open_connections_are_closed_within_the_head_timeout(server: LiveServer) -> None:
    """200 connections on each port, half sending nothing, half a slowloris sending a header
    byte a second: each is closed within the head timeout (the slow ones answered 408), and
    the server answers meanwhile and afterwards."""
    timeout = connections.API.head_timeout
    assert connections.ALB.head_timeout == timeout
    socks: list[tuple[str, socket.socket]] = []
    start = time.monotonic()
    try:
        for url in (server.url, server.alb_url):
            host, port = url.removeprefix("http://").split(":")
            for i in range(200):
                s = socket.create_connection((host, int(port)), timeout=5)
                if i % 2:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                s.setblocking(False)
                socks.append((url, s))
        assert httpx.get(f"{server.url}/ecsim/api/status", timeout=5).status_code == 200
        assert httpx.get(f"{server.alb_url}/", timeout=5).status_code == 200
        closed: dict[int, float] = {}
        answers: dict[int, bytes] = {}
        last_drip = 0.0
        while len(closed) < len(socks) and time.monotonic() - start < timeout + 10:
            drip = time.monotonic() - last_drip >= 1
            for i, (_, s) in enumerate(socks):
                if i in closed:
                    continue
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    if drip and i % 2:
                        try:
                            s.send(b"a")
                        except OSError:
                            closed[i] = time.monotonic() - start
                    continue
                except OSError:
                    data = b""
                if data:
                    answers[i] = answers.get(i, b"") + data
                else:
                    closed[i] = time.monotonic() - start
            if drip:
                last_drip = time.monotonic()
            time.sleep(0.05)
    finally:
        for _, s in socks:
            s.close()
    assert len(closed) == len(socks)
    assert max(closed.values()) < timeout + 5
    assert min(closed.values()) >= timeout - 1
    assert sorted(answers) == [i for i in range(len(socks)) if i % 2]
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers.values())
    assert httpx.get(f"{server.url}/ecsim/api/status", timeout=5).status_code == 200
    assert httpx.get(f"{server.alb_url}/", timeout=5).status_code == 200


@pytest.fixture
def quick_wire() -> Iterator[str]:
    """A small app served with a `Wire` of 1-second timeouts and a 1 KiB body limit."""

    async def echo(request: Request) -> Response:
        return Response(await request.body())

    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    with serving(
        app, connections.Wire("quick", head_timeout=1, body_timeout=1, max_body=1024)
    ) as url:
        yield url


def test_a_slow_body_and_a_body_over_the_connection_limit(quick_wire: str) -> None:
    host, port = quick_wire.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        start = time.monotonic()
        answer = s.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"the request body did not arrive within 1 s" in answer
        assert time.monotonic() - start < 3
    chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n"
    assert _raw(quick_wire, chunked).startswith(b"HTTP/1.1 413 ")
    r = httpx.post(quick_wire + "/", content=b"fine")
    assert (r.status_code, r.content) == (200, b"fine")
