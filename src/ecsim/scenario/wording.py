"""Events in words where the CLI timeline, the report and the page must say the same thing."""

from __future__ import annotations

from collections.abc import Iterable

from ecsim.model.events import Event, ScalingActivity, TaskFaultChanged


def short_alarm(alarm: str, resource_id: str) -> str:
    """`TargetTracking-service/home/web-AlarmHigh-<uuid>` as `TargetTracking-...-AlarmHigh-1a2b3c4d`:
    the service is named anyway, and 8 hex digits tell two alarms apart."""
    prefix = f"TargetTracking-{resource_id}-"
    if not alarm.startswith(prefix):
        return alarm
    kind, _, uid = alarm[len(prefix) :].partition("-")
    return f"TargetTracking-...-{kind}-{uid[:8]}" if uid else f"TargetTracking-...-{kind}"


def scaling_text(e: ScalingActivity) -> str:
    """`auto scaling: home-service desired count 3 -> 6 (policy cpu50, alarm ...AlarmHigh...)`."""
    service = e.resource_id.rsplit("/", 1)[-1]
    return (
        f"auto scaling: {service} desired count {e.from_count} -> {e.to_count} "
        f"(policy {e.policy}, alarm {short_alarm(e.alarm, e.resource_id)})"
    )


def span(seconds: float) -> str:
    """A duration as people write it: `45s`, `2m`, `1m30s`, `1h5m`, `0.5s`."""
    if seconds < 60:
        return f"{seconds:.3g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


def fault_text(e: TaskFaultChanged, lasted: float | None = None, ip: str | None = None) -> str:
    """`FIS aws:ecs:task-cpu-stress on task 1a2b3c4d (10.0.1.5): 100 % CPU for 2m` when a fault
    starts (`for ...` once its end is known), `FIS ... on task 1a2b3c4d (10.0.1.5) ended`."""
    who = f"FIS {e.action} on task {e.task_id[:8]}" + (f" ({ip})" if ip else "")
    if not e.active:
        return f"{who} ended"
    text = f"{who}: {e.detail}" if e.detail else who
    if lasted is None and e.duration > 0:
        lasted = e.duration  # planned
    return text if lasted is None else f"{text} for {span(lasted)}"


def fault_durations(events: Iterable[Event]) -> dict[TaskFaultChanged, float]:
    """How long each fault lasted: its start record -> seconds until its end record (the same
    task and FIS action, and for a blackholed port the same port), for the faults that ended."""
    started: dict[tuple[str, str], list[TaskFaultChanged]] = {}
    out: dict[TaskFaultChanged, float] = {}
    for e in events:
        if not isinstance(e, TaskFaultChanged):
            continue
        key = (e.task_arn, e.action)
        if e.active:
            started.setdefault(key, []).append(e)
            continue
        opened = started.get(key, [])
        # an end names the same detail as its start (a blackholed port: the port)
        match = next((s for s in opened if s.detail == e.detail), opened[0] if opened else None)
        if match is not None:
            opened.remove(match)
            out[match] = e.time - match.time
    return out
