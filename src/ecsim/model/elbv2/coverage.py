"""What `w.elbv2` does with each parameter of the ELBv2 operations it serves, and with each
load balancer attribute (model/aws/coverage.py).

Refusals are `ValidationError`, as for the other things ecsim's Application Load Balancers do
not have (HTTPS listeners, Network Load Balancers, ...).
"""

from __future__ import annotations

from ecsim.model import errors
from ecsim.model.aws.coverage import Coverage, Member, modelled, no_effect, one_of, refused

_PAGES = modelled("Marker PageSize", "the page of the answer")
_TAGS = modelled("Tags", "kept, answered by DescribeTags")
_HTTPS = "HTTPS listeners (certificates, TLS) are not modelled; ecsim's listeners are HTTP"
_LISTENER_TLS: list[Member] = [
    *refused("SslPolicy", _HTTPS, "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    *refused(
        "Certificates",
        _HTTPS,
        [{"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/1"}],
    ),
    *refused("AlpnPolicy", _HTTPS, ["HTTP2Preferred"]),
    *refused("MutualAuthentication", _HTTPS, {"Mode": "verify"}),
]
_TRANSFORMS = refused(
    "Transforms",
    "rule transforms (host header and URL rewrites) are not modelled",
    [
        {
            "Type": "url-rewrite",
            "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/a/(.*)$", "Replace": "/$1"}]},
        }
    ],
)
_HEALTH_CHECK = modelled(
    "HealthCheckProtocol HealthCheckPort HealthCheckEnabled HealthCheckPath "
    "HealthCheckIntervalSeconds HealthCheckTimeoutSeconds HealthyThresholdCount "
    "UnhealthyThresholdCount Matcher",
    'the health checks (DescribeTargetHealth; docs/behaviour.md, "Target health checks")',
)

OPERATIONS: dict[str, list[Member]] = {
    "CreateLoadBalancer": [
        *modelled("Name Scheme", "the load balancer's name, ARN and DNS name"),
        *modelled("Subnets SubnetMappings", "its Availability Zones and node addresses"),
        *modelled("SecurityGroups", "answered by DescribeLoadBalancers"),
        *modelled("Type IpAddressType", "application and ipv4; other values are refused"),
        *_TAGS,
        *refused(
            "CustomerOwnedIpv4Pool",
            "load balancers on AWS Outposts are not modelled",
            "ipv4pool-coip-12345678",
        ),
        *refused(
            "EnablePrefixForIpv6SourceNat",
            "IPv6 source NAT belongs to Network Load Balancers, which are not modelled",
            "on",
            one_of("off"),
            "off",
        ),
        *refused(
            "IpamPools",
            "IPAM address pools are not modelled; the nodes' addresses come from the subnets",
            {"Ipv4IpamPoolId": "ipam-pool-0123456789abcdef0"},
        ),
    ],
    "DescribeLoadBalancers": [
        *modelled("LoadBalancerArns Names", "the load balancers answered"),
        *_PAGES,
    ],
    "DeleteLoadBalancer": modelled("LoadBalancerArn", "the load balancer goes"),
    "DescribeLoadBalancerAttributes": modelled("LoadBalancerArn", "its attributes"),
    "ModifyLoadBalancerAttributes": [
        *modelled("LoadBalancerArn", "the load balancer"),
        *modelled("Attributes", "each attribute as LOAD_BALANCER_ATTRIBUTES declares"),
    ],
    "CreateTargetGroup": [
        *modelled("Name Protocol Port VpcId TargetType", "the target group (DescribeTargetGroups)"),
        *modelled("ProtocolVersion", "HTTP1 or HTTP2, answered; GRPC is refused"),
        *modelled("IpAddressType", "ipv4; ipv6 is refused"),
        *_HEALTH_CHECK,
        *_TAGS,
        *refused(
            "TargetControlPort",
            "the target control agent of target optimizers is not modelled",
            8081,
        ),
    ],
    "DescribeTargetGroups": [
        *modelled("LoadBalancerArn TargetGroupArns Names", "the target groups answered"),
        *_PAGES,
    ],
    "ModifyTargetGroup": [*modelled("TargetGroupArn", "the target group"), *_HEALTH_CHECK],
    "DeleteTargetGroup": modelled("TargetGroupArn", "the target group goes"),
    "DescribeTargetGroupAttributes": modelled("TargetGroupArn", "its attributes"),
    "ModifyTargetGroupAttributes": modelled(
        "TargetGroupArn Attributes",
        'the attributes (docs/behaviour.md, "Deregistration delay", "Slow start")',
    ),
    "CreateListener": [
        *modelled("LoadBalancerArn Protocol Port DefaultActions", "the listener and its routing"),
        *_TAGS,
        *_LISTENER_TLS,
    ],
    "DescribeListeners": [
        *modelled("LoadBalancerArn ListenerArns", "the listeners answered"),
        *_PAGES,
    ],
    "ModifyListener": [
        *modelled("ListenerArn Port Protocol DefaultActions", "the listener and its routing"),
        *_LISTENER_TLS,
    ],
    "DeleteListener": modelled("ListenerArn", "the listener and its rules go"),
    "CreateRule": [
        *modelled("ListenerArn Conditions Priority Actions", "the rule and its routing"),
        *_TAGS,
        *_TRANSFORMS,
    ],
    "DescribeRules": [*modelled("ListenerArn RuleArns", "the rules answered"), *_PAGES],
    "ModifyRule": [
        *modelled("RuleArn Conditions Actions", "the rule and its routing"),
        *_TRANSFORMS,
        *refused(
            "ResetTransforms",
            "rule transforms (host header and URL rewrites) are not modelled",
            True,
        ),
    ],
    "SetRulePriorities": modelled("RulePriorities", "the order the rules are evaluated in"),
    "DeleteRule": modelled("RuleArn", "the rule goes"),
    "RegisterTargets": modelled("TargetGroupArn Targets", "the targets' health (initial, ...)"),
    "DeregisterTargets": modelled("TargetGroupArn Targets", "the targets drain"),
    "DescribeTargetHealth": [
        *modelled("TargetGroupArn Targets", "the targets answered"),
        *refused(
            "Include",
            "anomaly detection is not modelled, so no AnomalyDetection could be answered",
            ["AnomalyDetection"],
        ),
    ],
    "AddTags": modelled("ResourceArns Tags", "DescribeTags"),
    "DescribeListenerAttributes": modelled("ListenerArn", "the listener's attributes"),
    "ModifyListenerAttributes": modelled(
        "ListenerArn Attributes",
        "the Server header and the response headers on the ALB's real port; others refused",
    ),
    "SetSubnets": [
        *modelled(
            "LoadBalancerArn Subnets SubnetMappings",
            "the load balancer's nodes move to the subnets' zones (targets elsewhere: unused)",
        ),
        *refused(
            "IpAddressType",
            "ecsim's VPCs are IPv4 only",
            "dualstack",
            one_of("ipv4"),
            "ipv4",
        ),
        *refused(
            "EnablePrefixForIpv6SourceNat",
            "ecsim's VPCs are IPv4 only",
            "on",
            one_of("off"),
            "off",
        ),
    ],
    "SetSecurityGroups": [
        *modelled("LoadBalancerArn SecurityGroups", "the groups answered"),
        *refused(
            "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
            "PrivateLink traffic is not modelled",
            "off",
            one_of("on"),
            "on",
        ),
    ],
    "RemoveTags": modelled("ResourceArns TagKeys", "DescribeTags"),
    "DescribeTags": modelled("ResourceArns", "the tags answered"),
}

