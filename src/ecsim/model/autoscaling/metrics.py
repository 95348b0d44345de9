"""The predefined metrics of ECS service auto scaling, one datapoint per period
(docs/behaviour.md, "Service auto scaling").

- `ECSServiceAverageCPUUtilization`: the mean over the service's RUNNING tasks of each task's
  CPU. Choice (AWS runs real code; ecsim has a profile): a task's CPU is
  `cpu_idle_percent` plus the rest in proportion to the requests it answered over what its
  app serves in the period (its capacity per second), at most 100 %; a CPU stressor
  (model/verbs/faults.py) takes its share first.
- `ECSServiceAverageMemoryUtilization`: the mean of the tasks' `ecsim.memory` label.
- `ALBRequestCountPerTarget`: the target group's CloudWatch `RequestCountPerTarget` (its
  requests over its healthy targets, `w.cloudwatch`), from the policy's `ResourceLabel`.

A period without a RUNNING task, or without a healthy target, has no datapoint ("insufficient
data": target tracking does not scale on it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ecsim.model.ecs.enums import TaskStatus

if TYPE_CHECKING:
    from ecsim.model.cloudwatch.api import CloudWatch
    from ecsim.model.dataplane.engine import DataPlane
    from ecsim.model.ecs.service import Service
    from ecsim.model.ecs.task import Task
    from ecsim.model.elbv2.backend import ElbBackend
    from ecsim.model.settings import Settings


@dataclass(frozen=True)
class Sources:
    """Where the metrics come from: the load balancers, the requests, CloudWatch."""

    settings: Settings
    elb: ElbBackend
    dataplane: DataPlane
    cloudwatch: CloudWatch


class PredefinedMetric(StrEnum):
    CPU = "ECSServiceAverageCPUUtilization"
    MEMORY = "ECSServiceAverageMemoryUtilization"
    REQUESTS_PER_TARGET = "ALBRequestCountPerTarget"


# The highest TargetValue of the predefined metrics that are percentages, declared once:
# PutScalingPolicy refuses a target above it, and so every face that sets one (the AWS API,
# the page's auto scaling control, a scenario's `auto_scaling`) follows. AWS's words (the
# Application Auto Scaling API Reference, TargetTrackingScalingPolicyConfiguration,
# TargetValue): "The value must be a valid number based on the choice of metric. For example,
# if the metric is CPU utilization, then the target value is a percent value that represents
# how much of the CPU can be used before scaling out." AWS names no number: a percentage is at
# most 100 (ecsim's choice of the limit).
PERCENT_MAX = 100.0
TARGET_MAX: dict[PredefinedMetric, float] = {
    PredefinedMetric.CPU: PERCENT_MAX,
    PredefinedMetric.MEMORY: PERCENT_MAX,
}


def resource_label_arns(src: Sources, label: str) -> tuple[str, str] | None:
    """(load balancer ARN, target group ARN) of `app/<lb>/<id>/targetgroup/<tg>/<id>`."""
    lb_part, sep, tg_part = label.partition("/targetgroup/")
    if not sep or not lb_part.startswith("app/"):
        return None
    lb = next((a for a in src.elb.load_balancers if a.endswith(f":loadbalancer/{lb_part}")), None)
    tg = next((a for a in src.elb.target_groups if a.endswith(f":targetgroup/{tg_part}")), None)
    return (lb, tg) if lb is not None and tg is not None else None


def datapoint(
    src: Sources, service: Service, metric: PredefinedMetric, label: str | None, t0: float
) -> float | None:
    """The metric over [t0, t0 + period); None without data."""
    t1 = t0 + src.settings.autoscaling.period
    reader = _READERS[metric]
    return reader(src, service, label, t0, t1)


def _running(service: Service) -> list[Task]:
    return [
        t
        for t in service.tasks.values()
        if t.last_status is TaskStatus.RUNNING and t.ip is not None
    ]


def _cpu(src: Sources, service: Service, label: str | None, t0: float, t1: float) -> float | None:
    tasks = _running(service)
    if not tasks:
        return None
    answered = src.dataplane.summary(t0, t1, None)["by_target"]
    idle = src.settings.autoscaling.cpu_idle_percent / 100.0
    total = 0.0
    for t in tasks:
        busy = min(1.0, answered.get(t.ip, 0) / (t.capacity * (t1 - t0)))
        app = idle + (1.0 - idle) * busy
        total += t.cpu_stress + (100.0 - t.cpu_stress) * app
    return total / len(tasks)


def _memory(
    src: Sources, service: Service, label: str | None, t0: float, t1: float
) -> float | None:
    tasks = _running(service)
    return sum(t.profile.memory for t in tasks) / len(tasks) if tasks else None


def _requests(
    src: Sources, service: Service, label: str | None, t0: float, t1: float
) -> float | None:
    arns = resource_label_arns(src, label or "")
    if arns is None:
        return None
    return src.cloudwatch.request_count_per_target(arns[0], arns[1], t0, t1)


_READERS: dict[
    PredefinedMetric, Callable[[Sources, Service, str | None, float, float], float | None]
] = {
    PredefinedMetric.CPU: _cpu,
    PredefinedMetric.MEMORY: _memory,
    PredefinedMetric.REQUESTS_PER_TARGET: _requests,
}
