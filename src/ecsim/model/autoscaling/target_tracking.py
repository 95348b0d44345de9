"""Target tracking of an ECS service's desired count, set up with Application Auto Scaling's
public calls as a boto3 script would: RegisterScalableTarget (min, max), then one
PutScalingPolicy (TargetTrackingScaling) per policy. The page's auto scaling control and a
scenario's `auto_scaling` both use `track`.

All or nothing: when the model refuses a call, the calls made before are undone, so a bad input
changes nothing (no policy left behind, no desired count clamped to a range that was refused).
Values are passed as given: the model checks them and answers in AWS's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsim.model.errors import AwsError

if TYPE_CHECKING:
    from ecsim.model.autoscaling.api import ApplicationAutoScalingApi
    from ecsim.model.ecs.api import EcsApi

DIMENSION = "ecs:service:DesiredCount"


def service_target(cluster: str, service: str) -> dict[str, str]:
    """The scalable target of a service's desired count, as Application Auto Scaling names it."""
    return {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{cluster}/{service}",
        "ScalableDimension": DIMENSION,
    }


@dataclass(frozen=True)
class Policy:
    """One target tracking policy: keep the predefined `metric` at `target`. The optional
    fields go into the configuration only when given."""

    name: str
    metric: str  # PredefinedMetricType, e.g. ECSServiceAverageCPUUtilization
    target: Any  # TargetValue
    resource_label: str | None = None  # ALBRequestCountPerTarget's app/.../targetgroup/...
    scale_out_cooldown: Any = None
    scale_in_cooldown: Any = None
    disable_scale_in: Any = None

    def configuration(self) -> dict[str, Any]:
        metric: dict[str, Any] = {"PredefinedMetricType": self.metric}
        if self.resource_label is not None:
            metric["ResourceLabel"] = self.resource_label
        config: dict[str, Any] = {
            "TargetValue": self.target,
            "PredefinedMetricSpecification": metric,
        }
        for key, value in (
            ("ScaleOutCooldown", self.scale_out_cooldown),
            ("ScaleInCooldown", self.scale_in_cooldown),
            ("DisableScaleIn", self.disable_scale_in),
        ):
            if value is not None:
                config[key] = value
        return config


class TargetTrackingError(Exception):
    """The model refused one of the calls (everything before it was undone): `operation`
    (register_scalable_target or put_scaling_policy), the index of the policy for
    put_scaling_policy, and the model's own error."""

    def __init__(self, operation: str, policy: int | None, error: AwsError) -> None:
        super().__init__(f"{operation}: {error}")
        self.operation = operation
        self.policy = policy
        self.error = error


def policy_name(
    aas: ApplicationAutoScalingApi, target: dict[str, str], metric: str, default: str
) -> str:
    """The name of the target's target tracking policy on `metric` if it has one (a new call
    updates it), else `default`."""
    policies = aas.describe_scaling_policies(
        ServiceNamespace=target["ServiceNamespace"], ResourceId=target["ResourceId"]
    )["ScalingPolicies"]
    for p in policies:
        config = p.get("TargetTrackingScalingPolicyConfiguration", {})
        if config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType") == metric:
            return str(p["PolicyName"])
    return default


def track(
    aas: ApplicationAutoScalingApi,
    ecs: EcsApi,
    target: dict[str, str],
    lo: Any,
    hi: Any,
    policies: Sequence[Policy],
) -> None:
    """Register `target` from `lo` to `hi` and put `policies`, all or nothing; raise
    TargetTrackingError when the model refuses a call.

    A target registered already gets its policies first (the model checks their values), then
    the range. A new one is registered first with a range that holds the current desired count
    (the model checks the range and clamps nothing), then gets its policies, then the range
    asked for, which brings the desired count into it as RegisterScalableTarget does on AWS.
    """
    ns = {"ServiceNamespace": target["ServiceNamespace"]}
    rid = target["ResourceId"]
    registered = aas.describe_scalable_targets(**ns, ResourceIds=[rid])["ScalableTargets"]
    if registered:
        before = {
            p["PolicyName"]: p
            for p in aas.describe_scaling_policies(**ns, ResourceId=rid)["ScalingPolicies"]
        }
        done: list[str] = []
        try:
            for i, policy in enumerate(policies):
                _put(aas, target, policy, i)
                done.append(policy.name)
            _register(aas, target, lo, hi)
        except TargetTrackingError:
            for name in reversed(done):  # as they were
                old = before.get(name)
                if old is None:
                    aas.delete_scaling_policy(PolicyName=name, **target)
                else:
                    aas.put_scaling_policy(
                        PolicyName=name,
                        PolicyType="TargetTrackingScaling",
                        TargetTrackingScalingPolicyConfiguration=old[
                            "TargetTrackingScalingPolicyConfiguration"
                        ],
                        **target,
                    )
            raise
        return
    wide = (lo, hi)
    _, cluster, service = rid.split("/")
    found = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if found and _is_int(lo) and _is_int(hi) and 0 <= lo <= hi:
        desired = found[0]["desiredCount"]
        wide = (min(lo, desired), max(hi, desired))
    _register(aas, target, *wide)
    try:
        for i, policy in enumerate(policies):
            _put(aas, target, policy, i)
    except TargetTrackingError:
        aas.deregister_scalable_target(**target)  # its policies go with it
        raise
    if wide != (lo, hi):
        _register(aas, target, lo, hi)


def _is_int(value: Any) -> bool:
    return type(value) is int


def _register(aas: ApplicationAutoScalingApi, target: dict[str, str], lo: Any, hi: Any) -> None:
    try:
        aas.register_scalable_target(**target, MinCapacity=lo, MaxCapacity=hi)
    except AwsError as e:
        raise TargetTrackingError("register_scalable_target", None, e) from None


def _put(aas: ApplicationAutoScalingApi, target: dict[str, str], policy: Policy, i: int) -> None:
    try:
        aas.put_scaling_policy(
            PolicyName=policy.name,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=policy.configuration(),
            **target,
        )
    except AwsError as e:
        raise TargetTrackingError("put_scaling_policy", i, e) from None
