"""Broken scenario files: each gets one message naming the file, the line and the field, and
saying what was expected; nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsim.scenario import ScenarioError, load_file, load_text
from tests.support.scenarios import demo_scenario

BASE = demo_scenario(
    "broken",
    """timeline:
  - at: 1m
    name: the kill
    do: chaos.kill_task
    with: {task: "${task:home-service}"}
expect:
  - that: running_count(home-service) == 3
    within: 2m
    of: the kill
""",
)


AUTO = """      auto_scaling:
        min: {lo}
        max: {hi}
        target_tracking:
          - {policy}
"""


def test_the_base_file_is_good() -> None:
    s = load_text(BASE, "broken.yaml")
    assert s.name == "broken" and s.duration == 120 and len(s.steps) == 1


def test_fault_durations_are_written_as_durations_and_run_in_seconds() -> None:
    text = BASE.replace("do: chaos.kill_task", "do: chaos.delay_network").replace(
        'with: {task: "${task:home-service}"}',
        'with: {task: "${task:home-service}", delay: 200ms, duration: 1.5m}',
    )
    (step,) = load_text(text, "faults.yaml").steps
    assert step.args == {"task": "${task:home-service}", "delay": 0.2, "duration": 90}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            BASE.replace("clusters: [home]", "clusters: [home"),
            "broken.yaml:5: not valid YAML: expected ',' or ']', but got ':' while parsing a flow sequence",
            id="yaml",
        ),
        pytest.param(
            BASE.replace("duration: 2m\n", "duration: 2m\nduration: 3m\n"),
            "broken.yaml:3: duration: appears twice in the same mapping (first on line 2); expected each field once",
            id="dup",
        ),
        pytest.param(
            BASE.replace("duration: 2m", "duraton: 2m"),
            "broken.yaml:2: duraton: unknown field (did you mean 'duration'?); expected one of: duration, expect, explanation, name, seed, settings, start, summary, timeline, traffic, world",
            id="unknown-top",
        ),
        pytest.param(
            BASE.replace("      task_definition: home-app\n", ""),
            "broken.yaml:15: world.services[0]: missing the required field 'task_definition' (an ECS service (REPLICA) and its deployment settings)",
            id="missing",
        ),
        pytest.param(
            BASE.replace("desired_count: 3", "desired_count: three"),
            "broken.yaml:18: world.services[0].desired_count: expected a whole number; got 'three'",
            id="type",
        ),
        pytest.param(
            BASE.replace("  - at: 1m", "  - at: 1 minute"),
            "broken.yaml:21: timeline[0].at: expected a duration like 90s, 5m, 1h or 250ms (a plain number is seconds); got '1 minute'",
            id="duration",
        ),
        pytest.param(
            BASE.replace(
                "    - family: home-app\n", "    - family: home-app\n      compatibility: FARGAT\n"
            ),
            "broken.yaml:7: world.task_definitions[0].compatibility: expected one of FARGATE, EC2; got 'FARGAT'",
            id="enum",
        ),
        pytest.param(
            BASE.replace(
                "target_groups: [home-tg]",
                "target_groups: [home-tg]\n      placement_strategy: [{type: binpak, field: cpu}]",
            ),
            "broken.yaml:20: world.services[0].placement_strategy[0].type: expected one of random, spread, binpack; got 'binpak'",
            id="placement-enum",
        ),
        pytest.param(
            BASE.replace("target_groups: [home-tg]", "target_groups: [home-tgg]"),
            "broken.yaml:19: world.services[0].target_groups[0]: unknown target group 'home-tgg' (did you mean 'home-tg'?); expected one of: home-tg",
            id="unknown-tg",
        ),
        pytest.param(
            BASE.replace("do: chaos.kill_task", "do: chaos.kill_tsk"),
            "broken.yaml:23: timeline[0].do: chaos has no operation 'kill_tsk' (did you mean chaos.kill_task?)",
            id="unknown-op",
        ),
        pytest.param(
            BASE.replace("do: chaos.kill_task", "do: application_autoscaling.put_scaling_polcy"),
            "broken.yaml:23: timeline[0].do: application_autoscaling has no operation 'put_scaling_polcy' (did you mean application_autoscaling.put_scaling_policy, application_autoscaling.delete_scaling_policy, application_autoscaling.describe_scaling_policies?)",
            id="unknown-autoscaling-op",
        ),
        pytest.param(
            BASE.replace("do: chaos.kill_task", "do: autoscaling.put_scaling_policy"),
            "broken.yaml:23: timeline[0].do: expected an operation of ecs, elbv2, ec2, application_autoscaling, chaos or traffic, like ecs.update_service, application_autoscaling.put_scaling_policy or chaos.kill_task; got 'autoscaling.put_scaling_policy'",
            id="unknown-surface",
        ),
        pytest.param(
            BASE.replace("running_count(home-service) == 3", "running_count(home-service) = 3"),
            "broken.yaml:26: expect[0].that: expected a condition like 'running_count(home-service) == 3' or 'availability >= 99.5%'; got 'running_count(home-service) = 3'",
            id="bad-expr",
        ),
        pytest.param(
            BASE.replace("running_count(home-service)", "runing_count(home-service)"),
            "broken.yaml:26: expect[0].that: unknown metric 'runing_count' (did you mean 'running_count'?); expected one of: desired_count, running_count, pending_count, lifecycle_stage, healthy_targets, unhealthy_targets, initial_targets, draining_targets, registered_targets, production_weight, test_weight, requests, rps, availability, latency_p50, latency_p99, from_elb, from_target, status_<code> (e.g. status_5xx)",
            id="unknown-metric",
        ),
        pytest.param(
            BASE.replace("of: the kill", "of: the kil"),
            "broken.yaml:28: expect[0].of: unknown step name 'the kil' (did you mean 'the kill'?); expected one of: the kill",
            id="unknown-step",
        ),
        pytest.param(
            BASE.replace(
                'with: {task: "${task:home-service}"}',
                'with: {task: "${task:home-service}", reson: oom}',
            ),
            "broken.yaml:24: timeline[0].with.reson: chaos.kill_task has no parameter 'reson' (did you mean 'reason'?); expected: task, reason",
            id="unknown-param",
        ),
        pytest.param(
            BASE.replace("do: chaos.kill_task", "do: chaos.stress_cpu").replace(
                'with: {task: "${task:home-service}"}',
                'with: {task: "${task:home-service}", duration: two minutes}',
            ),
            "broken.yaml:24: timeline[0].with.duration: expected a duration like 90s, 5m or 1h: not a duration: 'two minutes' (write e.g. 90s, 5m, 1h, 250ms)",
            id="fault-duration",
        ),
        pytest.param(
            BASE.replace("do: chaos.kill_task", "do: chaos.delay_network").replace(
                'with: {task: "${task:home-service}"}',
                'with: {task: "${task:home-service}", delay_ms: 200}',
            ),
            "broken.yaml:24: timeline[0].with.delay_ms: chaos.delay_network has no parameter 'delay_ms' (did you mean 'delay'?); expected: task, delay, duration",
            id="fault-param",
        ),
        pytest.param(
            BASE.replace("${task:home-service}", "${tsk:home-service}"),
            "broken.yaml:24: timeline[0].with.task: unknown reference kind 'tsk'; expected one of: task, task-ip, task-instance, spot-task, target-group, load-balancer, listener, task-definition, service-deployment, instance, container-instance, subnet, subnets, vpc, security-group",
            id="bad-ref",
        ),
        pytest.param(
            "- a\n- b\n",
            "broken.yaml:1: (top level): expected a mapping with world, timeline, expect",
            id="toplevel-list",
        ),
        pytest.param(
            "",
            "broken.yaml:1: the file is empty; expected a scenario (a mapping)",
            id="empty",
        ),
        pytest.param(
            BASE.replace(
                "  target_groups:\n    - name: home-tg\n",
                "  target_groups:\n    - name: home-tg\n    - name: home-tg\n",
            ),
            "broken.yaml:9: world.target_groups[1].name: 'home-tg' is already the name of world.target_groups[0]; expected a name used once",
            id="dup-name",
        ),
        pytest.param(
            BASE.replace("  - at: 1m\n", "  - at: 1m\n    every: 5m\n"),
            "broken.yaml:21: timeline[0]: expected exactly one of `at` (once) or `every` (repeated)",
            id="at-and-every",
        ),
        pytest.param(
            BASE.replace("running_count(home-service)", "running_count(web)"),
            "broken.yaml:26: expect[0].that: unknown service 'web'; expected one of: home-service",
            id="unknown-service-subject",
        ),
        pytest.param(
            BASE + "  - that: availability >= 99%\n    at: 1m\n",
            "broken.yaml:30: expect[1].at: availability is counted over a window: use between or within, not at",
            id="traffic-at",
        ),
        pytest.param(
            BASE.replace(
                "    - name: home-tg\n",
                "    - name: home-tg\n      health_check: {interval: 10s, timeout: 20s}\n",
            ),
            "broken.yaml:8: world.target_groups[0]: AWS refused create_target_group: ValidationError: Health check timeout '20' must be smaller than the interval '10'",
            id="aws-refused",
        ),
        pytest.param(
            BASE.replace("task_definition: home-app\n", "task_definition: home-app:2\n"),
            "broken.yaml:17: world.services[0].task_definition: 'home-app' has revisions 1 to 1; got 'home-app:2'",
            id="bad-revision",
        ),
        pytest.param(
            BASE.replace("running_count(home-service) == 3", "running_count(home-service) == 3%"),
            "broken.yaml:26: expect[0].that: '%' only goes with availability, production_weight and test_weight; got 'running_count(home-service) == 3%'",
            id="percent",
        ),
        pytest.param(
            BASE.replace("duration: 2m\n", "duration: 2m\nsettings: {scheduler: {intervall: 5}}\n"),
            "broken.yaml:3: settings: unknown setting scheduler.intervall; expected one of ['circuit_breaker_max_threshold', 'circuit_breaker_min_threshold', 'event_dedup', 'healthy_without_checks_after', 'hook_duration', 'interval', 'reaction', 'start_replacement_first', 'start_throttle_first', 'start_throttle_max']",
            id="settings",
        ),
        pytest.param(
            BASE.replace(
                "      target_groups: [home-tg]\n",
                "      target_groups: [home-tg]\n      azs: [us-east-1d]\n",
            ),
            "broken.yaml:20: world.services[0].azs[0]: unknown Availability Zone 'us-east-1d' (did you mean 'us-east-1c'?); expected one of: us-east-1a, us-east-1b, us-east-1c",
            id="az",
        ),
        pytest.param(
            BASE.replace(
                "      target_groups: [home-tg]\n",
                "      target_groups: [home-tg]\n"
                + AUTO.format(lo=1, hi=4, policy="{metric: cpu_load, target: 50}"),
            ),
            "broken.yaml:24: world.services[0].auto_scaling.target_tracking[0].metric: expected one of cpu, memory, requests_per_target; got 'cpu_load'",
            id="auto-scaling-metric",
        ),
        pytest.param(
            BASE.replace(
                "      target_groups: [home-tg]\n",
                "      target_groups: [home-tg]\n"
                + AUTO.format(lo=5, hi=4, policy="{metric: cpu, target: 50}"),
            ),
            "broken.yaml:21: world.services[0].auto_scaling: AWS refused register_scalable_target: ValidationException: Minimum capacity cannot be greater than maximum capacity (5 > 4).",
            id="auto-scaling-range",
        ),
        pytest.param(
            BASE.replace(
                "      target_groups: [home-tg]\n",
                AUTO.format(lo=1, hi=4, policy="{metric: requests_per_target, target: 500}"),
            ),
            "broken.yaml:23: world.services[0].auto_scaling.target_tracking[0]: requests_per_target needs a target group behind a load balancer (target_group, or the service's first); got None",
            id="auto-scaling-target-group",
        ),
    ],
)
def test_broken_file_message(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_text(text, "broken.yaml")
    assert str(e.value) == message
    assert e.value.file == "broken.yaml" and e.value.line is not None


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        load_file(tmp_path / "nope.yaml")
    assert str(e.value) == f"{tmp_path / 'nope.yaml'}: no such file"
