"""Deployment alarms (issue 17, point 3): `deploymentConfiguration.alarms` through boto3 and
the AWS CLI against a live server, following AWS's pages:

- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
- https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html
- https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentAlarms.html

Each test has a paused server of its own and moves simulated time itself. docs/behaviour.md,
"Deployment alarms".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecsim.model.aws.names import resource_id
from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE, task_definition
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from tests.support.server import LiveServer, aws_cli

pytestmark = pytest.mark.server(world="demo", rate=20, speed=300, paused=True, fresh=True)

ALARMS_ON = {"alarmNames": ["target-5xx"], "enable": True, "rollback": True}


def _advance_until(server: LiveServer, cond: Callable[[], bool], most: float = 1800) -> float:
    """Advance simulated time 10 s at a time until `cond()`; the simulated time then."""
    moved = 0.0
    while not cond():
        assert moved < most, "not reached in simulated time"
        server.call(lambda w: w.advance(10))
        moved += 10
    return float(server.call(lambda w: w.now))


def _target_5xx_alarm(server: LiveServer, name: str = "target-5xx") -> None:
    """An alarm on the demo load balancer's HTTPCode_Target_5XX_Count: above 5 a minute."""
    arn = server.call(
        lambda w: w.elbv2.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    )
    server.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[{"Name": "LoadBalancer", "Value": resource_id(arn)}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def _revision(ecs: Any, labels: dict[str, str] | None = None, image: str = "app:v2") -> str:
    td = task_definition()
    td["containerDefinitions"][0]["image"] = image
    if labels:
        td["containerDefinitions"][0]["dockerLabels"] = labels
    return str(ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"])


def _service(ecs: Any) -> dict[str, Any]:
    return dict(ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0])


def _latest_record(ecs: Any) -> dict[str, Any]:
    arn = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, maxResults=1)[
        "serviceDeployments"
    ][0]["serviceDeploymentArn"]
    return dict(
        ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
    )


def _messages(ecs: Any) -> list[str]:
    return [e["message"] for e in _service(ecs)["events"]]


def test_a_deployment_whose_app_answers_500_is_rolled_back_by_its_alarm(
    server: LiveServer,
) -> None:
    ecs = server.client("ecs")
    _target_5xx_alarm(server)
    server.call(lambda w: w.advance(120))  # the alarm is OK before the deployment
    old = _service(ecs)["taskDefinition"]
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, deploymentConfiguration={"alarms": ALARMS_ON}
    )
    assert _service(ecs)["deploymentConfiguration"]["alarms"] == ALARMS_ON
    bad = _revision(ecs, {"ecsim.error-rate": "0.5"})
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)
    failing = _service(ecs)["deployments"][0]["id"]

    def failed() -> bool:
        return any(
            d["id"] == failing and d["rolloutState"] == "FAILED"
            for d in _service(ecs)["deployments"]
        )

    _advance_until(server, failed)
    gone = next(d for d in _service(ecs)["deployments"] if d["id"] == failing)
    assert gone["rolloutStateReason"] == (
        "ECS deployment alarms detected: target-5xx in ALARM state."
    )
    messages = _messages(ecs)
    assert f"(service {SERVICE}) (deployment {failing}) deployment failed: alarm detected." in (
        messages
    )
    assert any(m.startswith(f"(service {SERVICE}) rolling back to deployment ") for m in messages)
    record = _latest_record(ecs)
    assert record["status"] in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
    assert record["alarms"] == {
        "status": "TRIGGERED",
        "alarmNames": ["target-5xx"],
        "triggeredAlarmNames": ["target-5xx"],
    }
    assert record["deploymentConfiguration"]["alarms"] == ALARMS_ON
    _advance_until(server, lambda: _latest_record(ecs)["status"] == "ROLLBACK_SUCCESSFUL")
    svc = _service(ecs)
    assert svc["taskDefinition"] == old
    assert [d["rolloutState"] for d in svc["deployments"]] == ["COMPLETED"]
    assert _latest_record(ecs)["statusReason"] == gone["rolloutStateReason"]


def test_without_rollback_the_failed_deployment_stops_and_launches_nothing(
    server: LiveServer,
) -> None:
    ecs = server.client("ecs")
    cw = server.client("cloudwatch")
    _target_5xx_alarm(server, "drill")
    server.call(lambda w: w.advance(120))
    ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        taskDefinition=_revision(ecs, {"ecsim.startup": "5m"}),  # slow: still deploying
        deploymentConfiguration={
            "alarms": {"alarmNames": ["drill"], "enable": True, "rollback": False},
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        },
    )
    server.call(lambda w: w.advance(30))
    cw.set_alarm_state(AlarmName="drill", StateValue="ALARM", StateReason="a drill")
    svc = _service(ecs)
    primary = svc["deployments"][0]
    assert primary["rolloutState"] == "FAILED"
    record = _latest_record(ecs)
    assert record["status"] == "STOPPED" and "stoppedAt" in record
    assert record["alarms"]["status"] == "TRIGGERED"
    started = primary["runningCount"] + primary["pendingCount"]
    server.call(lambda w: w.advance(600))
    again = next(d for d in _service(ecs)["deployments"] if d["id"] == primary["id"])
    assert again["rolloutState"] == "FAILED"
    assert again["runningCount"] + again["pendingCount"] <= started


