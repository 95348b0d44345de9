"""One line of text per key event: the CLI's timeline."""

from __future__ import annotations

from ecsim.model.events import (
    AlarmStateChanged,
    ControllerStatusChanged,
    DeploymentChanged,
    Event,
    ForwardWeightsChanged,
    InfrastructureChanged,
    ScalingActivity,
    ServiceEvent,
    TargetHealthChanged,
    TaskFaultChanged,
    TaskStateChanged,
    TrafficChanged,
)
from ecsim.scenario.wording import fault_text, scaling_text


def clock(t: float) -> str:
    minutes, seconds = divmod(t, 60)
    return f"{int(minutes):3d}:{seconds:05.2f}"


def describe(e: Event) -> str | None:
    """The event in a sentence, or None for events a timeline leaves out."""
    if isinstance(e, ServiceEvent):
        return f"service event  {e.message}"
    if isinstance(e, TaskStateChanged):
        where = f" {e.ip} ({e.availability_zone})" if e.ip else f" ({e.availability_zone})"
        why = f"  [{e.stop_code}: {e.stopped_reason}]" if e.last_status == "STOPPED" else ""
        return f"task {e.task_id[:8]}{where} -> {e.last_status}{why}"
    if isinstance(e, TargetHealthChanged):
        why = f" ({e.reason})" if e.reason else ""
        return f"target {e.target_id}:{e.port} -> {e.state}{why}"
    if isinstance(e, DeploymentChanged):
        return f"deployment {e.deployment_id} {e.status} {e.rollout_state}"
    if isinstance(e, ForwardWeightsChanged):  # ECS shifting traffic (blue/green, canary, ...)
        weights = ", ".join(f"{arn.rsplit('/', 2)[-2]} {w}" for arn, w in e.weights)
        return f"listener rule {e.rule.rsplit('/', 1)[-1][:8]} forwards by weight: {weights}"
    if isinstance(e, ScalingActivity):
        return scaling_text(e)
    if isinstance(e, TaskFaultChanged):
        return fault_text(e)  # (a run's timeline adds how long it lasted and the task's IP)
    if isinstance(e, ControllerStatusChanged):
        return f"scheduler of {e.service} -> {e.status}"
    if isinstance(e, InfrastructureChanged):
        return f"{e.resource} -> {e.state}"
    if isinstance(e, TrafficChanged):
        return f"client load -> {e.rate:g} requests/s"
    if isinstance(e, AlarmStateChanged) and e.old_state != e.new_state:
        return f"alarm {e.alarm} {e.old_state} -> {e.new_state}"
    return None


def line(e: Event) -> str | None:
    text = describe(e)
    return None if text is None else f"{clock(e.time)}  {text}"
