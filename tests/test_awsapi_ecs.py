"""The seed's architecture built through the AWS API by real boto3 clients (the demo's own
calls, `ecsim.model.demo.create_demo`), against a real server on a localhost port, waited on
with botocore's own waiters (issue 5).

The server runs at 300x, so a waiter that takes minutes on AWS takes about a second here; the
waiters poll every 0.2 wall seconds (WaiterConfig) instead of AWS's 6-15 s.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecsim.model.demo import create_demo
from tests.support.server import FAST, LiveServer, wait_for

pytestmark = pytest.mark.server(speed=300)


def running_tasks(ecs: Any) -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster="home", serviceName="home-service", desiredStatus="RUNNING")[
        "taskArns"
    ]
    return ecs.describe_tasks(cluster="home", tasks=arns)["tasks"] if arns else []


def ip(task: dict[str, Any]) -> str:
    return next(
        d["value"]
        for a in task["attachments"]
        for d in a["details"]
        if d["name"] == "privateIPv4Address"
    )


def healthy_targets(elb: Any, tg: str) -> set[str]:
    health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    return {d["Target"]["Id"] for d in health if d["TargetHealth"]["State"] == "healthy"}


def test_the_seed_architecture_through_the_api_with_the_sdk_waiters(server: LiveServer) -> None:
    ecs, elb = server.client("ecs"), server.client("elbv2")
    # The demo's own calls (cluster, task definition, ALB, target group, listener, service),
    # as a deploy script makes them; then the script waits for the load balancer.
    built = create_demo(server.client("ec2"), ecs, elb)
    elb.get_waiter("load_balancer_available").wait(
        LoadBalancerArns=[built.load_balancer], WaiterConfig=FAST
    )
    tg = built.target_group

    # The service converges for real: three tasks RUNNING, three targets healthy.
    ecs.get_waiter("services_stable").wait(
        cluster="home", services=["home-service"], WaiterConfig=FAST
    )
    tasks = running_tasks(ecs)
    assert len(tasks) == 3
    ecs.get_waiter("tasks_running").wait(
        cluster="home", tasks=[t["taskArn"] for t in tasks], WaiterConfig=FAST
    )
    ips = {ip(t) for t in tasks}
    assert len(ips) == 3
    elb.get_waiter("target_in_service").wait(
        TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 80} for ip in ips], WaiterConfig=FAST
    )
    assert healthy_targets(elb, tg) == ips
    svc = ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
    assert (svc["desiredCount"], svc["runningCount"], svc["status"]) == (3, 3, "ACTIVE")
    # The waiter only needs runningCount == desiredCount; ECS reports the steady state once
    # the deployment has completed, a scheduler pass later.
    wait_for(
        lambda: any(
            "has reached a steady state" in e["message"]
            for e in ecs.describe_services(cluster="home", services=["home-service"])["services"][
                0
            ]["events"]
        ),
        seconds=30,
    )

    # Stop one: ECS answers at once (DEACTIVATING), the task stops for real, a new one
    # replaces it and its target drains out.
    victim = tasks[0]
    stopped = ecs.stop_task(cluster="home", task=victim["taskArn"], reason="test")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    ecs.get_waiter("tasks_stopped").wait(
        cluster="home", tasks=[victim["taskArn"]], WaiterConfig=FAST
    )
    victim_ip = ip(victim)
    elb.get_waiter("target_deregistered").wait(
        TargetGroupArn=tg, Targets=[{"Id": victim_ip, "Port": 80}], WaiterConfig=FAST
    )
    ecs.get_waiter("services_stable").wait(
        cluster="home", services=["home-service"], WaiterConfig=FAST
    )
    after = running_tasks(ecs)
    assert len(after) == 3 and victim["taskArn"] not in {t["taskArn"] for t in after}
    final = ecs.describe_tasks(cluster="home", tasks=[victim["taskArn"]])["tasks"][0]
    assert final["lastStatus"] == "STOPPED" and final["stoppedReason"] == "test"

    # Scale to five.
    ecs.update_service(cluster="home", service="home-service", desiredCount=5)
    ecs.get_waiter("services_stable").wait(
        cluster="home", services=["home-service"], WaiterConfig=FAST
    )
    five = running_tasks(ecs)
    assert len(five) == 5
    elb.get_waiter("target_in_service").wait(TargetGroupArn=tg, WaiterConfig=FAST)
    assert len(healthy_targets(elb, tg)) == 5

    # Delete: refused while scaled above 0, then forced; every task stops.
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.delete_service(cluster="home", service="home-service")
    ecs.delete_service(cluster="home", service="home-service", force=True)
    ecs.get_waiter("services_inactive").wait(
        cluster="home", services=["home-service"], WaiterConfig=FAST
    )
    ecs.get_waiter("tasks_stopped").wait(
        cluster="home", tasks=[t["taskArn"] for t in five], WaiterConfig=FAST
    )
    assert ecs.list_tasks(cluster="home", desiredStatus="RUNNING")["taskArns"] == []
    assert ecs.list_services(cluster="home")["serviceArns"] == []
    elb.get_waiter("target_deregistered").wait(
        TargetGroupArn=tg, Targets=[{"Id": ip(t), "Port": 80} for t in five], WaiterConfig=FAST
    )