def test_an_alarm_already_in_alarm_is_ignored_and_the_deployment_bakes(
    server: LiveServer,
) -> None:
    ecs = server.client("ecs")
    cw = server.client("cloudwatch")
    # a metric ecsim does not publish, missing data breaching: in ALARM for good
    cw.put_metric_alarm(
        AlarmName="always",
        Namespace="Custom/Nothing",
        MetricName="Nothing",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=3,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="breaching",
    )
    server.call(lambda w: w.advance(60))
    assert cw.describe_alarms(AlarmNames=["always"])["MetricAlarms"][0]["StateValue"] == "ALARM"
    ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        taskDefinition=_revision(ecs),
        deploymentConfiguration={
            "alarms": {
                "alarmNames": ["always", "not-created-yet"],
                "enable": True,
                "rollback": True,
            }
        },
    )
    primary = _service(ecs)["deployments"][0]["id"]

    def rolled() -> bool:
        svc = _service(ecs)
        return len(svc["deployments"]) == 1 and svc["runningCount"] == svc["desiredCount"]

    done_rolling = _advance_until(server, rolled)
    assert _service(ecs)["deployments"][0]["rolloutState"] == "IN_PROGRESS"  # baking
    assert _latest_record(ecs)["alarms"]["status"] == "MONITORING"
    completed = _advance_until(
        server, lambda: _service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED"
    )
    assert completed - done_rolling >= 180 - 30  # Period 60 x EvaluationPeriods 3, give or take
    assert _service(ecs)["deployments"][0]["id"] == primary
    record = _latest_record(ecs)
    assert record["status"] == "SUCCESSFUL"
    assert record["alarms"] == {
        "status": "MONITORING_COMPLETE",
        "alarmNames": ["always", "not-created-yet"],
    }


def test_the_alarms_configuration_is_checked_and_kept(server: LiveServer) -> None:
    def call(w: World, alarms: Any) -> str:
        try:
            w.ecs.update_service(
                cluster=CLUSTER, service=SERVICE, deploymentConfiguration={"alarms": alarms}
            )
        except AwsError as e:
            return f"{e.code}: {e.message}"
        return "accepted"

    bad = [
        {"alarmNames": ["x"], "enable": True},
        {"enable": True, "rollback": True},
        {"alarmNames": "x", "enable": True, "rollback": True},
        {"alarmNames": ["x"], "enable": "yes", "rollback": True},
        {"alarmNames": ["x"], "enable": True, "rollback": True, "extra": 1},
        "alarms",
    ]
    for alarms in bad:
        answer = server.call(lambda w, a=alarms: call(w, a))
        assert answer.startswith("InvalidParameterException: "), (alarms, answer)
    ecs = server.client("ecs")
    assert "alarms" not in _service(ecs)["deploymentConfiguration"]
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, deploymentConfiguration={"alarms": ALARMS_ON}
    )
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, deploymentConfiguration={"maximumPercent": 150}
    )
    assert _service(ecs)["deploymentConfiguration"]["alarms"] == ALARMS_ON  # kept


def test_the_aws_cli_turns_deployment_alarms_on(server: LiveServer, tmp_path: Path) -> None:
    done = aws_cli(
        server,
        tmp_path,
        "ecs",
        "update-service",
        "--cluster",
        CLUSTER,
        "--service",
        SERVICE,
        "--deployment-configuration",
        "alarms={alarmNames=[target-5xx,latency],enable=true,rollback=true}",
    )
    assert done.returncode == 0, done.stderr
    alarms = json.loads(done.stdout)["service"]["deploymentConfiguration"]["alarms"]
    assert alarms == {"alarmNames": ["target-5xx", "latency"], "enable": True, "rollback": True}


def test_a_scenario_names_only_alarms_it_defines() -> None:
    """A service's `deployment_alarms` must name one of the world's `alarms` (docs/scenarios.md,
    "Deployment alarms"); the built-in scenario loads."""
    from ecsim.scenario import ScenarioError, load, load_text
    from ecsim.scenario.catalog import builtin_text

    text = builtin_text("deployment-alarm-rollback")
    assert load("deployment-alarm-rollback").name == "deployment-alarm-rollback"
    with pytest.raises(ScenarioError) as e:
        load_text(text.replace("alarms: [target-5xx]", "alarms: [target-5xxx]"), "typo.yaml")
    assert "alarm" in str(e.value) and "target-5xx" in str(e.value)
    with pytest.raises(ScenarioError):
        load_text(text.replace("load_balancer: home-alb\n", "load_balancer: nowhere\n"), "lb.yaml")
