"""`w.elbv2`: the ELBv2 API as boto3 calls it, over the model's load balancers.

Every method has boto3's snake_case name, takes the keyword arguments of botocore's `elbv2`
service model (2015-12-01) and answers a dict shaped like boto3's answer (same keys and casing;
timestamps are timezone-aware datetimes; no `ResponseMetadata`). Errors are the AWS error codes
of `ecsim.model.errors`. State lives in the backend (backend.py); this module validates, creates
the resources and tells the backend what changed.

ecsim models Application Load Balancers with HTTP listeners, HTTP/HTTPS target groups of type
`instance` or `ip`, forward / redirect / fixed-response actions and host-header / path-pattern
conditions. Everything else botocore knows is refused with a `ValidationError` saying so, never
silently ignored. Sources: (docs/behaviour.md, "The Application Load Balancer",
"ARN and ID formats", "API operations"); botocore's model and examples [BC-ELB],
[BC-ELB-EX].
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ecsim.model import errors
from ecsim.model.aws.coverage import Handling, refusal
from ecsim.model.aws.names import Names
from ecsim.model.aws.pages import Pages
from ecsim.model.aws.params import Params
from ecsim.model.elbv2 import messages
from ecsim.model.elbv2.coverage import COVERAGE, LOAD_BALANCER_ATTRIBUTES
from ecsim.model.elbv2.health import DESCRIPTIONS, Reason, TargetHealthState, valid_matcher
from ecsim.model.elbv2.listener_attributes import ElbListenerAttributes
from ecsim.model.elbv2.placement import ElbPlacement
from ecsim.model.elbv2.resources import (
    HealthCheck,
    Listener,
    LoadBalancer,
    LoadBalancingAlgorithm,
    Rule,
    Target,
    TargetGroup,
)
from ecsim.model.elbv2.tagging import ElbTagging, read_tags

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ec2.instances import Instances
    from ecsim.model.ec2.network import Network, Subnet
    from ecsim.model.elbv2.backend import ElbBackend

Shape = dict[str, Any]

# --- quotas and formats (docs/behaviour.md, "Load balancers and quotas", "ARN and ID formats") ----

MAX_TARGETS_PER_GROUP = 1000
MAX_LISTENERS_PER_LOAD_BALANCER = 50
MAX_RULES_PER_LOAD_BALANCER = 100  # excluding the default rules
MAX_TARGET_GROUPS = 3000  # per region
MAX_FORWARD_TARGET_GROUPS = 5
MAX_CONDITION_VALUES = 5
MAX_WILDCARDS = 5
MAX_SECURITY_GROUPS = 5
MIN_FREE_IPS_PER_SUBNET = 8
MAX_SUBNET_PREFIX = 27  # each ALB subnet must be at least a /27
MAX_PAGE_SIZE = 400

_NAME = re.compile(r"^[A-Za-z0-9-]+\Z")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?\Z")
_FIXED_RESPONSE_CODE = re.compile(r"^(2|4|5)\d\d\Z")
_FIXED_RESPONSE_CONTENT_TYPES = (
    "text/plain",
    "text/css",
    "text/html",
    "application/javascript",
    "application/json",
)
_CONDITION_FIELDS = (
    "http-header",
    "http-request-method",
    "host-header",
    "path-pattern",
    "query-string",
    "source-ip",
)
_CONDITION_CONFIGS = {
    "host-header": "HostHeaderConfig",
    "path-pattern": "PathPatternConfig",
    "http-header": "HttpHeaderConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "query-string": "QueryStringConfig",
    "source-ip": "SourceIpConfig",
}
_ACTION_TYPES = (
    "forward",
    "authenticate-oidc",
    "authenticate-cognito",
    "redirect",
    "fixed-response",
    "jwt-validation",
)
_ACTION_CONFIGS = {
    "forward": ("TargetGroupArn", "ForwardConfig"),
    "redirect": ("RedirectConfig",),
    "fixed-response": ("FixedResponseConfig",),
}
_ALL_ACTION_CONFIGS = (
    "TargetGroupArn",
    "ForwardConfig",
    "RedirectConfig",
    "FixedResponseConfig",
    "AuthenticateOidcConfig",
    "AuthenticateCognitoConfig",
    "JwtValidationConfig",
)
_TARGET_MEMBERS = ("Id", "Port", "AvailabilityZone", "QuicServerId")
_PRIVATE_NETWORKS = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

# Route 53 hosted zone of ALB DNS names per region (CanonicalHostedZoneId).
_ALB_HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}

# Attributes AWS returns that resources.py's defaults leave out (empty until set).
_EXTRA_LOAD_BALANCER_ATTRIBUTES = {
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "zonal_shift.config.enabled": "false",
}
_EXTRA_TARGET_GROUP_ATTRIBUTES = {
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
}


# --- names and ARNs (docs/behaviour.md, "ARN and ID formats") -------------------------------------

_NAMES = Names(
    errors.ValidationError,
    rules=(
        # <= 32 alphanumerics or hyphens, no leading/trailing hyphen; `label` is
        # "The load balancer name" or "Target group name" (AWS's two wordings)
        (lambda name: len(name) <= 32, "{label} '{name}' cannot be longer than '32' characters"),
        (
            _NAME.match,
            "{label} '{name}' can only contain characters that are alphanumeric characters "
            "or hyphens(-)",
        ),
        (
            lambda name: not (name.startswith("-") or name.endswith("-")),
            "{label} '{name}' cannot begin or end with '-'",
        ),
    ),
    # a string that is no ARN of the kind is a `ValidationError`, not a "not found"
    bad_arn="'{arn}' is not a valid {label} ARN",
)


# --- attribute validators (values are strings; docs/behaviour.md, "The Application Load Balancer")

AttributeCheck = Callable[[str, str], None]


def _one_of(*allowed: str) -> AttributeCheck:
    def check(key: str, value: str) -> None:
        if value not in allowed:
            raise errors.ValidationError(
                f"'{key}' value '{value}' must be one of [{', '.join(allowed)}]"
            )

    return check


def _int_between(lo: int, hi: int, *, off: bool = False) -> AttributeCheck:
    """An integer in lo..hi (as a string); with `off`, also the word `off`."""

    def check(key: str, value: str) -> None:
        if off and value == "off":
            return
        # (ASCII digits, few enough for int(): 5,000 digits would raise ValueError)
        if not re.fullmatch(r"-?[0-9]{1,18}", value) or not lo <= int(value) <= hi:
            raise errors.ValidationError(
                f"'{key}' value '{value}' must be between '{lo}-{hi}' inclusive"
                + (" or 'off'" if off else "")
            )

    return check


def _any_string(key: str, value: str) -> None:
    return None


def _slow_start(key: str, value: str) -> None:
    """0 (off) or 30-900 seconds (docs/behaviour.md, "Slow start")."""
    if not re.fullmatch(r"[0-9]{1,18}", value) or not (value == "0" or 30 <= int(value) <= 900):
        raise errors.ValidationError(
            f"'{key}' value '{value}' must be '0' or between '30-900' inclusive"
        )


def _alb_cross_zone(key: str, value: str) -> None:
    """Cross-zone load balancing is always on for an ALB
    (docs/behaviour.md, "Load balancers and quotas")."""
    _one_of("true", "false")(key, value)
    if value != "true":
        raise errors.InvalidConfigurationRequest(
            "Cross-zone load balancing cannot be disabled for Application Load Balancers"
        )


_BOOL = _one_of("true", "false")

LOAD_BALANCER_ATTRIBUTE_CHECKS: dict[str, AttributeCheck] = {
    "idle_timeout.timeout_seconds": _int_between(1, 4000),
    "client_keep_alive.seconds": _int_between(60, 604800),
    "deletion_protection.enabled": _BOOL,
    "routing.http2.enabled": _BOOL,
    "routing.http.drop_invalid_header_fields.enabled": _BOOL,
    "routing.http.xff_header_processing.mode": _one_of("append", "preserve", "remove"),
    "routing.http.preserve_host_header.enabled": _BOOL,
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": _BOOL,
    "routing.http.xff_client_port.enabled": _BOOL,
    "routing.http.desync_mitigation_mode": _one_of("monitor", "defensive", "strictest"),
    "load_balancing.cross_zone.enabled": _alb_cross_zone,
    "access_logs.s3.enabled": _BOOL,
    "access_logs.s3.bucket": _any_string,
    "access_logs.s3.prefix": _any_string,
    "connection_logs.s3.enabled": _BOOL,
    "connection_logs.s3.bucket": _any_string,
    "connection_logs.s3.prefix": _any_string,
    "waf.fail_open.enabled": _BOOL,
    "zonal_shift.config.enabled": _BOOL,
}

TARGET_GROUP_ATTRIBUTE_CHECKS: dict[str, AttributeCheck] = {
    "deregistration_delay.timeout_seconds": _int_between(0, 3600),
    "stickiness.enabled": _BOOL,
    "stickiness.type": _one_of("lb_cookie", "app_cookie"),
    "stickiness.lb_cookie.duration_seconds": _int_between(1, 604800),
    "stickiness.app_cookie.cookie_name": _any_string,
    "stickiness.app_cookie.duration_seconds": _int_between(1, 604800),
    "slow_start.duration_seconds": _slow_start,
    "load_balancing.algorithm.type": _one_of(*(a.value for a in LoadBalancingAlgorithm)),
    "load_balancing.algorithm.anomaly_mitigation": _one_of("on", "off"),
    "load_balancing.cross_zone.enabled": _one_of(
        "true", "false", "use_load_balancer_configuration"
    ),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": _int_between(
        1, MAX_TARGETS_PER_GROUP
    ),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": _int_between(
        1, 100, off=True
    ),
    "target_group_health.dns_failover.minimum_healthy_targets.count": _int_between(
        1, MAX_TARGETS_PER_GROUP, off=True
    ),
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": _int_between(
        1, 100, off=True
    ),
}


def _check_target_group_attributes(merged: Mapping[str, str]) -> None:
    """Rules that tie attributes together (docs/behaviour.md, "Slow start",
    "Routing algorithms")."""
    slow_start = int(merged["slow_start.duration_seconds"])
    algorithm = merged["load_balancing.algorithm.type"]
    if slow_start > 0 and algorithm == LoadBalancingAlgorithm.LEAST_OUTSTANDING_REQUESTS:
        # Slow start can't be combined with least outstanding requests
        # (docs/behaviour.md, "Slow start").
        raise errors.InvalidConfigurationRequest(
            "You cannot enable both slow start and least outstanding requests algorithm "
            "on a target group"
        )
    if slow_start > 0 and algorithm == LoadBalancingAlgorithm.WEIGHTED_RANDOM:
        # [OBS] kubernetes-sigs/aws-load-balancer-controller#3686 quotes this exact message.
        raise errors.InvalidConfigurationRequest(
            "You cannot enable both slow start and weighted random algorithm on a target group"
        )
    if (
        merged["load_balancing.algorithm.anomaly_mitigation"] == "on"
        and algorithm != LoadBalancingAlgorithm.WEIGHTED_RANDOM
    ):
        # Anomaly mitigation only with weighted_random (docs/behaviour.md, "Routing algorithms").
        raise errors.InvalidConfigurationRequest(
            "Anomaly mitigation can only be enabled with the weighted_random "
            "load balancing algorithm"
        )
    if (
        merged["stickiness.enabled"] == "true"
        and merged["stickiness.type"] == "app_cookie"
        and not merged["stickiness.app_cookie.cookie_name"]
    ):
        raise errors.InvalidConfigurationRequest(
            "You must set an application cookie name to enable stickiness of type 'app_cookie'"
        )


# Target group attribute values ecsim does not model, refused by name rather than accepted and
# ignored (docs/behaviour.md, "Target group attributes not modelled"): a key's only value
# ecsim accepts, and why.
_TARGET_GROUP_ATTRIBUTES_NOT_MODELLED: dict[str, tuple[frozenset[str], str]] = {
    "stickiness.enabled": (frozenset({"false"}), "target stickiness"),
    "load_balancing.algorithm.anomaly_mitigation": (frozenset({"off"}), "anomaly mitigation"),
    "load_balancing.cross_zone.enabled": (
        frozenset({"true", "use_load_balancer_configuration"}),
        "target groups without cross-zone load balancing",
    ),
    # 1 and off alike: below 1 healthy target every zone fails together, and DNS then keeps
    # them all (docs/behaviour.md, "Target group attributes not modelled")
    "target_group_health.dns_failover.minimum_healthy_targets.count": (
        frozenset({"1", "off"}),
        "DNS failover",
    ),
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": (
        frozenset({"off"}),
        "DNS failover",
    ),
}


def _refuse_not_modelled(merged: Mapping[str, str]) -> None:
    """A value AWS accepts but ecsim would ignore is refused by name: ValidationError, as
    ecsim's other refusals of what it does not model (docs/behaviour.md,
    "Target group attributes not modelled")."""
    for key, (accepted, what) in _TARGET_GROUP_ATTRIBUTES_NOT_MODELLED.items():
        value = merged[key]
        if value not in accepted:
            raise errors.ValidationError(
                f"ecsim does not model {what}: '{key}' value '{value}' must be "
                + " or ".join(f"'{v}'" for v in sorted(accepted))
            )


def _attributes_param(p: Params, limit: int) -> list[tuple[str, str]]:
    """`Attributes=[{"Key": ..., "Value": ...}]` as (key, value) pairs, values strings."""
    pairs: list[tuple[str, str]] = []
    raw: list[Any] = p.list("Attributes", required=True)
    if len(raw) > limit:
        raise errors.ValidationError(
            f"1 validation error detected: Value at 'attributes' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    for i, item in enumerate(raw):
        entry = p.as_structure(item, f"Attributes[{i}]", ("Key", "Value"))
        pairs.append((entry.str("Key", required=True), entry.str("Value", required=True)))
    return pairs


def _check_modelled(key: str, value: str) -> None:
    """Refuse a value of a load balancer attribute that would make AWS behave differently
    from what ecsim shows (coverage.py, LOAD_BALANCER_ATTRIBUTES)."""
    member = LOAD_BALANCER_ATTRIBUTES[key]
    if member.handling is Handling.REFUSED and not member.passes(value):
        raise errors.ValidationError(refusal(key, member, "load balancer attribute"))


def _attribute_list(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in attributes.items()]


# `Marker` / `PageSize` paging, answered with `NextMarker`; a marker past the end is invalid.
_PAGES = Pages(
    "Marker",
    "NextMarker",
    size="PageSize",
    most=MAX_PAGE_SIZE,
    error=errors.ValidationError,
    message="The marker '{token}' is not valid",
    strict=True,
)


def check_health_check_path(path: str) -> None:
    """A health check path goes into the check's request line: printable ASCII without
    spaces (AWS's words, for the load balancers of Lightsail), beginning with '/', at most
    1024 characters."""
    if any(not "!" <= c <= "~" for c in path):
        raise errors.ValidationError(
            "The HealthCheckPath value is not valid. HealthCheckPath must begin with a '/' "
            "character and only contain printable ASCII characters, without spaces."
        )
    if not path.startswith("/") or len(path) > 1024:
        raise errors.ValidationError(
            f"Health check path '{path}' must begin with '/' and be at most 1024 characters"
        )


class Elbv2Api(ElbTagging, ElbListenerAttributes, ElbPlacement):
    """The boto3 `elbv2` client of one world (`w.elbv2`)."""

    # The checks of text parameters AWS refuses in its own words; the query protocol's
    # refusal of text its XML cannot carry defers to them (awsapi/dispatch.py).
    TEXT_CHECKS: ClassVar[dict[str, Callable[[str], None]]] = {
        "HealthCheckPath": check_health_check_path
    }

    def __init__(
        self, ctx: SimContext, elb: ElbBackend, net: Network, instances: Instances
    ) -> None:
        self.ctx = ctx
        self.elb = elb
        self.net = net
        self.instances = instances
        self._rng = ctx.streams.scalar("elb-api")

    # ============================================================================ load balancers

    def create_load_balancer(self, **kwargs: Any) -> Shape:
        """CreateLoadBalancer: an ALB in >= 2 AZs, `provisioning` until it turns `active`.

        Idempotent for identical settings, `DuplicateLoadBalancerName` otherwise
        (docs/behaviour.md, "API operations").
        One node IP is taken from each subnet. Activation follows after a random delay in
        `settings.elb.provisioning` (AWS gives no figure;
        docs/behaviour.md, "Load balancers and quotas").
        """
        p = Params("CreateLoadBalancer", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        name: str = p.req_str("Name")
        subnet_ids: list[str] = p.strs("Subnets")
        mappings: list[Any] = p.list("SubnetMappings")
        given_groups: list[str] = p.strs("SecurityGroups")
        scheme = p.as_enum(
            p.str("Scheme") or "internet-facing", "scheme", ("internet-facing", "internal")
        )
        lb_type = p.as_enum(
            p.str("Type") or "application", "type", ("application", "network", "gateway")
        )
        ip_type = p.as_enum(
            p.str("IpAddressType") or "ipv4",
            "ipAddressType",
            ("ipv4", "dualstack", "dualstack-without-public-ipv4"),
        )
        tags = read_tags(p)
        p.done()

        _NAMES.check(name, label="The load balancer name")
        if name.lower().startswith("internal-"):
            raise errors.ValidationError(
                f"The load balancer name '{name}' cannot begin with 'internal-'"
            )
        if lb_type != "application":
            raise errors.ValidationError(
                f"ecsim models Application Load Balancers only; Type '{lb_type}' is not supported"
            )
        if ip_type != "ipv4":
            raise errors.InvalidConfigurationRequest(
                f"IP address type '{ip_type}' needs subnets with IPv6 CIDR blocks; "
                "ecsim's VPCs are IPv4 only"
            )
        subnets = self._load_balancer_subnets(p, subnet_ids, mappings)
        vpc_id = subnets[0].vpc_id
        groups = self._security_groups(given_groups, vpc_id)

        existing = self._load_balancer_named(name)
        if existing is not None:
            same = (
                sorted(existing.subnets) == sorted(s.id for s in subnets)
                and existing.scheme == scheme
                and existing.ip_address_type == ip_type
                and sorted(existing.security_groups) == sorted(groups)
            )
            if not same:
                raise errors.DuplicateLoadBalancerName(
                    f"A load balancer with the same name '{name}' exists, but with different "
                    "settings"
                )
            return {"LoadBalancers": [self._lb_shape(existing)]}

        lb = self._new_load_balancer(name, scheme, subnets, groups, ip_type, tags)
        return {"LoadBalancers": [self._lb_shape(lb)]}

    def describe_load_balancers(self, **kwargs: Any) -> Shape:
        """DescribeLoadBalancers: all, or by `LoadBalancerArns` or `Names` (not both).

        Any unknown one fails the call with `LoadBalancerNotFound` (the waiters
        `load_balancer_exists` / `load_balancers_deleted` rely on it, docs/behaviour.md, "Waiters").
        """
        p = Params("DescribeLoadBalancers", kwargs, errors.ValidationError)
        arns: list[str] = p.strs("LoadBalancerArns")
        names: list[str] = p.strs("Names")
        if arns and names:
            raise errors.ValidationError(
                "Load balancer names and load balancer ARNs cannot be specified at the same time"
            )
        everything = list(self.elb.load_balancers.values())
        for arn in arns:
            _NAMES.check_arn(arn, "loadbalancer", label="load balancer")
        if arns:
            missing = [a for a in arns if a not in self.elb.load_balancers]
            if missing:
                raise errors.LoadBalancerNotFound(messages.LOAD_BALANCERS_NOT_FOUND)
            chosen = [lb for lb in everything if lb.arn in arns]
        elif names:
            known = {lb.name for lb in everything}
            missing = [n for n in names if n not in known]
            if missing:
                raise errors.LoadBalancerNotFound(messages.load_balancers_not_found(missing))
            chosen = [lb for lb in everything if lb.name in names]
        else:
            chosen = everything
        answer = _PAGES.read(p).of(chosen, "LoadBalancers", self._lb_shape)
        p.done()
        return answer

    def delete_load_balancer(self, **kwargs: Any) -> Shape:
        """DeleteLoadBalancer: also deletes its listeners and rules; succeeds if already gone.

        Registered targets stay registered; with no listener using their groups they turn
        `unused` / `Target.NotInUse` (backend.topology_changed). Refused while the attribute
        `deletion_protection.enabled` is true (`OperationNotPermitted`).
        """
        p = Params("DeleteLoadBalancer", kwargs, errors.ValidationError)
        arn: str = p.req_str("LoadBalancerArn")
        p.done()
        lb = self.elb.load_balancers.get(arn)
        if lb is None:
            return {}
        if lb.attributes.get("deletion_protection.enabled") == "true":
            raise errors.AwsError(
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
                code="OperationNotPermitted",
            )
        for subnet_id, ip in self.elb.remove_load_balancer(lb):
            subnet = self.net.subnets.get(subnet_id)
            if subnet is not None:
                self.net.release_ip(subnet, ip)
        return {}

    def describe_load_balancer_attributes(self, **kwargs: Any) -> Shape:
        p = Params("DescribeLoadBalancerAttributes", kwargs, errors.ValidationError)
        lb = self._load_balancer(p.req_str("LoadBalancerArn"))
        p.done()
        return {"Attributes": _attribute_list(lb.attributes)}

    def modify_load_balancer_attributes(self, **kwargs: Any) -> Shape:
        """ModifyLoadBalancerAttributes: all-or-nothing; answers every attribute."""
        p = Params("ModifyLoadBalancerAttributes", kwargs, errors.ValidationError)
        lb = self._load_balancer(p.req_str("LoadBalancerArn"))
        pairs = _attributes_param(p, 20)
        p.done()
        merged = dict(lb.attributes)
        for key, value in pairs:
            check = LOAD_BALANCER_ATTRIBUTE_CHECKS.get(key)
            if check is None:
                raise errors.ValidationError(
                    f"Load balancer attribute key '{key}' is not recognized"
                )
            check(key, value)
            _check_modelled(key, value)
            merged[key] = value
        if merged["access_logs.s3.enabled"] == "true" and not merged["access_logs.s3.bucket"]:
            raise errors.ValidationError(
                "The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled"
            )
        self.elb.set_load_balancer_attributes(lb, merged)
        return {"Attributes": _attribute_list(lb.attributes)}

    # ============================================================================ target groups

    def create_target_group(self, **kwargs: Any) -> Shape:
        """CreateTargetGroup with the ALB defaults (docs/behaviour.md, "Target health checks").

        HTTP, health check `/` on the traffic port every 30 s, timeout 5 s, healthy 5,
        unhealthy 2, matcher 200; TargetType `instance` (docs/behaviour.md, "API operations").
        Idempotent for
        identical settings, `DuplicateTargetGroupName` otherwise.
        """
        p = Params("CreateTargetGroup", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        name: str = p.req_str("Name")
        target_type = p.as_enum(
            p.str("TargetType") or "instance", "targetType", ("instance", "ip", "lambda", "alb")
        )
        protocol: str | None = p.str("Protocol")
        port: int | None = p.int("Port", lo=1, hi=65535)
        vpc_id: str | None = p.str("VpcId")
        protocol_version: str | None = p.str("ProtocolVersion")
        ip_type = p.as_enum(p.str("IpAddressType") or "ipv4", "ipAddressType", ("ipv4", "ipv6"))
        tags = read_tags(p)
        _NAMES.check(name, label="Target group name")
        if target_type in ("lambda", "alb"):
            raise errors.ValidationError(
                f"ecsim models target types 'instance' and 'ip' only; '{target_type}' is not "
                "supported"
            )
        if protocol is None:
            raise errors.ValidationError("A protocol must be specified")
        p.as_enum(
            protocol,
            "protocol",
            ("HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"),
        )
        if protocol not in ("HTTP", "HTTPS"):
            raise errors.ValidationError(
                f"ecsim models Application Load Balancer target groups only (HTTP, HTTPS); "
                f"protocol '{protocol}' is not supported"
            )
        if port is None:
            raise errors.ValidationError("A port must be specified")
        if vpc_id is None:
            raise errors.ValidationError("A VPC ID must be specified")
        if vpc_id not in self.net.vpcs:
            raise errors.ValidationError(f"The VPC ID '{vpc_id}' is not found")
        version = (protocol_version or "HTTP1").upper()
        if version == "GRPC":
            raise errors.ValidationError("ecsim does not model gRPC target groups")
        if version not in ("HTTP1", "HTTP2"):
            raise errors.ValidationError(
                f"Protocol version '{protocol_version}' must be one of [HTTP1, HTTP2, GRPC]"
            )
        if ip_type != "ipv4":
            raise errors.ValidationError("ecsim's VPCs are IPv4 only; IpAddressType must be ipv4")
        health = self._health_check(p, HealthCheck(), target_type)
        p.done()

        for tg in self.elb.target_groups.values():
            if tg.name != name:
                continue
            same = (
                tg.protocol,
                tg.port,
                tg.vpc_id,
                tg.target_type,
                tg.protocol_version,
                tg.health,
            ) == (protocol, port, vpc_id, target_type, version, health)
            if not same:
                raise errors.DuplicateTargetGroupName(
                    f"A target group with the same name '{name}' exists, but with different "
                    "settings"
                )
            return {"TargetGroups": [self._tg_shape(tg)]}
        if len(self.elb.target_groups) >= MAX_TARGET_GROUPS:
            raise errors.AwsError(
                f"The maximum number of target groups ({MAX_TARGET_GROUPS}) has been reached",
                code="TooManyTargetGroups",
            )
        ids = self.ctx.ids
        tg = TargetGroup(
            arn=ids.elb_arn(f"targetgroup/{name}/{ids.hex(16)}"),
            name=name,
            protocol=protocol,
            port=port,
            vpc_id=vpc_id,
            target_type=target_type,
            health=health,
            protocol_version=version,
            ip_address_type=ip_type,
        )
        self.elb.add_target_group(tg, _EXTRA_TARGET_GROUP_ATTRIBUTES)
        self.elb.tag(tg.arn, tags)
        return {"TargetGroups": [self._tg_shape(tg)]}

    def describe_target_groups(self, **kwargs: Any) -> Shape:
        """DescribeTargetGroups: all, or by one of `LoadBalancerArn`, `TargetGroupArns`, `Names`."""
        p = Params("DescribeTargetGroups", kwargs, errors.ValidationError)
        lb_arn: str | None = p.str("LoadBalancerArn")
        arns: list[str] = p.strs("TargetGroupArns")
        names: list[str] = p.strs("Names")
        if sum(map(bool, (lb_arn, arns, names))) > 1:
            raise errors.ValidationError(
                "Target group names, target group ARNs, and a load balancer ARN cannot be "
                "specified at the same time"
            )
        groups = sorted(self.elb.target_groups.values(), key=lambda g: g.name)
        if lb_arn:
            lb = self._load_balancer(lb_arn)
            groups = [g for g in groups if self.elb.load_balancer_of(g) is lb]
        elif arns or names:
            for arn in arns:
                _NAMES.check_arn(arn, "targetgroup", label="target group")
            wanted = set(arns or names)
            chosen = [g for g in groups if (g.arn if arns else g.name) in wanted]
            if len({g.arn if arns else g.name for g in chosen}) != len(wanted):
                raise errors.TargetGroupNotFound(messages.TARGET_GROUPS_NOT_FOUND)
            groups = chosen
        answer = _PAGES.read(p).of(groups, "TargetGroups", self._tg_shape)
        p.done()
        return answer

    def modify_target_group(self, **kwargs: Any) -> Shape:
        """ModifyTargetGroup: health check settings; running checks use them from the next probe."""
        p = Params("ModifyTargetGroup", kwargs, errors.ValidationError)
        tg = self._target_group(p.req_str("TargetGroupArn"))
        health = self._health_check(p, tg.health, tg.target_type)
        p.done()
        self.elb.set_health_check(tg, health)
        return {"TargetGroups": [self._tg_shape(tg)]}

    def delete_target_group(self, **kwargs: Any) -> Shape:
        """DeleteTargetGroup: `ResourceInUse` while an action forwards to it; else idempotent."""
        p = Params("DeleteTargetGroup", kwargs, errors.ValidationError)
        arn: str = p.req_str("TargetGroupArn")
        p.done()
        tg = self.elb.target_groups.get(arn)
        if tg is None:
            return {}
        if self.elb.in_use(tg):
            raise errors.ResourceInUse(
                f"Target group '{arn}' is currently in use by a listener or a rule"
            )
        self.elb.forget_target_group(tg)
        return {}

    def describe_target_group_attributes(self, **kwargs: Any) -> Shape:
        p = Params("DescribeTargetGroupAttributes", kwargs, errors.ValidationError)
        tg = self._target_group(p.req_str("TargetGroupArn"))
        p.done()
        return {"Attributes": _attribute_list(tg.attributes)}

    def modify_target_group_attributes(self, **kwargs: Any) -> Shape:
        """ModifyTargetGroupAttributes: string values, all-or-nothing; answers every attribute.

        Ranges: deregistration delay 0-3600, slow start 0 or 30-900 and not with least outstanding
        requests, algorithms, fail-open thresholds (docs/behaviour.md, "Deregistration delay",
        "Slow start", "Routing algorithms", "Fail-open"). A new
        deregistration delay applies to deregistrations from now on. A value AWS accepts but
        ecsim does not model (stickiness, anomaly mitigation, cross-zone off, DNS failover) is
        refused by name, after AWS's own checks (docs/behaviour.md,
        "Target group attributes not modelled").
        """
        p = Params("ModifyTargetGroupAttributes", kwargs, errors.ValidationError)
        tg = self._target_group(p.req_str("TargetGroupArn"))
        pairs = _attributes_param(p, 100)
        p.done()
        merged = dict(tg.attributes)
        for key, value in pairs:
            if key == "stickiness.type" and value == "source_ip":
                raise errors.InvalidConfigurationRequest(
                    f"Stickiness type 'source_ip' is not supported for target groups with "
                    f"the {tg.protocol} protocol"
                )
            check = TARGET_GROUP_ATTRIBUTE_CHECKS.get(key)
            if check is None:
                raise errors.ValidationError(
                    f"Target group attribute key '{key}' is not recognized"
                )
            check(key, value)
            merged[key] = value
        _check_target_group_attributes(merged)
        _refuse_not_modelled(merged)
        self.elb.set_target_group_attributes(tg, merged)
        return {"Attributes": _attribute_list(tg.attributes)}

    # ============================================================================ listeners

    def create_listener(self, **kwargs: Any) -> Shape:
        """CreateListener: an HTTP listener and its default rule; starts health checks.

        Idempotent for an identical listener on the same port, `DuplicateListener` otherwise.
        A target group may serve only one load balancer (`TargetGroupAssociationLimit`,
        docs/behaviour.md, "Load balancers and quotas").
        """
        p = Params("CreateListener", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        lb = self._load_balancer(p.req_str("LoadBalancerArn"))
        raw_actions: list[Any] = p.list("DefaultActions", required=True)
        protocol: str | None = p.str("Protocol")
        port: int | None = p.int("Port", lo=1, hi=65535)
        tags = read_tags(p)
        p.done()
        if port is None:
            raise errors.ValidationError("A listener port must be specified")
        if protocol is None:
            raise errors.ValidationError("A listener protocol must be specified")
        self._listener_protocol(p, protocol)
        actions = self._actions(p, raw_actions, "DefaultActions", lb)

        for existing in lb.listeners.values():
            if existing.port != port:
                continue
            if existing.protocol == protocol and existing.default_rule.actions == actions:
                return {"Listeners": [self._listener_shape(existing)]}
            raise errors.DuplicateListener(messages.duplicate_listener(lb.arn))
        if len(lb.listeners) >= MAX_LISTENERS_PER_LOAD_BALANCER:
            raise errors.AwsError(
                "You've reached the limit on the number of listeners per load balancer",
                code="TooManyListeners",
            )

        arn = f"{lb.arn.replace(':loadbalancer/', ':listener/', 1)}/{self.ctx.ids.hex(16)}"
        default_rule = Rule(self._rule_arn(arn), arn, None, [], actions)
        listener = Listener(arn, lb.arn, port, protocol, default_rule)
        self.elb.add_listener(lb, listener)
        self.elb.tag(arn, tags)
        return {"Listeners": [self._listener_shape(listener)]}

    def describe_listeners(self, **kwargs: Any) -> Shape:
        """DescribeListeners by `LoadBalancerArn` or `ListenerArns` (one of them)."""
        p = Params("DescribeListeners", kwargs, errors.ValidationError)
        lb_arn: str | None = p.str("LoadBalancerArn")
        arns: list[str] = p.strs("ListenerArns")
        if lb_arn and arns:
            raise errors.ValidationError(
                "Listener ARNs and a load balancer ARN cannot be specified at the same time"
            )
        if lb_arn:
            listeners = list(self._load_balancer(lb_arn).listeners.values())
        elif arns:
            listeners = [x for x in self._all_listeners() if x.arn in arns]
            if len(listeners) != len(set(arns)):
                raise errors.ListenerNotFound(messages.LISTENERS_NOT_FOUND)
        else:
            raise errors.ValidationError(
                "You must specify either listener ARNs or a load balancer ARN"
            )
        answer = _PAGES.read(p).of(listeners, "Listeners", self._listener_shape)
        p.done()
        return answer

    def modify_listener(self, **kwargs: Any) -> Shape:
        """ModifyListener: `Port`, `Protocol` (HTTP) and `DefaultActions`."""
        p = Params("ModifyListener", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        listener = self._listener(p.req_str("ListenerArn"))
        lb = self.elb.load_balancers[listener.load_balancer_arn]
        port: int | None = p.int("Port", lo=1, hi=65535)
        protocol: str | None = p.str("Protocol")
        raw_actions = p.raw("DefaultActions")
        p.done()
        if protocol is not None:
            self._listener_protocol(p, protocol)
        actions = (
            self._actions(p, raw_actions, "DefaultActions", lb) if raw_actions is not None else None
        )
        if port is not None and any(
            other.port == port and other is not listener for other in lb.listeners.values()
        ):
            raise errors.ValidationError(messages.listener_port_in_use(port))
        self.elb.modify_listener(listener, port, protocol, actions)
        return {"Listeners": [self._listener_shape(listener)]}

    def delete_listener(self, **kwargs: Any) -> Shape:
        """DeleteListener: the listener and all its rules."""
        p = Params("DeleteListener", kwargs, errors.ValidationError)
        listener = self._listener(p.req_str("ListenerArn"))
        p.done()
        self.elb.remove_listener(listener)
        return {}

    # ============================================================================ rules

    def create_rule(self, **kwargs: Any) -> Shape:
        """CreateRule: conditions, priority 1-50000 (unique per listener) and one action."""
        p = Params("CreateRule", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        listener = self._listener(p.req_str("ListenerArn"))
        lb = self.elb.load_balancers[listener.load_balancer_arn]
        raw_conditions: list[Any] = p.list("Conditions", required=True)
        priority: int | None = p.int("Priority", required=True, lo=1, hi=50000)
        raw_actions: list[Any] = p.list("Actions", required=True)
        tags = read_tags(p)
        p.done()
        assert priority is not None
        conditions = self._conditions(p, raw_conditions)
        actions = self._actions(p, raw_actions, "Actions", lb)
        if any(r.priority == priority for r in listener.rules):
            raise errors.PriorityInUse(f"Priority '{priority}' is currently in use")
        rule_count = sum(len(x.rules) for x in lb.listeners.values())
        if rule_count >= MAX_RULES_PER_LOAD_BALANCER:
            raise errors.TooManyRules(
                "You've reached the limit on the number of rules per load balancer"
            )
        rule = Rule(self._rule_arn(listener.arn), listener.arn, priority, conditions, actions)
        self.elb.add_rule(listener, rule)
        self.elb.tag(rule.arn, tags)
        return {"Rules": [self._rule_shape(rule)]}

    def describe_rules(self, **kwargs: Any) -> Shape:
        """DescribeRules by `ListenerArn` or `RuleArns`; the default rule comes last."""
        p = Params("DescribeRules", kwargs, errors.ValidationError)
        listener_arn: str | None = p.str("ListenerArn")
        arns: list[str] = p.strs("RuleArns")
        if listener_arn and arns:
            raise errors.ValidationError(
                "Listener rule ARNs and a listener ARN cannot be specified at the same time"
            )
        if listener_arn:
            rules = self._listener(listener_arn).ordered_rules()
        elif arns:
            rules = [r for x in self._all_listeners() for r in x.ordered_rules() if r.arn in arns]
            if len(rules) != len(set(arns)):
                raise errors.RuleNotFound("One or more rules not found")
        else:
            raise errors.ValidationError(
                "You must specify either listener rule ARNs or a listener ARN"
            )
        answer = _PAGES.read(p).of(rules, "Rules", self._rule_shape)
        p.done()
        return answer

    def modify_rule(self, **kwargs: Any) -> Shape:
        """ModifyRule: replaces the conditions and/or the actions of a non-default rule."""
        p = Params("ModifyRule", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        listener, rule = self._rule(p.req_str("RuleArn"))
        lb = self.elb.load_balancers[listener.load_balancer_arn]
        raw_conditions = p.raw("Conditions")
        raw_actions = p.raw("Actions")
        p.done()
        if rule.is_default:
            raise errors.AwsError(
                "The default rule of a listener cannot be modified; use ModifyListener",
                code="OperationNotPermitted",
            )
        conditions = self._conditions(p, raw_conditions) if raw_conditions is not None else None
        actions = self._actions(p, raw_actions, "Actions", lb) if raw_actions is not None else None
        self.elb.modify_rule(rule, conditions, actions)
        return {"Rules": [self._rule_shape(rule)]}

    def set_rule_priorities(self, **kwargs: Any) -> Shape:
        """SetRulePriorities: new priorities for non-default rules, all at once."""
        p = Params("SetRulePriorities", kwargs, errors.ValidationError)
        raw: list[Any] = p.list("RulePriorities", required=True)
        p.done()
        changes: list[tuple[Listener, Rule, int]] = []
        for i, item in enumerate(raw):
            entry = p.as_structure(item, f"RulePriorities[{i}]", ("RuleArn", "Priority"))
            listener, rule = self._rule(entry.str("RuleArn", required=True))
            priority = entry.between("Priority", 1, 50000, required=True)
            if rule.is_default:
                raise errors.AwsError(
                    "The priority of a default rule cannot be changed", code="OperationNotPermitted"
                )
            changes.append((listener, rule, priority))
        priorities = [(listener.arn, prio) for listener, _, prio in changes]
        for key in priorities:
            if priorities.count(key) > 1:
                raise errors.ValidationError(f"Priority '{key[1]}' was provided multiple times")
        moving = {id(rule) for _, rule, _ in changes}
        for listener, _, priority in changes:
            if any(r.priority == priority and id(r) not in moving for r in listener.rules):
                raise errors.PriorityInUse(f"Priority '{priority}' is currently in use")
        self.elb.set_rule_priorities([(rule, priority) for _, rule, priority in changes])
        return {"Rules": [self._rule_shape(rule) for _, rule, _ in changes]}

    def delete_rule(self, **kwargs: Any) -> Shape:
        """DeleteRule: a non-default rule (the default rule goes with its listener)."""
        p = Params("DeleteRule", kwargs, errors.ValidationError)
        listener, rule = self._rule(p.req_str("RuleArn"))
        p.done()
        if rule.is_default:
            raise errors.AwsError(
                f"Default rule '{rule.arn}' cannot be deleted", code="OperationNotPermitted"
            )
        self.elb.remove_rule(listener, rule)
        return {}

    # ============================================================================ targets

    def register_targets(self, **kwargs: Any) -> Shape:
        """RegisterTargets: each target starts `initial` (`unused` if no listener uses the group).

        `ip` targets must be IPv4 addresses of a subnet of the group's VPC (their AZ comes from
        the subnet) or, with `AvailabilityZone="all"`, private addresses outside it. `instance`
        targets must be running instances (`w.instances`). Port defaults to the group's port.
        All-or-nothing: one bad target fails the call and registers none.
        """
        p = Params("RegisterTargets", kwargs, errors.ValidationError)
        tg = self._target_group(p.req_str("TargetGroupArn"))
        raw: list[Any] = p.list("Targets", required=True)
        p.done()
        targets = [
            self._registration(tg, p.as_structure(item, f"Targets[{i}]", _TARGET_MEMBERS))
            for i, item in enumerate(raw)
        ]
        keys = set(tg.targets) | {(target_id, port) for target_id, port, _ in targets}
        if len(keys) > MAX_TARGETS_PER_GROUP:
            raise errors.TooManyTargets(
                f"You've reached the limit of {MAX_TARGETS_PER_GROUP} targets per target group"
            )
        self.elb.register_targets(tg, targets)
        return {}

    def deregister_targets(self, **kwargs: Any) -> Shape:
        """DeregisterTargets: registered targets drain for the delay; unknown ones are ignored.

        `draining` for `deregistration_delay.timeout_seconds`, then gone (DescribeTargetHealth then
        answers `unused` / `Target.NotRegistered` if asked)
        (docs/behaviour.md, "Deregistration delay").
        """
        p = Params("DeregisterTargets", kwargs, errors.ValidationError)
        tg = self._target_group(p.req_str("TargetGroupArn"))
        raw: list[Any] = p.list("Targets", required=True)
        p.done()
        keys = []
        for i, item in enumerate(raw):
            entry = p.as_structure(item, f"Targets[{i}]", _TARGET_MEMBERS)
            target_id = self._target_id(tg, entry.str("Id", required=True))
            port = entry.between("Port", 1, 65535)
            keys.append((target_id, tg.port if port is None else port))
        self.elb.deregister_targets(tg, keys)
        return {}

    def describe_target_health(self, **kwargs: Any) -> Shape:
        """DescribeTargetHealth: every registration, or the `Targets` asked for.

        A target asked for but not registered answers `unused` / `Target.NotRegistered` (the
        `target_deregistered` waiter waits for that, docs/behaviour.md, "Waiters"). `healthy`
        carries no reason (docs/behaviour.md, "Target health states and reasons"). `Include`
        (anomaly detection) is refused: ecsim does not model anomaly detection (coverage.py).
        """
        p = Params("DescribeTargetHealth", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        tg = self._target_group(p.req_str("TargetGroupArn"))
        raw: list[Any] = p.list("Targets")
        p.done()
        if not raw:
            shapes = [self._health_shape(tg, t) for t in tg.targets.values()]
            return {"TargetHealthDescriptions": shapes}
        shapes = []
        for i, item in enumerate(raw):
            entry = p.as_structure(item, f"Targets[{i}]", _TARGET_MEMBERS)
            target_id = self._target_id(tg, entry.str("Id", required=True))
            port = entry.between("Port", 1, 65535)
            found = [
                t
                for t in tg.targets.values()
                if t.id == target_id and (port is None or t.port == port)
            ]
            if found:
                shapes.extend(self._health_shape(tg, t) for t in found)
            else:
                shapes.append(self._unregistered_shape(tg, target_id, port or tg.port))
        return {"TargetHealthDescriptions": shapes}

    # ============================================================================ shapes

    def _lb_shape(self, lb: LoadBalancer) -> Shape:
        """A `LoadBalancer` as DescribeLoadBalancers answers it ([BC-ELB-EX] CreateLoadBalancer)."""
        return {
            "LoadBalancerArn": lb.arn,
            "DNSName": lb.dns_name,
            "CanonicalHostedZoneId": _ALB_HOSTED_ZONES.get(self.ctx.region, "Z35SXDOTRQ7X7K"),
            "CreatedTime": self.ctx.clock.at(lb.created_at),
            "LoadBalancerName": lb.name,
            "Scheme": lb.scheme,
            "VpcId": lb.vpc_id,
            "State": {"Code": lb.state.value},
            "Type": "application",
            "AvailabilityZones": [
                {"ZoneName": zone, "SubnetId": subnet_id, "LoadBalancerAddresses": []}
                for zone, subnet_id in sorted(lb.availability_zones)
            ],
            "SecurityGroups": list(lb.security_groups),
            "IpAddressType": lb.ip_address_type,
        }

    def _tg_shape(self, tg: TargetGroup) -> Shape:
        """A `TargetGroup` as DescribeTargetGroups answers it ([BC-ELB-EX] CreateTargetGroup)."""
        lb = self.elb.load_balancer_of(tg)
        hc = tg.health
        return {
            "TargetGroupArn": tg.arn,
            "TargetGroupName": tg.name,
            "Protocol": tg.protocol,
            "Port": tg.port,
            "VpcId": tg.vpc_id,
            "HealthCheckProtocol": hc.protocol,
            "HealthCheckPort": hc.port,
            "HealthCheckEnabled": True,
            "HealthCheckIntervalSeconds": hc.interval,
            "HealthCheckTimeoutSeconds": hc.timeout,
            "HealthyThresholdCount": hc.healthy_threshold,
            "UnhealthyThresholdCount": hc.unhealthy_threshold,
            "HealthCheckPath": hc.path,
            "Matcher": {"HttpCode": hc.matcher},
            "LoadBalancerArns": [lb.arn] if lb is not None else [],
            "TargetType": tg.target_type,
            "ProtocolVersion": tg.protocol_version,
            "IpAddressType": tg.ip_address_type,
        }

    def _listener_shape(self, listener: Listener) -> Shape:
        return {
            "ListenerArn": listener.arn,
            "LoadBalancerArn": listener.load_balancer_arn,
            "Port": listener.port,
            "Protocol": listener.protocol,
            "DefaultActions": copy.deepcopy(listener.default_rule.actions),
        }

    def _rule_shape(self, rule: Rule) -> Shape:
        """Priority is a string, `"default"` for the default rule ([BC-ELB-EX] DescribeRules)."""
        return {
            "RuleArn": rule.arn,
            "Priority": "default" if rule.priority is None else str(rule.priority),
            "Conditions": copy.deepcopy(rule.conditions),
            "Actions": copy.deepcopy(rule.actions),
            "IsDefault": rule.is_default,
        }

    def _target_shape(self, tg: TargetGroup, target_id: str, port: int, az: str | None) -> Shape:
        """`Target{Id, Port, AvailabilityZone}`; the AZ only for `ip` targets (`all` if none)."""
        shape: Shape = {"Id": target_id, "Port": port}
        if tg.target_type == "ip":
            shape["AvailabilityZone"] = az or "all"
        return shape

    def _health_shape(self, tg: TargetGroup, target: Target) -> Shape:
        """One `TargetHealthDescription`; `unused` ones carry no HealthCheckPort ([BC-ELB-EX])."""
        shape: Shape = {"Target": self._target_shape(tg, target.id, target.port, target.az)}
        if target.state is not TargetHealthState.UNUSED:
            hc_port = tg.health.port
            shape["HealthCheckPort"] = str(target.port) if hc_port == "traffic-port" else hc_port
        health: Shape = {"State": target.state.value}
        if target.reason is not None:
            health["Reason"] = target.reason.value
        # The backend leaves `description` unset on some paths (a registration into an unused
        # group); AWS always pairs a reason with its description
        # (docs/behaviour.md, "Target health states and reasons").
        description = target.description or (
            DESCRIPTIONS.get(target.reason) if target.reason is not None else None
        )
        if description:
            health["Description"] = description
        shape["TargetHealth"] = health
        return shape

    def _unregistered_shape(self, tg: TargetGroup, target_id: str, port: int) -> Shape:
        subnet = self._subnet_of(tg, target_id) if tg.target_type == "ip" else None
        return {
            "Target": self._target_shape(tg, target_id, port, subnet.az if subnet else None),
            "TargetHealth": {
                "State": TargetHealthState.UNUSED.value,
                "Reason": Reason.NOT_REGISTERED.value,
                "Description": DESCRIPTIONS[Reason.NOT_REGISTERED],
            },
        }

    # ============================================================================ lookups

    def _load_balancer(self, arn: str) -> LoadBalancer:
        _NAMES.check_arn(arn, "loadbalancer", label="load balancer")
        lb = self.elb.load_balancers.get(arn)
        if lb is None:
            raise errors.LoadBalancerNotFound(f"Load balancer '{arn}' not found")
        return lb

    def _load_balancer_named(self, name: str) -> LoadBalancer | None:
        return next((lb for lb in self.elb.load_balancers.values() if lb.name == name), None)

    def _target_group(self, arn: str) -> TargetGroup:
        _NAMES.check_arn(arn, "targetgroup", label="target group")
        tg = self.elb.target_groups.get(arn)
        if tg is None:
            raise errors.TargetGroupNotFound(messages.target_groups_not_found(arn))
        return tg

    def _all_listeners(self) -> list[Listener]:
        return [x for lb in self.elb.load_balancers.values() for x in lb.listeners.values()]

    def _listener(self, arn: str) -> Listener:
        for listener in self._all_listeners():
            if listener.arn == arn:
                return listener
        raise errors.ListenerNotFound(f"Listener '{arn}' not found")

    def _rule(self, arn: str) -> tuple[Listener, Rule]:
        for listener in self._all_listeners():
            for rule in listener.ordered_rules():
                if rule.arn == arn:
                    return listener, rule
        raise errors.RuleNotFound(f"Rule '{arn}' not found")

    def _subnet_of(self, tg: TargetGroup, ip: str) -> Subnet | None:
        """The subnet of the group's VPC that holds `ip`, if any."""
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            return None
        for subnet in self.net.subnets.values():
            if subnet.vpc_id == tg.vpc_id and address in subnet.cidr:
                return subnet
        return None

    # ============================================================================ helpers

    def _rule_arn(self, listener_arn: str) -> str:
        return f"{listener_arn.replace(':listener/', ':listener-rule/', 1)}/{self.ctx.ids.hex(16)}"

    def _new_load_balancer(
        self,
        name: str,
        scheme: str,
        subnets: list[Subnet],
        groups: list[str],
        ip_type: str,
        tags: dict[str, str],
    ) -> LoadBalancer:
        """Create, store and schedule the activation of a new ALB
        (docs/behaviour.md, "ARN and ID formats")."""
        ids = self.ctx.ids
        arn = ids.elb_arn(f"loadbalancer/app/{name}/{ids.hex(16)}")
        prefix = "internal-" if scheme == "internal" else ""
        dns_name = f"{prefix}{name}-{ids.digits(10)}.{self.ctx.region}.elb.amazonaws.com"
        lb = LoadBalancer(
            arn=arn,
            name=name,
            dns_name=dns_name,
            scheme=scheme,
            vpc_id=subnets[0].vpc_id,
            subnets=[s.id for s in subnets],
            availability_zones=[(s.az, s.id) for s in subnets],
            security_groups=groups,
            created_at=self.ctx.now,
            ip_address_type=ip_type,
        )
        node_ips = [(s.id, self.net.allocate_ip(s, owner=arn)) for s in subnets]
        lo, hi = self.ctx.settings.elb.provisioning
        self.elb.add_load_balancer(
            lb, node_ips, _EXTRA_LOAD_BALANCER_ATTRIBUTES, self._rng.uniform(lo, hi)
        )
        self.elb.tag(lb.arn, tags)
        return lb

    def _load_balancer_subnets(
        self, p: Params, subnet_ids: list[str], mappings: list[Any]
    ) -> list[Subnet]:
        """`Subnets` or `SubnetMappings`: one subnet per AZ, >= 2 AZs, one VPC
        (docs/behaviour.md, "Load balancers and quotas")."""
        if subnet_ids and mappings:
            raise errors.ValidationError(
                "You can specify either subnets or subnet mappings, not both"
            )
        ids = list(subnet_ids)
        for i, item in enumerate(mappings):
            entry = p.as_structure(
                item,
                f"SubnetMappings[{i}]",
                (
                    "SubnetId",
                    "AllocationId",
                    "PrivateIPv4Address",
                    "IPv6Address",
                    "SourceNatIpv6Prefix",
                ),
            )
            for key in ("AllocationId", "PrivateIPv4Address", "IPv6Address", "SourceNatIpv6Prefix"):
                if entry.has(key):
                    raise errors.InvalidConfigurationRequest(
                        f"'{key}' cannot be specified for an Application Load Balancer"
                    )
            ids.append(entry.str("SubnetId", required=True))
        subnets: list[Subnet] = []
        for subnet_id in ids:
            subnet = self.net.subnets.get(subnet_id)
            if subnet is None:
                raise errors.SubnetNotFound(f"The subnet ID '{subnet_id}' is not valid")
            if any(s.az == subnet.az for s in subnets):
                raise errors.InvalidConfigurationRequest(
                    "More than 1 subnet cannot be specified for 1 availability zone"
                )
            subnets.append(subnet)
        if len(subnets) < 2:
            raise errors.ValidationError(
                "At least two subnets in two different Availability Zones must be specified"
            )
        if len({s.vpc_id for s in subnets}) > 1:
            raise errors.InvalidConfigurationRequest("The subnets must all belong to the same VPC")
        for subnet in subnets:
            if subnet.cidr.prefixlen > MAX_SUBNET_PREFIX:
                raise errors.InvalidSubnet(
                    f"The subnet '{subnet.id}' must have a CIDR block with a bitmask of at least "
                    f"/{MAX_SUBNET_PREFIX}"
                )
            if subnet.available < MIN_FREE_IPS_PER_SUBNET:
                raise errors.InvalidSubnet(
                    f"Not enough IP space available in {subnet.id}. ELB requires at least "
                    f"{MIN_FREE_IPS_PER_SUBNET} free IP addresses in each subnet."
                )
        return subnets

    def _security_groups(self, given: list[str], vpc_id: str) -> list[str]:
        """The given groups (all in the VPC), or the VPC's `default` group if none."""
        if len(given) > MAX_SECURITY_GROUPS:
            raise errors.AwsError(
                f"A load balancer can have at most {MAX_SECURITY_GROUPS} security groups",
                code="InvalidSecurityGroup",
            )
        groups = self.net.security_groups
        for group_id in given:
            group = groups.get(group_id)
            if group is None or group.vpc_id != vpc_id:
                raise errors.AwsError(
                    f"Security group '{group_id}' does not exist in VPC '{vpc_id}'",
                    code="InvalidSecurityGroup",
                )
        if given:
            return list(dict.fromkeys(given))
        return [g.id for g in groups.values() if g.vpc_id == vpc_id and g.name == "default"][:1]

    def _health_check(self, p: Params, base: HealthCheck, target_type: str) -> HealthCheck:
        """Health check parameters over `base`, ranges as AWS's
        (docs/behaviour.md, "Target health checks")."""
        protocol: str | None = p.str("HealthCheckProtocol")
        if protocol is not None:
            p.as_enum(
                protocol,
                "healthCheckProtocol",
                ("HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"),
            )
            if protocol not in ("HTTP", "HTTPS"):
                raise errors.ValidationError(
                    f"Health check protocol '{protocol}' is not supported for target groups of "
                    "an Application Load Balancer; use HTTP or HTTPS"
                )
        port: str | None = p.str("HealthCheckPort")
        if (
            port is not None
            and port != "traffic-port"
            and not (
                port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535
            )
        ):
            raise errors.ValidationError(
                f"Health check port '{port}' must be 'traffic-port' or between '1-65535' inclusive"
            )
        if p.bool("HealthCheckEnabled") is False:
            raise errors.ValidationError(
                f"Health checks cannot be disabled for target groups with target type "
                f"'{target_type}'"
            )
        path: str | None = p.str("HealthCheckPath")
        if path is not None:
            check_health_check_path(path)
        interval: int | None = p.int("HealthCheckIntervalSeconds", lo=5, hi=300)
        timeout: int | None = p.int("HealthCheckTimeoutSeconds", lo=2, hi=120)
        healthy: int | None = p.int("HealthyThresholdCount", lo=2, hi=10)
        unhealthy: int | None = p.int("UnhealthyThresholdCount", lo=2, hi=10)
        matcher = base.matcher
        given = p.structure("Matcher", ("HttpCode", "GrpcCode"))
        if given is not None:
            if given.has("GrpcCode"):
                raise errors.ValidationError(
                    "A gRPC code cannot be specified for target groups with protocol version "
                    "HTTP1 or HTTP2"
                )
            code = given.str("HttpCode", required=True)
            if not valid_matcher(code):
                raise errors.ValidationError(
                    f"Health check matcher HTTP code '{code}' must be within '200-499' inclusive; "
                    "use a code (200), a list (200,202) or a range (200-299)"
                )
            matcher = code
        health = HealthCheck(
            protocol=protocol or base.protocol,
            port=port or base.port,
            path=path or base.path,
            interval=interval if interval is not None else base.interval,
            timeout=timeout if timeout is not None else base.timeout,
            healthy_threshold=healthy if healthy is not None else base.healthy_threshold,
            unhealthy_threshold=unhealthy if unhealthy is not None else base.unhealthy_threshold,
            matcher=matcher,
        )
        if health.timeout >= health.interval:
            raise errors.ValidationError(
                f"Health check timeout '{health.timeout}' must be smaller than the interval "
                f"'{health.interval}'"
            )
        return health

    def _listener_protocol(self, p: Params, protocol: str) -> None:
        p.as_enum(
            protocol,
            "protocol",
            ("HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"),
        )
        if protocol == "HTTPS":
            raise errors.ValidationError(
                "ecsim models HTTP listeners only; HTTPS listeners (certificates, TLS) are not "
                "supported"
            )
        if protocol != "HTTP":
            raise errors.ValidationError(
                f"Listener protocol '{protocol}' must be one of 'HTTP, HTTPS'"
            )

    def _registration(self, tg: TargetGroup, entry: Params) -> tuple[str, int, str | None]:
        """One entry of RegisterTargets' `Targets`: (id, port, AZ or None for `all`)."""
        target_id = self._target_id(tg, entry.str("Id", required=True))
        given_port = entry.between("Port", 1, 65535)
        port = tg.port if given_port is None else given_port
        zone = entry.str("AvailabilityZone")
        if entry.has("QuicServerId"):
            raise errors.ValidationError("QuicServerId applies to QUIC target groups only")
        if tg.target_type == "instance":
            if zone is not None:
                raise errors.ValidationError(
                    "The Availability Zone parameter is not supported for target groups with "
                    "target type 'instance'"
                )
            # RegisterTargets: "If the target is an EC2 instance, it must be in the running
            # state when you register it." [BC-ELB]
            instance = self.instances.instances.get(target_id)
            if instance is None or instance.state == "terminated":
                raise errors.InvalidTarget(f"Instance ID '{target_id}' is not valid")
            if instance.state != "running":
                raise errors.InvalidTarget(
                    "The following targets are not in a running state and cannot be "
                    f"registered: '{target_id}'"
                )
            if instance.subnet.vpc_id != tg.vpc_id:
                raise errors.InvalidTarget(
                    f"The following targets are not in the target group VPC '{tg.vpc_id}': "
                    f"'{target_id}'"
                )
            return target_id, port, instance.subnet.az
        subnet = self._subnet_of(tg, target_id)
        if subnet is not None:
            if zone not in (None, "all", subnet.az):
                raise errors.ValidationError(
                    f"The Availability Zone '{zone}' of target '{target_id}' does not match "
                    f"the Availability Zone of its subnet '{subnet.az}'"
                )
            return target_id, port, None if zone == "all" else subnet.az
        address = ipaddress.IPv4Address(target_id)
        if zone == "all" and any(address in n for n in _PRIVATE_NETWORKS):
            return target_id, port, None
        raise errors.InvalidTarget(
            f"The following targets are not in the target group VPC '{tg.vpc_id}': '{target_id}'"
        )

    def _target_id(self, tg: TargetGroup, target_id: str) -> str:
        """Check a target Id's form for the group's target type (`InvalidTarget`)."""
        if tg.target_type == "ip":
            try:
                ipaddress.IPv4Address(target_id)
            except ValueError:
                raise errors.InvalidTarget(
                    f"The IP address '{target_id}' is not a valid IPv4 address"
                ) from None
        elif not _INSTANCE_ID.match(target_id):
            raise errors.InvalidTarget(f"Instance ID '{target_id}' is not valid")
        return target_id

    # --- actions and conditions (docs/behaviour.md, "Listener rules") -----------------------------

    def _actions(
        self, p: Params, raw: object, param: str, lb: LoadBalancer
    ) -> list[dict[str, Any]]:
        """Validate and normalise a rule's actions into the form AWS describes them in.

        A forward to one group carries both `TargetGroupArn` and `ForwardConfig` (weight 1,
        stickiness off), as AWS answers; a weighted forward carries `ForwardConfig` only.
        Redirects get AWS's `#{...}` defaults filled in.
        """
        items = p.as_list(raw, param)
        if not items:
            raise errors.ValidationError(f"At least one action must be specified in {param}")
        actions = []
        for i, item in enumerate(items):
            entry = p.as_structure(item, f"{param}[{i}]", ("Type", "Order", *_ALL_ACTION_CONFIGS))
            kind = p.as_enum(
                entry.str("Type", required=True),
                f"{param[0].lower()}{param[1:]}.{i + 1}.member.type",
                _ACTION_TYPES,
            )
            if kind not in _ACTION_CONFIGS:
                raise errors.ValidationError(
                    f"ecsim does not model '{kind}' actions; use forward, redirect or "
                    "fixed-response"
                )
            for key in _ALL_ACTION_CONFIGS:
                if entry.has(key) and key not in _ACTION_CONFIGS[kind]:
                    raise errors.ValidationError(
                        f"'{key}' cannot be specified for an action of type '{kind}'"
                    )
            if kind == "forward":
                action = self._forward(entry, lb)
            elif kind == "redirect":
                action = self._redirect(entry)
            else:
                action = self._fixed_response(entry)
            order = entry.between("Order", 1, 50000)
            if order is not None:
                action["Order"] = order
            actions.append(action)
        if len(actions) > 1:
            raise errors.AwsError(
                "A rule can have only one terminal action (forward, redirect or fixed-response)",
                code="InvalidLoadBalancerAction",
            )
        return actions

    def _forward(self, entry: Params, lb: LoadBalancer) -> dict[str, Any]:
        arn = entry.str("TargetGroupArn")
        config = entry.structure("ForwardConfig", ("TargetGroups", "TargetGroupStickinessConfig"))
        stickiness: dict[str, Any] = {"Enabled": False}
        if config is not None:
            raw_groups = config.raw("TargetGroups") or []
            if not isinstance(raw_groups, list | tuple) or not raw_groups:
                raise errors.ValidationError(
                    "A forward action's ForwardConfig must list at least one target group"
                )
            if len(raw_groups) > MAX_FORWARD_TARGET_GROUPS:
                raise errors.ValidationError(
                    f"A forward action can have at most {MAX_FORWARD_TARGET_GROUPS} target groups"
                )
            groups: list[tuple[str, int]] = []
            for j, item in enumerate(raw_groups):
                group = config.as_structure(
                    item, f"{config.at('TargetGroups')}[{j}]", ("TargetGroupArn", "Weight")
                )
                group_arn = group.str("TargetGroupArn", required=True)
                given_weight = group.between("Weight", 0, 999)
                weight = 1 if given_weight is None else given_weight
                if any(a == group_arn for a, _ in groups):
                    raise errors.ValidationError(
                        f"Target group '{group_arn}' is specified more than once in a forward "
                        "action"
                    )
                groups.append((group_arn, weight))
            if arn is not None and (len(groups) != 1 or groups[0][0] != arn):
                raise errors.ValidationError(
                    "TargetGroupArn and ForwardConfig can both be specified only if they name "
                    "the same single target group"
                )
            sticky = config.structure("TargetGroupStickinessConfig", ("Enabled", "DurationSeconds"))
            if sticky is not None and sticky.bool("Enabled"):
                duration = sticky.between("DurationSeconds", 1, 604800, required=True)
                stickiness = {"Enabled": True, "DurationSeconds": duration}
        elif arn is not None:
            groups = [(arn, 1)]
        else:
            raise errors.ValidationError(
                "A target group ARN must be specified for a forward action"
            )
        for group_arn, _ in groups:
            tg = self.elb.target_groups.get(group_arn)
            if tg is None:
                raise errors.TargetGroupNotFound(messages.target_groups_not_found(group_arn))
            owner = self.elb.load_balancer_of(tg)
            if owner is not None and owner is not lb:
                raise errors.TargetGroupAssociationLimit(
                    "The following target groups cannot be associated with more than one load "
                    f"balancer: {group_arn}"
                )
            if tg.vpc_id != lb.vpc_id:
                raise errors.InvalidConfigurationRequest(
                    f"Target group '{group_arn}' is in VPC '{tg.vpc_id}', not in the load "
                    f"balancer's VPC '{lb.vpc_id}'"
                )
        action: dict[str, Any] = {"Type": "forward"}
        if len(groups) == 1:
            action["TargetGroupArn"] = groups[0][0]
        action["ForwardConfig"] = {
            "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in groups],
            "TargetGroupStickinessConfig": stickiness,
        }
        return action

    def _redirect(self, entry: Params) -> dict[str, Any]:
        names = ("Protocol", "Port", "Host", "Path", "Query", "StatusCode")
        config = entry.structure("RedirectConfig", names, required=True)
        status = config.as_enum(
            config.str("StatusCode", required=True),
            "redirectConfig.statusCode",
            ("HTTP_301", "HTTP_302"),
        )
        defaults = {
            "Protocol": "#{protocol}",
            "Port": "#{port}",
            "Host": "#{host}",
            "Path": "/#{path}",
            "Query": "#{query}",
        }
        out = {}
        for k, default in defaults.items():
            given = config.str(k)
            out[k] = default if given is None else given
        config.as_enum(out["Protocol"], "redirectConfig.protocol", ("HTTP", "HTTPS", "#{protocol}"))
        return {"Type": "redirect", "RedirectConfig": {**out, "StatusCode": status}}

    def _fixed_response(self, entry: Params) -> dict[str, Any]:
        config = entry.structure(
            "FixedResponseConfig", ("MessageBody", "StatusCode", "ContentType"), required=True
        )
        status = config.str("StatusCode", required=True)
        if not _FIXED_RESPONSE_CODE.match(status):
            raise errors.ValidationError(
                f"1 validation error detected: Value '{status}' at "
                "'actions.member.fixedResponseConfig.statusCode' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$"
            )
        out: dict[str, Any] = {"StatusCode": status}
        content_type = config.str("ContentType")
        if content_type is not None:
            if content_type not in _FIXED_RESPONSE_CONTENT_TYPES:
                raise errors.AwsError(
                    "The ContentType must be one of:"
                    + ", ".join(f"'{c}'" for c in _FIXED_RESPONSE_CONTENT_TYPES),
                    code="InvalidLoadBalancerAction",
                )
            out["ContentType"] = content_type
        body = config.str("MessageBody")
        if body is not None:
            if len(body) > 1024:
                raise errors.ValidationError(
                    "The fixed response message body is too long; the limit is '1024'"
                )
            out["MessageBody"] = body
        return {"Type": "fixed-response", "FixedResponseConfig": out}

    def _conditions(self, p: Params, raw: object) -> list[dict[str, Any]]:
        """Validate and normalise host-header / path-pattern conditions.

        Given as legacy `Values`, a condition is answered with both `Values` and its
        `...Config` (as AWS does); given as `...Config`, with the config only. Either way the
        config's `Values` is always present, so the data plane can read that alone.
        Limits: one value in legacy `Values`, 128 characters a value, 5 values and 5 wildcards
        a rule (docs/behaviour.md, "Load balancers and quotas"), each field once a rule.
        """
        items = p.as_list(raw, "Conditions")
        if not items:
            raise errors.ValidationError("A rule must have at least one condition")
        conditions = []
        seen: set[str] = set()
        total = wildcards = 0
        for i, item in enumerate(items):
            entry = p.as_structure(
                item,
                f"Conditions[{i}]",
                ("Field", "Values", "RegexValues", *_CONDITION_CONFIGS.values()),
            )
            field = entry.str("Field", required=True)
            if field not in _CONDITION_FIELDS:
                raise errors.ValidationError(
                    f"Condition field '{field}' must be one of '[{', '.join(_CONDITION_FIELDS)}]'"
                )
            if field not in ("host-header", "path-pattern"):
                raise errors.ValidationError(
                    f"ecsim models host-header and path-pattern conditions only; '{field}' is "
                    "not supported"
                )
            if entry.has("RegexValues"):
                raise errors.ValidationError("ecsim does not model regular-expression conditions")
            config_key = _CONDITION_CONFIGS[field]
            for other in _CONDITION_CONFIGS.values():
                if other != config_key and entry.has(other):
                    raise errors.ValidationError(
                        f"A '{other}' cannot be specified for a condition of type '{field}'"
                    )
            if field in seen:
                raise errors.ValidationError(
                    f"A '{field}' condition can be specified only once per rule"
                )
            seen.add(field)
            legacy = entry.raw("Values")
            config = entry.raw(config_key)
            if legacy is not None and config is not None:
                raise errors.ValidationError(
                    f"You cannot provide both Values and '{config_key}' for a condition of type "
                    f"'{field}'"
                )
            if legacy is not None:
                values = entry.as_strings(legacy, entry.at("Values"))
                if len(values) > 1:
                    raise errors.ValidationError(
                        f"The '{field}' field contains too many values; the limit is '1'"
                    )
            else:
                mapping = entry.as_structure(
                    config if config is not None else {},
                    entry.at(config_key),
                    ("Values", "RegexValues"),
                )
                if mapping.has("RegexValues"):
                    raise errors.ValidationError(
                        "ecsim does not model regular-expression conditions"
                    )
                values = mapping.as_strings(mapping.raw("Values") or [], mapping.at("Values"))
            if not values:
                raise errors.ValidationError("A condition value must be specified")
            for value in values:
                if len(value) > 128:
                    raise errors.ValidationError(
                        f"The '{field}' value is too long; the limit is '128'"
                    )
                wildcards += value.count("*") + value.count("?")
            total += len(values)
            condition: dict[str, Any] = {"Field": field}
            if legacy is not None:
                condition["Values"] = list(values)
            condition[config_key] = {"Values": list(values)}
            conditions.append(condition)
        if total > MAX_CONDITION_VALUES:
            raise errors.ValidationError(
                f"A rule can have at most '{MAX_CONDITION_VALUES}' condition values"
            )
        if wildcards > MAX_WILDCARDS:
            raise errors.ValidationError(
                f"A rule can have at most '{MAX_WILDCARDS}' wildcards in its condition values"
            )
        return conditions
