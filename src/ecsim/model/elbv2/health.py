"""Target health: the states, reason codes and descriptions of DescribeTargetHealth.

Health check settings and thresholds, states and reasons
(docs/behaviour.md, "Target health checks", "Target health states and reasons").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class TargetHealthState(StrEnum):
    INITIAL = "initial"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNUSED = "unused"
    DRAINING = "draining"
    UNAVAILABLE = "unavailable"


class Reason(StrEnum):
    REGISTRATION_IN_PROGRESS = "Elb.RegistrationInProgress"
    INITIAL_HEALTH_CHECKING = "Elb.InitialHealthChecking"
    RESPONSE_CODE_MISMATCH = "Target.ResponseCodeMismatch"
    TIMEOUT = "Target.Timeout"
    FAILED_HEALTH_CHECKS = "Target.FailedHealthChecks"
    NOT_REGISTERED = "Target.NotRegistered"
    NOT_IN_USE = "Target.NotInUse"
    DEREGISTRATION_IN_PROGRESS = "Target.DeregistrationInProgress"
    INTERNAL_ERROR = "Elb.InternalError"


# The Description that DescribeTargetHealth pairs with each reason, word for word the ALB
# user guide's table "Health check reason codes" (docs/behaviour.md, "Wording audit").
DESCRIPTIONS: dict[Reason, str] = {
    Reason.REGISTRATION_IN_PROGRESS: "Target registration is in progress",
    Reason.INITIAL_HEALTH_CHECKING: "Initial health checks in progress",
    Reason.TIMEOUT: "Request timed out",
    Reason.FAILED_HEALTH_CHECKS: "Health checks failed",
    Reason.NOT_REGISTERED: "Target is not registered to the target group",
    Reason.NOT_IN_USE: "Target group is not configured to receive traffic from the load balancer",
    Reason.DEREGISTRATION_IN_PROGRESS: "Target deregistration is in progress",
    Reason.INTERNAL_ERROR: "Health checks failed due to an internal error",
}

# `Target.NotInUse` has two cases, each with its own description: the group is used by no
# load balancer (DESCRIPTIONS), or the target's Availability Zone is not enabled for it.
NOT_IN_ENABLED_ZONE = "Target is in an Availability Zone that is not enabled for the load balancer"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one health-check probe saw: passed, or failed with a reason (and HTTP code)."""

    passed: bool
    reason: Reason | None = None
    code: int | None = None
    duration: float = 0.0

    @property
    def description(self) -> str | None:
        if self.reason is Reason.RESPONSE_CODE_MISMATCH:
            return f"Health checks failed with these codes: [{self.code}]"
        return DESCRIPTIONS.get(self.reason) if self.reason else None


@lru_cache(maxsize=64)
def passed(duration: float) -> ProbeResult:
    """A passing probe answered after `duration`: results are immutable, so the few answer
    times of a world's apps share one each (a large fleet makes millions of probes)."""
    return ProbeResult(True, duration=duration)


@lru_cache(maxsize=256)
def answered(matcher: str, code: int, duration: float) -> ProbeResult:
    """A probe answered with HTTP `code` after `duration`, judged by `matcher`: a pass, or
    `Target.ResponseCodeMismatch`. Cached (results are immutable, and a world's apps answer
    few codes after few times): one lookup per probe where `matcher_accepts` and `passed`
    were two."""
    if matcher_accepts(matcher, code):
        return passed(duration)
    return ProbeResult(False, Reason.RESPONSE_CODE_MISMATCH, code=code, duration=duration)


@lru_cache(maxsize=256)
def matcher_accepts(matcher: str, code: int) -> bool:
    """ALB `Matcher.HttpCode`: `200`, `200,202` or `200-299`
    (docs/behaviour.md, "Target health checks"); cached, as
    every probe asks it."""
    for part in matcher.split(","):
        lo, _, hi = part.strip().partition("-")
        if int(lo) <= code <= int(hi or lo):
            return True
    return False


def valid_matcher(matcher: str) -> bool:
    try:
        for part in matcher.split(","):
            lo, _, hi = part.strip().partition("-")
            if not 200 <= int(lo) <= int(hi or lo) <= 499:
                return False
    except ValueError:
        return False
    return True
