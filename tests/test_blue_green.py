"""Blue/green, linear and canary deployments behind the ALB, through boto3 (and the AWS CLI)
against `ecsim serve`, simulated time advanced through ecsim's own API while paused
(docs/behaviour.md, "Blue/green, linear and canary deployments", "Lifecycle hooks").

Each test builds the ALB resources a team builds for it (an alternate target group, a
production rule forwarding to both groups, a test rule), switches the demo service to them,
then deploys a new revision and reads what AWS would show: the rule weights (DescribeRules),
the lifecycle stages and hooks (DescribeServiceDeployments), the service events, and the
requests the clients got, by target group (ecsim's traffic statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ecsim.model.demo import CLUSTER, SERVICE, task_definition
from ecsim.model.errors import InvalidParameterException
from ecsim.model.world import World
from tests.support.server import LiveServer, aws_cli

pytestmark = pytest.mark.server(world="demo", rate=20, paused=True, fresh=True)

ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
HOOK = "arn:aws:lambda:us-east-1:123456789012:function:validate"
HOOK_ROLE = "arn:aws:iam::123456789012:role/ecsLambdaHookRole"


class Setup:
    """The demo switched to blue/green: its target group (blue at first), an alternate
    (green), a production rule for every path and a test rule for `Host: test.example.com`."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.ecs = server.client("ecs")
        self.elb = server.client("elbv2")
        lb = self.elb.describe_load_balancers(Names=["home-alb"])["LoadBalancers"][0]
        self.blue = self.elb.describe_target_groups(Names=["home-tg"])["TargetGroups"][0][
            "TargetGroupArn"
        ]
        vpc = lb["VpcId"]
        self.green = self.elb.create_target_group(
            Name="green-tg",
            Protocol="HTTP",
            Port=80,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath="/",
            HealthCheckIntervalSeconds=10,
        )["TargetGroups"][0]["TargetGroupArn"]
        listener = self.elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][
            0
        ]["ListenerArn"]
        self.prod = self.elb.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=self.forward(100, 0),
        )["Rules"][0]["RuleArn"]
        self.test = self.elb.create_rule(
            ListenerArn=listener,
            Priority=5,
            Conditions=[{"Field": "host-header", "Values": ["test.example.com"]}],
            Actions=self.forward(100, 0),
        )["Rules"][0]["RuleArn"]

    def forward(self, blue: int, green: int) -> list[dict[str, Any]]:
        groups = [
            {"TargetGroupArn": self.blue, "Weight": blue},
            {"TargetGroupArn": self.green, "Weight": green},
        ]
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]

    def load_balancers(self, **advanced: Any) -> list[dict[str, Any]]:
        config = {
            "alternateTargetGroupArn": self.green,
            "productionListenerRule": self.prod,
            "testListenerRule": self.test,
            "roleArn": ROLE,
            **advanced,
        }
        return [
            {
                "targetGroupArn": self.blue,
                "containerName": "app",
                "containerPort": 80,
                "advancedConfiguration": config,
            }
        ]

    def switch(self, deployment: dict[str, Any]) -> None:
        """The load balancers with their alternate (a rolling deployment), then the strategy."""
        self.ecs.update_service(
            cluster=CLUSTER, service=SERVICE, loadBalancers=self.load_balancers()
        )
        self.until(lambda: self.deployment()["status"] == "SUCCESSFUL", 900)
        self.ecs.update_service(
            cluster=CLUSTER, service=SERVICE, deploymentConfiguration=deployment
        )

    def deploy(self) -> str:
        """A new revision of the app: the deployment's record ARN."""
        td = self.ecs.register_task_definition(**task_definition())["taskDefinition"]
        self.ecs.update_service(
            cluster=CLUSTER, service=SERVICE, taskDefinition=td["taskDefinitionArn"]
        )
        return str(self.deployment()["serviceDeploymentArn"])

    # --- reading --------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.server.call(lambda w: w.advance(seconds))

    def until(self, cond: Callable[[], Any], within: float, step: float = 5.0) -> float:
        """Advance simulated time by `step` until `cond()`; the simulated seconds it took."""
        spent = 0.0
        while not cond():
            assert spent < within, f"not reached within {within:.0f} simulated seconds"
            self.advance(step)
            spent += step
        return spent

    def deployment(self) -> dict[str, Any]:
        """The service's newest deployment record."""
        arns = self.ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)
        arn = arns["serviceDeployments"][0]["serviceDeploymentArn"]
        found = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        return dict(found["serviceDeployments"][0])

    def weights(self, rule: str) -> dict[str, int]:
        """{'blue' | 'green': weight} of a rule's forward action, by the groups' first roles."""
        action = self.elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]
        names = {self.blue: "blue", self.green: "green"}
        return {
            names[g["TargetGroupArn"]]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]
        }

    def events(self) -> list[str]:
        svc = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        return [e["message"] for e in reversed(svc["events"])]

    def stages(self) -> list[str]:
        return [
            m.rsplit(" ", 1)[1].rstrip(".") for m in self.events() if "entered lifecycle stage" in m
        ]

    def split(self, seconds: float) -> dict[str, float]:
        """The share of the requests of the next `seconds` each group answered."""
        ips = {
            t["Target"]["Id"]: name
            for arn, name in ((self.blue, "blue"), (self.green, "green"))
            for t in self.elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        }

        def measure(w: World) -> dict[str, Any]:
            since = w.now
            w.advance(seconds)
            return w.traffic.stats(since=since)

        stats = self.server.call(measure)
        total = sum(stats["by_target"].values())
        out = {"blue": 0.0, "green": 0.0}
        for ip, n in stats["by_target"].items():
            out[ips[ip]] += n / total
        return out


