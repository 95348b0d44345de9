"""The seed's scenarios, with numbers: traffic flow, auto-healing, the service crash, deleting
a service, and the rule that all tasks of a service share its target groups."""

from __future__ import annotations

import pytest

import ecsim
from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE
from tests.support import advance_until, service, target_states, tasks, tg_arn, whole


def quiet(w: ecsim.World) -> None:
    """Stop the client load and let every open request finish."""
    w.traffic.set_rate(0)
    w.advance(2)


def test_traffic_flows_evenly_over_three_healthy_tasks(demo: ecsim.World) -> None:
    quiet(demo)
    start = demo.now
    demo.traffic.set_rate(30)
    demo.advance(60)
    quiet(demo)
    stats = demo.traffic.stats(since=start, until=demo.now)
    n = stats["requests"]
    assert n > 1500
    assert stats["by_status"] == {"200": n}
    assert stats["by_source"] == {"target": n}
    ips = {t["attachments"][0]["details"][-1]["value"] for t in tasks(demo)}
    assert set(stats["by_target"]) == ips and len(ips) == 3
    for count in stats["by_target"].values():
        assert abs(count - n / 3) <= 1
    assert 15 < stats["latency_ms"]["p50"] < 30


def test_one_request_is_traced_hop_by_hop(demo: ecsim.World) -> None:
    trace = demo.traffic.send("/api")
    assert trace["loadBalancer"] == LOAD_BALANCER
    assert trace["listener"].split(":")[5].startswith("listener/app/home-alb/")
    assert trace["targetGroup"] == tg_arn(demo)
    assert trace["target"].split(":")[0] in target_states(demo)
    assert trace["status"] == 200 and trace["answeredBy"] == "target"
    assert 0 < trace["latencyMs"] < 1000


def test_a_killed_task_is_replaced_within_120_seconds(demo: ecsim.World) -> None:
    victim = tasks(demo)[0]
    demo.chaos.kill_task(victim["taskArn"], reason="oom")
    took = advance_until(demo, lambda: whole(demo), within=120)
    assert took <= 120
    dead = demo.ecs.describe_tasks(cluster=CLUSTER, tasks=[victim["taskArn"]])["tasks"][0]
    assert dead["lastStatus"] == "STOPPED"
    assert dead["stopCode"] == "EssentialContainerExited"
    assert dead["stoppedReason"] == "Essential container in task exited"
    assert dead["containers"][0]["exitCode"] == 137
    assert (
        dead["containers"][0]["reason"] == "OutOfMemoryError: Container killed due to memory usage"
    )
    now_running = {t["taskArn"] for t in tasks(demo)}
    assert victim["taskArn"] not in now_running and len(now_running) == 3
    messages = [e["message"] for e in service(demo)["events"]]
    assert any(m.startswith(f"(service {SERVICE}) has started 1 tasks: (task ") for m in messages)


def test_service_crash_traffic_flows_and_nothing_heals(demo: ecsim.World) -> None:
    demo.traffic.set_rate(20)
    demo.advance(5)
    demo.chaos.crash_controller(CLUSTER, SERVICE)
    assert service(demo)["controllerStatus"] == "CRASHED"
    start = demo.now
    demo.advance(600)
    ten_minutes = demo.traffic.stats(since=start, until=demo.now)
    assert ten_minutes["requests"] > 11000
    assert set(ten_minutes["by_status"]) == {"200"}

    victim = tasks(demo)[0]
    ip = victim["attachments"][0]["details"][-1]["value"]
    killed_at = demo.now
    demo.chaos.kill_task(victim["taskArn"])
    events_before = len(service(demo)["events"])
    demo.advance(3600)
    svc = service(demo)
    assert svc["runningCount"] == 2 and svc["desiredCount"] == 3
    assert len(svc["events"]) == events_before  # the dead manager writes nothing
    assert len(tasks(demo)) == 2

    hc = demo.elbv2.describe_target_groups(TargetGroupArns=[tg_arn(demo)])["TargetGroups"][0]
    bound = (
        hc["HealthCheckIntervalSeconds"] * hc["UnhealthyThresholdCount"]
        + hc["HealthCheckTimeoutSeconds"]
    )
    unhealthy_at = next(
        e.time
        for e in demo.events(since=killed_at, kind="TargetHealthChanged")
        if e.target_id == ip and e.state == "unhealthy"
    )
    assert unhealthy_at - killed_at <= bound
    after = demo.traffic.stats(since=int(unhealthy_at) + 1, until=demo.now)
    assert ip not in after["by_target"]
    assert set(after["by_status"]) == {"200"}
    assert target_states(demo)[ip] == "unhealthy"  # still registered: nobody deregisters it

    demo.chaos.restore_controller(CLUSTER, SERVICE)
    took = advance_until(demo, lambda: whole(demo), within=120)
    assert took <= 120
    assert ip not in {i for i, s in target_states(demo).items() if s != "draining"}


