"""The page's view of a service: its events panel holds the service events and, between them,
the auto scaling activities that changed its desired count and the AWS FIS faults injected
into its tasks, in words and newest first; a task under a fault carries a badge of it."""

from __future__ import annotations

import math
import re

import pytest

from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World
from ecsim.web import commands, view
from ecsim.web.hub import healthy_tasks
from ecsim.web.tours import Session

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


def test_fis_faults_show_as_badges_on_their_tasks_and_as_lines_in_the_events() -> None:
    w = World.demo(seed=0, rate=20)
    arns = sorted(w.ecs.list_tasks(cluster="home")["taskArns"])
    log = view.FaultLog(w)  # follows the world from now on
    w.chaos.stress_cpu(arns[0], duration=120)
    w.chaos.delay_network(arns[1], delay=0.25, duration=60)
    w.chaos.blackhole_port(arns[2], duration=30)
    started = w.now
    sections = view.build(w, set(), log)
    badges = {t["arn"]: [f["label"] for f in t["faults"]] for t in sections["tasks"]}
    assert badges == {
        arns[0]: ["CPU stress 100 %"],
        arns[1]: ["+250 ms latency"],
        arns[2]: ["port 80 blackholed"],
    }
    ip = {t["arn"]: t["ip"] for t in sections["tasks"]}
    (svc,) = sections["services"]
    faults = [e for e in svc["events"] if e["kind"] == "fault"]
    assert [e["message"] for e in faults] == [
        f"FIS aws:ecs:task-cpu-stress on task {_id(arns[0])[:8]} ({ip[arns[0]]}): 100 % CPU for 2m",
        f"FIS aws:ecs:task-network-latency on task {_id(arns[1])[:8]} ({ip[arns[1]]}): "
        "+250 ms for 1m",
        f"FIS aws:ecs:task-network-blackhole-port on task {_id(arns[2])[:8]} ({ip[arns[2]]}): "
        "port 80/tcp ingress for 30s",
    ]
    assert all(e["t"] == round(started, 3) for e in faults)
    w.advance(90)
    sections = view.build(w, set(), log)
    still = {t["arn"]: [f["label"] for f in t["faults"]] for t in sections["tasks"] if t["faults"]}
    assert still == {arns[0]: ["CPU stress 100 %"]}  # the other two ended
    said = {e["message"] for e in sections["services"][0]["events"] if e["kind"] == "fault"}
    assert (
        f"FIS aws:ecs:task-network-latency on task {_id(arns[1])[:8]} ({ip[arns[1]]}) ended" in said
    )
    assert any(m.endswith("port 80/tcp ingress for 30s") for m in said)
    assert any(m.endswith("+250 ms for 1m") for m in said)
    assert any(m.endswith(": 100 % CPU for 2m") for m in said)  # still on: as planned
    ids = [e["id"] for e in sections["services"][0]["events"]]
    assert len(ids) == len(set(ids))
    # a log read afresh says the same as the one that followed the world
    assert view.build(w, set())["services"][0]["events"] == sections["services"][0]["events"]


