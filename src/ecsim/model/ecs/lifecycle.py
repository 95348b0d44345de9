"""The task lifecycle: PROVISIONING -> PENDING -> ACTIVATING -> RUNNING -> DEACTIVATING ->
STOPPING -> DEPROVISIONING -> STOPPED (docs/behaviour.md, "Task lifecycle"), with the timestamps,
stop codes and
container exit codes DescribeTasks shows (docs/behaviour.md, "Stop codes and reasons").

The lifecycle belongs to the platform (Fargate or the instance's agent), not to the service
scheduler: tasks keep running, and dying, whatever happens to their service's scheduler.
Only the load-balancer work of DEACTIVATING (deregister, wait for draining) is done by the
service, through the `Hooks` it provides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ecsim.model.ecs import capacity
from ecsim.model.ecs import messages as msg
from ecsim.model.ecs.enums import (
    DesiredStatus,
    HealthStatus,
    LaunchType,
    TaskStatus,
    TaskStopCode,
)
from ecsim.model.ecs.profile import StartBehaviour
from ecsim.model.ecs.task import Task
from ecsim.model.events import TaskStateChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ec2.network import Network
    from ecsim.model.elbv2.endpoints import Endpoints

SIGKILL_EXIT = 137
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
ESSENTIAL_EXITED = "Essential container in task exited"
EXIT_AFTER_KILL = 0.5  # the agent sees an exited container and starts stopping the task


class Hooks(Protocol):
    """What the owner of a task (its service) does at lifecycle points."""

    def activating(self, task: Task) -> None: ...
    def deactivate(self, task: Task) -> None: ...
    def changed(self, task: Task) -> None: ...


class TaskLifecycle:
    """Moves tasks through their states in simulated time."""

    def __init__(
        self, ctx: SimContext, hooks: Hooks, net: Network, endpoints: Endpoints[Task]
    ) -> None:
        self.ctx = ctx
        self.hooks = hooks
        self.net = net
        self.endpoints = endpoints
        self._rng = ctx.streams.scalar("tasks")

    # --- helpers --------------------------------------------------------------------------

    def _duration(
        self, task: Task, fargate: tuple[float, float], ec2: tuple[float, float]
    ) -> float:
        lo, hi = fargate if task.launch_type is LaunchType.FARGATE else ec2
        return self._rng.uniform(lo, hi)

    def _after(self, task: Task, delay: float, step: Callable[[Task], None]) -> None:
        """Run `step(task)` after `delay`, unless `_cancel_timers` comes first. Timers due
        before now have fired or been cancelled: they are dropped rather than kept for the
        task's life (a large fleet holds a few per task)."""
        now = self.ctx.now
        task.timers = [t for t in task.timers if t.time >= now and not t.cancelled]
        task.timers.append(self.ctx.after(delay, step, task))

    def _cancel_timers(self, task: Task) -> None:
        for timer in task.timers:
            timer.cancel()
        task.timers.clear()

    def _set(self, task: Task, status: TaskStatus, **times: float) -> None:
        task.last_status = status
        task.times.update(times)
        self._record(task)

    def _record(self, task: Task) -> None:
        task.version += 1
        container = task.essential
        self.ctx.emit(
            TaskStateChanged(
                self.ctx.now,
                task.cluster_name,
                task.arn,
                task.id,
                task.group,
                task.last_status.value,
                task.desired_status.value,
                task.ip,
                task.az,
                task.stop_code,
                task.stopped_reason,
                container.exit_code,
            )
        )
        self.hooks.changed(task)

    # --- starting -------------------------------------------------------------------------

    def launch(self, task: Task) -> None:
        t = self.ctx.settings.tasks
        task.times["createdAt"] = self.ctx.now
        self._record(task)
        self._after(
            task,
            self._duration(task, t.fargate_provisioning, t.ec2_provisioning),
            self._provisioned,
        )

    def _provisioned(self, task: Task) -> None:
        now = self.ctx.now
        if task.subnet.available <= 0:
            # No address left for the task's network interface: it never starts
            # (docs/behaviour.md, "Subnet address exhaustion").
            reason = msg.no_free_address(task.subnet.id, task.public_ip)
            self._begin_stop(task, TaskStopCode.TASK_FAILED_TO_START, reason)
            self._deprovision(task)
            return
        task.ip = self.net.allocate_ip(task.subnet, owner=task.arn)
        task.eni_id = self.ctx.ids.resource("eni")
        task.mac = self.ctx.ids.mac()
        task.attachment_status = "ATTACHED"
        self.endpoints.attach(task.ip, task)
        t = self.ctx.settings.tasks
        self._set(task, TaskStatus.PENDING, connectivityAt=now, pullStartedAt=now)
        self._after(task, self._duration(task, t.fargate_pending, t.ec2_pending), self._pulled)

    def _pulled(self, task: Task) -> None:
        now = self.ctx.now
        task.times["pullStoppedAt"] = now
        profile = task.profile
        if profile.start is StartBehaviour.PULL_ERROR:
            image = task.essential.image
            reason = (
                f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                f"failed to resolve ref {image}: not found"
            )
            task.essential.reason = reason
            self._begin_stop(task, TaskStopCode.TASK_FAILED_TO_START, reason)
            self._deprovision(task)
            return
        for c in task.containers:
            c.last_status = "RUNNING"
        task.alive = True
        task.app_up_at = now + profile.startup
        self._set(task, TaskStatus.ACTIVATING)
        self.hooks.activating(task)
        activating = self._rng.uniform(*self.ctx.settings.tasks.activating)
        self._after(task, profile.startup, self._app_ready)
        check = task.task_definition.health_check
        if check is not None:
            self._after(task, check.interval, self._container_check)
        if profile.start is StartBehaviour.CRASH:
            self._after(task, min(profile.startup, activating) / 2, self._crashed)
        else:
            self._after(task, activating, self._activated)

    def _app_ready(self, task: Task) -> None:
        if task.alive and task.desired_status is DesiredStatus.RUNNING:
            with self.endpoints.change():
                task.listening = True

    def _container_check(self, task: Task) -> None:
        """One run of the container's health check command
        (docs/behaviour.md, "Container health checks")."""
        check = task.task_definition.health_check
        if check is None or not task.alive:
            return
        self._after(task, check.interval, self._container_check)
        container = task.essential
        started = task.times.get("pullStoppedAt", self.ctx.now)
        in_start_period = self.ctx.now - started < check.start_period
        answers = task.listening and not task.profile.hang
        passed = (
            answers
            and task.profile.health_latency < check.timeout
            and task.app_healthy(self.ctx.now)
        )
        before = container.health_status
        if passed:
            task.health_failures = 0
            container.health_status = HealthStatus.HEALTHY
        elif not in_start_period:
            task.health_failures += 1
            if task.health_failures >= check.retries:
                container.health_status = HealthStatus.UNHEALTHY
        if container.health_status is not before:
            self._record(task)

    def _activated(self, task: Task) -> None:
        task.ever_running = True
        self._set(task, TaskStatus.RUNNING, startedAt=self.ctx.now)
        crash_after = task.profile.crash_after
        if crash_after is not None:
            self._after(task, crash_after, self._crashed)

    def _crashed(self, task: Task) -> None:
        self.container_exited(task, 1, None)

    # --- stopping -------------------------------------------------------------------------

    def _begin_stop(self, task: Task, code: TaskStopCode, reason: str) -> None:
        task.desired_status = DesiredStatus.STOPPED
        task.stop_code = code.value
        task.stopped_reason = reason

    def stop(self, task: Task, code: TaskStopCode, reason: str) -> None:
        """Ask the task to stop (StopTask, scale-in, replacement): the orderly path."""
        if task.desired_status is DesiredStatus.STOPPED:
            return
        self._begin_stop(task, code, reason)
        if task.last_status in (TaskStatus.PROVISIONING, TaskStatus.PENDING):
            self._cancel_timers(task)
            self._deprovision(task)
            return
        self._cancel_timers(task)
        task.times["stoppingAt"] = self.ctx.now
        self._set(task, TaskStatus.DEACTIVATING)
        self.hooks.deactivate(task)
        if not task.draining:
            self._sigterm(task)

    def spot_interrupted(self, task: Task) -> None:
        """Fargate Spot takes its capacity back: the termination notice (desired STOPPED,
        `TerminationNotice`, "Your Spot Task was interrupted."), SIGTERM at once while the
        task is deregistered, and two minutes later the task is gone, whatever it was doing
        (docs/behaviour.md, "Fargate capacity providers")."""
        if task.last_status in (TaskStatus.DEPROVISIONING, TaskStatus.STOPPED):
            return
        if task.desired_status is DesiredStatus.RUNNING:
            self._begin_stop(task, TaskStopCode.TERMINATION_NOTICE, capacity.SPOT_INTERRUPTED)
        if task.last_status in (TaskStatus.PROVISIONING, TaskStatus.PENDING):
            self._cancel_timers(task)
            self._deprovision(task)
            return
        if task.last_status is not TaskStatus.STOPPING:
            self._cancel_timers(task)
            task.times.setdefault("stoppingAt", self.ctx.now)
            if task.last_status is not TaskStatus.DEACTIVATING:
                self._set(task, TaskStatus.DEACTIVATING)
                self.hooks.deactivate(task)
            self._sigterm(task)
        self._after(task, capacity.SPOT_WARNING, self._reclaimed)

    def _reclaimed(self, task: Task) -> None:
        """The end of a Spot task's two-minute warning: still running, it is killed."""
        if task.alive and task.last_status is TaskStatus.STOPPING:
            self._cancel_timers(task)
            self._sigkilled(task)

    def target_drained(self, task: Task, key: tuple[str, str, int]) -> None:
        """A target of the task finished draining (its state is now `unused`)."""
        task.draining.discard(key)
        if not task.draining and task.last_status is TaskStatus.DEACTIVATING:
            self._sigterm(task)

    def _sigterm(self, task: Task) -> None:
        """STOPPING: SIGTERM, then SIGKILL after stopTimeout
        (docs/behaviour.md, "Stopping a task")."""
        with self.endpoints.change():
            task.listening = False
        self._set(task, TaskStatus.STOPPING)
        if not task.alive:
            self._after(task, EXIT_AFTER_KILL, self._deprovision)
            return
        grace = task.profile.shutdown
        timeout = task.task_definition.stop_timeout
        if grace is None or grace > timeout:
            self._after(task, timeout, self._sigkilled)
        else:
            self._after(task, grace, self._exited_cleanly)

    def _sigkilled(self, task: Task) -> None:
        self._container_stops(task, SIGKILL_EXIT, None)
        self._deprovision(task)

    def _exited_cleanly(self, task: Task) -> None:
        self._container_stops(task, 0, None)
        self._deprovision(task)

    def _container_stops(self, task: Task, exit_code: int, reason: str | None) -> None:
        with self.endpoints.change():
            task.alive = False
            task.listening = False
        if task.ip is not None:
            self.endpoints.failed(task.ip)
        for c in task.containers:
            c.last_status = "STOPPED"
            c.exit_code = exit_code
            c.reason = reason

    def container_exited(self, task: Task, exit_code: int, reason: str | None) -> None:
        """The essential container exited on its own (crash, OOM kill, host loss)."""
        if not task.alive:
            return
        self._cancel_timers(task)
        self._container_stops(task, exit_code, reason)
        if task.desired_status is DesiredStatus.RUNNING:
            self._begin_stop(task, TaskStopCode.ESSENTIAL_CONTAINER_EXITED, ESSENTIAL_EXITED)
        task.draining.clear()
        self._set(task, TaskStatus.STOPPING)
        self._after(task, EXIT_AFTER_KILL, self._deprovision)

    def host_lost(self, task: Task, reason: str) -> None:
        """The instance under the task is gone: the task stops at once, whatever it was doing."""
        if task.stopped:
            return
        self._cancel_timers(task)
        if task.alive:
            self._container_stops(task, SIGKILL_EXIT, None)
        self._begin_stop(
            task,
            TaskStopCode.TASK_FAILED_TO_START
            if not task.ever_running
            else TaskStopCode.ESSENTIAL_CONTAINER_EXITED,
            reason,
        )
        task.stopped_reason = reason
        task.draining.clear()
        self._deprovision(task)

    def _deprovision(self, task: Task) -> None:
        task.draining.clear()
        task.attachment_status = "DETACHING" if task.eni_id else task.attachment_status
        t = self.ctx.settings.tasks
        self._set(task, TaskStatus.DEPROVISIONING, executionStoppedAt=self.ctx.now)
        delay = self._duration(task, t.fargate_deprovisioning, t.ec2_deprovisioning)
        if task.eni_id is None:
            delay = 0.0
        self._after(task, delay, self._stopped)

    def _stopped(self, task: Task) -> None:
        if task.ip is not None:
            self.endpoints.detach(task.ip, task)
            self.net.release_ip(task.subnet, task.ip)
        if task.eni_id is not None:
            task.attachment_status = "DELETED"
        task.reachable = False
        self._set(task, TaskStatus.STOPPED, stoppedAt=self.ctx.now)
