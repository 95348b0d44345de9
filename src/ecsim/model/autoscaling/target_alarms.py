"""The two CloudWatch alarms a target tracking policy creates, as CloudWatch alarms
(docs/behaviour.md, "Service auto scaling", "CloudWatch alarms").

Application Auto Scaling creates them with the policy and deletes them with it:
`TargetTracking-<resource>-AlarmHigh-<uuid>` (the metric above the target for the scale-out
datapoints in a row) and `...-AlarmLow-<uuid>` (below 90 % of it for the scale-in ones), on
the policy's metric: `AWS/ECS` `CPUUtilization` / `MemoryUtilization` (Average, by
`ClusterName` and `ServiceName`) or `AWS/ApplicationELB` `RequestCountPerTarget` (Sum, by
`TargetGroup` and `LoadBalancer`), their action the policy. The scaler evaluates them on its
own datapoints each minute (scaler.py) and CloudWatch's alarms show the state; DescribeAlarms
answers them with the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ecsim.model.autoscaling.metrics import PredefinedMetric, resource_label_arns
from ecsim.model.aws.names import resource, resource_id
from ecsim.model.cloudwatch import evaluation as ev
from ecsim.model.cloudwatch.alarms import Metric, MetricAlarm

if TYPE_CHECKING:
    from ecsim.model.autoscaling.metrics import Sources
    from ecsim.model.autoscaling.scaler import ScalableTarget, TargetTrackingPolicy
    from ecsim.model.context import SimContext

_ECS_METRICS = {
    PredefinedMetric.CPU: "CPUUtilization",
    PredefinedMetric.MEMORY: "MemoryUtilization",
}


def policy_alarms(
    ctx: SimContext, src: Sources, target: ScalableTarget, policy: TargetTrackingPolicy
) -> list[MetricAlarm]:
    """The policy's AlarmHigh and AlarmLow, as CloudWatch shows them."""
    settings = src.settings.autoscaling
    period = int(settings.period)
    if policy.metric is PredefinedMetric.REQUESTS_PER_TARGET:
        arns = resource_label_arns(src, policy.resource_label or "")
        dims: tuple[tuple[str, str], ...] = ()
        if arns is not None:
            dims = (("LoadBalancer", resource_id(arns[0])), ("TargetGroup", resource(arns[1])))
        namespace, name, statistic = "AWS/ApplicationELB", "RequestCountPerTarget", "Sum"
    else:
        dims = (("ClusterName", target.cluster), ("ServiceName", target.service))
        namespace, name, statistic = "AWS/ECS", _ECS_METRICS[policy.metric], "Average"
    metric = Metric(namespace, name, dims, statistic, False, period)
    description = f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.arn}."
    ids = ctx.ids
    out = []
    for alarm_name, comparison, threshold, n in (
        (
            policy.alarm_high,
            "GreaterThanThreshold",
            policy.target_value,
            settings.scale_out_datapoints,
        ),
        (
            policy.alarm_low,
            "LessThanThreshold",
            policy.target_value * settings.scale_in_threshold,
            settings.scale_in_datapoints,
        ),
    ):
        n = max(1, n)
        out.append(
            MetricAlarm(
                name=alarm_name,
                arn=f"arn:aws:cloudwatch:{ids.region}:{ids.account}:alarm:{alarm_name}",
                metric=metric,
                rule=ev.Rule(threshold, comparison, n, n),
                description=description,
                actions_enabled=True,
                configured_at=ctx.now,
                policy_arn=policy.arn,
            )
        )
    return out


def recent(values: Iterable[float | None], n: int, t0: float, period: float) -> list[ev.Point]:
    """The last `n` datapoints (fewer while there are fewer), the newest the minute that
    started at `t0`, as (minute start, value) oldest first."""
    last = list(values)[-max(1, n) :]
    return [(t0 - period * (len(last) - 1 - i), v) for i, v in enumerate(last)]
