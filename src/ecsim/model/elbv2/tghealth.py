"""Target group health: when too few targets are healthy, the ALB routes to unhealthy ones too.

AWS's routing failover (`target_group_health.unhealthy_state_routing.*`): the load balancer
sends traffic to all targets, unhealthy ones included, when the healthy targets fall below
the minimum count or below the minimum percentage of the registered targets, whichever is
breached (docs/behaviour.md, "Fail-open"). ecsim's ALB always balances across zones, so the
thresholds apply to the targets of every enabled zone together.
"""

from __future__ import annotations

from ecsim.model.elbv2.health import TargetHealthState
from ecsim.model.elbv2.resources import TargetGroup

# The targets "registered with the target group" that the percentage is taken of: every
# registration not being deregistered (draining) and in an enabled zone (not `unused`)
# (docs/behaviour.md, "Fail-open").
REGISTERED = frozenset(
    {
        TargetHealthState.HEALTHY,
        TargetHealthState.UNHEALTHY,
        TargetHealthState.INITIAL,
        TargetHealthState.UNAVAILABLE,
    }
)


def below_threshold(healthy: int, registered: int, count: int, percentage: int | None) -> bool:
    """Fewer than `count` healthy targets, or fewer than `percentage` % of the `registered`
    ones (exactly: 4 of 10 is below 50 %, 5 of 10 is not; no rounding). `percentage` None is
    `off`."""
    if healthy < count:
        return True
    return percentage is not None and healthy * 100 < percentage * registered


def routing_fails_open(tg: TargetGroup) -> bool:
    """The target group is below its unhealthy-state-routing threshold right now."""
    states = [t.state for t in tg.targets.values()]
    healthy = sum(1 for s in states if s is TargetHealthState.HEALTHY)
    registered = sum(1 for s in states if s in REGISTERED)
    return below_threshold(healthy, registered, tg.min_healthy_targets, tg.min_healthy_percentage)