def _id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def test_the_page_fault_command_injects_each_fis_fault_for_2_minutes_by_default() -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed), seed=0)
    w = live.world
    arns = sorted(w.ecs.list_tasks(cluster="home")["taskArns"])
    out = commands.run(live, {"cmd": "fault", "args": {"task": arns[0], "action": "cpu-stress"}})
    assert out.message.startswith("FIS aws:ecs:task-cpu-stress on task ")
    assert out.message.endswith(": 100 % CPU for 2m")
    args = {"task": "@task", "action": "network-latency", "delay": 0.5, "duration": 90}
    out = commands.run(live, {"cmd": "fault", "args": args})
    assert out.message.endswith(": +500 ms for 1m30s")
    out = commands.run(
        live, {"cmd": "fault", "args": {"task": arns[2], "action": "blackhole-port"}}
    )
    assert out.message.endswith(": port 80/tcp ingress for 2m")
    out = commands.run(live, {"cmd": "fault", "args": {"task": arns[1], "action": "packet-loss"}})
    assert out.message.endswith(": 7 % packet loss for 2m")
    assert w.chaos.task(arns[1]).packet_loss == 0.07
    w.advance(121)
    assert not any(w.chaos.task(a).cpu_stress or w.chaos.task(a).blackholed_ports for a in arns)
    for args, said in [
        ({"task": arns[0], "action": "memory-stress"}, "'action' must be cpu-stress, "),
        # the limits are the verbs' own (model/verbs/catalog.py), not the page's
        (
            {"task": arns[0], "action": "packet-loss", "percent": 100},
            "'percent' must be above 0 and below 100 %",
        ),
        (
            {"task": arns[0], "action": "cpu-stress", "percent": 0},
            "'percent' must be above 0 and at most 100 %",
        ),
        ({"task": arns[0], "action": "cpu-stress", "duration": "long"}, "'duration' must be a n"),
        ({"task": arns[0], "action": "blackhole-port", "port": 80.5}, "'port' must be a whole"),
        ({"task": "nope", "action": "cpu-stress"}, "InvalidParameterException: The referenced"),
    ]:
        with pytest.raises(commands.CommandError, match=re.escape(said)):
            commands.run(live, {"cmd": "fault", "args": args})


def _auto(live: LiveWorld, **args: object) -> str:
    return commands.run(live, {"cmd": "autoscaling", "args": args}).message


def _desired(w: World) -> int:
    svc = w.ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    count: int = svc["desiredCount"]
    return count


def test_the_page_turns_target_tracking_on_and_off_with_the_models_calls() -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=20), seed=0)
    w = live.world
    aas = w.application_autoscaling
    assert view.auto_scaling(w, "home", "home-service") == {
        "enabled": False,
        "min": None,
        "max": None,
        "policies": [],
        "lastActivity": None,
    }
    said = _auto(live, action="enable", min="2", max=10, target=50)
    assert said == (
        "RegisterScalableTarget home-service (min 2, max 10) and PutScalingPolicy "
        "cpu-target-tracking: target tracking of its average CPU at 50 %"
    )
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        "service/home/home-service",
        2,
        10,
    )
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "TargetValue": 50.0,
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
        },
    }
    w.advance(60 - w.now % 60)  # a first datapoint, at 20 requests/s
    w.traffic.set_rate(500)  # CPU about 84 %: three minutes above 50 % ask for 6 tasks
    w.advance(120)
    auto = view.auto_scaling(w, "home", "home-service")
    (p,) = auto["policies"]
    assert p["datapoints"] == 3 and p["datapoint"] is not None and p["datapoint"] > 80
    assert (p["above"], p["outAfter"], p["below"], p["inAfter"]) == (2, 3, 0, 15)
    assert auto["lastActivity"] is None
    w.advance(60)
    auto = view.auto_scaling(w, "home", "home-service")
    assert _desired(w) == 6
    assert auto["policies"][0]["above"] == 3
    assert auto["lastActivity"]["description"] == "Setting desired count to 6."
    assert auto["lastActivity"]["t"] == round(w.now, 3)  # at the end of the third minute
    (svc,) = view.build(w, set())["services"]
    assert svc["autoScaling"] == auto
    assert (
        _auto(live, action="disable")
        == "DeregisterScalableTarget home-service: auto scaling is off"
    )
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    auto = view.auto_scaling(w, "home", "home-service")
    assert (
        not auto["enabled"] and auto["lastActivity"]["description"] == "Setting desired count to 6."
    )
    with pytest.raises(
        commands.CommandError, match=r"^ObjectNotFoundException: No scalable target"
    ):
        _auto(live, action="disable")