# --- the strategies ---------------------------------------------------------------------------


def test_blue_green_shifts_all_production_traffic_at_once_then_bakes(server: LiveServer) -> None:
    s = Setup(server)
    s.switch({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 3})
    answered = s.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert answered["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert answered["deploymentConfiguration"]["bakeTimeInMinutes"] == 3
    assert answered["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"] == (
        s.green
    )
    assert s.weights(s.prod) == {"blue": 100, "green": 0}
    s.deploy()
    s.until(lambda: s.deployment().get("lifecycleStage") == "BAKE_TIME", 600)
    assert s.weights(s.prod) == {"blue": 0, "green": 100}
    assert s.weights(s.test) == {"blue": 0, "green": 100}
    split = s.split(60)
    assert split["green"] == 1.0  # blue still runs, and gets none of it
    running = s.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert running["runningCount"] == 6  # blue and green side by side
    s.until(lambda: s.deployment()["status"] == "SUCCESSFUL", 600)
    assert s.stages() == [
        "PRE_SCALE_UP",
        "SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ]
    green = s.elb.describe_target_health(TargetGroupArn=s.green)["TargetHealthDescriptions"]
    assert len([t for t in green if t["TargetHealth"]["State"] == "healthy"]) == 3
    # the next deployment goes the other way: green is production now
    s.deploy()
    s.until(lambda: s.deployment().get("lifecycleStage") == "BAKE_TIME", 600)
    assert s.weights(s.prod) == {"green": 0, "blue": 100}


def test_linear_shifts_in_steps_and_the_requests_follow_the_weights(server: LiveServer) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 1,
            "linearConfiguration": {"stepPercent": 30.0, "stepBakeTimeInMinutes": 2},
        }
    )
    s.deploy()
    seen = []
    for expected in (30, 60, 90):
        s.until(lambda e=expected: s.weights(s.prod)["green"] == e, 600)  # type: ignore[misc]
        seen.append(s.weights(s.prod))
        assert s.deployment()["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
        split = s.split(60)  # within the step's 2 minutes
        assert abs(split["green"] - expected / 100) < 0.08, (expected, split)
    assert seen == [
        {"blue": 70, "green": 30},
        {"blue": 40, "green": 60},
        {"blue": 10, "green": 90},
    ]
    s.until(lambda: s.deployment().get("lifecycleStage") == "BAKE_TIME", 300)
    assert s.weights(s.prod) == {"blue": 0, "green": 100}
    s.until(lambda: s.deployment()["status"] == "SUCCESSFUL", 600)


def test_canary_sends_its_percent_then_the_rest(server: LiveServer) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 2,
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3},
        }
    )
    s.deploy()
    took = s.until(lambda: s.weights(s.prod)["green"] == 10, 600)
    assert s.weights(s.prod) == {"blue": 90, "green": 10}
    split = s.split(120)
    assert 0.04 < split["green"] < 0.16, split
    s.until(lambda: s.weights(s.prod)["green"] == 100, 120)
    assert s.deployment()["lifecycleStage"] in ("POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME")
    assert took > 0
    s.until(lambda: s.deployment()["status"] == "SUCCESSFUL", 600)


def test_a_tenth_of_a_percent_canary_is_written_out_of_1000(server: LiveServer) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 0,
            "canaryConfiguration": {"canaryPercent": 0.1, "canaryBakeTimeInMinutes": 5},
        }
    )
    s.deploy()
    s.until(lambda: s.weights(s.prod)["green"] == 1, 600)
    assert s.weights(s.prod) == {"blue": 999, "green": 1}


