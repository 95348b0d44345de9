"""What `w.application_autoscaling` does with each parameter of the Application Auto Scaling
operations it serves (model/aws/coverage.py). Refusals are `ValidationException`, as the
service's others.
"""

from __future__ import annotations

from ecsim.model.aws.coverage import Coverage, Member, modelled, one_of, refused
from ecsim.model.errors import ValidationException

_KEY = modelled(
    "ServiceNamespace ResourceId ScalableDimension",
    "the scalable target (an ECS service's desired count)",
)
_PAGES = modelled("MaxResults NextToken", "the page of the answer")

OPERATIONS: dict[str, list[Member]] = {
    "RegisterScalableTarget": [
        *_KEY,
        *modelled(
            "MinCapacity MaxCapacity", "the desired count's range (DescribeServices follows)"
        ),
        *modelled("RoleARN SuspendedState", "answered by DescribeScalableTargets"),
        *modelled("Tags", "kept, answered by ListTagsForResource"),
    ],
    "DeregisterScalableTarget": _KEY,
    "ListTagsForResource": modelled("ResourceARN", "the tags answered"),
    "DescribeScalableTargets": [
        *modelled("ServiceNamespace ResourceIds ScalableDimension", "filter the targets"),
        *_PAGES,
    ],
    "PutScalingPolicy": [
        *_KEY,
        *modelled("PolicyName", "the policy (DescribeScalingPolicies)"),
        *modelled(
            "PolicyType TargetTrackingScalingPolicyConfiguration",
            "target tracking: the scaler's alarms and the desired count (DescribeScalingActivities)",
        ),
        *refused(
            "StepScalingPolicyConfiguration",
            "step scaling is not modelled; ecsim models TargetTrackingScaling policies",
            {"AdjustmentType": "ChangeInCapacity"},
        ),
        *refused(
            "PredictiveScalingPolicyConfiguration",
            "predictive scaling is not modelled; ecsim models TargetTrackingScaling policies",
            {
                "MetricSpecifications": [
                    {
                        "TargetValue": 50.0,
                        "PredefinedMetricPairSpecification": {
                            "PredefinedMetricType": "ECSServiceCPUUtilization"
                        },
                    }
                ]
            },
        ),
    ],
    "DeleteScalingPolicy": [*_KEY, *modelled("PolicyName", "the policy goes")],
    "DescribeScalingPolicies": [
        *modelled(
            "PolicyNames ServiceNamespace ResourceId ScalableDimension", "filter the policies"
        ),
        *_PAGES,
    ],
    "DescribeScalingActivities": [
        *modelled("ServiceNamespace ResourceId ScalableDimension", "filter the activities"),
        *_PAGES,
        *refused(
            "IncludeNotScaledActivities",
            "the scaler records the changes it made, not the ones it decided against",
            True,
            one_of(False),
            "false",
        ),
    ],
}

COVERAGE = Coverage("application-autoscaling", ValidationException, OPERATIONS)
