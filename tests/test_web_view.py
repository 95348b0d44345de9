"""The page's view of a service: its events panel holds the service events and, between them,
the auto scaling activities that changed its desired count, in words and newest first."""

from __future__ import annotations

from ecsim.model.world import World
from ecsim.web import view

TARGET = {
    "ServiceNamespace": "ecs",
    "ResourceId": "service/home/home-service",
    "ScalableDimension": "ecs:service:DesiredCount",
}


def test_scaling_activities_are_in_the_service_events_newest_first() -> None:
    w = World.demo(seed=0, rate=20)
    aas = w.application_autoscaling
    aas.register_scalable_target(**TARGET, MinCapacity=2, MaxCapacity=10)
    aas.put_scaling_policy(
        PolicyName="cpu50",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
        **TARGET,
    )
    w.traffic.set_rate(500)  # 167 requests/s per task of 200: CPU about 84 %, asks for 6
    w.advance(300)
    (svc,) = view.build(w, set())["services"]
    scaling = [e for e in svc["events"] if e["kind"] == "scaling"]
    assert len(scaling) == 1
    (activity,) = aas.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
    assert scaling[0]["id"] == activity["ActivityId"]
    assert scaling[0]["message"].startswith(
        "auto scaling: home-service desired count 3 -> 6 (policy cpu50, alarm "
        "TargetTracking-...-AlarmHigh-"
    )
    assert svc["desired"] == 6
    times = [e["t"] for e in svc["events"]]
    assert times == sorted(times, reverse=True)
    started = next(e for e in svc["events"] if "has started 3 tasks" in e["message"])
    assert svc["events"].index(started) < svc["events"].index(scaling[0])  # it came after
    assert {e["kind"] for e in svc["events"]} == {"service", "scaling"}
