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

from collections.abc import Callable
from typing import TYPE_CHECKING

from ecsim.model.errors import InvalidParameterException
from ecsim.model.events import TaskFaultChanged

if TYPE_CHECKING:
    from ecsim.model.ecs.task import Task
    from ecsim.model.world import World

CPU_STRESS = "aws:ecs:task-cpu-stress"
BLACKHOLE_PORT = "aws:ecs:task-network-blackhole-port"
NETWORK_LATENCY = "aws:ecs:task-network-latency"
PACKET_LOSS = "aws:ecs:task-network-packet-loss"


def _check(task: Task) -> None:
    """The task can take a fault. Its parameters were checked against their limits by
    `w.chaos` (model/verbs/catalog.py declares them)."""
    if not task.alive:
        raise InvalidParameterException(
            f"Task {task.id} has no running container to inject a fault into "
            f"(lastStatus {task.last_status.value})."
        )


def stress_cpu(world: World, task: Task, percent: float, duration: float) -> None:
    """`aws:ecs:task-cpu-stress` on `task` for `duration` seconds."""
    _check(task)

    def apply(on: bool) -> None:
        task.cpu_stress = float(percent) if on else 0.0

    _inject(world, task, CPU_STRESS, f"{percent:g} % CPU", duration, apply)


def blackhole_port(world: World, task: Task, port: int | None, duration: float) -> None:
    """`aws:ecs:task-network-blackhole-port` (ingress, TCP) on `task` for `duration` seconds."""
    _check(task)
    port = task.port if port is None else port
    if port is None:
        raise InvalidParameterException(f"Task {task.id} has no container port: give a port.")

    def apply(on: bool) -> None:
        if on:
            task.blackholed_ports = task.blackholed_ports | {port}
            if port == task.port and task.ip is not None:
                world.dataplane.endpoint_unreachable(task.ip)
        else:
            task.blackholed_ports = task.blackholed_ports - {port}

    _inject(world, task, BLACKHOLE_PORT, f"port {port}/tcp ingress", duration, apply)


def delay_network(world: World, task: Task, delay: float, duration: float) -> None:
    """`aws:ecs:task-network-latency` on `task`: `delay` seconds more on every answer."""
    _check(task)

    def apply(on: bool) -> None:
        task.network_delay = float(delay) if on else 0.0

    _inject(world, task, NETWORK_LATENCY, f"+{delay * 1000:g} ms", duration, apply)


def lose_packets(world: World, task: Task, percent: float, duration: float) -> None:
    """`aws:ecs:task-network-packet-loss` on `task`: `percent` of its packets are lost."""
    _check(task)

    def apply(on: bool) -> None:
        task.packet_loss = percent / 100.0 if on else 0.0

    _inject(world, task, PACKET_LOSS, f"{percent:g} % packet loss", duration, apply)


def _inject(
    world: World,
    task: Task,
    action: str,
    detail: str,
    duration: float,
    apply: Callable[[bool], None],
) -> None:
    """Start a fault now and end it after `duration`. A fault of the same action (and port)
    still on in the task ends first: the new one takes its place."""
    key = f"{action} {detail}" if action == BLACKHOLE_PORT else action
    previous = task.faults.pop(key, None)
    if previous is not None:
        previous[0].cancel()
        previous[1]()
    world.dataplane.flush()  # requests so far were answered as before the fault
    apply(True)
    started = world.now
    _record(world, task, action, True, detail, float(duration))

    def end() -> None:
        task.faults.pop(key, None)
        world.dataplane.flush()
        apply(False)
        _record(world, task, action, False, detail, world.now - started)

    task.faults[key] = (world.kernel.after(duration, end), end)


def _record(
    world: World, task: Task, action: str, active: bool, detail: str, duration: float
) -> None:
    world.emit(
        TaskFaultChanged(
            world.now,
            cluster=task.cluster_name,
            task_arn=task.arn,
            task_id=task.id,
            action=action,
            active=active,
            detail=detail,
            duration=duration,
        )
    )