BAD = [
    ({"min": 12, "max": 10, "target": 50}, "Minimum capacity cannot be greater than maximum "
     "capacity (12 > 10)."),
    ({"min": "", "max": 10, "target": 50}, "Invalid type for parameter MinCapacity, value: '', "
     "expected an integer"),
    ({"min": 2, "max": "ten", "target": 50}, "Invalid type for parameter MaxCapacity, value: "
     "'ten', expected an integer"),
    ({"min": 2.5, "max": 10, "target": 50}, "Invalid type for parameter MinCapacity, value: 2.5, "
     "expected an integer"),
    ({"min": -1, "max": 10, "target": 50}, "Invalid value for parameter MinCapacity, value: -1, "
     "valid min value: 0"),
    ({"min": 2, "max": 10, "target": 0}, "TargetValue must be a number above 0, got 0. (AWS takes 8.515920e-109 to 6.153251e+48.)"),
    ({"min": 5, "max": 10, "target": "fifty"}, "TargetValue must be a number above 0, got 'fifty'. (AWS takes 8.515920e-109 to 6.153251e+48.)"),
    ({"min": 5, "max": 10, "target": True}, "TargetValue must be a number above 0, got True. (AWS takes 8.515920e-109 to 6.153251e+48.)"),
]  # fmt: skip


def _state(w: World) -> tuple[object, ...]:
    aas = w.application_autoscaling
    return (
        aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"],
        aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"],
        aas.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"],
        _desired(w),
    )


@pytest.mark.parametrize("on", [False, True], ids=["off", "on"])
def test_a_bad_auto_scaling_input_gets_the_models_aws_error_and_changes_nothing(on: bool) -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=20), seed=0)
    w = live.world
    if on:
        _auto(live, action="enable", min=1, max=4, target=70)
    before = _state(w)
    for args, said in BAD:
        with pytest.raises(commands.CommandError) as e:
            _auto(live, action="enable", **args)
        assert str(e.value) == f"ValidationException: {said}"
        assert _state(w) == before, args  # not even a desired count clamped to a new minimum
    for args, said in [
        ({"action": "scale"}, "'action' must be enable or disable; got 'scale'"),
        ({"action": "enable", "max": 10, "target": 50}, "'min' is required"),
        ({"action": "enable", "min": 2, "max": 10, "target": math.inf}, "'target' must be a fin"),
    ]:
        with pytest.raises(commands.CommandError, match=re.escape(said)):
            commands.run(live, {"cmd": "autoscaling", "args": args})
    assert _state(w) == before


