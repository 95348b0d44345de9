"""`w.elbv2`: boto3 names and shapes, AWS validation and error codes, and health over time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from ecsim.model.elbv2.health import ProbeResult
from ecsim.model.errors import AwsError
from ecsim.model.events import TargetHealthChanged
from ecsim.model.world import World
from tests.support.worlds import default_subnets, make_lb, make_listener, make_tg

ARN_PREFIX = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"


# --- helpers --------------------------------------------------------------------------------


@contextmanager
def error(code: str, match: str | None = None) -> Iterator[None]:
    """Expect an AwsError with `code` whose message matches the regex `match`."""
    with pytest.raises(AwsError) as info:
        yield
    err = info.value
    assert err.code == code, f"expected {code}, got {err.code}: {err.message}"
    if match is not None:
        assert re.search(match, err.message), err.message


def health(w: World, tg: str, **kwargs: Any) -> list[dict[str, Any]]:
    out = w.elbv2.describe_target_health(TargetGroupArn=tg, **kwargs)
    return list(out["TargetHealthDescriptions"])


class Answering:
    """A stand-in for a task's endpoint: every health check passes after `duration` s."""

    def __init__(self, passed: bool = True, duration: float = 0.01) -> None:
        self.result = ProbeResult(passed, duration=duration)

    def probe(self, now: float, port: int, path: str, timeout: float, matcher: str) -> ProbeResult:
        return self.result


@pytest.fixture
def w() -> World:
    return World(seed=1)


# --- load balancers -------------------------------------------------------------------------


def test_create_load_balancer_answers_boto3_shape(w: World) -> None:
    subnets = sorted(w.net.default_subnets(), key=lambda s: s.az)
    out = w.elbv2.create_load_balancer(Name="web", Subnets=[subnets[1].id, subnets[0].id])
    lb = out["LoadBalancers"][0]
    assert re.fullmatch(ARN_PREFIX + r"loadbalancer/app/web/[0-9a-f]{16}", lb["LoadBalancerArn"])
    assert re.fullmatch(r"web-\d{10}\.us-east-1\.elb\.amazonaws\.com", lb["DNSName"])
    assert lb["State"] == {"Code": "provisioning"}
    assert lb["Type"] == "application"
    assert lb["Scheme"] == "internet-facing"
    assert lb["IpAddressType"] == "ipv4"
    assert lb["CanonicalHostedZoneId"] == "Z35SXDOTRQ7X7K"
    assert lb["CreatedTime"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert lb["VpcId"] == w.net.default_vpc.id
    assert lb["AvailabilityZones"] == [
        {"ZoneName": "us-east-1a", "SubnetId": subnets[0].id, "LoadBalancerAddresses": []},
        {"ZoneName": "us-east-1b", "SubnetId": subnets[1].id, "LoadBalancerAddresses": []},
    ]
    default_sg = [
        g.id
        for g in w.net.security_groups.values()
        if g.name == "default" and g.vpc_id == lb["VpcId"]
    ]
    assert lb["SecurityGroups"] == default_sg


def test_internal_load_balancer_dns_name_has_internal_prefix(w: World) -> None:
    out = w.elbv2.create_load_balancer(Name="api", Subnets=default_subnets(w), Scheme="internal")
    lb = out["LoadBalancers"][0]
    assert lb["Scheme"] == "internal"
    assert re.fullmatch(r"internal-api-\d{10}\.us-east-1\.elb\.amazonaws\.com", lb["DNSName"])


def test_load_balancer_turns_active_within_the_provisioning_window(w: World) -> None:
    arn = make_lb(w)
    lo, hi = w.settings.elb.provisioning
    assert (lo, hi) == (30.0, 60.0)
    w.advance(lo - 0.1)
    state = w.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["State"]
    assert state == {"Code": "provisioning"}
    w.advance(hi - lo + 0.2)
    state = w.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["State"]
    assert state == {"Code": "active"}


def test_load_balancer_takes_one_node_ip_per_subnet_and_gives_them_back(w: World) -> None:
    subnets = w.net.default_subnets()
    assert [s.available for s in subnets] == [251, 251, 251]
    arn = make_lb(w)
    assert [s.available for s in subnets] == [250, 250, 250]
    owned = [ip for ip, owner in w.net.ip_owner.items() if owner == arn]
    assert len(owned) == 3
    w.elbv2.delete_load_balancer(LoadBalancerArn=arn)
    assert [s.available for s in subnets] == [251, 251, 251]
    assert arn not in w.net.ip_owner.values()


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("a" * 33, "cannot be longer than '32' characters"),
        ("web_1", "alphanumeric characters or hyphens"),
        ("-web", "cannot begin or end with '-'"),
        ("web-", "cannot begin or end with '-'"),
        ("internal-web", "cannot begin with 'internal-'"),
    ],
)
def test_load_balancer_names_follow_aws_rules(w: World, name: str, match: str) -> None:
    with error("ValidationError", match):
        w.elbv2.create_load_balancer(Name=name, Subnets=default_subnets(w))


def test_a_32_character_name_is_accepted(w: World) -> None:
    arn = make_lb(w, name="a" * 32)
    assert arn.split("/")[2] == "a" * 32


