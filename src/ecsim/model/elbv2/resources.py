"""The ELBv2 resources as the model holds them: load balancers, listeners, rules, target groups.

Defaults and ranges follow AWS's (docs/behaviour.md, "Target health checks", "Deregistration delay",
"Slow start", "Routing algorithms", "Fail-open", "ALB-generated answers", "Listener rules").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ecsim.model.elbv2.health import Reason, TargetHealthState
from ecsim.sim import Timer


class LoadBalancingAlgorithm(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_OUTSTANDING_REQUESTS = "least_outstanding_requests"
    WEIGHTED_RANDOM = "weighted_random"


class LoadBalancerState(StrEnum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    ACTIVE_IMPAIRED = "active_impaired"
    FAILED = "failed"


DEFAULT_TARGET_GROUP_ATTRIBUTES: dict[str, str] = {
    "deregistration_delay.timeout_seconds": "300",
    "stickiness.enabled": "false",
    "stickiness.type": "lb_cookie",
    "stickiness.lb_cookie.duration_seconds": "86400",
    "slow_start.duration_seconds": "0",
    "load_balancing.algorithm.type": "round_robin",
    "load_balancing.algorithm.anomaly_mitigation": "off",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
}

# An HTTP listener's: the Server header on, no response header added
# (docs/behaviour.md, "Listener attributes").
DEFAULT_LISTENER_ATTRIBUTES: dict[str, str] = {
    "routing.http.response.server.enabled": "true",
    **dict.fromkeys(
        [
            f"routing.http.response.{name}.header_value"
            for name in (
                "strict_transport_security",
                "access_control_allow_origin",
                "access_control_allow_methods",
                "access_control_allow_headers",
                "access_control_allow_credentials",
                "access_control_expose_headers",
                "access_control_max_age",
                "content_security_policy",
                "x_content_type_options",
                "x_frame_options",
            )
        ],
        "",
    ),
}

DEFAULT_LOAD_BALANCER_ATTRIBUTES: dict[str, str] = {
    "idle_timeout.timeout_seconds": "60",
    "client_keep_alive.seconds": "3600",
    "deletion_protection.enabled": "false",
    "routing.http2.enabled": "true",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http.preserve_host_header.enabled": "false",
    "load_balancing.cross_zone.enabled": "true",
    "access_logs.s3.enabled": "false",
    "waf.fail_open.enabled": "false",
}


@dataclass(slots=True)
class HealthCheck:
    protocol: str = "HTTP"
    port: str = "traffic-port"
    path: str = "/"
    interval: int = 30
    timeout: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"


@dataclass(slots=True)
class Target:
    """One registration (Id, Port) in a target group, with its health state machine."""

    id: str
    port: int
    az: str | None
    state: TargetHealthState = TargetHealthState.INITIAL
    reason: Reason | None = Reason.REGISTRATION_IN_PROGRESS
    description: str | None = None
    ok_streak: int = 0
    fail_streak: int = 0
    registered_at: float = 0.0
    slow_start_from: float | None = None
    slow_start_until: float | None = None
    timer: Timer | None = None
    generation: int = 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.port)


@dataclass(slots=True)
class TargetGroup:
    arn: str
    name: str
    protocol: str
    port: int
    vpc_id: str
    target_type: str
    health: HealthCheck
    protocol_version: str = "HTTP1"
    ip_address_type: str = "ipv4"
    attributes: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_TARGET_GROUP_ATTRIBUTES)
    )
    targets: dict[tuple[str, int], Target] = field(default_factory=dict)

    @property
    def deregistration_delay(self) -> float:
        return float(self.attributes["deregistration_delay.timeout_seconds"])

    @property
    def slow_start(self) -> float:
        return float(self.attributes["slow_start.duration_seconds"])

    @property
    def algorithm(self) -> LoadBalancingAlgorithm:
        return LoadBalancingAlgorithm(self.attributes["load_balancing.algorithm.type"])

    @property
    def min_healthy_targets(self) -> int:
        return int(
            self.attributes[
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"
            ]
        )

    @property
    def min_healthy_percentage(self) -> int | None:
        """`...minimum_healthy_targets.percentage` as an integer; None when `off`."""
        value = self.attributes[
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage"
        ]
        return None if value == "off" else int(value)

    @property
    def id_tail(self) -> str:
        """`targetgroup/<name>/<16 hex>`, the CloudWatch dimension."""
        return self.arn.split(":", 5)[5]


@dataclass
class Rule:
    arn: str
    listener_arn: str
    priority: int | None  # None for the listener's default rule
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]

    @property
    def is_default(self) -> bool:
        return self.priority is None


@dataclass
class Listener:
    arn: str
    load_balancer_arn: str
    port: int
    protocol: str
    default_rule: Rule
    rules: list[Rule] = field(default_factory=list)
    attributes: dict[str, str] = field(  # (docs/behaviour.md, "Listener attributes")
        default_factory=lambda: dict(DEFAULT_LISTENER_ATTRIBUTES)
    )

    def ordered_rules(self) -> list[Rule]:
        """Rules as the ALB evaluates them: lowest priority first, the default last."""
        return [*sorted(self.rules, key=lambda r: r.priority or 0), self.default_rule]


@dataclass
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    scheme: str
    vpc_id: str
    subnets: list[str]
    availability_zones: list[tuple[str, str]]  # (zone name, subnet id)
    security_groups: list[str]
    created_at: float
    state: LoadBalancerState = LoadBalancerState.PROVISIONING
    ip_address_type: str = "ipv4"
    attributes: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_LOAD_BALANCER_ATTRIBUTES)
    )
    listeners: dict[str, Listener] = field(default_factory=dict)
    node_ips: list[tuple[str, str]] = field(default_factory=list)  # (subnet id, ip)

    @property
    def idle_timeout(self) -> float:
        return float(self.attributes["idle_timeout.timeout_seconds"])

    @property
    def zones(self) -> set[str]:
        return {zone for zone, _ in self.availability_zones}


def forward_targets(actions: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The (target group ARN, weight) pairs a rule's forward action sends to."""
    out: list[tuple[str, int]] = []
    for action in actions:
        if action.get("Type") != "forward":
            continue
        config = action.get("ForwardConfig")
        if config and config.get("TargetGroups"):
            out.extend(
                (g["TargetGroupArn"], int(g.get("Weight", 1))) for g in config["TargetGroups"]
            )
        elif action.get("TargetGroupArn"):
            out.append((action["TargetGroupArn"], 1))
    return out
