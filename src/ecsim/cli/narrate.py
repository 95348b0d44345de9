"""A finished run as text: the timeline of key events, the summary, the expectations."""

from __future__ import annotations

from typing import Any

from ecsim.cli.timeline import clock, describe
from ecsim.model.events import Event, TargetHealthChanged, TaskFaultChanged, TaskStateChanged
from ecsim.scenario.runner import Result
from ecsim.scenario.wording import fault_durations, fault_text

KEY_TASK_STATES = ("PROVISIONING", "RUNNING", "DEACTIVATING", "STOPPING", "STOPPED")


def key_event(e: Event) -> bool:
    """Whether a timeline shows `e` (it leaves out the traffic buckets and the in-between
    task states and initial health checks)."""
    if isinstance(e, TaskStateChanged):
        return e.last_status in KEY_TASK_STATES
    if isinstance(e, TargetHealthChanged):
        return e.state != "initial"
    return describe(e) is not None


def short(value: Any) -> str:
    """A parameter value for one line: ARNs by their last part."""
    if isinstance(value, str) and value.startswith("arn:"):
        return value.rsplit("/", 1)[-1] if "/" in value else value.rsplit(":", 1)[-1]
    if isinstance(value, list):
        return "[" + ", ".join(short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {short(v)}" for k, v in value.items()) + "}"
    return str(value)


def timeline(result: Result) -> list[dict[str, Any]]:
    """Steps, key events and expectation results, in scenario time order."""
    items: list[dict[str, Any]] = []
    for i, record in enumerate(result.steps):
        args = " ".join(f"{k}={short(v)}" for k, v in record.args.items())
        label = f"  [{record.step.name}]" if record.step.name else ""
        text = f"> {record.step.do} {args}{label}".rstrip()
        if record.error:
            text += f"  -> {record.error}" + ("" if record.unexpected else " (expected)")
        items.append({"t": record.time, "order": (0, i), "kind": "step", "text": text})
    events = result.events()
    lasted = fault_durations(events)
    ips = {  # (from the world's start: the tasks began before scenario time 0)
        e.task_arn: e.ip
        for e in result.world.events(kind=TaskStateChanged)
        if isinstance(e, TaskStateChanged) and e.ip
    }
    for i, e in enumerate(events):
        if key_event(e):
            said = (
                fault_text(e, lasted.get(e), ips.get(e.task_arn))
                if isinstance(e, TaskFaultChanged)
                else describe(e)
            )
            assert said is not None
            items.append({"t": e.time - result.t0, "order": (1, i), "kind": e.kind, "text": said})
    items.sort(key=lambda x: (x["t"], x["order"]))
    return [{"t": round(x["t"], 3), "kind": x["kind"], "text": x["text"]} for x in items]


def lines(result: Result, summary: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(text, colour) lines of the whole report for a terminal."""
    s = result.scenario
    out: list[tuple[str, str | None]] = []
    settled = "settled (not steady)" if summary.get("not_steady") else "steady"
    setup = f"; {settled} after {result.t0:.0f}s of setup" if s.start == "steady" else ""
    out.append(
        (
            f"{s.name}  (seed {result.world.seed}, {clock(result.end).strip()} of simulated time{setup})",
            "bold",
        )
    )
    if s.summary:
        out.append((f"  {s.summary}", None))
    for why in summary.get("not_steady", []):
        out.append((f"  NOT STEADY  the world cannot hold its tasks: {why}", "red"))
    out.append(("", None))
    out.append(("Timeline (scenario time, m:ss)", "bold"))
    for item in timeline(result):
        colour = "cyan" if item["kind"] == "step" else None
        out.append((f"{clock(item['t'])}  {item['text']}", colour))
    out.append(("", None))
    out.append(("Summary", "bold"))
    out += [(text, None) for text in summary_lines(summary)]
    out.append(("", None))
    out.append(("Expectations", "bold"))
    for o in summary["expectations"]:
        mark, colour = ("PASS", "green") if o["passed"] else ("FAIL", "red")
        out.append((f"  {mark}  {o['expect']}  ({o['detail']})", colour))
    failed = sum(1 for o in summary["expectations"] if not o["passed"])
    errors = [st for st in summary["steps"] if not st["ok"]]
    for st in errors:
        out.append((f"  FAIL  step {st['do']} at {clock(st['t']).strip()}: {st['error']}", "red"))
    total = len(summary["expectations"])
    unsteady = summary.get("not_steady", [])
    for why in unsteady:
        out.append((f"  FAIL  the world did not become steady: {why}", "red"))
    if failed or errors:
        out.append(
            (f"{failed} of {total} expectations failed, {len(errors)} step(s) failed.", "red")
        )
    elif unsteady:
        out.append((f"All {total} expectations hold, but the world did not become steady.", "red"))
    else:
        out.append((f"All {total} expectations hold.", "green"))
    return out


def summary_lines(summary: dict[str, Any]) -> list[str]:
    req = summary["requests"]
    by_status = ", ".join(f"{code} x{n}" for code, n in req["by_status"].items()) or "none"
    by_source = ", ".join(f"{who} {n}" for who, n in req["by_source"].items()) or "nobody"
    avail = summary["availability_percent"]
    lat = summary["latency_ms"]
    out = [
        f"  requests       {req['total']}: {by_status}; answered by {by_source}",
        f"  availability   {'-' if avail is None else f'{avail:g} %'}",
        f"  latency        p50 {lat['p50']} ms, p99 {lat['p99']} ms",
    ]
    for name, svc in summary["services"].items():
        out.append(
            f"  service {name}: min running {svc['min_running']}, max running "
            f"{svc['max_running']}, at the end {svc['running_at_end']}/{svc['desired_at_end']}"
        )
    for name, tg in summary["target_groups"].items():
        out.append(
            f"  target group {name}: min healthy {tg['min_healthy']}, max unhealthy "
            f"{tg['max_unhealthy']}, healthy at the end {tg['healthy_at_end']}"
        )
    for f in summary["faults"]:
        at = clock(f["at_s"]).strip()
        if not f["disrupted"]:
            what = "no disruption"
        elif f["recovered_after_s"] is None:
            what = "not recovered by the end"
        else:
            what = f"whole again after {f['recovered_after_s']:g} s"
        out.append(f"  fault {f['step']} at {at}: {what}")
    return out
