"""ELBv2 error messages in AWS's own words, read by the facade and by the tests.

Each is the text AWS answers, as its clients quote it (docs/behaviour.md, "Wording audit").
"""

from __future__ import annotations

# DescribeLoadBalancers with an ARN that names no load balancer.
LOAD_BALANCERS_NOT_FOUND = "One or more load balancers not found"

# DescribeTargetGroups with an ARN or a name that names no target group.
TARGET_GROUPS_NOT_FOUND = "One or more target groups not found"

# DescribeListeners with an ARN that names no listener.
LISTENERS_NOT_FOUND = "One or more listeners not found"


def load_balancers_not_found(names: list[str]) -> str:
    """DescribeLoadBalancers with names that name no load balancer."""
    return f"Load balancers '[{', '.join(names)}]' not found"


def target_groups_not_found(arn: str) -> str:
    """An action on one target group (RegisterTargets, a listener's forward action, ...)
    whose ARN names none."""
    return f"Target groups '{arn}' not found"


def duplicate_listener(lb_arn: str) -> str:
    """CreateListener on a port the load balancer already listens on, differently."""
    return f"A listener already exists on this port for this load balancer '{lb_arn}'"


def listener_port_in_use(port: int) -> str:
    """ModifyListener onto a port another listener of the load balancer uses (ValidationError)."""
    return f"Listener port '{port}' is already in use"
