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

Each fault ends by itself after its duration (FIS's `duration`), whatever the task did
meanwhile (a draining task keeps its fault until then). Both ends are recorded as
`TaskFaultChanged`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecsim.model.errors import InvalidParameterException
from ecsim.model.events import TaskFaultChanged

if TYPE_CHECKING:
    from ecsim.model.ecs.task import Task
    from ecsim.model.world import World

CPU_STRESS = "aws:ecs:task-cpu-stress"
BLACKHOLE_PORT = "aws:ecs:task-network-blackhole-port"
NETWORK_LATENCY = "aws:ecs:task-network-latency"


def _check(task: Task, duration: float) -> None:
    if not task.alive:
        raise InvalidParameterException(
            f"Task {task.id} has no running container to inject a fault into "
            f"(lastStatus {task.last_status.value})."
        )
    if not (isinstance(duration, int | float) and 0 < duration <= 12 * 3600):
        raise InvalidParameterException(
            f"duration must be above 0 and at most 12 hours (FIS), got {duration!r}"
        )


def stress_cpu(world: World, task: Task, percent: float, duration: float) -> None:
    """`aws:ecs:task-cpu-stress` on `task` for `duration` seconds."""
    _check(task, duration)
    if not (isinstance(percent, int | float) and 0 <= percent <= 100):
        raise InvalidParameterException(f"percent must be 0 to 100, got {percent!r}")
    world.dataplane.flush()  # requests so far were served at the old capacity
    task.cpu_stress = float(percent)
    _record(world, task, CPU_STRESS, True, f"{percent:g} % CPU")

    def end() -> None:
        if task.cpu_stress:
            world.dataplane.flush()
            task.cpu_stress = 0.0
            _record(world, task, CPU_STRESS, False, "")

    world.kernel.after(duration, end)


def blackhole_port(world: World, task: Task, port: int | None, duration: float) -> None:
    """`aws:ecs:task-network-blackhole-port` (ingress, TCP) on `task` for `duration` seconds."""
    _check(task, duration)
    port = task.port if port is None else port
    if port is None or isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidParameterException(f"port must be a TCP port (1-65535), got {port!r}")
    world.dataplane.flush()
    task.blackholed_ports = task.blackholed_ports | {port}
    if port == task.port and task.ip is not None:
        world.dataplane.endpoint_unreachable(task.ip)
    _record(world, task, BLACKHOLE_PORT, True, f"port {port}/tcp ingress")

    def end() -> None:
        if port in task.blackholed_ports:
            world.dataplane.flush()
            task.blackholed_ports = task.blackholed_ports - {port}
            _record(world, task, BLACKHOLE_PORT, False, f"port {port}/tcp ingress")

    world.kernel.after(duration, end)


def delay_network(world: World, task: Task, delay: float, duration: float) -> None:
    """`aws:ecs:task-network-latency` on `task`: `delay` seconds more on every answer."""
    _check(task, duration)
    if isinstance(delay, bool) or not (isinstance(delay, int | float) and 0 < delay <= 60):
        raise InvalidParameterException(f"delay must be above 0 and at most 60 s, got {delay!r}")
    world.dataplane.flush()
    task.network_delay = float(delay)
    detail = f"+{delay * 1000:g} ms"
    _record(world, task, NETWORK_LATENCY, True, detail)

    def end() -> None:
        if task.network_delay:
            world.dataplane.flush()
            task.network_delay = 0.0
            _record(world, task, NETWORK_LATENCY, False, detail)

    world.kernel.after(duration, end)


def _record(world: World, task: Task, action: str, active: bool, detail: str) -> None:
    world.emit(
        TaskFaultChanged(
            world.now,
            cluster=task.cluster_name,
            task_arn=task.arn,
            task_id=task.id,
            action=action,
            active=active,
            detail=detail,
        )
    )
