"""Scenario files with blue/green, linear and canary deployments: named listener rules, a
service's `deployment` block (CreateService's deploymentConfiguration and advancedConfiguration),
its located errors, and the metrics that read a shift (production_weight, test_weight,
lifecycle_stage) (docs/scenarios.md, "Blue/green, linear and canary deployments")."""

from __future__ import annotations

import pytest

from ecsim.model.events import ForwardWeightsChanged, ServiceEvent
from ecsim.model.world import World
from ecsim.scenario import ScenarioError, load, load_text, run
from ecsim.scenario.build import build
from ecsim.scenario.conditions import NO_STAGE, ConditionError, parse_condition
from ecsim.scenario.series import Fold

BASE = """name: shift
duration: 2m
world:
  clusters: [home]
  task_definitions:
    - family: home-app
  target_groups:
    - name: home-blue
    - name: home-green
  load_balancers:
    - name: home-alb
      listeners:
        - port: 80
          default_action: {fixed_response: {status: 404}}
          rules:
            - name: test
              priority: 5
              host: [test.example.com]
              action: {forward: [{target_group: home-blue, weight: 100}, {target_group: home-green, weight: 0}]}
            - name: prod
              priority: 10
              path: ["/*"]
              action: {forward: [{target_group: home-blue, weight: 100}, {target_group: home-green, weight: 0}]}
  services:
    - name: home-service
      cluster: home
      task_definition: home-app
      desired_count: 3
      target_groups: [home-blue]
      deployment:
        strategy: CANARY
        canary: {percent: 10, bake: 5m}
        bake: 3m
        alternate_target_group: home-green
        production_rule: prod
        test_rule: test
        hooks: [{stages: [POST_TEST_TRAFFIC_SHIFT], function: smoke, timeout: 30m, on_timeout: CONTINUE}]
"""