def test_only_application_load_balancers_are_modelled(w: World) -> None:
    with error("ValidationError", "Application Load Balancers only"):
        w.elbv2.create_load_balancer(Name="n", Subnets=default_subnets(w), Type="network")
    with error("ValidationError", "enum value set"):
        w.elbv2.create_load_balancer(Name="n", Subnets=default_subnets(w), Type="classic")


def test_load_balancer_needs_two_azs_of_known_subnets(w: World) -> None:
    subnets = default_subnets(w)
    with error("ValidationError", "At least two subnets in two different Availability Zones"):
        w.elbv2.create_load_balancer(Name="web", Subnets=subnets[:1])
    with error("ValidationError", "At least two subnets"):
        w.elbv2.create_load_balancer(Name="web")
    with error("SubnetNotFound", "subnet-0000"):
        w.elbv2.create_load_balancer(Name="web", Subnets=[subnets[0], "subnet-0000"])
    extra = w.ec2.create_subnet(
        VpcId=w.net.default_vpc.id, CidrBlock="10.0.10.0/24", AvailabilityZone="us-east-1a"
    )["Subnet"]["SubnetId"]
    first_a = next(s.id for s in w.net.default_subnets() if s.az == "us-east-1a")
    with error("InvalidConfigurationRequest", "More than 1 subnet cannot be specified"):
        w.elbv2.create_load_balancer(Name="web", Subnets=[first_a, extra])
    assert w.elb.load_balancers == {}


def test_security_groups_must_belong_to_the_load_balancers_vpc(w: World) -> None:
    web = w.ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    other_vpc = w.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    elsewhere = w.ec2.create_security_group(GroupName="web", Description="web", VpcId=other_vpc)[
        "GroupId"
    ]
    with error("InvalidSecurityGroup", elsewhere):
        make_lb(w, SecurityGroups=[elsewhere])
    with error("InvalidSecurityGroup", "sg-0"):
        make_lb(w, SecurityGroups=["sg-0"])
    arn = make_lb(w, SecurityGroups=[web])
    shape = w.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert shape["SecurityGroups"] == [web]


def test_subnet_mappings_work_like_subnets(w: World) -> None:
    subnets = default_subnets(w)
    out = w.elbv2.create_load_balancer(
        Name="web", SubnetMappings=[{"SubnetId": s} for s in subnets[:2]]
    )
    zones = [z["SubnetId"] for z in out["LoadBalancers"][0]["AvailabilityZones"]]
    assert sorted(zones) == sorted(subnets[:2])


def test_create_load_balancer_is_idempotent_for_identical_settings(w: World) -> None:
    first = make_lb(w)
    assert make_lb(w) == first
    assert len(w.elb.load_balancers) == 1
    with error("DuplicateLoadBalancerName", "same name 'web' exists, but with different settings"):
        make_lb(w, Scheme="internal")


def test_describe_load_balancers_filters_and_reports_unknown_names(w: World) -> None:
    a = make_lb(w, "a")
    b = make_lb(w, "b")
    everything = w.elbv2.describe_load_balancers()["LoadBalancers"]
    assert [lb["LoadBalancerArn"] for lb in everything] == [a, b]
    by_name = w.elbv2.describe_load_balancers(Names=["b"])["LoadBalancers"]
    assert [lb["LoadBalancerName"] for lb in by_name] == ["b"]
    with error("LoadBalancerNotFound", r"^Load balancers '\[nope\]' not found$"):
        w.elbv2.describe_load_balancers(Names=["a", "nope"])
    with error("LoadBalancerNotFound"):
        w.elbv2.describe_load_balancers(LoadBalancerArns=[a + "0"])
    with error("ValidationError", "cannot be specified at the same time"):
        w.elbv2.describe_load_balancers(Names=["a"], LoadBalancerArns=[a])


def test_describe_load_balancers_pages_with_marker(w: World) -> None:
    a, b, c = make_lb(w, "a"), make_lb(w, "b"), make_lb(w, "c")
    page = w.elbv2.describe_load_balancers(PageSize=2)
    assert [lb["LoadBalancerArn"] for lb in page["LoadBalancers"]] == [a, b]
    rest = w.elbv2.describe_load_balancers(PageSize=2, Marker=page["NextMarker"])
    assert [lb["LoadBalancerArn"] for lb in rest["LoadBalancers"]] == [c]
    assert "NextMarker" not in rest


def test_delete_load_balancer_is_idempotent_and_respects_deletion_protection(w: World) -> None:
    arn = make_lb(w)
    w.elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
    )
    with error("OperationNotPermitted", "deletion protection"):
        w.elbv2.delete_load_balancer(LoadBalancerArn=arn)
    w.elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
    )
    assert w.elbv2.delete_load_balancer(LoadBalancerArn=arn) == {}
    assert w.elbv2.delete_load_balancer(LoadBalancerArn=arn) == {}
    with error("LoadBalancerNotFound"):
        w.elbv2.describe_load_balancers(LoadBalancerArns=[arn])


