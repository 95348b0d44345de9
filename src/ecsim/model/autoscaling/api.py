"""`w.application_autoscaling`: ECS service auto scaling, under boto3's names and shapes.

    w.application_autoscaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/home/home-service",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=10)
    w.application_autoscaling.put_scaling_policy(
        PolicyName="cpu50", ServiceNamespace="ecs", ResourceId="service/home/home-service",
        ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={"TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})

Namespace `ecs`, dimension `ecs:service:DesiredCount`, target tracking with the predefined
ECS and ALB metrics
(docs/behaviour.md, "Service auto scaling"; scaler.py says how it scales). Step scaling, scheduled
actions, customized metrics and other namespaces get a ValidationException that says so.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ecsim.model.autoscaling.coverage import COVERAGE
from ecsim.model.autoscaling.messages import (
    alarm_name,
    no_scalable_target,
    no_scaling_policy,
    policy_resource,
)
from ecsim.model.autoscaling.metrics import TARGET_MAX, PredefinedMetric, resource_label_arns
from ecsim.model.autoscaling.scaler import (
    DIMENSION,
    NAMESPACE,
    ScalableTarget,
    Scaler,
    TargetTrackingPolicy,
)
from ecsim.model.aws.pages import Pages
from ecsim.model.aws.params import Params
from ecsim.model.ecs.enums import ServiceStatus
from ecsim.model.errors import (
    AwsError,
    InvalidNextTokenException,
    ObjectNotFoundException,
    ValidationException,
)

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.backend import EcsBackend

TARGET_VALUE_RANGE = (8.515920e-109, 6.153251e48)  # TargetTrackingScalingPolicyConfiguration
# MinCapacity and MaxCapacity are AWS `integer`s (32 bits). A larger MaxCapacity is taken, but
# the scaler never asks ECS for more than its tasks per service quota (scaler.py, `_within`).
MAX_CAPACITY = 2**31 - 1
SUSPENDED = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")
# The namespaces Application Auto Scaling knows (ecsim scales `ecs` only).
NAMESPACES = (
    "ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker",
    "custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache",
    "neptune", "workspaces",
)  # fmt: skip
# MaxResults items (1..50, default 50) from NextToken (an offset ecsim hands out).
_PAGES = Pages(
    "NextToken",
    "NextToken",
    size="MaxResults",
    most=50,
    error=InvalidNextTokenException,
    message="The NextToken is not valid.",
)


class ApplicationAutoScalingApi:
    def __init__(self, ctx: SimContext, backend: EcsBackend, scaler: Scaler) -> None:
        self.ctx = ctx
        self.backend = backend
        self.scaler = scaler
        # RegisterScalableTarget's Tags, by scalable target ARN (ListTagsForResource)
        self._tags: dict[str, dict[str, str]] = {}

    # --- scalable targets -----------------------------------------------------------------

    def register_scalable_target(self, **params: Any) -> dict[str, Any]:
        p = self._p("RegisterScalableTarget", params)
        resource_id, cluster, service = self._target_key(p)
        lo = p.int("MinCapacity", lo=0, hi=MAX_CAPACITY)
        hi = p.int("MaxCapacity", lo=0, hi=MAX_CAPACITY)
        role = p.str("RoleARN")
        suspended = p.dict("SuspendedState")
        tags = _tags(p.dict("Tags"))
        p.done()
        for key, value in suspended.items():
            if key not in SUSPENDED or not isinstance(value, bool):
                raise ValidationException(
                    f"SuspendedState takes {', '.join(SUSPENDED)} as booleans; got {key!r}."
                )
        target = self.scaler.targets.get(resource_id)
        if target is None and (lo is None or hi is None):
            raise ValidationException(
                "MinCapacity and MaxCapacity are required to register a new scalable target."
            )
        new_lo = lo if lo is not None else target.min_capacity if target else 0
        new_hi = hi if hi is not None else target.max_capacity if target else 0
        if new_lo > new_hi:
            raise ValidationException(
                f"Minimum capacity cannot be greater than maximum capacity ({new_lo} > {new_hi})."
            )
        if target is None:
            cluster_obj = self.backend.clusters.get(cluster)
            svc = cluster_obj.services.get(service) if cluster_obj is not None else None
            if svc is None or svc.status is not ServiceStatus.ACTIVE:
                raise ValidationException(f"ECS service doesn't exist: {resource_id}")
            target = ScalableTarget(
                resource_id=resource_id,
                cluster=cluster,
                service=service,
                min_capacity=new_lo,
                max_capacity=new_hi,
                role_arn=role or self._role_arn(),
                created_at=self.ctx.now,
                suspended=dict.fromkeys(SUSPENDED, False),
                arn=self._arn(f"scalable-target/{self.ctx.ids.hex(36)}"),
            )
        self.scaler.register(target, new_lo, new_hi, role, suspended)
        if tags:  # a new registration tags the target; registering again adds the tags
            self._tags.setdefault(target.arn, {}).update(tags)
        return {"ScalableTargetARN": target.arn}

    def list_tags_for_resource(self, **params: Any) -> dict[str, Any]:
        """The tags given to RegisterScalableTarget, by the target's ARN."""
        p = self._p("ListTagsForResource", params)
        arn = p.req_str("ResourceARN")
        p.done()
        if all(t.arn != arn for t in self.scaler.targets.values()):
            raise AwsError(f"No scalable target found for {arn}.", code="ResourceNotFoundException")
        return {"Tags": dict(self._tags.get(arn, {}))}

    def deregister_scalable_target(self, **params: Any) -> dict[str, Any]:
        p = self._p("DeregisterScalableTarget", params)
        resource_id, _, _ = self._target_key(p)
        p.done()
        self._tags.pop(self._target(resource_id).arn, None)
        self.scaler.deregister(resource_id)
        return {}

    def describe_scalable_targets(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeScalableTargets", params)
        self._namespace(p)
        ids = p.strs("ResourceIds")
        dimension = p.str("ScalableDimension")
        page = _PAGES.read(p)
        p.done()
        targets = [
            self._target_shape(t)
            for t in self.scaler.targets.values()
            if (not ids or t.resource_id in ids) and dimension in (None, DIMENSION)
        ]
        return page.of(targets, "ScalableTargets")

    # --- policies -------------------------------------------------------------------------

    def put_scaling_policy(self, **params: Any) -> dict[str, Any]:
        p = self._p("PutScalingPolicy", params)
        name = p.req_str("PolicyName")
        resource_id, _, _ = self._target_key(p)
        kind = p.str("PolicyType") or "StepScaling"
        config = p.dict("TargetTrackingScalingPolicyConfiguration")
        p.done()
        target = self._target(resource_id)
        if kind != "TargetTrackingScaling":
            raise ValidationException(
                f"ecsim models TargetTrackingScaling policies only, not {kind}."
            )
        if not config:
            raise ValidationException(
                "TargetTrackingScalingPolicyConfiguration is required for a "
                "TargetTrackingScaling policy."
            )
        policy = self.scaler.put_policy(target, self._policy(name, target, config))
        return {
            "PolicyARN": policy.arn,
            "Alarms": [
                {"AlarmName": a, "AlarmARN": self._alarm_arn(a)}
                for a in (policy.alarm_high, policy.alarm_low)
            ],
        }

    def delete_scaling_policy(self, **params: Any) -> dict[str, Any]:
        p = self._p("DeleteScalingPolicy", params)
        name = p.req_str("PolicyName")
        resource_id, _, _ = self._target_key(p)
        p.done()
        target = self.scaler.targets.get(resource_id)
        if target is None or name not in target.policies:
            raise ObjectNotFoundException(no_scaling_policy(resource_id, name))
        self.scaler.delete_policy(target, name)
        return {}

    def describe_scaling_policies(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeScalingPolicies", params)
        self._namespace(p)
        names = p.strs("PolicyNames")
        resource_id = p.str("ResourceId")
        dimension = p.str("ScalableDimension")
        page = _PAGES.read(p)
        p.done()
        policies = [
            self._policy_shape(t, pol)
            for t in self.scaler.targets.values()
            if resource_id in (None, t.resource_id) and dimension in (None, DIMENSION)
            for pol in t.policies.values()
            if not names or pol.name in names
        ]
        return page.of(policies, "ScalingPolicies")

    def describe_scaling_activities(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeScalingActivities", params)
        self._namespace(p)
        resource_id = p.str("ResourceId")
        dimension = p.str("ScalableDimension")
        page = _PAGES.read(p)
        p.done()
        clock = self.ctx.clock
        activities = [
            {
                "ActivityId": a.activity_id,
                "ServiceNamespace": NAMESPACE,
                "ResourceId": a.resource_id,
                "ScalableDimension": DIMENSION,
                "Description": a.description,
                "Cause": a.cause,
                "StartTime": clock.at(a.time),
                "EndTime": clock.at(a.time),
                "StatusCode": "Successful",
                "StatusMessage": (
                    f"Successfully set desired count to {a.to_count}. "
                    "Change successfully fulfilled by ecs."
                ),
            }
            for a in reversed(self.scaler.activities)
            if resource_id in (None, a.resource_id) and dimension in (None, DIMENSION)
        ]
        return page.of(activities, "ScalingActivities")

    # --- helpers --------------------------------------------------------------------------

    def _p(self, op: str, params: dict[str, Any]) -> Params:
        """The call's parameters, what ecsim does not model refused first (coverage.py)."""
        p = Params(op, params, ValidationException)
        COVERAGE.screen(p)
        return p

    def _namespace(self, p: Params) -> None:
        ns = p.as_enum(p.req_str("ServiceNamespace"), "serviceNamespace", NAMESPACES)
        if ns != NAMESPACE:
            raise ValidationException(f"ecsim scales ECS services only (namespace ecs), not {ns}.")

    def _target_key(self, p: Params) -> tuple[str, str, str]:
        self._namespace(p)
        resource_id = p.req_str("ResourceId")
        dimension = p.req_str("ScalableDimension")
        if dimension != DIMENSION:
            raise ValidationException(
                f"Unsupported scalable dimension {dimension!r} for namespace ecs; "
                f"ecsim scales {DIMENSION}."
            )
        parts = resource_id.split("/")
        if len(parts) != 3 or parts[0] != "service" or not all(parts[1:]):
            raise ValidationException(
                f"Unsupported resource ID {resource_id!r}: an ECS service is "
                "service/<cluster name>/<service name>."
            )
        return resource_id, parts[1], parts[2]

    def _target(self, resource_id: str) -> ScalableTarget:
        target = self.scaler.targets.get(resource_id)
        if target is None:
            raise ObjectNotFoundException(no_scalable_target(resource_id))
        return target

    def _policy(
        self, name: str, target: ScalableTarget, config: dict[str, Any]
    ) -> TargetTrackingPolicy:
        c = Params("PutScalingPolicy", config, ValidationException)
        value = c.raw("TargetValue", required=True)
        # AWS: "values that are either too small or too large" are refused
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not TARGET_VALUE_RANGE[0] <= value <= TARGET_VALUE_RANGE[1]
        ):
            raise ValidationException(
                f"TargetValue must be a number above 0, got {value!r}. (AWS takes "
                "8.515920e-109 to 6.153251e+48.)"
            )
        spec = c.dict("PredefinedMetricSpecification")
        custom = c.has("CustomizedMetricSpecification")
        settings = self.ctx.settings.autoscaling
        cooldown = settings.cooldown
        out_cd = c.int("ScaleOutCooldown", lo=0)
        in_cd = c.int("ScaleInCooldown", lo=0)
        disable_in = bool(c.bool("DisableScaleIn"))
        c.done()
        if custom or not spec:
            raise ValidationException(
                "ecsim tracks the predefined metrics only (PredefinedMetricSpecification: "
                f"{', '.join(m.value for m in PredefinedMetric)})."
            )
        s = Params("PutScalingPolicy", spec, ValidationException)
        kind = s.req_str("PredefinedMetricType")
        label = s.str("ResourceLabel")
        s.done()
        try:
            metric = PredefinedMetric(kind)
        except ValueError:
            raise ValidationException(
                f"Unsupported PredefinedMetricType {kind!r} for an ECS service; use one of "
                f"{', '.join(m.value for m in PredefinedMetric)}."
            ) from None
        most = TARGET_MAX.get(metric)
        if most is not None and value > most:
            raise ValidationException(
                f"TargetValue of {metric.value} is a percentage: at most {most:g}, got {value!r}."
            )
        if metric is PredefinedMetric.REQUESTS_PER_TARGET:
            if not label or resource_label_arns(self.scaler.sources, label) is None:
                raise ValidationException(
                    f"ResourceLabel {label!r} names no target group of a load balancer: "
                    "write app/<load balancer name>/<id>/targetgroup/<target group name>/<id>."
                )
        elif label is not None:
            raise ValidationException("ResourceLabel is only for ALBRequestCountPerTarget.")
        # the policy and each of its two alarms have a UUID of their own (botocore's
        # PutScalingPolicy example; docs/behaviour.md, "Wording audit")
        uid = self.ctx.ids.uuid()
        high = alarm_name(target.resource_id, "High", self.ctx.ids.uuid())
        low = alarm_name(target.resource_id, "Low", self.ctx.ids.uuid())
        return TargetTrackingPolicy(
            name=name,
            # policy ARNs are in the `autoscaling` service (AWS CLI put-scaling-policy example)
            arn=self._arn(policy_resource(uid, target.resource_id, name), service="autoscaling"),
            target_value=float(value),
            metric=metric,
            resource_label=label,
            scale_out_cooldown=float(cooldown if out_cd is None else out_cd),
            scale_in_cooldown=float(cooldown if in_cd is None else in_cd),
            disable_scale_in=disable_in,
            alarm_high=high,
            alarm_low=low,
            created_at=self.ctx.now,
            config=dict(config),
            datapoints=deque(
                maxlen=max(settings.scale_out_datapoints, settings.scale_in_datapoints, 1)
            ),
        )

    def _target_shape(self, t: ScalableTarget) -> dict[str, Any]:
        return {
            "ServiceNamespace": NAMESPACE,
            "ResourceId": t.resource_id,
            "ScalableDimension": DIMENSION,
            "MinCapacity": t.min_capacity,
            "MaxCapacity": t.max_capacity,
            "RoleARN": t.role_arn,
            "CreationTime": self.ctx.clock.at(t.created_at),
            "SuspendedState": dict(t.suspended),
            "ScalableTargetARN": t.arn,
        }

    def _policy_shape(self, t: ScalableTarget, pol: TargetTrackingPolicy) -> dict[str, Any]:
        config = dict(pol.config)
        config["TargetValue"] = pol.target_value
        return {
            "PolicyARN": pol.arn,
            "PolicyName": pol.name,
            "ServiceNamespace": NAMESPACE,
            "ResourceId": t.resource_id,
            "ScalableDimension": DIMENSION,
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": config,
            "Alarms": [
                {"AlarmName": a, "AlarmARN": self._alarm_arn(a)}
                for a in (pol.alarm_high, pol.alarm_low)
            ],
            "CreationTime": self.ctx.clock.at(pol.created_at),
        }

    def _arn(self, resource: str, service: str = "application-autoscaling") -> str:
        ids = self.ctx.ids
        return f"arn:aws:{service}:{ids.region}:{ids.account}:{resource}"

    def _alarm_arn(self, name: str) -> str:
        ids = self.ctx.ids
        return f"arn:aws:cloudwatch:{ids.region}:{ids.account}:alarm:{name}"

    def _role_arn(self) -> str:
        return (
            f"arn:aws:iam::{self.ctx.ids.account}:role/aws-service-role/"
            "ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService"
        )


def _tags(given: dict[str, Any]) -> dict[str, str]:
    """RegisterScalableTarget's `Tags`: at most 50, keys of 1-128 and values of at most 256
    characters, not beginning with `aws:` (AWS's tag limits)."""
    if len(given) > 50:
        raise ValidationException("Tags can have at most 50 items.")
    for key, value in given.items():
        if not isinstance(value, str) or not 1 <= len(key) <= 128 or len(value) > 256:
            raise ValidationException(f"The tag {key!r} is not valid.")
        if key.lower().startswith("aws:"):
            raise ValidationException(f"The tag key {key!r} uses the reserved prefix aws:.")
    return dict(given)
