"""`ecsim scenarios`, `ecsim run` (exit codes 0/1/2, --json, --until, --seed, --report) through
click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ecsim.cli.main import main
from ecsim.scenario import builtin_names
from ecsim.scenario.catalog import builtin_text


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_scenarios_lists_every_builtin_on_one_line() -> None:
    code, out, _ = invoke("scenarios")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == builtin_names()
    assert all(len(line.split()) > 3 for line in lines)


def test_run_a_passing_builtin_exits_0_with_timeline_summary_and_expectations() -> None:
    code, out, _ = invoke("run", "auto-healing")
    assert code == 0
    assert "Timeline" in out and "Summary" in out and "Expectations" in out
    assert "> chaos.kill_task" in out and "[the kill]" in out
    assert "has started 1 tasks" in out
    assert "-> STOPPED  [EssentialContainerExited" in out
    assert "availability   99.7581 %" in out
    assert "fault the kill at 1:00.00: whole again after" in out
    assert "All 6 expectations hold." in out


def test_run_json_is_one_valid_document() -> None:
    code, out, _ = invoke("run", "traffic-flow", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["passed"] is True and doc["scenario"] == "traffic-flow"
    assert doc["summary"]["requests"]["by_status"].keys() == {"200"}
    assert all({"t", "kind", "text"} <= item.keys() for item in doc["timeline"])
    assert doc["report"] is None


def failing_file(tmp_path: Path) -> Path:
    text = builtin_text("auto-healing").replace(
        "  - that: healthy_targets(home-tg) >= 2\n", "  - that: healthy_targets(home-tg) >= 3\n"
    )
    path = tmp_path / "strict.yaml"
    path.write_text(text)
    return path


def test_a_failed_expectation_exits_1_and_says_which(tmp_path: Path) -> None:
    code, out, _ = invoke("run", str(failing_file(tmp_path)))
    assert code == 1
    assert "FAIL  healthy_targets(home-tg) >= 3 over the whole run" in out
    assert "1 of 6 expectations failed" in out
    code, out, _ = invoke("run", str(failing_file(tmp_path)), "--json")
    assert code == 1 and json.loads(out)["passed"] is False


def test_a_broken_file_exits_2_with_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(builtin_text("auto-healing").replace("desired_count: 3", "desired_count: -1"))
    code, out, err = invoke("run", str(path))
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: {path}:34: world.services[0].desired_count: expected a number >= 0; got -1"
    )


def test_an_unknown_name_exits_2() -> None:
    code, _, err = invoke("run", "no-such-scenario")
    assert code == 2 and "no-such-scenario: no such file" in err


def test_until_and_seed() -> None:
    code, out, _ = invoke(
        "run", "service-crash-task-dies", "--until", "4m", "--json", "--seed", "3"
    )
    doc = json.loads(out)
    assert doc["summary"]["duration_s"] == 240 and doc["summary"]["seed"] == 3
    assert [s["do"] for s in doc["summary"]["steps"]] == [
        "traffic.set_rate",
        "chaos.crash_controller",
        "chaos.kill_task",
    ]
    # the restore never ran, so "within 2m of the restore" cannot hold
    assert code == 1
    code, _, err = invoke("run", "auto-healing", "--until", "soon")
    assert code == 2 and "--until" in err


def test_report_writes_one_self_contained_page(tmp_path: Path) -> None:
    code, out, _ = invoke("run", "auto-healing", "--report", str(tmp_path / "r"))
    assert code == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4
    assert "has started 1 tasks" in page and "Expectations" in page
    assert 'src="http' not in page and "<script" not in page
    assert f"Report: {tmp_path / 'r' / 'report.html'}" in out


def test_auto_scaling_shows_in_the_timeline_summary_and_report(tmp_path: Path) -> None:
    code, out, _ = invoke("run", "target-tracking-autoscaling", "--report", str(tmp_path / "r"))
    assert code == 0
    assert "> application_autoscaling.put_scaling_policy PolicyName=cpu50" in out
    said = [
        line[line.index("auto scaling:") :] for line in out.splitlines() if "auto scaling:" in line
    ]
    counts = [s.split("desired count ")[1].split(" (")[0] for s in said]
    assert counts == ["3 -> 4", "4 -> 5", "5 -> 8", "8 -> 9", "9 -> 5", "5 -> 2"]  # seed 0
    assert said[0].startswith("auto scaling: home-service desired count 3 -> 4 (policy cpu50, ")
    assert "alarm TargetTracking-...-AlarmHigh-" in said[0]
    assert "alarm TargetTracking-...-AlarmLow-" in said[-1]
    assert "service home-service: min running 2, max running 9, at the end 2/2" in out
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Auto scaling activities" in page and "in state ALARM triggered policy cpu50" in page
    code, out, _ = invoke("run", "target-tracking-autoscaling", "--json", "--until", "6m")
    kinds = [item["kind"] for item in json.loads(out)["timeline"]]
    assert kinds.count("ScalingActivity") == 1


def test_an_auto_scaling_call_aws_refuses_fails_the_run_unless_expected(tmp_path: Path) -> None:
    step = (
        "  - at: 30s\n"
        "    do: application_autoscaling.put_scaling_policy\n"
        "    with: {PolicyName: cpu50, ServiceNamespace: ecs, ResourceId: service/home/home-service,\n"
        "           ScalableDimension: 'ecs:service:DesiredCount', PolicyType: TargetTrackingScaling,\n"
        "           TargetTrackingScalingPolicyConfiguration: {TargetValue: 50}}\n"
    )
    text = builtin_text("auto-healing").replace("timeline:\n", "timeline:\n" + step)
    path = tmp_path / "unregistered.yaml"
    path.write_text(text)
    code, out, _ = invoke("run", str(path))
    assert code == 1
    assert "-> ObjectNotFoundException: No scalable target registered" in out
    path.write_text(
        text.replace(
            "TargetValue: 50}}\n", "TargetValue: 50}}\n    expect_error: ObjectNotFoundException\n"
        )
    )
    code, out, _ = invoke("run", str(path))
    assert code == 0 and "(expected)" in out


def test_fis_task_faults_read_as_lines_with_their_duration(tmp_path: Path) -> None:
    code, out, _ = invoke("run", "fis-task-faults", "--report", str(tmp_path / "r"))
    assert code == 0
    said = [line.split("  ", 2)[-1].strip() for line in out.splitlines() if " FIS aws:ecs:" in line]
    assert said == [
        "FIS aws:ecs:task-cpu-stress on task 4c797ba7 (10.0.3.5): 100 % CPU for 2m",
        "FIS aws:ecs:task-cpu-stress on task 4c797ba7 (10.0.3.5) ended",
        "FIS aws:ecs:task-network-latency on task f8458710 (10.0.2.5): +200 ms for 2m",
        "FIS aws:ecs:task-network-latency on task f8458710 (10.0.2.5) ended",
        "FIS aws:ecs:task-network-blackhole-port on task 2bf4e11b (10.0.1.5): port 80/tcp ingress for 3m",
        "FIS aws:ecs:task-network-blackhole-port on task 2bf4e11b (10.0.1.5) ended",
    ]
    assert (
        "> chaos.delay_network task=f8458710fdbbaea73a65130809cda719 delay=0.2 duration=120" in out
    )
    assert "fault the cpu stress at 1:00.00: no disruption" in out
    assert "fault the blackhole at 7:00.00: whole again after 58.042 s" in out
    page = (tmp_path / "r" / "report.html").read_text()
    assert "100 % CPU for 2m" in page
    # a fault still on when the run ends says how long it was planned to last
    code, out, _ = invoke("run", "fis-task-faults", "--json", "--until", "8m")
    faults = [i for i in json.loads(out)["timeline"] if i["kind"] == "TaskFaultChanged"]
    assert faults[-1]["text"] == (
        "FIS aws:ecs:task-network-blackhole-port on task 2bf4e11b (10.0.1.5): "
        "port 80/tcp ingress for 3m"
    )
    assert len(faults) == 5