# --- lifecycle hooks and rollbacks ------------------------------------------------------------


def _hook(*stages: str, **extra: Any) -> dict[str, Any]:
    return {"hookTargetArn": HOOK, "roleArn": HOOK_ROLE, "lifecycleStages": list(stages), **extra}


def test_hooks_run_at_their_stages_and_are_shown(server: LiveServer) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 1,
            "lifecycleHooks": [
                _hook("POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", hookDetails={"suite": "smoke"})
            ],
        }
    )
    answered = s.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    hooks = answered["deploymentConfiguration"]["lifecycleHooks"]
    assert hooks[0]["hookDetails"] == {"suite": "smoke"}
    s.deploy()
    s.until(lambda: s.deployment()["status"] == "SUCCESSFUL", 900)
    details = s.deployment()["lifecycleHookDetails"]
    assert [d["status"] for d in details] == ["SUCCEEDED", "SUCCEEDED"]
    assert all(d["targetArn"] == HOOK and d["targetType"] == "AWS_LAMBDA" for d in details)


def test_a_failed_hook_rolls_back_and_restores_the_weights(server: LiveServer) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 5,
            "lifecycleHooks": [_hook("POST_PRODUCTION_TRAFFIC_SHIFT")],
        }
    )
    r = httpx.post(
        f"{server.url}/ecsim/api/chaos/set-hook-outcome",
        json={"cluster": CLUSTER, "service": SERVICE, "outcome": "FAILED"},
    )
    assert r.status_code == 200, r.text
    s.deploy()
    s.until(lambda: s.deployment().get("lifecycleStage") == "POST_PRODUCTION_TRAFFIC_SHIFT", 600)
    assert s.weights(s.prod) == {"blue": 0, "green": 100}  # shifted, then the hook answers
    s.until(lambda: s.deployment()["status"].startswith("ROLLBACK"), 60, step=1)
    assert s.weights(s.prod) == {"blue": 100, "green": 0}
    assert s.weights(s.test) == {"blue": 100, "green": 0}
    s.until(lambda: s.deployment()["status"] == "ROLLBACK_SUCCESSFUL", 600)
    record = s.deployment()
    assert record["statusReason"] == "Lifecycle hook failed at stage POST_PRODUCTION_TRAFFIC_SHIFT."
    assert record["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert any("rolling back to deployment" in m for m in s.events())
    green = s.elb.describe_target_health(TargetGroupArn=s.green)["TargetHealthDescriptions"]
    assert all(t["TargetHealth"]["State"] != "healthy" for t in green)
    assert s.split(30)["blue"] == 1.0


def test_a_timed_out_hook_takes_its_timeout_action(server: LiveServer) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 0,
            "lifecycleHooks": [
                _hook(
                    "PRE_SCALE_UP",
                    timeoutConfiguration={"timeoutInMinutes": 2, "action": "CONTINUE"},
                )
            ],
        }
    )
    server.call(lambda w: w.chaos.set_hook_outcome(CLUSTER, SERVICE, "TIMED_OUT", "PRE_SCALE_UP"))
    s.deploy()
    s.advance(60)
    assert s.deployment()["lifecycleStage"] == "PRE_SCALE_UP"
    assert s.deployment()["lifecycleHookDetails"][0]["status"] == "IN_PROGRESS"
    s.until(lambda: s.deployment()["status"] == "SUCCESSFUL", 900)
    assert s.deployment()["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"


def test_stop_service_deployment_during_the_bake_rolls_back(server: LiveServer) -> None:
    s = Setup(server)
    s.switch({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10})
    arn = s.deploy()
    s.until(lambda: s.deployment().get("lifecycleStage") == "BAKE_TIME", 600)
    assert s.weights(s.prod) == {"blue": 0, "green": 100}
    s.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert s.weights(s.prod) == {"blue": 100, "green": 0}
    s.until(lambda: s.deployment()["status"] == "ROLLBACK_SUCCESSFUL", 600)
    svc = s.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["runningCount"] == 3 and len(svc["deployments"]) == 1
    assert s.split(30)["blue"] == 1.0


def test_the_aws_cli_reads_the_weights_during_a_shift(server: LiveServer, tmp_path: Path) -> None:
    s = Setup(server)
    s.switch(
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 1,
            "canaryConfiguration": {"canaryPercent": 25.0, "canaryBakeTimeInMinutes": 10},
        }
    )
    s.deploy()
    s.until(lambda: s.weights(s.prod)["green"] == 25, 600)
    out = aws_cli(server, tmp_path, "elbv2", "describe-rules", "--rule-arns", s.prod)
    assert out.returncode == 0, out.stderr
    assert '"Weight": 75' in out.stdout and '"Weight": 25' in out.stdout


