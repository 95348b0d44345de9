"""Application Auto Scaling's generated names and error messages, in AWS's own words.

Read by the facade and by the tests (docs/behaviour.md, "Wording audit").
"""

from __future__ import annotations

from ecsim.model.autoscaling.scaler import DIMENSION, NAMESPACE


def alarm_name(resource_id: str, side: str, uuid: str) -> str:
    """`TargetTracking-service/<cluster>/<service>-AlarmHigh-<uuid>` (or `AlarmLow`): the
    CloudWatch alarms a target tracking policy creates, each with a UUID of its own."""
    return f"TargetTracking-{resource_id}-Alarm{side}-{uuid}"


def policy_resource(uuid: str, resource_id: str, name: str) -> str:
    """The resource part of a scaling policy's ARN (in the `autoscaling` service)."""
    return f"scalingPolicy:{uuid}:resource/{NAMESPACE}/{resource_id}:policyName/{name}"


def no_scalable_target(resource_id: str) -> str:
    """ObjectNotFoundException: a policy for, or a deregistration of, an unregistered target."""
    return (
        f"No scalable target registered for service namespace: {NAMESPACE}, "
        f"resource ID: {resource_id}, scalable dimension: {DIMENSION}"
    )


def no_scaling_policy(resource_id: str, name: str) -> str:
    """ObjectNotFoundException: DeleteScalingPolicy of a policy that does not exist."""
    return (
        f"No scaling policy found for service namespace: {NAMESPACE}, resource ID: "
        f"{resource_id}, scalable dimension: {DIMENSION}, policy name: {name}"
    )
