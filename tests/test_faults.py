"""Task faults as AWS FIS injects them (model/verbs/faults.py): CPU stress, a blackholed port and
network latency, for a duration, through `w.chaos`."""

from __future__ import annotations

from typing import Any

import pytest

from ecsim.model.autoscaling.metrics import PredefinedMetric, datapoint
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.errors import AwsError
from ecsim.model.events import TargetHealthChanged, TaskFaultChanged, TaskStateChanged
from ecsim.model.world import World
from tests.support import service_task_arns


@pytest.fixture
def w() -> World:
    return World.demo(seed=5)


def faults(w: World) -> list[tuple[float, str, bool]]:
    return [
        (e.time, e.action, e.active)
        for e in w.events(kind=TaskFaultChanged)
        if isinstance(e, TaskFaultChanged)
    ]


def test_cpu_stress_halves_what_the_app_serves_for_its_duration(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    task = w.chaos.task(victim)
    # 3 tasks of 200 req/s: 450 req/s is 150 each, below 200, above the 100 left under stress
    w.traffic.set_rate(450)
    w.advance(30)
    start = w.now
    w.chaos.stress_cpu(victim, percent=100, duration=120)
    assert task.capacity == 100.0
    w.advance(60)
    stressed = w.traffic.stats(since=start, until=w.now)
    assert stressed["latency_ms"]["p99"] > 1000  # its queue grows: 50 requests a second
    w.advance(60)
    assert task.capacity == 200.0
    assert faults(w) == [
        (start, "aws:ecs:task-cpu-stress", True),
        (start + 120, "aws:ecs:task-cpu-stress", False),
    ]
    # the backlog (50 a second for 120 s) drains at the 50 a second the app now has spare
    w.advance(200)
    after = w.traffic.stats(since=w.now - 30, until=w.now)
    assert after["latency_ms"]["p99"] < 200


def test_cpu_stress_shows_in_the_service_cpu_metric(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    w.traffic.set_rate(30)
    w.advance(60)
    w.chaos.stress_cpu(victim, percent=80, duration=600)
    w.advance(120)
    svc = w.ecs.backend.clusters[CLUSTER].services[SERVICE]
    answered = w.traffic.stats(since=w.now - 60, until=w.now)["by_target"]
    expected = 0.0
    for t in svc.tasks.values():
        busy = answered[t.ip] / (t.capacity * 60.0)
        expected += t.cpu_stress + (100.0 - t.cpu_stress) * (0.02 + 0.98 * busy)
    value = datapoint(w, svc, PredefinedMetric.CPU, None, w.now - 60)
    assert value == pytest.approx(expected / 3)
    assert value > 80 / 3


def test_cpu_stress_drives_target_tracking_to_scale_out(w: World) -> None:
    key = {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{CLUSTER}/{SERVICE}",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    w.application_autoscaling.register_scalable_target(**key, MinCapacity=3, MaxCapacity=10)
    w.application_autoscaling.put_scaling_policy(
        PolicyName="cpu40",
        **key,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 40.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    )
    w.traffic.set_rate(30)
    for arn in sorted(service_task_arns(w)):
        w.chaos.stress_cpu(arn, percent=90, duration=900)
    w.advance(300)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["desiredCount"] > 3


def test_a_blackholed_port_times_out_and_the_service_replaces_the_task(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    task = w.chaos.task(victim)
    ip = task.ip
    w.traffic.set_rate(60)
    w.advance(20)
    start = w.now
    w.chaos.blackhole_port(victim, duration=600)
    w.advance(120)
    stats = w.traffic.stats(since=start, until=w.now)
    assert stats["by_status"].get("504", 0) > 0  # connections time out after 10 s
    health = [
        e
        for e in w.events(kind=TargetHealthChanged)
        if isinstance(e, TargetHealthChanged) and e.target_id == ip and e.time > start
    ]
    assert health[0].state == "unhealthy" and health[0].reason == "Target.Timeout"
    w.advance(120)
    stopped = [
        e
        for e in w.events(kind=TaskStateChanged)
        if isinstance(e, TaskStateChanged) and e.task_arn == victim and e.last_status == "STOPPED"
    ]
    assert stopped, "the service replaces a task its load balancer finds unhealthy"
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["runningCount"] == 3


def test_another_port_blackholed_changes_nothing(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    w.traffic.set_rate(60)
    w.advance(10)
    start = w.now
    w.chaos.blackhole_port(victim, port=9090, duration=60)
    w.advance(90)
    stats = w.traffic.stats(since=start, until=w.now)
    assert set(stats["by_status"]) == {"200"}
    assert [a for _, a, _ in faults(w)] == ["aws:ecs:task-network-blackhole-port"] * 2


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda w, t: w.chaos.stress_cpu(t, percent=120), "percent must be above 0"),
        (lambda w, t: w.chaos.stress_cpu(t, percent=0), "percent must be above 0"),
        (lambda w, t: w.chaos.stress_cpu(t, percent=True), "percent must be above 0"),
        (lambda w, t: w.chaos.stress_cpu(t, duration=True), "duration must be above 0"),
        (lambda w, t: w.chaos.stress_cpu(t, duration=0), "duration must be above 0"),
        (lambda w, t: w.chaos.blackhole_port(t, port=70000), "port must be a TCP port"),
        (lambda w, t: w.chaos.blackhole_port(t, duration=-5), "duration must be above 0"),
        (lambda w, t: w.chaos.delay_network(t, delay=0), "delay must be above 0"),
        (lambda w, t: w.chaos.lose_packets(t, percent=100), "100 % is a blackhole"),
        (lambda w, t: w.chaos.lose_packets(t, percent=0), "percent must be above 0"),
        (lambda w, t: w.chaos.delay_network(t, delay=True), "delay must be above 0"),
    ],
)
def test_bad_fault_parameters_are_refused_and_change_nothing(
    w: World, call: Any, words: str
) -> None:
    victim = sorted(service_task_arns(w))[0]
    before = len(w.events())
    with pytest.raises(AwsError) as caught:
        call(w, victim)
    assert caught.value.code == "InvalidParameterException" and words in caught.value.message
    assert len(w.events()) == before
    task = w.chaos.task(victim)
    assert (task.cpu_stress, task.blackholed_ports, task.network_delay, task.packet_loss) == (
        0.0,
        frozenset(),
        0.0,
        0.0,
    )


def test_a_stopped_task_takes_no_fault(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    w.chaos.kill_task(victim)
    w.advance(5)
    with pytest.raises(AwsError, match="no running container"):
        w.chaos.stress_cpu(victim)


def test_network_latency_adds_its_delay_to_every_answer_of_the_task(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    ip = w.chaos.task(victim).ip
    w.traffic.set_rate(60)
    w.dataplane.record_requests = True
    w.advance(10)
    start = w.now
    w.chaos.delay_network(victim, delay=0.2, duration=60)
    w.advance(59)
    slow = [r for r in w.dataplane.log if r["t"] >= start and r["ip"] == ip]
    fast = [r for r in w.dataplane.log if r["t"] >= start and r["ip"] != ip]
    assert slow and fast
    assert min(r["lat"] for r in slow) > 0.2 > max(r["lat"] for r in fast)
    w.advance(61)
    after = [r for r in w.dataplane.log if r["t"] >= start + 61 and r["ip"] == ip]
    assert after and max(r["lat"] for r in after) < 0.2
    assert [a for _, a, on in faults(w)] == ["aws:ecs:task-network-latency"] * 2


def test_latency_beyond_the_health_check_timeout_fails_the_target(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    ip = w.chaos.task(victim).ip
    start = w.now
    w.chaos.delay_network(victim, delay=6.0, duration=600)  # the check's timeout is 5 s
    w.advance(90)
    health = [
        e
        for e in w.events(kind=TargetHealthChanged)
        if isinstance(e, TargetHealthChanged) and e.target_id == ip and e.time > start
    ]
    assert health and (health[0].state, health[0].reason) == ("unhealthy", "Target.Timeout")
    # a little delay is only slower: the target stays healthy
    other = sorted(service_task_arns(w))[-1]
    w.chaos.delay_network(other, delay=0.5, duration=600)
    other_ip = w.chaos.task(other).ip
    mark = w.now
    w.advance(120)
    assert not [
        e
        for e in w.events(kind=TargetHealthChanged)
        if isinstance(e, TargetHealthChanged)
        and e.target_id == other_ip
        and e.time > mark
        and e.state == "unhealthy"
    ]


def test_a_traced_request_carries_the_delay(w: World) -> None:
    for arn in service_task_arns(w):
        w.chaos.delay_network(arn, delay=0.3, duration=60)
    trace = w.traffic.send("/")
    assert trace["status"] == 200 and trace["latencyMs"] > 300


def test_a_second_fault_of_the_same_kind_replaces_the_first(w: World) -> None:
    victim = sorted(service_task_arns(w))[0]
    task = w.chaos.task(victim)
    start = w.now
    w.chaos.stress_cpu(victim, percent=50, duration=60)
    w.advance(30)
    w.chaos.stress_cpu(victim, percent=100, duration=120)
    w.advance(31)  # the first one's end is past: the second holds
    assert task.cpu_stress == 100.0
    w.advance(90)
    assert task.cpu_stress == 0.0
    records = [
        (e.time - start, e.active, e.detail, e.duration)
        for e in w.events(kind=TaskFaultChanged)
        if isinstance(e, TaskFaultChanged)
    ]
    assert records == [
        (0.0, True, "50 % CPU", 60.0),
        (30.0, False, "50 % CPU", 30.0),
        (30.0, True, "100 % CPU", 120.0),
        (150.0, False, "100 % CPU", 120.0),
    ]
    # two ports are two faults
    w.chaos.blackhole_port(victim, port=81, duration=10)
    w.chaos.blackhole_port(victim, port=82, duration=20)
    assert task.blackholed_ports == {81, 82}
    w.advance(15)
    assert task.blackholed_ports == {82}


def test_packet_loss_resends_a_share_of_the_answers_after_the_retransmission_timeout(
    w: World,
) -> None:
    victim = sorted(service_task_arns(w))[0]
    ip = w.chaos.task(victim).ip
    w.traffic.set_rate(300)
    w.dataplane.record_requests = True
    w.advance(5)
    start = w.now
    w.chaos.lose_packets(victim, percent=10, duration=60)
    w.advance(59)
    mine = [r["lat"] for r in w.dataplane.log if r["t"] >= start and r["ip"] == ip]
    others = [r["lat"] for r in w.dataplane.log if r["t"] >= start and r["ip"] != ip]
    assert len(mine) > 4000
    once = sum(1 for x in mine if x > 0.2) / len(mine)  # lost at least once: 10 %
    twice = sum(1 for x in mine if x > 0.6) / len(mine)  # 0.2 + 0.4 s: 1 %
    assert 0.085 < once < 0.115 and 0.005 < twice < 0.016
    assert max(others) < 0.2
    w.advance(2)
    assert w.chaos.task(victim).packet_loss == 0.0
