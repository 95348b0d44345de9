"""Tasks walk the real lifecycle, with timestamps, stop codes, exit codes and an ENI each."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.events import TargetHealthChanged, TaskStateChanged
from tests.support import advance_until, service, tasks
from tests.support.worlds import fargate_task_definition, register_revision

ORDER = [
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
]


def network(w: ecsim.World) -> dict:
    subnets = [s["SubnetId"] for s in w.ec2.describe_subnets()["Subnets"]]
    return {"awsvpcConfiguration": {"subnets": subnets}}


def history(w: ecsim.World, task_arn: str) -> list[str]:
    return [e.last_status for e in w.events(kind=TaskStateChanged) if e.task_arn == task_arn]


def test_a_service_task_walks_the_whole_lifecycle_in_order(demo: ecsim.World) -> None:
    arn = tasks(demo)[0]["taskArn"]
    stopped = demo.ecs.stop_task(cluster=CLUSTER, task=arn, reason="rolling the dice")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    # as observed on AWS (docs/behaviour.md, "Stopping a task")
    assert stopped["lastStatus"] == "DEACTIVATING"
    demo.advance(300)
    seen = history(demo, arn)
    assert seen == ORDER
    t = demo.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
    assert t["stopCode"] == "UserInitiated" and t["stoppedReason"] == "rolling the dice"
    assert t["containers"][0]["exitCode"] == 0  # the app exits cleanly after SIGTERM
    stamps = [
        t[k]
        for k in (
            "createdAt",
            "connectivityAt",
            "pullStartedAt",
            "pullStoppedAt",
            "startedAt",
            "stoppingAt",
            "executionStoppedAt",
            "stoppedAt",
        )
    ]
    assert stamps == sorted(stamps)
    # Fargate: created -> RUNNING in tens of seconds (observed 23.7 s;
    # docs/behaviour.md, "Task state durations")
    assert timedelta(seconds=8) <= t["startedAt"] - t["createdAt"] <= timedelta(seconds=40)
    # DEACTIVATING lasts the deregistration delay (30 s in the demo) before SIGTERM
    assert t["executionStoppedAt"] - t["stoppingAt"] >= timedelta(seconds=30)
    eni = {d["name"]: d["value"] for d in t["attachments"][0]["details"]}
    assert t["attachments"][0]["status"] == "DELETED"
    assert eni["networkInterfaceId"].startswith("eni-") and eni["privateIPv4Address"].startswith(
        "10.0."
    )
    subnet = demo.ec2.describe_subnets(SubnetIds=[eni["subnetId"]])["Subnets"][0]
    assert subnet["AvailabilityZone"] == t["availabilityZone"]
    assert t["group"] == f"service:{SERVICE}" and t["startedBy"].startswith("ecs-svc/")
    assert len(t["taskArn"].rsplit("/", 1)[1]) == 32


def test_stopped_tasks_stay_describable_for_an_hour(demo: ecsim.World) -> None:
    arn = tasks(demo)[0]["taskArn"]
    demo.chaos.kill_task(arn)
    demo.advance(3500)
    assert (
        demo.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED"
    )
    demo.advance(200)
    gone = demo.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])
    assert gone["tasks"] == [] and gone["failures"] == [{"arn": arn, "reason": "MISSING"}]


def test_sigterm_ignored_means_sigkill_after_stop_timeout() -> None:
    w = ecsim.World(seed=2)
    w.ecs.create_cluster(clusterName="batch")
    fargate_task_definition(
        w, "stubborn", image="app:1", stopTimeout=45, dockerLabels={"ecsim.shutdown": "ignore"}
    )
    arn = w.ecs.run_task(
        cluster="batch",
        taskDefinition="stubborn",
        launchType="FARGATE",
        networkConfiguration=network(w),
    )["tasks"][0]["taskArn"]
    w.advance(60)
    assert w.ecs.describe_tasks(cluster="batch", tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING"
    w.ecs.stop_task(cluster="batch", task=arn)
    w.advance(120)
    t = w.ecs.describe_tasks(cluster="batch", tasks=[arn])["tasks"][0]
    assert t["containers"][0]["exitCode"] == 137
    assert t["executionStoppedAt"] - t["stoppingAt"] == timedelta(seconds=45)
    assert t["group"] == "family:stubborn" and t["stoppedReason"] == "Task stopped by user"


def test_run_task_places_over_the_azs_and_lists_by_status() -> None:
    w = ecsim.World(seed=4)
    w.ecs.create_cluster(clusterName="batch")
    fargate_task_definition(w, "job", image="app:1")
    started = w.ecs.run_task(
        cluster="batch",
        taskDefinition="job:1",
        count=6,
        networkConfiguration=network(w),
        startedBy="me",
    )["tasks"]
    assert len(started) == 6 and {t["lastStatus"] for t in started} == {"PROVISIONING"}
    azs = sorted(t["availabilityZone"] for t in started)
    assert azs == ["us-east-1a"] * 2 + ["us-east-1b"] * 2 + ["us-east-1c"] * 2
    w.advance(60)
    listed = w.ecs.list_tasks(cluster="batch", startedBy="me")["taskArns"]
    assert len(listed) == 6
    assert w.ecs.list_tasks(cluster="batch", desiredStatus="STOPPED")["taskArns"] == []
    ips = {
        t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        for t in w.ecs.describe_tasks(cluster="batch", tasks=listed)["tasks"]
    }
    assert len(ips) == 6
    with pytest.raises(ecsim.errors.InvalidParameterException):
        w.ecs.run_task(
            cluster="batch", taskDefinition="job", count=11, networkConfiguration=network(w)
        )


def test_a_service_that_cannot_start_tasks_backs_off(demo: ecsim.World) -> None:
    bad = register_revision(demo, {"ecsim.start": "crash"}, replace_labels=True)
    demo.ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        taskDefinition=bad,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": False, "rollback": False}},
    )
    demo.advance(2 * 3600)
    attempts = sorted(
        e.time
        for e in demo.events(kind=TaskStateChanged)
        if e.last_status == "PROVISIONING" and e.time > 45
    )
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) > 10 * 60  # the delay grew beyond ten minutes...
    # ...but never beyond 27 minutes (docs/behaviour.md, "Start-failure throttling")
    assert max(gaps) <= 27 * 60 + 60
    messages = [e["message"] for e in service(demo)["events"]]
    assert f"(service {SERVICE}) is unable to consistently start tasks successfully." in messages
    crashed = [t for t in tasks(demo, desired="STOPPED") if t["taskDefinitionArn"] == bad]
    assert crashed and {t["stopCode"] for t in crashed} == {"EssentialContainerExited"}
    assert {t["containers"][0]["exitCode"] for t in crashed} == {1}
    assert service(demo)["runningCount"] == 3  # min 100 %: the old tasks keep serving


def test_grace_period_delays_replacement_of_unhealthy_tasks() -> None:
    w = ecsim.World.demo(seed=9, rate=0)
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, healthCheckGracePeriodSeconds=600)
    w.advance(30)
    victim = tasks(w)[0]
    w.chaos.set_app_health(victim["taskArn"], False)
    w.advance(120)  # unhealthy after 2 x 10 s, but still within 600 s of its start
    assert victim["taskArn"] in {t["taskArn"] for t in tasks(w)}
    started = victim["startedAt"]
    took = advance_until(
        w, lambda: victim["taskArn"] not in {t["taskArn"] for t in tasks(w)}, within=900, step=5
    )
    replaced_at = w.clock.at(w.now)
    assert replaced_at - started >= timedelta(seconds=600)
    assert took > 0
    stopped = w.ecs.describe_tasks(cluster=CLUSTER, tasks=[victim["taskArn"]])["tasks"][0]
    assert stopped["stopCode"] == "ServiceSchedulerInitiated"
    assert stopped["stoppedReason"].startswith("Task failed ELB health checks in (target-group ")


@pytest.mark.parametrize("desired", [1, 3])
def test_replacement_is_healthy_before_the_unhealthy_task_stops(desired: int) -> None:
    """Since Oct 2023 (docs/behaviour.md, "Unhealthy task replacement"): start the replacement, wait
    until it is healthy, then
    stop the unhealthy task; with desiredCount 1 and maximumPercent 200 there is room for it."""
    w = ecsim.World.demo(seed=14, desired=desired, rate=0)
    victim = tasks(w)[0]["taskArn"]
    start = w.now
    w.chaos.set_app_health(victim, False)
    advance_until(w, lambda: victim not in {t["taskArn"] for t in tasks(w)}, within=300)
    events = w.events(since=start, kind=TaskStateChanged)
    stop_asked = next(
        e.time for e in events if e.task_arn == victim and e.desired_status == "STOPPED"
    )
    fresh_ips = {e.ip for e in events if e.task_arn != victim and e.ip}
    assert len(fresh_ips) == 1
    healthy_at = min(
        e.time
        for e in w.events(since=start, kind=TargetHealthChanged)
        if e.target_id in fresh_ips and e.state == "healthy"
    )
    assert healthy_at <= stop_asked
    messages = [e["message"] for e in service(w)["events"]]
    assert any("Amazon ECS replaced 1 tasks due to an unhealthy status." in m for m in messages)
    assert service(w)["runningCount"] == desired


def test_container_health_checks_mark_tasks_and_the_service_replaces_failing_ones() -> None:
    w = ecsim.World(seed=15)
    w.ecs.create_cluster(clusterName="workers")
    fargate_task_definition(
        w,
        "worker",
        image="worker:1",
        healthCheck={
            "command": ["CMD-SHELL", "curl -f localhost/health"],
            "interval": 10,
            "timeout": 2,
            "retries": 3,
            "startPeriod": 0,
        },
    )
    w.ecs.create_service(
        cluster="workers",
        serviceName="worker",
        taskDefinition="worker",
        desiredCount=2,
        networkConfiguration=network(w),
    )
    advance_until(w, lambda: service(w, "worker", "workers")["runningCount"] == 2, within=120)
    w.advance(30)
    running = tasks(w, name="worker", cluster="workers")
    assert {t["healthStatus"] for t in running} == {"HEALTHY"}
    assert {t["containers"][0]["healthStatus"] for t in running} == {"HEALTHY"}
    victim = running[0]["taskArn"]
    start = w.now
    w.chaos.set_app_health(victim, False)
    w.advance(35)  # 3 failed checks, 10 s apart
    assert (
        w.ecs.describe_tasks(cluster="workers", tasks=[victim])["tasks"][0]["healthStatus"]
        == "UNHEALTHY"
    )
    advance_until(
        w,
        lambda: victim not in {t["taskArn"] for t in tasks(w, name="worker", cluster="workers")},
        within=120,
    )
    dead = w.ecs.describe_tasks(cluster="workers", tasks=[victim])["tasks"][0]
    assert dead["stopCode"] == "EssentialContainerExited"
    assert dead["stoppedReason"] == "Task failed container health checks"
    messages = [e["message"] for e in service(w, "worker", "workers")["events"]]
    assert (
        f"(service worker) (task {victim.rsplit('/', 1)[1]}) failed container health checks."
        in messages
    )
    advance_until(w, lambda: service(w, "worker", "workers")["runningCount"] == 2, within=120)
    assert w.now - start < 300
    with pytest.raises(ecsim.errors.ClientException, match=r"healthCheck\.interval"):
        w.ecs.register_task_definition(
            family="worker",
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "x",
                    "healthCheck": {"command": ["CMD", "true"], "interval": 1},
                }
            ],
        )


def test_list_calls_page_with_max_results_and_next_token() -> None:
    w = ecsim.World.demo(seed=16, desired=5, rate=0)
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = w.ecs.list_tasks(cluster=CLUSTER, maxResults=2, **token)
        assert len(page["taskArns"]) <= 2
        seen += page["taskArns"]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    assert len(seen) == len(set(seen)) == 5
    assert w.ecs.list_services(cluster=CLUSTER, maxResults=1)["serviceArns"][0].endswith(SERVICE)
    with pytest.raises(ecsim.errors.InvalidParameterException):
        w.ecs.list_tasks(cluster=CLUSTER, maxResults=0)
    with pytest.raises(ecsim.errors.InvalidParameterException, match="Unknown parameter"):
        w.ecs.list_tasks(cluster=CLUSTER, maxResult=2)
