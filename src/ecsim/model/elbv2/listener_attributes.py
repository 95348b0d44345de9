"""ALB listener attributes: DescribeListenerAttributes and ModifyListenerAttributes
(docs/behaviour.md, "Listener attributes").

An HTTP listener's header modification attributes: the `Server: awselb/2.0` header on or off
(`routing.http.response.server.enabled`) and the response headers the load balancer adds,
both applied on the ALB's real port (`response_headers`). The HTTPS-only request header
renames (mTLS/TLS) and the Network Load Balancer's `tcp.idle_timeout.seconds` are refused by
name: ecsim's listeners are HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.params import Params
from ecsim.model.elbv2.resources import DEFAULT_LISTENER_ATTRIBUTES as DEFAULTS

if TYPE_CHECKING:
    from ecsim.model.elbv2.backend import ElbBackend
    from ecsim.model.elbv2.resources import Listener

SERVER = "routing.http.response.server.enabled"
# the response headers an HTTP listener may add, by attribute
ADDED_HEADERS = {
    "routing.http.response.strict_transport_security.header_value": "Strict-Transport-Security",
    "routing.http.response.access_control_allow_origin.header_value": "Access-Control-Allow-Origin",
    "routing.http.response.access_control_allow_methods.header_value": "Access-Control-Allow-Methods",
    "routing.http.response.access_control_allow_headers.header_value": "Access-Control-Allow-Headers",
    "routing.http.response.access_control_allow_credentials.header_value": (
        "Access-Control-Allow-Credentials"
    ),
    "routing.http.response.access_control_expose_headers.header_value": (
        "Access-Control-Expose-Headers"
    ),
    "routing.http.response.access_control_max_age.header_value": "Access-Control-Max-Age",
    "routing.http.response.content_security_policy.header_value": "Content-Security-Policy",
    "routing.http.response.x_content_type_options.header_value": "X-Content-Type-Options",
    "routing.http.response.x_frame_options.header_value": "X-Frame-Options",
}
HTTPS_ONLY = re.compile(r"^routing\.http\.request\.x_amzn_(mtls|tls)_[a-z_]+\.header_name\Z")
MOST = 20  # attributes in one call (as ModifyLoadBalancerAttributes)
HEADER_VALUE_MOST = 1000
_ONLY = {
    "routing.http.response.access_control_allow_credentials.header_value": ("true",),
    "routing.http.response.x_content_type_options.header_value": ("nosniff",),
}
_FRAME = re.compile(r"^(DENY|SAMEORIGIN|ALLOW-FROM \S+)\Z")


def check(key: str, value: str) -> None:
    """An attribute's value as AWS allows it; an attribute ecsim does not model, by name."""
    if HTTPS_ONLY.match(key):
        raise errors.InvalidConfigurationRequest(
            f"Listener attribute '{key}' is only supported for HTTPS listeners: ecsim's "
            "listeners are HTTP."
        )
    if key == "tcp.idle_timeout.seconds":
        raise errors.InvalidConfigurationRequest(
            f"Listener attribute '{key}' is only supported for TCP listeners of a Network Load "
            "Balancer."
        )
    if key not in DEFAULTS:
        raise errors.ValidationError(f"Listener attribute key '{key}' is not recognized")
    if key == SERVER:
        if value not in ("true", "false"):
            raise errors.ValidationError(f"Listener attribute '{key}' must be 'true' or 'false'")
        return
    if value == "":
        return  # not added
    if len(value) > HEADER_VALUE_MOST or any(not " " <= c <= "~" for c in value):
        raise errors.ValidationError(
            f"Listener attribute '{key}' must be printable ASCII of at most "
            f"{HEADER_VALUE_MOST} characters"
        )
    allowed = _ONLY.get(key)
    if allowed is not None and value not in allowed:
        raise errors.ValidationError(
            f"Listener attribute '{key}' must be one of: {', '.join(allowed)}"
        )
    if key.endswith("x_frame_options.header_value") and not _FRAME.match(value):
        raise errors.ValidationError(
            f"Listener attribute '{key}' must be DENY, SAMEORIGIN or ALLOW-FROM <uri>"
        )
    if key.endswith("access_control_max_age.header_value") and not (
        value.isascii() and value.isdigit() and len(value) <= 10
    ):
        raise errors.ValidationError(f"Listener attribute '{key}' must be a number of seconds")


def response_headers(attributes: Mapping[str, str]) -> tuple[bool, dict[str, str]]:
    """What the listener does to its answers: whether they carry `Server: awselb/2.0`, and
    the headers it adds."""
    added = {ADDED_HEADERS[k]: v for k, v in attributes.items() if k in ADDED_HEADERS and v}
    return attributes.get(SERVER, "true") == "true", added


class ElbListenerAttributes:
    """The listener attribute operations, for `Elbv2Api`."""

    elb: ElbBackend

    def _listener(self, arn: str) -> Listener:
        raise NotImplementedError

    def describe_listener_attributes(self, **kwargs: Any) -> dict[str, Any]:
        p = Params("DescribeListenerAttributes", kwargs, errors.ValidationError)
        listener = self._listener(p.req_str("ListenerArn"))
        p.done()
        return {"Attributes": _as_list(listener.attributes)}

    def modify_listener_attributes(self, **kwargs: Any) -> dict[str, Any]:
        """All or nothing; answers the attributes given."""
        p = Params("ModifyListenerAttributes", kwargs, errors.ValidationError)
        listener = self._listener(p.req_str("ListenerArn"))
        raw = p.list("Attributes", required=True)
        if len(raw) > MOST:
            raise errors.ValidationError(
                "1 validation error detected: Value at 'attributes' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MOST}"
            )
        pairs = []
        for i, item in enumerate(raw):
            entry = p.as_structure(item, f"Attributes[{i}]", ("Key", "Value"))
            pairs.append((entry.req_str("Key"), entry.str("Value", required=True)))
        p.done()
        for key, value in pairs:
            check(key, value)
        self.elb.set_listener_attributes(listener, dict(pairs))
        return {"Attributes": [{"Key": k, "Value": v} for k, v in pairs]}


def _as_list(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in attributes.items()]