def test_the_deployment_block_is_create_services_configuration() -> None:
    s = load_text(BASE, "shift.yaml")
    w = World(0)
    build(w, s)
    (svc,) = w.ecs.describe_services(cluster="home", services=["home-service"])["services"]
    config = svc["deploymentConfiguration"]
    assert config["strategy"] == "CANARY" and config["bakeTimeInMinutes"] == 3
    assert config["canaryConfiguration"] == {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}
    (hook,) = config["lifecycleHooks"]
    assert hook["hookTargetArn"] == "arn:aws:lambda:us-east-1:123456789012:function:smoke"
    assert hook["lifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    assert hook["timeoutConfiguration"] == {"timeoutInMinutes": 30, "action": "CONTINUE"}
    advanced = svc["loadBalancers"][0]["advancedConfiguration"]
    rules = {
        r["Priority"]: r["RuleArn"]
        for lb in w.elbv2.describe_load_balancers()["LoadBalancers"]
        for li in w.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        for r in w.elbv2.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
    }
    assert advanced["productionListenerRule"] == rules["10"]
    assert advanced["testListenerRule"] == rules["5"]
    assert "targetgroup/home-green/" in advanced["alternateTargetGroupArn"]


def _swap(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            _swap("bake: 3m", "bake: 90s"),
            "shift.yaml:33: world.services[0].deployment.bake: expected whole minutes, as AWS takes them (5m, 1h); got '90s'",
            id="bake-minutes",
        ),
        pytest.param(
            _swap("percent: 10,", "percent: 10.05,"),
            "shift.yaml:32: world.services[0].deployment.canary.percent: expected a multiple of 0.1, as AWS takes it; got 10.05",
            id="tenths",
        ),
        pytest.param(
            _swap("percent: 10,", "percent: 0,"),
            "shift.yaml:32: world.services[0].deployment.canary.percent: expected a number >= 0.1; got 0",
            id="percent-range",
        ),
        pytest.param(
            _swap("strategy: CANARY", "strategy: LINEAR"),
            "shift.yaml:32: world.services[0].deployment.canary: `canary` goes with strategy CANARY; got LINEAR",
            id="block-of-another-strategy",
        ),
        pytest.param(
            _swap("strategy: CANARY", "strategy: PURPLE"),
            "shift.yaml:31: world.services[0].deployment.strategy: expected one of ROLLING, BLUE_GREEN, LINEAR, CANARY; got 'PURPLE'",
            id="strategy",
        ),
        pytest.param(
            _swap("alternate_target_group: home-green", "alternate_target_group: home-gren"),
            "shift.yaml:34: world.services[0].deployment.alternate_target_group: unknown target group 'home-gren' (did you mean 'home-green'?); expected one of: home-blue, home-green",
            id="alternate-unknown",
        ),
        pytest.param(
            _swap("alternate_target_group: home-green", "alternate_target_group: home-blue"),
            "shift.yaml:34: world.services[0].deployment.alternate_target_group: expected a target group other than the service's own 'home-blue' (the group green registers in)",
            id="alternate-own",
        ),
        pytest.param(
            _swap("production_rule: prod", "production_rule: prd"),
            "shift.yaml:35: world.services[0].deployment.production_rule: unknown rule name 'prd' (did you mean 'prod'?); expected one of: test, prod",
            id="rule-unknown",
        ),
        pytest.param(
            _swap("        production_rule: prod\n", ""),
            "shift.yaml:31: world.services[0].deployment: alternate_target_group and production_rule go together (advancedConfiguration), and test_rule with them",
            id="half-advanced",
        ),
        pytest.param(
            _swap("            - name: prod\n", "            - name: test\n"),
            "shift.yaml:20: world.load_balancers[0].listeners[0].rules[1].name: 'test' is already the name of world.load_balancers[0].listeners[0].rules[0]; expected a name used once",
            id="rule-twice",
        ),
        pytest.param(
            _swap("stages: [POST_TEST_TRAFFIC_SHIFT]", "stages: [BAKE_TIME]"),
            "shift.yaml:37: world.services[0].deployment.hooks[0].stages[0]: expected one of RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT; got 'BAKE_TIME'",
            id="hook-stage",
        ),
        pytest.param(
            _swap("strategy: CANARY", "strategy: ROLLING").replace(
                "        canary: {percent: 10, bake: 5m}\n", ""
            ),
            "shift.yaml:36: world.services[0].deployment.hooks: lifecycle hooks need strategy BLUE_GREEN, LINEAR or CANARY",
            id="hooks-rolling",
        ),
        pytest.param(
            _swap("        bake: 3m\n", "")
            .replace("strategy: CANARY", "strategy: BLUE_GREEN")
            .replace("        canary: {percent: 10, bake: 5m}\n", ""),
            "shift.yaml:31: world.services[0].deployment: strategy BLUE_GREEN needs a bake time (bakeTimeInMinutes)",
            id="blue-green-bake",
        ),
        pytest.param(
            _swap(
                "action: {forward: [{target_group: home-blue, weight: 100}, {target_group: home-green, weight: 0}]}\n  services",
                "action: {forward: home-blue}\n  services",
            ),
            "shift.yaml:31: world.services[0].deployment: AWS refused create_service: InvalidParameterException:",
            id="aws-refuses-a-single-forward",
        ),
    ],
)
def test_a_bad_deployment_block_names_its_line(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_text(text, "shift.yaml")
    assert str(e.value).startswith(message), str(e.value)


# --- the metrics --------------------------------------------------------------------------


def test_conditions_on_stages_and_weights() -> None:
    c = parse_condition("lifecycle_stage(home-service) == BAKE_TIME")
    assert c.kind == "service" and c.holds(8.0) and not c.holds(7.0)
    assert not c.holds(NO_STAGE) and parse_condition("lifecycle_stage != CLEAN_UP").holds(NO_STAGE)
    assert parse_condition("lifecycle_stage >= PRODUCTION_TRAFFIC_SHIFT").holds(9.0)
    assert c.show(8.0) == "BAKE_TIME" and c.show(NO_STAGE) == "no stage"
    w = parse_condition("production_weight(home-green) == 10%")
    assert w.kind == "target_group" and w.value == 10 and w.show(10.0) == "10 %"
    assert parse_condition("test_weight(home-green) == 100").kind == "target_group"
    for bad, said in (
        ("lifecycle_stage == BAKING", "lifecycle_stage takes a stage's name"),
        ("running_count == BAKE_TIME", "only lifecycle_stage takes a name"),
        ("running_count == 3%", "'%' only goes with availability, production_weight"),
    ):
        with pytest.raises(ConditionError, match=said):
            parse_condition(bad)


BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/home-blue/1"
GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/home-green/2"


def test_the_fold_reads_the_weights_of_watched_rules_and_the_stages() -> None:
    fold = Fold(t0=100.0)
    fold.watch_rule("prod", "production", [(BLUE, 100), (GREEN, 0)])
    stage = "(service s) (deployment ecs-svc/1) entered lifecycle stage {}."
    fold.fold(
        [
            ForwardWeightsChanged(90.0, "prod", ((BLUE, 100), (GREEN, 0))),  # before t0
            ServiceEvent(110.0, "home", "s", "1", stage.format("SCALE_UP")),
            ForwardWeightsChanged(120.0, "prod", ((BLUE, 999), (GREEN, 1))),
            ForwardWeightsChanged(120.0, "other", ((BLUE, 0), (GREEN, 100))),  # not watched
            ServiceEvent(130.0, "home", "s", "2", stage.format("BAKE_TIME")),
            ServiceEvent(131.0, "home", "s", "3", "(service s) has reached a steady state."),
            ForwardWeightsChanged(140.0, "prod", ((GREEN, 100), (BLUE, 0))),
        ]
    )
    green = fold.metric("production_weight", "home-green")
    assert [green.value_at(t) for t in (0, 19, 20, 40)] == [0, 0, 0.1, 100]
    assert fold.metric("production_weight", "home-blue").value_at(25) == 99.9
    assert fold.metric("test_weight", "home-green").value_at(40) == 0  # never watched
    stages = fold.metric("lifecycle_stage", "s")
    assert [stages.value_at(t) for t in (0, 10, 35)] == [NO_STAGE, 2, 8]
    assert fold.metric("lifecycle_stage", "other").value_at(5) == NO_STAGE


def test_the_bake_rollback_record_ends_rollback_successful() -> None:
    """What the built-in's explanation says DescribeServiceDeployments shows."""
    result = run(load("blue-green-bake-rollback"), seed=4)
    w = result.world
    found = w.ecs.list_service_deployments(cluster="home", service="home-service")
    newest = found["serviceDeployments"][0]["serviceDeploymentArn"]
    (record,) = w.ecs.describe_service_deployments(serviceDeploymentArns=[newest])[
        "serviceDeployments"
    ]
    assert record["status"] == "ROLLBACK_SUCCESSFUL"
    assert record["lifecycleStage"] == "BAKE_TIME"
