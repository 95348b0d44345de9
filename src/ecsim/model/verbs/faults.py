"""Task faults as AWS Fault Injection Service injects them into ECS tasks, for a duration.

- `aws:ecs:task-cpu-stress` (parameter `percent`, default 100): a stressor takes that share
  of the task's CPU. Choice (FIS runs stress-ng beside the app; the kernel shares the CPU
  between them): the app keeps half of what the stressor takes, so its capacity
  (`ecsim.capacity`) falls to `1 - percent / 200` of itself and it queues, then times out,
  sooner; the service's CPU metric shows the stressor (auto scaling sees it).
- `aws:ecs:task-network-blackhole-port` (parameters `port`, default the container's, and
  ingress TCP): connections to the port are dropped. The ALB's connections time out (504
  after 10 s), its health checks time out, requests in flight wait out the idle timeout.
- `aws:ecs:task-network-latency` (parameter `delayMilliseconds`, default 200): the task's
  network adds the delay to every answer it sends, to the ALB's requests and to its health
  checks (a check slower than its timeout fails), not to the container's own health check
  (it runs inside the task). Choice: FIS's `jitterMilliseconds` is not modelled; requests
  already in flight keep the answer time they had.
- `aws:ecs:task-network-packet-loss` (parameter `lossPercent`, default 7): a share of the
  task's packets is lost. Choice (TCP does the rest): a request's answer is lost `n` times
  in a row with probability `loss ** n` and is sent again after Linux's minimum
  retransmission timeout, doubling each time: `0.2 s x (2 ** n - 1)` more (at most 8
  times). The ALB's health checks are not affected (a check needs several losses in a row
  to reach its timeout).

Each fault ends by itself after its duration (FIS's `duration`), whatever the task did
meanwhile (a draining task keeps its fault until then); a second fault of the same action
(and port) replaces the one still on. Both ends are recorded as `TaskFaultChanged`: the
start with the planned duration, the end with how long the fault lasted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecsim.model.ecs.faults import BLACKHOLE_PORT, CPU_STRESS, NETWORK_LATENCY, PACKET_LOSS
from ecsim.model.errors import InvalidParameterException

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.task import Task

__all__ = [
    "BLACKHOLE_PORT",
    "CPU_STRESS",
    "NETWORK_LATENCY",
    "PACKET_LOSS",
    "blackhole_port",
    "delay_network",
    "lose_packets",
    "stress_cpu",
]


def _check(task: Task) -> None:
    """The task can take a fault. Its parameters were checked against their limits by
    `w.chaos` (model/verbs/catalog.py declares them)."""
    if not task.alive:
        raise InvalidParameterException(
            f"Task {task.id} has no running container to inject a fault into "
            f"(lastStatus {task.last_status.value})."
        )


def stress_cpu(backend: EcsBackend, task: Task, percent: float, duration: float) -> None:
    """`aws:ecs:task-cpu-stress` on `task` for `duration` seconds."""
    _check(task)
    backend.faults.stress_cpu(task, percent, duration)


def blackhole_port(backend: EcsBackend, task: Task, port: int | None, duration: float) -> None:
    """`aws:ecs:task-network-blackhole-port` (ingress, TCP) on `task` for `duration` seconds."""
    _check(task)
    port = task.port if port is None else port
    if port is None:
        raise InvalidParameterException(f"Task {task.id} has no container port: give a port.")
    backend.faults.blackhole_port(task, port, duration)


def delay_network(backend: EcsBackend, task: Task, delay: float, duration: float) -> None:
    """`aws:ecs:task-network-latency` on `task`: `delay` seconds more on every answer."""
    _check(task)
    backend.faults.delay_network(task, delay, duration)


def lose_packets(backend: EcsBackend, task: Task, percent: float, duration: float) -> None:
    """`aws:ecs:task-network-packet-loss` on `task`: `percent` of its packets are lost."""
    _check(task)
    backend.faults.lose_packets(task, percent, duration)