# --- refused ----------------------------------------------------------------------------------

BAD_DEPLOYMENTS: list[tuple[dict[str, Any], str]] = [
    ({"strategy": "PURPLE"}, "strategy"),
    ({"strategy": "BLUE_GREEN"}, "bakeTimeInMinutes"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}, "bakeTimeInMinutes"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": -1}, "bakeTimeInMinutes"),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.9}}, "stepPercent"),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.05}}, "stepPercent"),
    (
        {"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 99999}},
        "stepBakeTimeInMinutes",
    ),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}}, "canaryPercent"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 100.1}}, "canaryPercent"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "linearConfiguration": {}}, "LINEAR"),
    ({"strategy": "LINEAR", "canaryConfiguration": {"canaryPercent": 5.0}}, "CANARY"),
    ({"bakeTimeInMinutes": 5}, "bakeTimeInMinutes"),
    (
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": [_hook("BAKE_TIME")]},
        "lifecycleStages",
    ),
    (
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 1,
            "lifecycleHooks": [{**_hook("PRE_SCALE_UP"), "hookTargetArn": "not-a-lambda"}],
        },
        "hookTargetArn",
    ),
    (
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 1,
            "lifecycleHooks": [_hook("PRE_SCALE_UP")] * 11,
        },
        "at most 10",
    ),
    (
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 1,
            "lifecycleHooks": [
                _hook("PRE_SCALE_UP", timeoutConfiguration={"timeoutInMinutes": 20161})
            ],
        },
        "timeoutInMinutes",
    ),
]


@pytest.mark.server(world="demo", rate=0, paused=True)
@pytest.mark.parametrize(("deployment", "named"), BAD_DEPLOYMENTS)
def test_a_bad_deployment_configuration_is_refused_and_changes_nothing(
    server: LiveServer, deployment: dict[str, Any], named: str
) -> None:
    ecs = server.client("ecs")
    before = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    with pytest.raises(ClientError) as e:
        ecs.update_service(cluster=CLUSTER, service=SERVICE, deploymentConfiguration=deployment)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert named in e.value.response["Error"]["Message"]
    after = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert after["deploymentConfiguration"] == before["deploymentConfiguration"]
    assert after["deployments"] == before["deployments"]


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), True, "10", 1e308, [10.0], {"a": 1}], ids=repr
)
def test_hostile_values_through_the_python_api_are_refused(value: Any) -> None:
    w = World.demo(seed=0, rate=0)
    for deployment in (
        {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": value}},
        {"strategy": "CANARY", "canaryConfiguration": {"canaryBakeTimeInMinutes": value}},
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": value},
        {"strategy": value},
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": value},
    ):
        with pytest.raises(InvalidParameterException):
            w.ecs.update_service(
                cluster=CLUSTER, service=SERVICE, deploymentConfiguration=deployment
            )
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["deploymentConfiguration"]["strategy"] == "ROLLING"


def test_bad_advanced_configurations_are_refused(server: LiveServer) -> None:
    s = Setup(server)
    other_rule = s.elb.describe_rules(RuleArns=[s.test])["Rules"][0]
    single = s.elb.create_rule(
        ListenerArn=other_rule["RuleArn"]
        .replace(":listener-rule/", ":listener/")
        .rsplit("/", 1)[0],
        Priority=20,
        Conditions=[{"Field": "path-pattern", "Values": ["/only-blue"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": s.blue}],
    )["Rules"][0]["RuleArn"]
    bad = [
        ({"alternateTargetGroupArn": s.blue}, "must differ"),
        ({"alternateTargetGroupArn": s.blue.replace("home-tg", "nope-tg")}, "not found"),
        ({"productionListenerRule": single}, "both"),
        ({"productionListenerRule": s.prod + "0"}, "not found"),
        ({"testListenerRule": s.prod}, "differ"),
        ({"roleArn": "admin"}, "roleArn"),
    ]
    for advanced, named in bad:
        with pytest.raises(ClientError) as e:
            s.ecs.update_service(
                cluster=CLUSTER, service=SERVICE, loadBalancers=s.load_balancers(**advanced)
            )
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", advanced
        assert named in e.value.response["Error"]["Message"], (advanced, e.value.response)
    with pytest.raises(ClientError) as e:  # a traffic-shifting strategy needs the alternate
        s.ecs.update_service(
            cluster=CLUSTER,
            service=SERVICE,
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1},
        )
    assert "advancedConfiguration" in e.value.response["Error"]["Message"]
    svc = s.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert len(svc["deployments"]) == 1
    assert "advancedConfiguration" not in svc["loadBalancers"][0]