def test_delete_load_balancer_deletes_its_listeners(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    listener = make_listener(w, lb, tg)
    w.elbv2.delete_load_balancer(LoadBalancerArn=lb)
    with error("ListenerNotFound"):
        w.elbv2.describe_listeners(ListenerArns=[listener])
    w.elbv2.delete_target_group(TargetGroupArn=tg)  # no longer in use
    assert w.elb.target_groups == {}


def test_load_balancer_attributes(w: World) -> None:
    arn = make_lb(w)
    attrs = {
        a["Key"]: a["Value"]
        for a in w.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    }
    assert attrs["idle_timeout.timeout_seconds"] == "60"
    assert attrs["deletion_protection.enabled"] == "false"
    assert attrs["access_logs.s3.bucket"] == ""
    out = w.elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]
    )
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in out["Attributes"]
    assert w.elb.load_balancers[arn].idle_timeout == 120.0
    with error("ValidationError", "between '1-4000'"):
        w.elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "4001"}],
        )
    with error("ValidationError", "not recognized"):
        w.elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "idle.timeout", "Value": "1"}]
        )
    with error("InvalidConfigurationRequest", "Cross-zone"):
        w.elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "false"}],
        )
    assert w.elb.load_balancers[arn].idle_timeout == 120.0


def test_unknown_parameter_is_a_validation_error(w: World) -> None:
    with error("ValidationError", 'Unknown parameter in input: "Subnet"'):
        w.elbv2.create_load_balancer(Name="web", Subnet=default_subnets(w))
    with error("ValidationError", 'Missing required parameter in input: "Name"'):
        w.elbv2.create_load_balancer(Subnets=default_subnets(w))


# --- target groups --------------------------------------------------------------------------


def test_create_target_group_uses_alb_defaults(w: World) -> None:
    out = w.elbv2.create_target_group(
        Name="web-tg", Protocol="HTTP", Port=8080, VpcId=w.net.default_vpc.id
    )
    tg = out["TargetGroups"][0]
    assert re.fullmatch(ARN_PREFIX + r"targetgroup/web-tg/[0-9a-f]{16}", tg["TargetGroupArn"])
    assert tg == {
        "TargetGroupArn": tg["TargetGroupArn"],
        "TargetGroupName": "web-tg",
        "Protocol": "HTTP",
        "Port": 8080,
        "VpcId": w.net.default_vpc.id,
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
        "HealthCheckPath": "/",
        "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": [],
        "TargetType": "instance",
        "ProtocolVersion": "HTTP1",
        "IpAddressType": "ipv4",
    }


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("HealthCheckIntervalSeconds", 4),
        ("HealthCheckIntervalSeconds", 301),
        ("HealthCheckTimeoutSeconds", 1),
        ("HealthCheckTimeoutSeconds", 121),
        ("HealthyThresholdCount", 1),
        ("HealthyThresholdCount", 11),
        ("UnhealthyThresholdCount", 1),
        ("UnhealthyThresholdCount", 11),
    ],
)
def test_health_check_ranges(w: World, setting: str, value: int) -> None:
    with error("ValidationError", str(value)):
        make_tg(w, "web-tg", **{setting: value})
    assert w.elb.target_groups == {}


def test_health_check_range_edges_are_accepted(w: World) -> None:
    make_tg(
        w,
        "low",
        HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
    )
    make_tg(
        w,
        "high",
        HealthCheckIntervalSeconds=300,
        HealthCheckTimeoutSeconds=120,
        HealthyThresholdCount=10,
        UnhealthyThresholdCount=10,
    )
    assert sorted(g.name for g in w.elb.target_groups.values()) == ["high", "low"]


def test_health_check_timeout_must_be_below_interval(w: World) -> None:
    with error(
        "ValidationError", "Health check timeout '10' must be smaller than the interval '10'"
    ):
        make_tg(w, HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=10)
    with error("ValidationError", "timeout '5' must be smaller than the interval '5'"):
        make_tg(w, HealthCheckIntervalSeconds=5)


@pytest.mark.parametrize("code", ["200", "200,202", "200-299", "200-299,404", "499"])
def test_matcher_accepts_codes_lists_and_ranges(w: World, code: str) -> None:
    tg = make_tg(w, Matcher={"HttpCode": code})
    assert w.elb.target_groups[tg].health.matcher == code


@pytest.mark.parametrize("code", ["199", "500", "200-500", "abc", "300-200", ""])
def test_matcher_outside_200_499_is_refused(w: World, code: str) -> None:
    with error("ValidationError"):
        make_tg(w, Matcher={"HttpCode": code})


def test_target_group_validation(w: World) -> None:
    with error("ValidationError", "Health checks cannot be disabled"):
        make_tg(w, HealthCheckEnabled=False)
    with error("ValidationError", "HTTP, HTTPS"):
        make_tg(w, Protocol="TCP")
    with error("ValidationError", "A VPC ID must be specified"):
        w.elbv2.create_target_group(Name="x", Protocol="HTTP", Port=80)
    with error("ValidationError", "The VPC ID 'vpc-0' is not found"):
        make_tg(w, VpcId="vpc-0")
    with error("ValidationError", "cannot be longer than '32' characters"):
        make_tg(w, name="t" * 33)
    with error("ValidationError", "'instance' and 'ip' only"):
        make_tg(w, TargetType="lambda")
    with error("ValidationError", "valid min value: 1"):
        make_tg(w, Port=0)


