"""The page's view of a service: its events panel holds the service events and, between them,
the auto scaling activities that changed its desired count and the AWS FIS faults injected
into its tasks, in words and newest first; a task under a fault carries a badge of it."""

from __future__ import annotations

import re

import pytest

from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World
from ecsim.web import commands, view

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
    w.advance(121)
    assert not any(w.chaos.task(a).cpu_stress or w.chaos.task(a).blackholed_ports for a in arns)
    for args, said in [
        ({"task": arns[0], "action": "memory-stress"}, "'action' must be cpu-stress, "),
        ({"task": arns[0], "action": "cpu-stress", "percent": 0}, "'percent' must be between 1"),
        ({"task": arns[0], "action": "cpu-stress", "duration": "long"}, "'duration' must be a n"),
        ({"task": arns[0], "action": "blackhole-port", "port": 80.5}, "'port' must be a whole"),
        ({"task": "nope", "action": "cpu-stress"}, "InvalidParameterException: The referenced"),
    ]:
        with pytest.raises(commands.CommandError, match=re.escape(said)):
            commands.run(live, {"cmd": "fault", "args": args})