def test_enabling_brings_the_desired_count_into_the_range_and_updates_the_cpu_policy() -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=20), seed=0)
    w = live.world
    aas = w.application_autoscaling
    _auto(live, action="enable", min=5, max=8, target=50)  # 3 tasks: below the minimum
    assert _desired(w) == 5
    (activity,) = aas.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
    assert activity["Cause"] == "minimum capacity was set to 5"
    # a CPU policy the service has already (a scenario's) is the one the page updates
    aas.deregister_scalable_target(**TARGET)
    aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=6)
    aas.put_scaling_policy(
        PolicyName="cpu50",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "ScaleInCooldown": 60,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
        **TARGET,
    )
    with pytest.raises(commands.CommandError, match=r"\(3 > 2\)"):
        _auto(live, action="enable", min=3, max=2, target=70)
    (kept,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert kept["TargetTrackingScalingPolicyConfiguration"]["ScaleInCooldown"] == 60  # restored
    assert kept["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 50.0
    assert "PutScalingPolicy cpu50:" in _auto(live, action="enable", min=2, max=4, target=70)
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["PolicyARN"] == kept["PolicyARN"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70.0
    assert _desired(w) == 4  # above the new maximum: brought down to it
    auto = view.auto_scaling(w, "home", "home-service")
    assert (auto["min"], auto["max"], auto["policies"][0]["name"]) == (2, 4, "cpu50")
    assert auto["lastActivity"]["description"] == "Setting desired count to 4."


def test_reset_rebuilds_the_seeds_architecture_whatever_was_loaded() -> None:
    """The page's Reset (and a tour's fresh world): the seed's world at the server's seed,
    its settings and client rate, not the last scenario's (issue 14, point 1)."""
    live = LiveWorld(lambda seed: World.demo(seed=seed), seed=0)
    session = Session(seed=0)
    commands.run(live, {"cmd": "scenario", "args": {"name": "shared-target-groups"}}, session)
    assert session.scenario is not None and live.seed == 4
    outcome = commands.run(live, {"cmd": "reset"}, session)
    assert outcome.message == "the world was reset: the seed's architecture (seed 0)"
    w = live.world
    assert session.scenario is None and live.seed == 0
    assert [tg["TargetGroupName"] for tg in w.elbv2.describe_target_groups()["TargetGroups"]] == [
        "home-tg"
    ]
    assert view.traffic_rate(w) == 5
    (svc,) = w.ecs.describe_services(cluster="home", services=["home-service"])["services"]
    breaker = svc["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert (breaker["enable"], breaker["rollback"]) == (True, True)
    commands.run(live, {"cmd": "reset", "args": {"seed": 7}}, session)
    assert live.seed == 7


def test_the_tasks_chart_counts_healthy_tasks_not_registrations() -> None:
    """A task in two target groups counts once, and only when healthy in both."""
    svc = {"targetGroups": ["a", "b"]}
    groups = [
        {"arn": "a", "targets": [{"id": ip, "state": "healthy"} for ip in ("1", "2", "3")]},
        {
            "arn": "b",
            "targets": [
                {"id": "1", "state": "healthy"},
                {"id": "2", "state": "healthy"},
                {"id": "3", "state": "unhealthy"},
            ],
        },
        {"arn": "other", "targets": [{"id": "9", "state": "healthy"}]},
    ]
    assert healthy_tasks(svc, groups) == 2


@pytest.mark.parametrize(
    ("actions", "said"),
    [
        (["restore"], "the scheduler of home-service was active already: nothing to restore"),
        (["crash", "crash"], "the scheduler of home-service had crashed already: nothing changed"),
        (["hang", "hang"], "the scheduler of home-service was STUCK already: nothing changed"),
        (["crash", "restore"], "the scheduler of home-service restored: it converges again"),
    ],
)
def test_the_managers_controls_say_what_happened(actions: list[str], said: str) -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=0), seed=0)
    for action in actions:
        outcome = commands.run(live, {"cmd": "scheduler", "args": {"action": action}})
    assert outcome.message == said


def test_the_managers_controls_refuse_a_deleted_service() -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=0), seed=0)
    args = {"cluster": "home", "service": "home-service"}
    commands.run(live, {"cmd": "delete_service", "args": args})
    with pytest.raises(commands.CommandError, match="is being deleted \\(DRAINING\\)"):
        commands.run(live, {"cmd": "scheduler", "args": {"action": "crash", **args}})
    live.world.advance(600)
    with pytest.raises(commands.CommandError, match="was deleted \\(INACTIVE\\): it has no sch"):
        commands.run(live, {"cmd": "scheduler", "args": {"action": "restore", **args}})
    svc = live.world.ecs.describe_services(cluster="home", services=["home-service"])
    assert svc["services"][0]["controllerStatus"] == "ACTIVE"


def test_a_canary_shows_both_target_groups_with_their_share_of_production() -> None:
    """The service's two groups and its rules' weights, as DescribeRules has them: all to
    blue before, 90/10 during the canary, then 0/100 (docs/behaviour.md, "Blue/green, linear
    and canary deployments")."""
    from ecsim.scenario import load
    from ecsim.scenario.build import build

    w = World(0)
    build(w, load("canary-deployment"))
    w.advance(120)
    (svc,) = view.build(w, set())["services"]
    shift = svc["trafficShift"]
    blue, green = shift["targetGroups"]
    assert "/home-blue/" in blue and "/home-green/" in green
    assert shift["production"] == {blue: 100.0, green: 0.0}
    assert shift["test"] == {blue: 100.0, green: 0.0}
    assert shift["label"] == "home-blue 100 % · home-green 0 %"
    w.ecs.update_service(cluster="home", service="home-service", taskDefinition="home-app:2")
    w.advance(150)  # green healthy, the hook answered: the canary's 10 %
    (svc,) = view.build(w, set())["services"]
    shift = svc["trafficShift"]
    assert shift["production"] == {blue: 90.0, green: 10.0}
    assert shift["test"] == {blue: 0.0, green: 100.0}
    assert shift["label"] == "home-blue 90 % · home-green 10 %"
    w.advance(600)
    (svc,) = view.build(w, set())["services"]
    assert svc["trafficShift"]["label"] == "home-blue 0 % · home-green 100 %"
    assert view.traffic_shift(w, {"loadBalancers": [{"targetGroupArn": blue}]}) is None