def test_create_target_group_is_idempotent_for_identical_settings(w: World) -> None:
    first = make_tg(w, HealthCheckIntervalSeconds=10)
    assert make_tg(w, HealthCheckIntervalSeconds=10) == first
    with error("DuplicateTargetGroupName", "same name 'web-tg' exists, but with different"):
        make_tg(w, HealthCheckIntervalSeconds=15)


def test_modify_target_group_changes_health_checks(w: World) -> None:
    tg = make_tg(w)
    out = w.elbv2.modify_target_group(
        TargetGroupArn=tg,
        HealthCheckIntervalSeconds=10,
        HealthCheckPath="/health",
        Matcher={"HttpCode": "200-399"},
    )
    shape = out["TargetGroups"][0]
    assert shape["HealthCheckIntervalSeconds"] == 10
    assert shape["HealthCheckTimeoutSeconds"] == 5
    assert shape["HealthCheckPath"] == "/health"
    assert shape["Matcher"] == {"HttpCode": "200-399"}
    with error("ValidationError", "must be smaller than the interval"):
        w.elbv2.modify_target_group(TargetGroupArn=tg, HealthCheckTimeoutSeconds=10)
    assert w.elb.target_groups[tg].health.timeout == 5
    with error("TargetGroupNotFound"):
        w.elbv2.modify_target_group(TargetGroupArn=tg + "0", HealthCheckIntervalSeconds=10)


def test_describe_target_groups_by_name_arn_and_load_balancer(w: World) -> None:
    lb = make_lb(w)
    a, b = make_tg(w, "b-tg"), make_tg(w, "a-tg")
    make_listener(w, lb, a)
    names = [g["TargetGroupName"] for g in w.elbv2.describe_target_groups()["TargetGroups"]]
    assert names == ["a-tg", "b-tg"]
    on_lb = w.elbv2.describe_target_groups(LoadBalancerArn=lb)["TargetGroups"]
    assert [g["TargetGroupArn"] for g in on_lb] == [a]
    assert on_lb[0]["LoadBalancerArns"] == [lb]
    by_arn = w.elbv2.describe_target_groups(TargetGroupArns=[b])["TargetGroups"]
    assert by_arn[0]["LoadBalancerArns"] == []
    with error("TargetGroupNotFound", "^One or more target groups not found$"):
        w.elbv2.describe_target_groups(Names=["a-tg", "zzz"])
    with error("ValidationError", "cannot be specified at the same time"):
        w.elbv2.describe_target_groups(Names=["a-tg"], TargetGroupArns=[a])


def test_delete_target_group_refused_while_in_use(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    listener = make_listener(w, lb, tg)
    with error("ResourceInUse", "currently in use by a listener or a rule"):
        w.elbv2.delete_target_group(TargetGroupArn=tg)
    w.elbv2.delete_listener(ListenerArn=listener)
    assert w.elbv2.delete_target_group(TargetGroupArn=tg) == {}
    assert w.elbv2.delete_target_group(TargetGroupArn=tg) == {}
    with error("TargetGroupNotFound"):
        w.elbv2.describe_target_groups(TargetGroupArns=[tg])


def test_target_group_attributes_defaults_and_ranges(w: World) -> None:
    tg = make_tg(w)
    attrs = {
        a["Key"]: a["Value"]
        for a in w.elbv2.describe_target_group_attributes(TargetGroupArn=tg)["Attributes"]
    }
    assert attrs["deregistration_delay.timeout_seconds"] == "300"
    assert attrs["stickiness.enabled"] == "false"
    assert attrs["stickiness.type"] == "lb_cookie"
    assert attrs["stickiness.lb_cookie.duration_seconds"] == "86400"
    assert attrs["slow_start.duration_seconds"] == "0"
    assert attrs["load_balancing.algorithm.type"] == "round_robin"

    def modify(key: str, value: str) -> None:
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=tg, Attributes=[{"Key": key, "Value": value}]
        )

    modify("deregistration_delay.timeout_seconds", "0")
    modify("deregistration_delay.timeout_seconds", "3600")
    assert w.elb.target_groups[tg].deregistration_delay == 3600.0
    for bad in ("3601", "-1", "ten"):
        with error("ValidationError", "between '0-3600'"):
            modify("deregistration_delay.timeout_seconds", bad)
    for good in ("0", "30", "900"):
        modify("slow_start.duration_seconds", good)
    for bad in ("29", "901", "10"):
        with error("ValidationError", "'0' or between '30-900'"):
            modify("slow_start.duration_seconds", bad)
    with error("ValidationError", "must be one of"):
        modify("load_balancing.algorithm.type", "random")
    with error("ValidationError", "not recognized"):
        modify("deregistration_delay", "30")