COVERAGE = Coverage("elbv2", errors.ValidationError, OPERATIONS)


def _attribute(key: str, note: str, example: str, default: str) -> list[Member]:
    """A refused attribute: AWS's default value passes."""
    return refused(key, note, example, one_of(default), default)


# --- load balancer attributes (ModifyLoadBalancerAttributes) ---------------------------------

_HEADERS = "the simulated targets see no request headers, so ecsim cannot show what changes"

LOAD_BALANCER_ATTRIBUTES: dict[str, Member] = {
    m.path: m
    for m in [
        *modelled(
            "idle_timeout.timeout_seconds",
            "a target that has not answered within it gets the load balancer's 504",
        ),
        *modelled(
            "deletion_protection.enabled", "DeleteLoadBalancer is refused (OperationNotPermitted)"
        ),
        *modelled("load_balancing.cross_zone.enabled", "always on for an ALB: false is refused"),
        *no_effect(
            "routing.http2.enabled",
            "HTTP/2 is offered on HTTPS listeners only, and ecsim's listeners are HTTP",
        ),
        *no_effect(
            "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
            "the TLS headers are added on HTTPS listeners only",
        ),
        *no_effect(
            "waf.fail_open.enabled",
            "it matters only with an AWS WAF web ACL, which ecsim cannot associate",
        ),
        *no_effect(
            "access_logs.s3.bucket access_logs.s3.prefix connection_logs.s3.bucket "
            "connection_logs.s3.prefix",
            "where logs would go; the logs themselves cannot be enabled",
        ),
        *_attribute("routing.http.drop_invalid_header_fields.enabled", _HEADERS, "true", "false"),
        *_attribute("routing.http.xff_header_processing.mode", _HEADERS, "remove", "append"),
        *_attribute("routing.http.xff_client_port.enabled", _HEADERS, "true", "false"),
        *_attribute("routing.http.preserve_host_header.enabled", _HEADERS, "true", "false"),
        *_attribute(
            "routing.http.desync_mitigation_mode",
            "requests are not classified for HTTP desync; every request is routed",
            "strictest",
            "defensive",
        ),
        *_attribute(
            "client_keep_alive.seconds",
            "client connections are not modelled, only requests",
            "60",
            "3600",
        ),
        *_attribute(
            "access_logs.s3.enabled",
            "ecsim writes no access logs (the traffic statistics and events say what happened)",
            "true",
            "false",
        ),
        *_attribute(
            "connection_logs.s3.enabled",
            "ecsim writes no connection logs",
            "true",
            "false",
        ),
        *_attribute(
            "zonal_shift.config.enabled",
            "zonal shifts (Amazon Application Recovery Controller) are not modelled",
            "true",
            "false",
        ),
    ]
}
