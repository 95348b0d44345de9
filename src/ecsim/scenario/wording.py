"""Events in words where the CLI timeline, the report and the page must say the same thing."""

from __future__ import annotations

from ecsim.model.events import ScalingActivity


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