def test_slow_start_and_least_outstanding_requests_exclude_each_other(w: World) -> None:
    tg = make_tg(w)
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[
            {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}
        ],
    )
    with error("InvalidConfigurationRequest", "slow start and least outstanding requests"):
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=tg, Attributes=[{"Key": "slow_start.duration_seconds", "Value": "60"}]
        )
    other = make_tg(w, "other")
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=other, Attributes=[{"Key": "slow_start.duration_seconds", "Value": "60"}]
    )
    with error("InvalidConfigurationRequest", "slow start and least outstanding requests"):
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=other,
            Attributes=[
                {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}
            ],
        )
    assert w.elb.target_groups[other].algorithm == "round_robin"


def test_modify_target_group_attributes_is_all_or_nothing(w: World) -> None:
    tg = make_tg(w)
    with error("ValidationError"):
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=tg,
            Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
                {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "0"},
            ],
        )
    assert w.elb.target_groups[tg].deregistration_delay == 300.0
    out = w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
            {"Key": "slow_start.duration_seconds", "Value": "60"},
        ],
    )
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in out["Attributes"]
    assert {"Key": "slow_start.duration_seconds", "Value": "60"} in out["Attributes"]
    with error("ValidationError", "expected a string"):
        w.elbv2.modify_target_group_attributes(
            TargetGroupArn=tg, Attributes=[{"Key": "slow_start.duration_seconds", "Value": 30}]
        )


# --- listeners and rules --------------------------------------------------------------------


def test_create_listener_answers_forward_in_aws_form(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    out = w.elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    listener = out["Listeners"][0]
    lb_tail = lb.split(":loadbalancer/")[1]
    assert re.fullmatch(
        re.escape(ARN_PREFIX + "listener/" + lb_tail) + r"/[0-9a-f]{16}", listener["ListenerArn"]
    )
    assert listener["DefaultActions"] == [
        {
            "Type": "forward",
            "TargetGroupArn": tg,
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": tg, "Weight": 1}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]
    assert (listener["Port"], listener["Protocol"], listener["LoadBalancerArn"]) == (80, "HTTP", lb)
    rules = w.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    assert len(rules) == 1
    assert rules[0]["Priority"] == "default"
    assert rules[0]["IsDefault"] is True
    assert rules[0]["Conditions"] == []
    assert rules[0]["Actions"] == listener["DefaultActions"]
    assert rules[0]["RuleArn"].startswith(ARN_PREFIX + "listener-rule/" + lb_tail + "/")


def test_create_listener_is_idempotent_and_refuses_a_second_on_the_port(w: World) -> None:
    lb, tg, other = make_lb(w), make_tg(w), make_tg(w, "other")
    first = make_listener(w, lb, tg)
    assert make_listener(w, lb, tg) == first
    with error("DuplicateListener"):
        make_listener(w, lb, other)
    assert make_listener(w, lb, other, port=8080) != first
    listeners = w.elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"]
    assert [x["Port"] for x in listeners] == [80, 8080]


def test_a_target_group_serves_one_load_balancer(w: World) -> None:
    tg = make_tg(w)
    make_listener(w, make_lb(w, "one"), tg)
    with error("TargetGroupAssociationLimit", "more than one load balancer"):
        make_listener(w, make_lb(w, "two"), tg)


def test_listener_validation(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    action = [{"Type": "forward", "TargetGroupArn": tg}]
    with error("ValidationError", "HTTP listeners only"):
        w.elbv2.create_listener(
            LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=action
        )
    with error("ValidationError", "A listener port must be specified"):
        w.elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", DefaultActions=action)
    with error("TargetGroupNotFound", "not found"):
        w.elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg + "0"}],
        )
    with error("LoadBalancerNotFound"):
        make_listener(w, lb + "0", tg)
    with error("ValidationError", "Missing required parameter"):
        w.elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80)
    with error("ValidationError", "authenticate-oidc"):
        w.elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "authenticate-oidc"}],
        )
    assert w.elb.load_balancers[lb].listeners == {}


def test_fixed_response_and_redirect_default_actions(w: World) -> None:
    lb = make_lb(w)
    out = w.elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {
                    "StatusCode": "503",
                    "ContentType": "text/plain",
                    "MessageBody": "down",
                },
            }
        ],
    )
    assert out["Listeners"][0]["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {
                "StatusCode": "503",
                "ContentType": "text/plain",
                "MessageBody": "down",
            },
        }
    ]
    with error("ValidationError", "statusCode"):
        w.elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=81,
            DefaultActions=[
                {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "302"}}
            ],
        )
    out = w.elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=82,
        DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301", "Port": "80"}}
        ],
    )
    assert out["Listeners"][0]["DefaultActions"][0]["RedirectConfig"] == {
        "Protocol": "#{protocol}",
        "Port": "80",
        "Host": "#{host}",
        "Path": "/#{path}",
        "Query": "#{query}",
        "StatusCode": "HTTP_301",
    }


