"""Application Auto Scaling of ECS services (docs/behaviour.md, "Service auto scaling"): target
tracking on the world's own metrics, minute by minute, through `w.application_autoscaling`."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from ecsim.model.autoscaling.metrics import PredefinedMetric, datapoint
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.errors import AwsError
from ecsim.model.events import ScalingActivity, ServiceEvent
from ecsim.model.world import World
from ecsim.scenario import load_text, run

RID = f"service/{CLUSTER}/{SERVICE}"
KEY = {
    "ServiceNamespace": "ecs",
    "ResourceId": RID,
    "ScalableDimension": "ecs:service:DesiredCount",
}


def register(w: World, lo: int = 2, hi: int = 10) -> None:
    w.application_autoscaling.register_scalable_target(**KEY, MinCapacity=lo, MaxCapacity=hi)


def policy(w: World, name: str = "cpu50", target: float = 50.0, **extra: Any) -> dict[str, Any]:
    spec = extra.pop("spec", {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"})
    config = {"TargetValue": target, "PredefinedMetricSpecification": spec, **extra}
    return w.application_autoscaling.put_scaling_policy(
        PolicyName=name,
        **KEY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=config,
    )


def desired(w: World) -> int:
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return int(svc["desiredCount"])


def activities(w: World) -> list[ScalingActivity]:
    return [e for e in w.events(kind=ScalingActivity) if isinstance(e, ScalingActivity)]


def minutes(w: World, n: int) -> list[int]:
    """Advance n minutes; the desired count after each."""
    out = []
    for _ in range(n):
        w.advance(60)
        out.append(desired(w))
    return out


@pytest.fixture
def w() -> World:
    world = World.demo(seed=3)
    world.advance(15)  # to a whole minute: the scaler evaluates on minute boundaries
    return world


def test_cpu_above_target_scales_out_after_three_datapoints_proportionally(w: World) -> None:
    register(w)
    policy(w)
    # 3 tasks of capacity 200 req/s: 400 req/s is 2 % + 98 % x 2/3 = 67 % CPU each
    w.traffic.set_rate(400)
    counts = minutes(w, 6)
    first = counts.index(5)  # ceil(3 x 67 / 50) = 5
    assert counts[:first] == [3] * first and first == 2  # the 3rd whole minute above 50 %
    (act,) = activities(w)
    assert (act.from_count, act.to_count, act.policy) == (3, 5, "cpu50")
    assert "AlarmHigh" in act.alarm and act.alarm in act.cause
    assert act.description == "Setting desired count to 5."
    # ECS did the rest: two more tasks run and the service says so in its own words
    w.advance(120)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["runningCount"] == 5
    started = [e for e in w.events(kind=ServiceEvent) if "has started 2 tasks" in e.message]
    assert started and started[0].time >= act.time
    listed = w.application_autoscaling.describe_scaling_activities(ServiceNamespace="ecs")
    (shown,) = listed["ScalingActivities"]
    assert shown["StatusCode"] == "Successful"
    assert shown["StartTime"] == w.clock.at(act.time)
    assert shown["StatusMessage"].startswith("Successfully set desired count to 5.")


def test_the_datapoint_is_the_mean_cpu_of_running_tasks(w: World) -> None:
    w.traffic.set_rate(300)
    w.advance(120)
    svc = w.ecs.backend.clusters[CLUSTER].services[SERVICE]
    t0 = w.now - 60
    answered = w.traffic.stats(since=t0, until=w.now)["by_target"]
    expected = (
        sum(2.0 + 98.0 * min(1.0, answered[t.ip] / (200 * 60.0)) for t in svc.tasks.values()) / 3
    )
    assert datapoint(w, svc, PredefinedMetric.CPU, None, t0) == pytest.approx(expected)
    assert datapoint(w, svc, PredefinedMetric.MEMORY, None, t0) == 30.0  # the ecsim.memory default


def test_scale_out_stops_at_max_capacity_and_scale_in_at_min(w: World) -> None:
    register(w, lo=2, hi=4)
    policy(w)
    w.traffic.set_rate(560)  # 2 % + 98 % x 560/600 = 93 %: asks ceil(3 x 93 / 50) = 6
    assert minutes(w, 4)[-1] == 4
    w.traffic.set_rate(10)
    counts = minutes(w, 25)
    assert min(counts) == 2 and counts[-1] == 2
    assert [(a.from_count, a.to_count) for a in activities(w)] == [(3, 4), (4, 2)]


def test_scale_in_waits_for_fifteen_low_datapoints_and_its_cooldown(w: World) -> None:
    register(w, lo=1, hi=10)
    policy(w, ScaleInCooldown=600)
    w.traffic.set_rate(60)  # 2 % + 98 % x 20/200 = 12 % CPU: below 90 % of 50 %
    counts = minutes(w, 14)
    assert counts == [3] * 14
    counts = minutes(w, 1)
    assert counts == [1]  # the 15th low minute: ceil(3 x 12 / 50) = 1
    (act,) = activities(w)
    assert "AlarmLow" in act.alarm


def test_scale_in_cooldown_blocks_a_second_scale_in(w: World) -> None:
    register(w, lo=1, hi=10)
    policy(w, ScaleInCooldown=600)
    w.traffic.set_rate(400)
    minutes(w, 4)  # out to 5
    w.traffic.set_rate(150)  # 5 tasks: 2 % + 98 % x 30/200 = 16.7 % -> asks 2
    minutes(w, 17)
    ins = [a for a in activities(w) if a.to_count < a.from_count]
    assert len(ins) == 1
    w.traffic.set_rate(40)  # 2 tasks: 2 % + 98 % x 20/200 = 11.8 % -> asks 1
    minutes(w, 12)
    ins = [a for a in activities(w) if a.to_count < a.from_count]
    assert len(ins) == 2
    assert ins[1].time - ins[0].time >= 600


def test_disable_scale_in_and_suspended_scaling(w: World) -> None:
    register(w, lo=1)
    policy(w, DisableScaleIn=True)
    w.traffic.set_rate(30)
    minutes(w, 20)
    assert desired(w) == 3 and not activities(w)
    w.application_autoscaling.register_scalable_target(
        **KEY, SuspendedState={"DynamicScalingOutSuspended": True}
    )
    w.traffic.set_rate(560)
    minutes(w, 5)
    assert desired(w) == 3 and not activities(w)


def test_no_scale_in_while_a_deployment_is_in_progress(w: World) -> None:
    register(w, lo=1)
    policy(w)
    w.traffic.set_rate(30)
    minutes(w, 13)
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, forceNewDeployment=True)
    deployments = []
    for _ in range(6):
        w.advance(60)
        svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        deployments.append(len(svc["deployments"]))
        if len(svc["deployments"]) > 1:
            assert svc["desiredCount"] == 3
    assert max(deployments) > 1
    minutes(w, 10)
    assert desired(w) == 1  # once the deployment completed


def test_register_brings_the_desired_count_into_the_range(w: World) -> None:
    register(w, lo=5, hi=8)
    assert desired(w) == 5
    (act,) = activities(w)
    assert (act.from_count, act.to_count, act.cause) == (3, 5, "minimum capacity was set to 5")
    w.application_autoscaling.register_scalable_target(**KEY, MaxCapacity=6, MinCapacity=1)
    assert desired(w) == 5
    w.application_autoscaling.register_scalable_target(**KEY, MaxCapacity=4)
    assert desired(w) == 4
    assert activities(w)[-1].cause == "maximum capacity was set to 4"
    assert len(activities(w)) == 2  # a count already inside the range is left alone
    (target,) = w.application_autoscaling.describe_scalable_targets(ServiceNamespace="ecs")[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)


def test_request_count_per_target_tracks_the_target_group(w: World) -> None:
    lb = w.elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    tg = w.elbv2.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    label = lb.split(":loadbalancer/")[1] + "/" + tg.split(":")[-1]
    register(w)
    policy(
        w,
        name="req",
        target=3000.0,
        spec={"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": label},
    )
    w.traffic.set_rate(200)  # 12,000 a minute over 3 targets: 4,000 each
    counts = minutes(w, 4)
    assert counts[-1] == 4  # ceil(3 x 4000 / 3000)
    svc = w.ecs.backend.clusters[CLUSTER].services[SERVICE]
    value = datapoint(w, svc, PredefinedMetric.REQUESTS_PER_TARGET, label, w.now - 60)
    assert value is not None and 2000 < value < 4500


def test_several_policies_scale_in_only_if_all_agree(w: World) -> None:
    register(w, lo=1)
    policy(w, name="cpu50")
    memory = {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}
    policy(w, name="memory31", target=31.0, spec=memory)
    w.traffic.set_rate(30)  # CPU 12 %: asks 1; memory 30 %: not below 90 % of 31 %
    assert minutes(w, 20) == [3] * 20
    assert not activities(w)
    w.application_autoscaling.delete_scaling_policy(PolicyName="memory31", **KEY)
    assert minutes(w, 1) == [1]  # CPU alone: its 15 low minutes are already there
    (act,) = activities(w)
    assert act.policy == "cpu50"


def test_a_metric_that_capacity_does_not_move_scales_out_to_the_maximum(w: World) -> None:
    """Memory stays at 30 % however many tasks run: every cooldown, another scale-out
    (AWS: choose a metric that falls as capacity grows)."""
    register(w, lo=1, hi=10)
    policy(
        w,
        name="memory20",
        target=20.0,
        spec={"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"},
    )
    minutes(w, 20)
    steps = [(a.from_count, a.to_count) for a in activities(w)]
    assert steps == [(3, 5), (5, 8), (8, 10)]  # ceil(n x 30 / 20), bounded by MaxCapacity
    times = [a.time for a in activities(w)]
    assert all(b - a >= 300 for a, b in itertools.pairwise(times))


def test_policy_and_target_lifecycle(w: World) -> None:
    aas = w.application_autoscaling
    register(w)
    made = policy(w)
    # policy ARNs are in the `autoscaling` service (AWS CLI put-scaling-policy example)
    assert made["PolicyARN"].startswith("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:")
    assert made["PolicyARN"].endswith(f":resource/ecs/{RID}:policyName/cpu50")
    again = policy(w, target=60.0)
    assert again["PolicyARN"] == made["PolicyARN"]
    assert [a["AlarmName"] for a in again["Alarms"]] == [a["AlarmName"] for a in made["Alarms"]]
    (shown,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert shown["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60.0
    assert shown["PolicyType"] == "TargetTrackingScaling"
    aas.delete_scaling_policy(PolicyName="cpu50", **KEY)
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    policy(w)
    aas.deregister_scalable_target(**KEY)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []


@pytest.mark.parametrize(
    ("call", "code", "words"),
    [
        (lambda w: policy(w), "ObjectNotFoundException", "No scalable target registered"),
        (
            lambda w: w.application_autoscaling.delete_scaling_policy(PolicyName="x", **KEY),
            "ObjectNotFoundException",
            "No scaling policy found",
        ),
        (
            lambda w: w.application_autoscaling.register_scalable_target(**KEY),
            "ValidationException",
            "MinCapacity and MaxCapacity are required",
        ),
        (lambda w: register(w, lo=5, hi=2), "ValidationException", "cannot be greater"),
        (
            lambda w: w.application_autoscaling.register_scalable_target(
                **{**KEY, "ResourceId": f"service/{CLUSTER}/nope"}, MinCapacity=1, MaxCapacity=2
            ),
            "ValidationException",
            "ECS service doesn't exist",
        ),
        (
            lambda w: w.application_autoscaling.register_scalable_target(
                **{**KEY, "ResourceId": "cluster/home"}, MinCapacity=1, MaxCapacity=2
            ),
            "ValidationException",
            "service/<cluster name>/<service name>",
        ),
        (
            lambda w: w.application_autoscaling.describe_scalable_targets(ServiceNamespace="s3"),
            "ValidationException",
            "Member must satisfy enum value set",
        ),
        (
            lambda w: w.application_autoscaling.describe_scalable_targets(
                ServiceNamespace="dynamodb"
            ),
            "ValidationException",
            "ECS services only",
        ),
        (
            lambda w: w.application_autoscaling.register_scalable_target(
                **{**KEY, "ScalableDimension": "ecs:service:Count"}, MinCapacity=1, MaxCapacity=2
            ),
            "ValidationException",
            "scalable dimension",
        ),
        (
            lambda w: w.application_autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", Colour="red"
            ),
            "ValidationException",
            'Unknown parameter in input: "Colour"',
        ),
    ],
)
def test_bad_calls_get_aws_errors_and_change_nothing(
    w: World, call: Any, code: str, words: str
) -> None:
    before = (desired(w), len(w.events()))
    with pytest.raises(AwsError) as caught:
        call(w)
    assert caught.value.code == code and words in caught.value.message
    assert (desired(w), len(w.events())) == before


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"PolicyType": "StepScaling"}, "TargetTrackingScaling policies only"),
        ({"spec": {"PredefinedMetricType": "ALBRequestCountPerTarget"}}, "ResourceLabel"),
        (
            {"spec": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}},
            "Unsupported",
        ),
        ({"target": -1.0}, "TargetValue must be a number above 0"),
        ({"target": float("inf")}, "AWS takes 8.515920e-109 to 6.153251e+48"),
        ({"target": float("nan")}, "TargetValue must be a number above 0"),
        ({"CustomizedMetricSpecification": {"MetricName": "x"}}, "predefined metrics only"),
        # a percentage is at most 100 (metrics.TARGET_MAX)
        ({"target": 1000.0}, "ECSServiceAverageCPUUtilization is a percentage: at most 100"),
        (
            {"spec": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}, "target": 101},
            "ECSServiceAverageMemoryUtilization is a percentage: at most 100, got 101.",
        ),
    ],
)
def test_unmodelled_or_bad_policies_are_refused(
    w: World, extra: dict[str, Any], words: str
) -> None:
    register(w)
    kind = extra.pop("PolicyType", "TargetTrackingScaling")
    spec = extra.pop("spec", {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"})
    target = extra.pop("target", 50.0)
    config = {"TargetValue": target, "PredefinedMetricSpecification": spec, **extra}
    if "CustomizedMetricSpecification" in extra:
        del config["PredefinedMetricSpecification"]
    with pytest.raises(AwsError) as caught:
        w.application_autoscaling.put_scaling_policy(
            PolicyName="p", **KEY, PolicyType=kind, TargetTrackingScalingPolicyConfiguration=config
        )
    assert caught.value.code == "ValidationException" and words in caught.value.message
    assert (
        w.application_autoscaling.describe_scaling_policies(ServiceNamespace="ecs")[
            "ScalingPolicies"
        ]
        == []
    )


def test_same_seed_same_scaling() -> None:
    def run() -> list[tuple[float, int, int, str]]:
        world = World.demo(seed=11)
        world.advance(15)
        register(world, lo=1)
        policy(world)
        world.traffic.set_rate(450)
        world.advance(600)
        world.traffic.set_rate(20)
        world.advance(1800)
        return [(a.time, a.from_count, a.to_count, a.activity_id) for a in activities(world)]

    first = run()
    assert len(first) >= 2 and first == run()
    assert all(math.isclose(t % 60, 0.0, abs_tol=1e-9) for t, *_ in first)


def test_a_deleted_service_cannot_be_registered(w: World) -> None:
    w.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    w.advance(300)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["status"] == "INACTIVE"
    with pytest.raises(AwsError) as caught:
        register(w)
    assert caught.value.code == "ValidationException"
    assert f"ECS service doesn't exist: {RID}" in caught.value.message


def test_a_refused_registration_changes_nothing_not_even_the_next_ids() -> None:
    def arn(bad_first: bool) -> str:
        world = World.demo(seed=3)
        if bad_first:
            with pytest.raises(AwsError):
                register(world, lo=12, hi=10)
        made = world.application_autoscaling.register_scalable_target(
            **KEY, MinCapacity=2, MaxCapacity=10
        )
        return str(made["ScalableTargetARN"])

    assert arn(True) == arn(False)


AUTO_SCALED = """name: auto-scaled
duration: 12m
seed: 3
world:
  clusters: [home]
  task_definitions:
    - family: home-app
      app: {startup: 3s, capacity: 50}
  target_groups:
    - name: home-tg
      health_check: {interval: 10s}
  load_balancers:
    - name: home-alb
      listeners:
        - port: 80
          default_action: {forward: home-tg}
  services:
    - name: home-service
      cluster: home
      task_definition: home-app
      desired_count: 2
      target_groups: [home-tg]
      auto_scaling:
        min: 2
        max: 8
        target_tracking:
          - {metric: cpu, target: 50}
          - {metric: requests_per_target, target: 2400, scale_in_cooldown: 60s}
traffic:
  - rate: 120
expect:
  - that: desired_count(home-service) >= 4
    between: [5m, end]
"""


def test_a_scenario_file_declares_auto_scaling_on_a_service() -> None:
    result = run(load_text(AUTO_SCALED))
    assert result.passed
    aas = result.world.application_autoscaling
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    configs = {p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"] for p in policies}
    assert configs["cpu-50"]["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
    }
    label = configs["requests_per_target-2400"]["PredefinedMetricSpecification"]["ResourceLabel"]
    assert label.startswith("app/home-alb/") and "/targetgroup/home-tg/" in label
    assert configs["requests_per_target-2400"]["ScaleInCooldown"] == 60
    assert activities(result.world)[0].to_count == 4  # ceil(2 x 100 % / 50 %)
