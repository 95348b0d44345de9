"""The runner: repeated steps, references, expected and unexpected AWS errors, the clock's
start, and how expectations read the folded event stream."""

from __future__ import annotations

from ecsim.scenario import load_text, run, summarize
from ecsim.scenario.series import Series

WORLD = """name: t
duration: {duration}
{extra}
world:
  clusters: [home]
  task_definitions:
    - family: home-app
      app: {{startup: 3s}}
  target_groups:
    - name: home-tg
      health_check: {{interval: 10s}}
      deregistration_delay: 5s
  load_balancers:
    - name: home-alb
      listeners:
        - port: 80
          default_action: {{forward: home-tg}}
  services:
    - name: home-service
      cluster: home
      task_definition: home-app
      desired_count: 2
      target_groups: [home-tg]
traffic:
  - rate: 10
"""


def scenario(body: str, duration: str = "10m", extra: str = "") -> str:
    return WORLD.format(duration=duration, extra=extra) + body


def test_every_repeats_from_until_times_and_within_checks_each_run() -> None:
    s = load_text(
        scenario(
            """timeline:
  - every: 3m
    from: 1m
    until: 8m
    name: kill
    do: chaos.kill_task
    with: {task: "${task:home-service}"}
expect:
  - that: running_count == 2
    within: 90s
    of: kill
"""
        )
    )
    assert s.steps[1].occurrences(600) == [60, 240, 420]
    result = run(s)
    kills = [r.time for r in result.steps if r.step.do == "chaos.kill_task"]
    assert kills == [60, 240, 420]
    (outcome,) = result.outcomes
    assert outcome.passed and outcome.detail.count("after kill at") == 3
    assert [f["at_s"] for f in summarize(result)["faults"]] == [60, 240, 420]
    assert all(f["disrupted"] and f["recovered_after_s"] > 0 for f in summarize(result)["faults"])


def test_times_limits_a_repeat() -> None:
    s = load_text(
        scenario(
            """timeline:
  - {every: 1m, times: 2, do: traffic.set_rate, with: {rps: 5}}
"""
        )
    )
    assert s.steps[1].occurrences(600) == [0, 60]


def test_expected_error_passes_unexpected_error_fails() -> None:
    body = """timeline:
  - at: 1m
    do: ecs.delete_service
    with: {cluster: home, service: home-service}
    expect_error: InvalidParameterException
  - at: 2m
    do: ecs.update_service
    with: {cluster: home, service: nope, desiredCount: 1}
"""
    result = run(load_text(scenario(body, "3m")))
    first, second = result.steps[1:]
    assert first.error is not None and not first.unexpected
    assert second.unexpected and second.error == "ServiceNotFoundException: Service not found."
    assert not result.passed
    steps = summarize(result)["steps"]
    assert [s["ok"] for s in steps] == [True, True, False]


def test_an_expected_error_that_does_not_happen_fails() -> None:
    body = """timeline:
  - at: 1m
    do: ecs.update_service
    with: {cluster: home, service: home-service, desiredCount: 3}
    expect_error: InvalidParameterException
"""
    result = run(load_text(scenario(body, "2m")))
    assert result.steps[1].unexpected
    assert result.steps[1].error == "expected InvalidParameterException, but the call succeeded"


def test_references_resolve_when_the_step_runs() -> None:
    body = """timeline:
  - at: 1m
    do: elbv2.deregister_targets
    with:
      TargetGroupArn: "${target-group:home-tg}"
      Targets: [{Id: "${task-ip:home-service:1}", Port: 80}]
expect:
  - that: registered_targets(home-tg) == 1
    at: 1m30s
"""
    result = run(load_text(scenario(body, "2m")))
    assert result.steps[1].args["TargetGroupArn"].startswith("arn:aws:elasticloadbalancing:")
    assert result.steps[1].args["Targets"][0]["Id"].startswith("10.0.")
    assert result.passed, [o.detail for o in result.outcomes]


def test_start_immediately_counts_the_build() -> None:
    body = """expect:
  - that: running_count == 0
    at: 0s
  - that: running_count == 2
    at: 3m
  - that: desired_count == 2
    at: 0s
"""
    result = run(load_text(scenario(body, "3m", "start: immediately")))
    assert result.t0 == 0
    assert result.passed, [o.detail for o in result.outcomes]


def test_traffic_expectations_by_load_balancer_and_desired_count_changes() -> None:
    body = """timeline:
  - {at: 1m, name: scale, do: ecs.update_service, with: {cluster: home, service: home-service, desiredCount: 4}}
expect:
  - that: requests(home-alb) >= 500
  - that: rps(home-alb) > 8
    between: [0s, 1m]
  - that: desired_count == 4
    at: 1m
  - that: running_count >= 4
    within: 1m
    of: scale
  - that: latency_p99 < 1s
"""
    result = run(load_text(scenario(body, "3m")))
    assert result.passed, [o.detail for o in result.outcomes]


def test_a_failing_expectation_says_when_and_what() -> None:
    body = """timeline:
  - {at: 1m, name: kill, do: chaos.kill_task, with: {task: "${task:home-service}"}}
expect:
  - that: running_count == 2
"""
    result = run(load_text(scenario(body, "3m")))
    (o,) = result.outcomes
    assert not o.passed
    assert o.detail == "running_count(home-service) was 1 at 1m00.0s"


def test_series_collapse_changes_at_one_instant() -> None:
    s = Series()
    s.set(1.0, 3)
    s.set(2.0, 2)
    s.set(2.0, 3)
    assert s.times == [1.0] and s.values == [3]
    assert s.value_at(0.5) == 0 and s.value_at(5) == 3
    s.set(4.0, 1)
    s.set(6.0, 3)
    assert s.lowest(0, 10) == 0 and s.lowest(1, 10) == 1
    assert s.last_became(1, 10, lambda v: v == 3) == 6.0
    assert s.first_where(1, 10, lambda v: v < 3) == (4.0, 1)