def test_rules_are_ordered_by_priority_with_the_default_last(w: World) -> None:
    lb, tg, api = make_lb(w), make_tg(w), make_tg(w, "api")
    listener = make_listener(w, lb, tg)
    forward = [{"Type": "forward", "TargetGroupArn": api}]
    r20 = w.elbv2.create_rule(
        ListenerArn=listener,
        Priority=20,
        Actions=forward,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}}],
    )["Rules"][0]
    r10 = w.elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Actions=forward,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
    )["Rules"][0]
    assert r10["Priority"] == "10"
    assert r10["IsDefault"] is False
    assert r10["Conditions"] == [
        {"Field": "path-pattern", "Values": ["/api/*"], "PathPatternConfig": {"Values": ["/api/*"]}}
    ]
    assert r20["Conditions"] == [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}}
    ]
    rules = w.elbv2.describe_rules(ListenerArn=listener)["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "20", "default"]
    assert [r["IsDefault"] for r in rules] == [False, False, True]
    by_arn = w.elbv2.describe_rules(RuleArns=[r20["RuleArn"]])["Rules"]
    assert [r["Priority"] for r in by_arn] == ["20"]


def test_rule_priority_rules(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    listener = make_listener(w, lb, tg)
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    cond = [{"Field": "path-pattern", "Values": ["/a"]}]
    w.elbv2.create_rule(ListenerArn=listener, Priority=1, Conditions=cond, Actions=forward)
    with error("PriorityInUse", "Priority '1' is currently in use"):
        w.elbv2.create_rule(ListenerArn=listener, Priority=1, Conditions=cond, Actions=forward)
    with error("ValidationError", "valid min value: 1"):
        w.elbv2.create_rule(ListenerArn=listener, Priority=0, Conditions=cond, Actions=forward)
    with error("ValidationError", "valid max value: 50000"):
        w.elbv2.create_rule(ListenerArn=listener, Priority=50001, Conditions=cond, Actions=forward)
    top = w.elbv2.create_rule(
        ListenerArn=listener, Priority=50000, Conditions=cond, Actions=forward
    )["Rules"][0]
    assert top["Priority"] == "50000"


def test_weighted_forward_weights_0_to_999(w: World) -> None:
    lb, blue, green = make_lb(w), make_tg(w, "blue"), make_tg(w, "green")
    listener = make_listener(w, lb, blue)

    def weighted(b: int, g: int) -> dict[str, Any]:
        return w.elbv2.create_rule(
            ListenerArn=listener,
            Priority=b + g + 1,
            Conditions=[{"Field": "path-pattern", "Values": [f"/{b}"]}],
            Actions=[
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": blue, "Weight": b},
                            {"TargetGroupArn": green, "Weight": g},
                        ]
                    },
                }
            ],
        )

    rule = weighted(0, 999)["Rules"][0]
    assert rule["Actions"] == [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": blue, "Weight": 0},
                    {"TargetGroupArn": green, "Weight": 999},
                ],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]
    with error("ValidationError", "less than or equal to 999"):
        weighted(1, 1000)
    groups = w.elbv2.describe_target_groups(LoadBalancerArn=lb)["TargetGroups"]
    assert sorted(g["TargetGroupName"] for g in groups) == ["blue", "green"]


def test_condition_validation(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    listener = make_listener(w, lb, tg)
    forward = [{"Type": "forward", "TargetGroupArn": tg}]

    def rule(conditions: list[dict[str, Any]]) -> None:
        w.elbv2.create_rule(
            ListenerArn=listener, Priority=5, Conditions=conditions, Actions=forward
        )

    with error("ValidationError", "host-header and path-pattern conditions only"):
        rule(
            [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X", "Values": ["y"]}}]
        )
    with error("ValidationError", "must be one of"):
        rule([{"Field": "cookie", "Values": ["a"]}])
    with error("ValidationError", "too many values; the limit is '1'"):
        rule([{"Field": "path-pattern", "Values": ["/a", "/b"]}])
    with error("ValidationError", "cannot provide both Values"):
        rule([{"Field": "path-pattern", "Values": ["/a"], "PathPatternConfig": {"Values": ["/b"]}}])
    with error("ValidationError", "at most '5' condition values"):
        rule(
            [
                {
                    "Field": "path-pattern",
                    "PathPatternConfig": {"Values": [f"/{i}" for i in range(6)]},
                }
            ]
        )
    with error("ValidationError", "at least one condition"):
        rule([])
    assert w.elbv2.describe_rules(ListenerArn=listener)["Rules"][0]["IsDefault"] is True


def test_modify_and_delete_rules(w: World) -> None:
    lb, tg, api = make_lb(w), make_tg(w), make_tg(w, "api")
    listener = make_listener(w, lb, tg)
    arn = w.elbv2.create_rule(
        ListenerArn=listener,
        Priority=3,
        Actions=[{"Type": "forward", "TargetGroupArn": tg}],
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
    )["Rules"][0]["RuleArn"]
    out = w.elbv2.modify_rule(RuleArn=arn, Actions=[{"Type": "forward", "TargetGroupArn": api}])
    assert out["Rules"][0]["Actions"][0]["TargetGroupArn"] == api
    assert out["Rules"][0]["Conditions"][0]["Values"] == ["/api/*"]
    moved = w.elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": arn, "Priority": 7}])
    assert moved["Rules"][0]["Priority"] == "7"
    default = w.elbv2.describe_rules(ListenerArn=listener)["Rules"][-1]["RuleArn"]
    with error("OperationNotPermitted"):
        w.elbv2.delete_rule(RuleArn=default)
    assert w.elbv2.delete_rule(RuleArn=arn) == {}
    with error("RuleNotFound", "^One or more rules not found$"):
        w.elbv2.describe_rules(RuleArns=[arn])
    with error("RuleNotFound"):
        w.elbv2.delete_rule(RuleArn=arn)
    w.elbv2.delete_target_group(TargetGroupArn=api)  # the rule was its only user


# --- targets and health ---------------------------------------------------------------------


def test_register_ip_targets_must_be_in_the_vpc(w: World) -> None:
    tg = make_tg(w)
    with error("InvalidTarget", f"not in the target group VPC '{w.net.default_vpc.id}'"):
        w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "192.168.1.5"}])
    with error("InvalidTarget", "not a valid IPv4 address"):
        w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "web-1"}])
    with error("InvalidTarget"):  # all-or-nothing: the valid first target is not registered
        w.elbv2.register_targets(
            TargetGroupArn=tg, Targets=[{"Id": "10.0.1.77"}, {"Id": "8.8.8.8"}]
        )
    assert w.elb.target_groups[tg].targets == {}
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.2.77"}])
    target = w.elb.target_groups[tg].targets[("10.0.2.77", 80)]
    assert target.az == "us-east-1b"
    w.elbv2.register_targets(
        TargetGroupArn=tg, Targets=[{"Id": "192.168.1.5", "Port": 8080, "AvailabilityZone": "all"}]
    )
    assert w.elb.target_groups[tg].targets[("192.168.1.5", 8080)].az is None


