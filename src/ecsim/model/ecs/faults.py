"""Task faults as AWS FIS injects them into a task, for a duration: what they do to the task.

The verbs (`w.chaos.stress_cpu`, ..., `verbs/faults.py`) check the parameters; this part of
the ECS backend changes the task, tells the ELBv2 side (its answers change), records
`TaskFaultChanged` at both ends and ends each fault after its duration. What each fault does
is described in `verbs/faults.py` (docs/behaviour.md, "Task faults as AWS FIS injects them").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ecsim.model.events import TaskFaultChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.task import Task
    from ecsim.model.elbv2.endpoints import Endpoints

CPU_STRESS = "aws:ecs:task-cpu-stress"
BLACKHOLE_PORT = "aws:ecs:task-network-blackhole-port"
NETWORK_LATENCY = "aws:ecs:task-network-latency"
PACKET_LOSS = "aws:ecs:task-network-packet-loss"


class TaskFaults:
    """Starts and ends the faults of tasks."""

    def __init__(self, ctx: SimContext, endpoints: Endpoints[Task]) -> None:
        self.ctx = ctx
        self.endpoints = endpoints

    def stress_cpu(self, task: Task, percent: float, duration: float) -> None:
        def apply(on: bool) -> None:
            task.cpu_stress = float(percent) if on else 0.0

        self._inject(task, CPU_STRESS, f"{percent:g} % CPU", duration, apply)

    def blackhole_port(self, task: Task, port: int, duration: float) -> None:
        def apply(on: bool) -> None:
            if on:
                task.blackholed_ports = task.blackholed_ports | {port}
                if port == task.port and task.ip is not None:
                    self.endpoints.unreachable(task.ip)
            else:
                task.blackholed_ports = task.blackholed_ports - {port}

        self._inject(task, BLACKHOLE_PORT, f"port {port}/tcp ingress", duration, apply)

    def delay_network(self, task: Task, delay: float, duration: float) -> None:
        def apply(on: bool) -> None:
            task.network_delay = float(delay) if on else 0.0

        self._inject(task, NETWORK_LATENCY, f"+{delay * 1000:g} ms", duration, apply)

    def lose_packets(self, task: Task, percent: float, duration: float) -> None:
        def apply(on: bool) -> None:
            task.packet_loss = percent / 100.0 if on else 0.0

        self._inject(task, PACKET_LOSS, f"{percent:g} % packet loss", duration, apply)

    def _inject(
        self,
        task: Task,
        action: str,
        detail: str,
        duration: float,
        apply: Callable[[bool], None],
    ) -> None:
        """Start a fault now and end it after `duration`. A fault of the same action (and
        port) still on in the task ends first: the new one takes its place."""
        key = f"{action} {detail}" if action == BLACKHOLE_PORT else action
        previous = task.faults.pop(key, None)
        if previous is not None:
            previous[0].cancel()
            previous[1]()
        ctx = self.ctx
        with self.endpoints.change():  # requests so far were answered as before the fault
            apply(True)
        started = ctx.now
        self._record(task, action, True, detail, float(duration))

        def end() -> None:
            task.faults.pop(key, None)
            with self.endpoints.change():
                apply(False)
            self._record(task, action, False, detail, ctx.now - started)

        task.faults[key] = (ctx.after(duration, end), end)

    def _record(self, task: Task, action: str, active: bool, detail: str, duration: float) -> None:
        self.ctx.emit(
            TaskFaultChanged(
                self.ctx.now,
                cluster=task.cluster_name,
                task_arn=task.arn,
                task_id=task.id,
                action=action,
                active=active,
                detail=detail,
                duration=duration,
            )
        )