def test_a_hung_scheduler_does_not_heal_either(demo: ecsim.World) -> None:
    demo.chaos.hang_controller(CLUSTER)
    assert service(demo)["controllerStatus"] == "STUCK"
    demo.chaos.kill_task(tasks(demo)[0]["taskArn"])
    demo.advance(900)
    assert service(demo)["runningCount"] == 2
    demo.chaos.restore_controller(CLUSTER)
    advance_until(demo, lambda: whole(demo), within=120)


def test_delete_service_refuses_while_scaled_above_zero(demo: ecsim.World) -> None:
    with pytest.raises(ecsim.errors.InvalidParameterException) as e:
        demo.ecs.delete_service(cluster=CLUSTER, service=SERVICE)
    assert e.value.message == "The service cannot be stopped while it is scaled above 0."
    assert service(demo)["status"] == "ACTIVE" and service(demo)["runningCount"] == 3


def test_forced_delete_stops_every_task_and_the_alb_answers_503(demo: ecsim.World) -> None:
    demo.traffic.set_rate(10)
    answer = demo.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    assert answer["service"]["status"] == "DRAINING"
    assert SERVICE not in " ".join(demo.ecs.list_services(cluster=CLUSTER)["serviceArns"])
    advance_until(demo, lambda: service(demo)["status"] == "INACTIVE", within=300)
    demo.advance(60)
    assert tasks(demo) == []
    stopped = tasks(demo, desired="STOPPED")
    assert len(stopped) == 3 and {t["lastStatus"] for t in stopped} == {"STOPPED"}
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    assert target_states(demo) == {}
    assert demo.traffic.send()["status"] == 503
    window = demo.traffic.stats(since=demo.now - 30, until=demo.now)
    assert window["requests"] > 0 and set(window["by_status"]) == {"503"}
    assert window["by_source"] == {"elb": window["requests"]}
    assert service(demo)["runningCount"] == 0


def test_all_tasks_of_a_service_share_its_target_groups() -> None:
    w = ecsim.World.demo(seed=3, rate=0)
    vpc = w.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    api = w.elbv2.create_target_group(
        Name="home-api",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckIntervalSeconds=10,
    )
    api_arn = api["TargetGroups"][0]["TargetGroupArn"]
    listener = w.elbv2.describe_listeners(
        LoadBalancerArn=w.elbv2.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    )["Listeners"][0]["ListenerArn"]
    w.elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": api_arn}],
    )
    w.ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        loadBalancers=[
            {"targetGroupArn": tg_arn(w), "containerName": "app", "containerPort": 80},
            {"targetGroupArn": api_arn, "containerName": "app", "containerPort": 80},
        ],
    )
    advance_until(w, lambda: len(service(w)["deployments"]) == 1 and whole(w), within=900, step=5)
    ips = {t["attachments"][0]["details"][-1]["value"] for t in tasks(w)}
    assert len(ips) == 3
    assert {i for i, s in target_states(w).items() if s == "healthy"} == ips
    assert {i for i, s in target_states(w, "home-api").items() if s == "healthy"} == ips
    assert w.traffic.send("/api/orders")["targetGroup"] == api_arn
    assert w.traffic.send("/")["targetGroup"] == tg_arn(w)