def test_register_instance_targets_needs_a_running_instance(w: World) -> None:
    tg = make_tg(w, TargetType="instance")
    with error("InvalidTarget", "Instance ID 'i-0123456789abcdef0' is not valid"):
        w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "i-0123456789abcdef0"}])
    subnet = next(s for s in w.net.default_subnets() if s.az == "us-east-1c")
    instance = w.instances.launch("t3.small", "ami-0", subnet, None)
    with error("InvalidTarget", "not in a running state"):
        w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance.id}])
    w.advance(w.settings.ec2.instance_boot[1] + 1)
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance.id, "Port": 8080}])
    [shape] = health(w, tg)
    assert shape["Target"] == {"Id": instance.id, "Port": 8080}


def test_too_many_targets(w: World) -> None:
    big = w.ec2.create_subnet(
        VpcId=w.net.default_vpc.id, CidrBlock="10.0.16.0/20", AvailabilityZone="us-east-1a"
    )["Subnet"]
    assert big["AvailableIpAddressCount"] == 4091
    tg = make_tg(w)
    targets = [{"Id": f"10.0.{16 + i // 250}.{i % 250 + 4}"} for i in range(1000)]
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=targets)
    assert len(health(w, tg)) == 1000
    with error("TooManyTargets"):
        w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.31.4"}])
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.16.4"}])  # already there


def test_targets_of_an_unused_group_are_unused_until_a_listener_uses_it(w: World) -> None:
    tg = make_tg(w)
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.1.50"}])
    assert health(w, tg) == [
        {
            "Target": {"Id": "10.0.1.50", "Port": 80, "AvailabilityZone": "us-east-1a"},
            "TargetHealth": {
                "State": "unused",
                "Reason": "Target.NotInUse",
                "Description": "Target group is not configured to receive traffic from the load balancer",
            },
        }
    ]
    make_listener(w, make_lb(w), tg)
    assert health(w, tg) == [
        {
            "Target": {"Id": "10.0.1.50", "Port": 80, "AvailabilityZone": "us-east-1a"},
            "HealthCheckPort": "80",
            "TargetHealth": {
                "State": "initial",
                "Reason": "Elb.RegistrationInProgress",
                "Description": "Target registration is in progress",
            },
        }
    ]


def test_an_unanswered_target_turns_unhealthy_with_timeout(w: World) -> None:
    """Nothing owns 10.0.1.200: every probe times out after 5 s. The first probe follows the
    registration delay (settings.elb.registration, 2-4 s); the second comes one interval
    later; two failures (UnhealthyThresholdCount) make it unhealthy at r + 30 + 5."""
    lb, tg = make_lb(w), make_tg(w)
    make_listener(w, lb, tg)
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.1.200"}])
    w.advance(5)
    [shape] = health(w, tg)
    assert shape["TargetHealth"] == {
        "State": "initial",
        "Reason": "Elb.InitialHealthChecking",
        "Description": "Initial health checks in progress",
    }
    events = [e for e in w.events() if isinstance(e, TargetHealthChanged)]
    checking = next(e for e in events if e.reason == "Elb.InitialHealthChecking")
    r = checking.time
    assert 2.0 <= r <= 4.0
    w.run_until(r + 35 - 0.001)
    assert health(w, tg)[0]["TargetHealth"]["State"] == "initial"
    w.run_until(r + 35)
    assert health(w, tg) == [
        {
            "Target": {"Id": "10.0.1.200", "Port": 80, "AvailabilityZone": "us-east-1a"},
            "HealthCheckPort": "80",
            "TargetHealth": {
                "State": "unhealthy",
                "Reason": "Target.Timeout",
                "Description": "Request timed out",
            },
        }
    ]
    unhealthy = [
        e for e in w.events() if isinstance(e, TargetHealthChanged) and e.state == "unhealthy"
    ]
    assert [e.time for e in unhealthy] == [r + 35]


def test_an_answering_target_is_healthy_after_one_check(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w, HealthCheckPort="8081")
    make_listener(w, lb, tg)
    w.endpoints.attach("10.0.3.9", Answering())  # type: ignore[arg-type]
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.3.9"}])
    w.advance(4.1)  # registration (<= 4 s) + one probe answered in 0.01 s
    assert health(w, tg) == [
        {
            "Target": {"Id": "10.0.3.9", "Port": 80, "AvailabilityZone": "us-east-1c"},
            "HealthCheckPort": "8081",
            "TargetHealth": {"State": "healthy"},
        }
    ]


def test_deregistration_drains_for_the_delay_then_the_target_is_gone(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    make_listener(w, lb, tg)
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    w.endpoints.attach("10.0.2.20", Answering())  # type: ignore[arg-type]
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.2.20", "Port": 8080}])
    w.advance(10)
    assert health(w, tg)[0]["TargetHealth"] == {"State": "healthy"}
    start = w.now
    assert (
        w.elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.2.20", "Port": 8080}])
        == {}
    )
    draining = {
        "Target": {"Id": "10.0.2.20", "Port": 8080, "AvailabilityZone": "us-east-1b"},
        "HealthCheckPort": "8080",
        "TargetHealth": {
            "State": "draining",
            "Reason": "Target.DeregistrationInProgress",
            "Description": "Target deregistration is in progress",
        },
    }
    assert health(w, tg) == [draining]
    w.run_until(start + 30 - 0.001)
    assert health(w, tg) == [draining]
    w.run_until(start + 30)
    assert health(w, tg) == []
    assert health(w, tg, Targets=[{"Id": "10.0.2.20", "Port": 8080}]) == [
        {
            "Target": {"Id": "10.0.2.20", "Port": 8080, "AvailabilityZone": "us-east-1b"},
            "TargetHealth": {
                "State": "unused",
                "Reason": "Target.NotRegistered",
                "Description": "Target is not registered to the target group",
            },
        }
    ]


def test_deregistering_an_unknown_target_succeeds_silently(w: World) -> None:
    tg = make_tg(w)
    assert w.elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.1.9"}]) == {}
    assert health(w, tg) == []
    with error("TargetGroupNotFound"):
        w.elbv2.deregister_targets(TargetGroupArn=tg + "0", Targets=[{"Id": "10.0.1.9"}])


def test_describe_target_health_for_asked_targets(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    make_listener(w, lb, tg)
    w.elbv2.register_targets(
        TargetGroupArn=tg, Targets=[{"Id": "10.0.1.10"}, {"Id": "10.0.1.10", "Port": 81}]
    )
    both = health(w, tg, Targets=[{"Id": "10.0.1.10"}])
    assert sorted(d["Target"]["Port"] for d in both) == [80, 81]
    one = health(w, tg, Targets=[{"Id": "10.0.1.10", "Port": 81}, {"Id": "10.0.2.11"}])
    assert [(d["Target"]["Id"], d["TargetHealth"]["State"]) for d in one] == [
        ("10.0.1.10", "initial"),
        ("10.0.2.11", "unused"),
    ]
    assert one[1]["Target"] == {"Id": "10.0.2.11", "Port": 80, "AvailabilityZone": "us-east-1b"}
    with error("InvalidTarget"):
        health(w, tg, Targets=[{"Id": "not-an-ip"}])
    with error("TargetGroupNotFound"):
        health(w, tg + "0")


def test_deleting_the_load_balancer_makes_targets_unused(w: World) -> None:
    lb, tg = make_lb(w), make_tg(w)
    make_listener(w, lb, tg)
    w.endpoints.attach("10.0.1.30", Answering())  # type: ignore[arg-type]
    w.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.1.30"}])
    w.advance(10)
    assert health(w, tg)[0]["TargetHealth"]["State"] == "healthy"
    w.elbv2.delete_load_balancer(LoadBalancerArn=lb)
    assert health(w, tg)[0]["TargetHealth"] == {
        "State": "unused",
        "Reason": "Target.NotInUse",
        "Description": "Target group is not configured to receive traffic from the load balancer",
    }


def test_the_demo_world_describes_three_healthy_targets() -> None:
    w = World.demo(seed=1)
    tg = w.elbv2.describe_target_groups(Names=["home-tg"])["TargetGroups"][0]
    descriptions = health(w, tg["TargetGroupArn"])
    assert len(descriptions) == 3
    assert {d["TargetHealth"]["State"] for d in descriptions} == {"healthy"}
    assert sorted(d["Target"]["AvailabilityZone"] for d in descriptions) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    assert all("Reason" not in d["TargetHealth"] for d in descriptions)
