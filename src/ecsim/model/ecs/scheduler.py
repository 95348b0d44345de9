"""The ECS service scheduler: the "Manager" of the seed, one control loop per service.

While its controller is ACTIVE it reconciles the service's tasks with `desiredCount` continuously
(docs/behaviour.md, "Service reconciliation"): it launches and stops tasks within
`minimumHealthyPercent` and `maximumPercent` (docs/behaviour.md, "Rolling update bounds"), replaces
tasks that exit or fail ELB health checks, starting the replacement before stopping the unhealthy
task, honours `healthCheckGracePeriodSeconds` (docs/behaviour.md, "Unhealthy task replacement"),
counts failed tasks for the deployment circuit breaker and rolls back
(docs/behaviour.md, "Deployment circuit breaker"), throttles launches of tasks that keep failing to
start (docs/behaviour.md, "Start-failure throttling"), keeps the service's tasks registered in all
of its target groups (docs/behaviour.md, "Service load balancers"), and writes service events in
AWS's wording (docs/behaviour.md, "Service events"). When its controller is CRASHED or STUCK it does
nothing at all: tasks and
the load balancer carry on by themselves, and nothing heals.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ecsim.model.ecs import messages as msg
from ecsim.model.ecs import quotas, rebalancing
from ecsim.model.ecs.draining import on_draining_instance
from ecsim.model.ecs.enums import (
    ControllerStatus,
    DeploymentStatus,
    DesiredStatus,
    HealthStatus,
    LaunchType,
    RolloutState,
    ServiceStatus,
    TaskStatus,
    TaskStopCode,
)
from ecsim.model.ecs.placement import stop_order
from ecsim.model.ecs.service import Deployment, Service
from ecsim.model.ecs.task import Task
from ecsim.model.elbv2.health import TargetHealthState
from ecsim.model.events import DeploymentChanged, ServiceEvent
from ecsim.sim import Timer

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend

START_FAILURES_BEFORE_THROTTLE = 3

# The enum members a full reconcile tests for each task, bound once: on Python 3.11 reading a
# member off its class goes through `EnumType.__getattr__`'s hook (about 0.1 us each, a tenth
# of `is_healthy`).
_RUNNING = TaskStatus.RUNNING
_TO_RUN = DesiredStatus.RUNNING
_TO_STOP = DesiredStatus.STOPPED
_CONTAINER_HEALTHY = HealthStatus.HEALTHY
_TARGET_HEALTHY = TargetHealthState.HEALTHY
_REGISTERING = (TaskStatus.ACTIVATING, TaskStatus.RUNNING)  # a live task in these is registered
# and those every reconcile tests for its service (a steady fleet's every 15 s)
_CONTROLLER_ACTIVE = ControllerStatus.ACTIVE
_SERVICE_ACTIVE = ServiceStatus.ACTIVE
_SERVICE_INACTIVE = ServiceStatus.INACTIVE


class ServiceScheduler:
    def __init__(self, backend: EcsBackend) -> None:
        self.backend = backend
        self.ctx = backend.ctx
        self._rng = self.ctx.streams.scalar("scheduler")

    # --- waking up ------------------------------------------------------------------------

    def poke(self, svc: Service, delay: float | None = None) -> None:
        """Ask the scheduler to look at the service soon (after its reaction time).

        Everything that changes what the scheduler watches (task states and container
        health, target health, desired count, deployments, settings of the service, the
        controller, AZs and instances) calls this; so it also marks the service `changed`,
        which makes its next reconcile a full one (see `reconcile`)."""
        svc.changed = True
        self._wake(svc, delay)

    def _wake(self, svc: Service, delay: float | None = None) -> None:
        """Schedule the next reconcile without marking the service changed."""
        if svc.effective_controller is not _CONTROLLER_ACTIVE or svc.status is _SERVICE_INACTIVE:
            return
        if delay is None:
            delay = self._rng.uniform(*self.ctx.settings.scheduler.reaction)
        when = self.ctx.now + delay
        if svc.wakeup is not None and not svc.wakeup.cancelled and svc.wakeup.time <= when:
            return
        if svc.wakeup is not None:
            svc.wakeup.cancel()
        if delay == self.ctx.settings.scheduler.interval:
            # the periodic reconcile of every service: a queue of its own, and a quiet
            # service's reconcile schedules the next with the same timer (`reconcile`)
            svc.wakeup = self.ctx.kernel.periodic(delay, self.reconcile, svc)
        else:
            svc.wakeup = self.ctx.at(when, self.reconcile, svc)

    # --- events ---------------------------------------------------------------------------

    def event(self, svc: Service, message: str, dedupe: bool = False) -> None:
        """Add a service event; `dedupe` suppresses a repeat within 6 hours
        (docs/behaviour.md, "Service events")."""
        now = self.ctx.now
        if dedupe:
            last = svc.last_messages.get(message)
            if last is not None and now - last < self.ctx.settings.scheduler.event_dedup:
                return
            svc.last_messages[message] = now
        event_id = self.ctx.ids.uuid()
        svc.events.appendleft({"id": event_id, "createdAt": now, "message": message})
        self.ctx.emit(ServiceEvent(now, svc.cluster.name, svc.name, event_id, message))

    def deployment_changed(self, svc: Service, d: Deployment) -> None:
        d.updated_at = self.ctx.now
        self.ctx.emit(
            DeploymentChanged(
                self.ctx.now,
                svc.cluster.name,
                svc.name,
                d.id,
                d.status.value,
                d.rollout_state.value,
                d.rollout_state_reason,
            )
        )

    # --- health as the scheduler sees it --------------------------------------------------

    def is_healthy(self, svc: Service, task: Task) -> bool:
        """RUNNING, HEALTHY if it has a container health check, and healthy in every target
        group; without either check, 40 s after RUNNING
        (docs/behaviour.md, "Healthy for the scheduler")."""
        if task.last_status is not _RUNNING or task.desired_status is not _TO_RUN:
            return False
        if task.replacing:
            return False
        if task.essential_checked and task.health_status is not _CONTAINER_HEALTHY:
            return False
        tgs = svc.target_group_arns
        if not tgs:
            if task.essential_checked:
                return True
            started = task.times.get("startedAt", self.ctx.now)
            return (
                self.ctx.now - started >= self.ctx.settings.scheduler.healthy_without_checks_after
            )
        if len(task.registrations) < len(tgs):
            return False
        # healthy in every group it is registered in (a loop that stops at the first target
        # that is not: a full reconcile asks for every task, twice)
        groups = self.backend.elb.target_groups
        for tg_arn, ip, port in task.registrations:
            tg = groups.get(tg_arn)
            target = tg.targets.get((ip, port)) if tg else None
            if target is None or target.state is not _TARGET_HEALTHY:
                return False
        return True

    # --- the loop -------------------------------------------------------------------------

    def reconcile(self, svc: Service) -> float | None:
        """One pass of the service's control loop. A quiet service (`is_quiet`) is looked at
        again an interval later with the timer this pass ran from, when that is a periodic
        one: the pass answers the interval (`Kernel.periodic`); else it answers None."""
        timer, svc.wakeup = svc.wakeup, None
        if svc.effective_controller is not _CONTROLLER_ACTIVE:
            return None
        if svc.status is _SERVICE_INACTIVE:
            return None
        if self.is_quiet(svc):
            return self._quiet_reconcile(svc, timer)
        svc.changed = False
        self._full_reconcile(svc)
        return None

    def is_quiet(self, svc: Service) -> bool:
        """Whether a full reconcile now would only repeat the steady-state event (if due).

        True when the last full reconcile ended with the service steady (one deployment,
        exactly `desiredCount` live tasks, all of them RUNNING and healthy, none starting,
        nothing to register or deregister) and nothing the scheduler watches changed since
        (`svc.changed`, set by `poke`). Such a reconcile launches, stops, registers and
        marks nothing, draws no random number and writes only `has reached a steady
        state.` once its 6 hours of deduplication are over; the only inputs that move
        without a poke are the clock (the grace period and the launch throttle only matter
        for unhealthy or missing tasks, and health without checks, 40 s after RUNNING, stays
        true once reached) and the deduplication window, which `_quiet_reconcile` honours.
        Skipping the rest keeps the periodic reconcile of thousands of steady services
        cheap (benchmark 3: 1,000 services reconciled every 15 s).
        """
        return svc.steady and not svc.changed and svc.status is _SERVICE_ACTIVE

    def _quiet_reconcile(self, svc: Service, timer: Timer | None) -> float | None:
        """What a full reconcile of a quiet service does (see `is_quiet`): the steady-state
        event when due, and the next pass an interval later, as `_wake` schedules it."""
        self.event(svc, msg.steady_state(svc.name), dedupe=True)
        interval = self.ctx.settings.scheduler.interval
        if (
            timer is not None
            and timer.repeats
            and svc.wakeup is None
            and svc.effective_controller is _CONTROLLER_ACTIVE
            and svc.status is not _SERVICE_INACTIVE
        ):
            svc.wakeup = timer
            return interval
        self._wake(svc, interval)
        return None

    def _full_reconcile(self, svc: Service) -> None:
        self._sync_registrations(svc)
        if svc.status is ServiceStatus.DRAINING:
            self._drain_service(svc)
            return
        self._detect_unhealthy(svc)
        self._roll(svc)
        self._bookkeeping(svc)
        self._rebalance(svc)
        self.backend.shifts.reconcile(svc)
        self._wake(svc, self.ctx.settings.scheduler.interval)

    def _live(self, svc: Service) -> list[Task]:
        """Tasks the service means to keep (not asked to stop), oldest first."""
        return [t for t in svc.tasks.values() if t.desired_status is _TO_RUN and not t.stopped]

    def _roll(self, svc: Service) -> None:
        now = self.ctx.now
        cfg = svc.deployment_configuration
        desired = svc.desired_count
        primary = svc.primary
        live = self._live(svc)
        max_total = cfg.max_tasks(desired)
        min_healthy = cfg.min_healthy(desired)
        acted = False

        # 1. Launch tasks of the primary deployment, within maximumPercent. Tasks on a
        #    DRAINING container instance are leaving: they need replacements
        #    (docs/behaviour.md, "Container instance draining").
        good_primary = [
            t
            for t in live
            if t.deployment_id == primary.id and not t.replacing and not on_draining_instance(t)
        ]
        need = desired - len(good_primary)
        room = max_total - len(live)
        # A traffic-shifting deployment scales green up to the desired count at SCALE_UP,
        # beside blue, whatever maximumPercent says, and keeps blue until CLEAN_UP
        # (docs/behaviour.md, "Blue/green, linear and canary deployments").
        shift = self.backend.shifts.of(svc)
        if shift is not None and shift.green is primary:
            room = need if shift.launching else 0
        if need > 0 and primary.rollout_state is not RolloutState.FAILED:
            if now < svc.throttled_until:
                self.poke(svc, svc.throttled_until - now)
            elif room > 0:
                replacing = sum(1 for t in live if t.replacing)
                allowed = self._launch_allowance(svc, min(need, room))
                if allowed > 0:
                    started = self._launch(svc, primary, allowed, replacing)
                    if svc.launch_type is LaunchType.FARGATE:
                        svc.launched_at.extend([now] * started)
                    acted |= started > 0
        live = self._live(svc)
        healthy = [t for t in live if self.is_healthy(svc, t)]

        # 2. Stop tasks being replaced once enough healthy tasks run; when maximumPercent left
        #    no room to start a replacement, stop them one by one to make room
        #    (docs/behaviour.md, "Unhealthy task replacement"). Stopping
        #    an unhealthy task never lowers the healthy count, so minimumHealthyPercent holds.
        being_replaced = [t for t in live if t.replacing]
        if being_replaced:
            if not self.ctx.settings.scheduler.start_replacement_first or len(healthy) >= desired:
                doomed = being_replaced
            elif room <= 0 and need > 0:
                doomed = being_replaced[:1]
            else:
                doomed = []
            for task in doomed:
                self._stop(svc, [task], task.replace_reason, task.replace_code)
            acted |= bool(doomed)

        # 3. Stop tasks of older deployments and tasks on DRAINING container instances,
        #    never going below minimumHealthyPercent (docs/behaviour.md, "Rolling update bounds").
        old = [
            t
            for t in live
            if not t.replacing and (t.deployment_id != primary.id or on_draining_instance(t))
        ]
        if shift is not None and shift.green is primary and shift.keeps_blue:
            old = [t for t in old if t.deployment_id == primary.id]  # draining instances only
        idle_old = [t for t in old if not self.is_healthy(svc, t)]
        if idle_old:
            self._stop_outgoing(svc, idle_old)
            acted = True
        stoppable = len(healthy) - min_healthy
        busy_old = self._order_for_stop(svc, [t for t in old if self.is_healthy(svc, t)])
        if stoppable > 0 and busy_old:
            self._stop_outgoing(svc, busy_old[:stoppable])
            acted = True
        elif busy_old and need > 0 and room <= 0 and not acted:
            self.event(svc, msg.deployment_blocked(svc.name), dedupe=True)

        # 4. Scale in the primary deployment to desiredCount. A task started to rebalance
        #    the AZs is one too many until it is healthy; then a task of the AZ with the most
        #    leaves for it (rebalancing.py).
        live = self._live(svc)
        mine = [
            t
            for t in live
            if t.deployment_id == primary.id and not t.replacing and not on_draining_instance(t)
        ]
        excess = len(mine) - desired
        extra = svc.tasks.get(svc.rebalance_task) if svc.rebalance_task else None
        if extra is not None and extra not in mine:
            svc.rebalance_task = extra = None
        if extra is not None and excess > 0:
            if not self.is_healthy(svc, extra):
                return
            svc.rebalance_task = None
            others = [t for t in mine if t is not extra and t.last_status is TaskStatus.RUNNING]
            victims = self._order_for_stop(svc, others)[:1]
            for task in victims:
                self.event(svc, msg.rebalance_stopped(svc.name, task.az, [task.id]))
                self.backend.lifecycle.stop(
                    task, TaskStopCode.SERVICE_SCHEDULER_INITIATED, msg.scaling_reason(primary.id)
                )
            excess -= len(victims)
        if excess > 0:
            self._stop(
                svc, self._order_for_stop(svc, mine)[:excess], msg.scaling_reason(primary.id)
            )

    def _order_for_stop(self, svc: Service, tasks: list[Task]) -> list[Task]:
        """Scale-in order (docs/behaviour.md, "Default placement and scale-in"): tasks not yet
        serving first, newest first; then
        the RUNNING ones as the service's placement strategy stops them (`stop_order`: by
        default one at a time from the AZ with the most tasks left, then the instance with
        the most, newest first)."""
        if not tasks:  # most passes have no task of an older deployment to order
            return []
        starting = sorted(
            (t for t in tasks if t.last_status is not TaskStatus.RUNNING),
            key=lambda t: -t.times.get("createdAt", 0.0),
        )
        running = [t for t in tasks if t.last_status is _RUNNING]
        return starting + stop_order(running, svc.placement_strategy, self.backend.placement_rng)

    def _stop_outgoing(self, svc: Service, tasks: list[Task]) -> None:
        """Stop tasks of older deployments (scaling activity) and tasks leaving a DRAINING
        container instance, each with its own stoppedReason."""
        drained = [t for t in tasks if on_draining_instance(t)]
        rolled = [t for t in tasks if not on_draining_instance(t)]
        self._stop(svc, rolled, msg.scaling_reason(svc.primary.id))
        self.stop_drained(svc, drained)

    def stop_drained(self, svc: Service, tasks: list[Task]) -> None:
        """Stop service tasks that leave a DRAINING container instance (stop code
        ServiceSchedulerInitiated: the service scheduler stops them)."""
        self._stop(svc, tasks, msg.drained_reason(svc.name))

    def _launch_allowance(self, svc: Service, n: int) -> int:
        """How many of `n` launches the service may make now: on Fargate at most
        `quotas.FARGATE_LAUNCH_RATE` in any minute (docs/behaviour.md, "ECS quotas"); the
        others wait for the window to move on, when the scheduler looks again."""
        if svc.launch_type is not LaunchType.FARGATE:
            return n
        now, window = self.ctx.now, quotas.LAUNCH_RATE_WINDOW
        launched = svc.launched_at
        # a launch leaves the window a millisecond early: the wakeup computed from the same
        # number lands on or after it, never in a zero-delay loop of reconciles
        while launched and launched[0] + window - now < 0.001:
            launched.popleft()
        allowed = max(0, min(n, quotas.FARGATE_LAUNCH_RATE - len(launched)))
        if allowed < n:
            self.poke(svc, launched[0] + window - now if launched else window)
        return allowed

    def _launch(self, svc: Service, d: Deployment, n: int, replacing: int) -> int:
        started: list[Task] = []
        for _ in range(n):
            task = self.backend.place_service_task(svc, d)
            if task is None:
                break
            started.append(task)
        if started:
            ids = [t.id for t in started]
            self.event(svc, msg.started(svc.name, ids, min(replacing, len(started))))
            for task in started:
                self.backend.lifecycle.launch(task)
        return len(started)

    def _stop(
        self,
        svc: Service,
        tasks: list[Task],
        reason: str,
        code: TaskStopCode = TaskStopCode.SERVICE_SCHEDULER_INITIATED,
    ) -> None:
        if not tasks:
            return
        self.event(svc, msg.stopped(svc.name, [t.id for t in tasks]))
        for task in tasks:
            self.backend.lifecycle.stop(task, code, reason)

    # --- load balancer registrations ------------------------------------------------------

    def _sync_registrations(self, svc: Service) -> None:
        """Every live task in all of the service's target groups; no stopped task in any, nor
        any address the service registered for a task ECS no longer lists
        (docs/behaviour.md, "Target group reconciliation")."""
        added: Counter[str] = Counter()
        for task in svc.tasks.values():
            if (
                task.desired_status is _TO_RUN
                and task.ip is not None
                and task.last_status in _REGISTERING
            ):
                for tg_arn, port in self._targets_for(svc, task):
                    if (tg_arn, task.ip, port) not in task.registrations:
                        tg = self.backend.elb.target_groups.get(tg_arn)
                        if tg is None:
                            continue
                        self.backend.elb.register(tg, task.ip, port, task.az)
                        task.registrations.add((tg_arn, task.ip, port))
                        svc.targets[(tg_arn, task.ip, port)] = task
                        self.backend.index_registration(task, tg_arn, port)
                        added[tg_arn] += 1
            elif task.desired_status is _TO_STOP and task.registrations:
                self.deregister(svc, task)
        self._deregister_forgotten(svc)
        for tg_arn, n in added.items():
            self.event(svc, msg.registered(svc.name, n, tg_arn))

    def _deregister_forgotten(self, svc: Service) -> None:
        """Deregister the targets of tasks that stopped so long ago (more than
        `tasks.stopped_retention`, while the scheduler was down) that the service no longer
        lists them: the addresses stay in the target groups otherwise, unhealthy for good."""
        forgotten = {t.id: t for t in svc.targets.values() if svc.tasks.get(t.id) is not t}.values()
        for task in forgotten:
            for key in sorted(task.registrations):
                if svc.targets.get(key) is not task:  # the address is another task's now
                    task.registrations.discard(key)
            if task.registrations:
                self.deregister(svc, task)

    def _targets_for(self, svc: Service, task: Task) -> list[tuple[str, int]]:
        """Where the task registers: each of the service's target groups, or, for one with an
        alternate, the side its deployment uses (blue or green)."""
        d = svc.deployment(task.deployment_id)
        sides = d.target_group_of if d is not None else svc.live_groups
        out = []
        for lb in svc.load_balancers:
            port = lb.get("containerPort") or task.port
            if lb.get("targetGroupArn") and port:
                out.append((sides.get(lb["targetGroupArn"], lb["targetGroupArn"]), int(port)))
        return out

    def register(self, svc: Service, task: Task) -> None:
        """Register a task that just reached ACTIVATING (docs/behaviour.md, "Task lifecycle")."""
        if svc.effective_controller is ControllerStatus.ACTIVE:
            self._sync_registrations(svc)

    def deregister(self, svc: Service, task: Task) -> None:
        """Deregister all of a stopping task's targets; wait for draining if it is DEACTIVATING."""
        if svc.effective_controller is not ControllerStatus.ACTIVE:
            return
        removed: Counter[str] = Counter()
        for key in sorted(task.registrations):
            tg_arn, ip, port = key
            tg = self.backend.elb.target_groups.get(tg_arn)
            task.registrations.discard(key)
            if svc.targets.get(key) is task:
                del svc.targets[key]
            if tg is None:
                continue
            target = self.backend.elb.deregister(tg, ip, port)
            removed[tg_arn] += 1
            if (
                target is not None
                and target.state is TargetHealthState.DRAINING
                and task.last_status is TaskStatus.DEACTIVATING
            ):
                task.draining.add(key)
        for tg_arn, n in removed.items():
            self.event(svc, msg.deregistered(svc.name, n, tg_arn))
        if task.draining:
            self.event(svc, msg.draining(svc.name, task.deployment_id or svc.primary.id, 1))

    # --- health ---------------------------------------------------------------------------

    def _unhealthy_tg(self, task: Task) -> str | None:
        for tg_arn, ip, port in sorted(task.registrations):
            tg = self.backend.elb.target_groups.get(tg_arn)
            target = tg.targets.get((ip, port)) if tg else None
            if target is not None and target.state is TargetHealthState.UNHEALTHY:
                return tg_arn
        return None

    def _detect_unhealthy(self, svc: Service) -> None:
        """Mark RUNNING tasks that fail container or ELB health checks, outside the grace
        period, for replacement (docs/behaviour.md, "Unhealthy task replacement")."""
        now = self.ctx.now
        grace = svc.health_check_grace_period
        for task in self._live(svc):
            if task.replacing or task.last_status is not _RUNNING:
                continue
            container_failed = task.health_status is HealthStatus.UNHEALTHY
            tg_arn = self._unhealthy_tg(task)
            if not container_failed and tg_arn is None:
                continue
            grace_ends = task.times.get("startedAt", now) + grace
            if now < grace_ends:  # the same number decides and schedules: no zero-delay loop
                self.poke(svc, grace_ends - now)
                continue
            task.replacing = True
            if container_failed:
                # EssentialContainerExited + "Task failed container health checks"
                # (docs/behaviour.md, "Stop codes and reasons").
                task.replace_reason = msg.CONTAINER_FAILED_REASON
                task.replace_code = TaskStopCode.ESSENTIAL_CONTAINER_EXITED
                self.event(svc, msg.failed_container_checks(svc.name, task.id))
            else:
                assert tg_arn is not None
                _, ip, port = next(k for k in task.registrations if k[0] == tg_arn)
                target = self.backend.elb.target_groups[tg_arn].targets[(ip, port)]
                task.replace_reason = msg.elb_failed_reason(tg_arn)
                self.event(
                    svc,
                    msg.unhealthy_target(
                        svc.name,
                        task.id,
                        port,
                        tg_arn,
                        target.description or "Health checks failed",
                    ),
                )
            self.task_failed(svc, task, "tasks failed health checks")

    # --- deployments ----------------------------------------------------------------------

    def task_failed(self, svc: Service, task: Task, why: str) -> None:
        """Count a failed task against its deployment; trip the circuit breaker
        (docs/behaviour.md, "Deployment circuit breaker")."""
        d = svc.deployment(task.deployment_id)
        if d is None or task.counted_failure:
            return
        task.counted_failure = True
        d.failed_tasks += 1
        d.updated_at = self.ctx.now
        cb = svc.deployment_configuration.circuit_breaker
        s = self.ctx.settings.scheduler
        threshold = cb.threshold(
            svc.desired_count, s.circuit_breaker_min_threshold, s.circuit_breaker_max_threshold
        )
        if (
            cb.enable
            and d.rollout_state is RolloutState.IN_PROGRESS
            and d.failed_tasks >= threshold
        ):
            self._trip(svc, d, why)

    def task_became_healthy(self, svc: Service, task: Task) -> None:
        d = svc.deployment(task.deployment_id)
        if d is None:
            return
        d.had_healthy_task = True
        if svc.deployment_configuration.circuit_breaker.reset_on_healthy_task:
            d.failed_tasks = 0

    def _trip(self, svc: Service, d: Deployment, why: str) -> None:
        d.rollout_state = RolloutState.FAILED
        d.rollout_state_reason = f"ECS deployment circuit breaker: {why.removeprefix('tasks ')}."
        if why == "tasks failed to start":
            d.rollout_state_reason = "ECS deployment circuit breaker: task failed to start."
        self.deployment_changed(svc, d)
        self.event(svc, msg.deployment_failed(svc.name, d.id, why))
        previous = svc.last_completed
        rolls_back = (
            svc.deployment_configuration.circuit_breaker.rollback
            and previous is not None
            and previous.id != d.id
        )
        self.backend.records.failed(svc, d, rolls_back)
        if not rolls_back or previous is None:
            return
        self.event(svc, msg.rolling_back(svc.name, previous.id))
        self.backend.start_deployment(
            svc, previous.task_definition, deployment_id=previous.id, rollback=True
        )

    def _bookkeeping(self, svc: Service) -> None:
        live_ids = {t.deployment_id for t in svc.live_tasks()}
        for d in list(svc.deployments[1:]):
            if d.id not in live_ids:
                svc.deployments.remove(d)
                d.status = DeploymentStatus.INACTIVE
                self.deployment_changed(svc, d)
        primary = svc.primary
        live = self._live(svc)
        healthy = [self.is_healthy(svc, t) for t in live]  # once each: nothing below moves it
        all_healthy = (
            len(live) == svc.desired_count
            and all(healthy)
            and not any(t.is_starting for t in svc.live_tasks())
        )
        for t, ok in zip(live, healthy, strict=True):
            if ok and not t.counted_failure:
                self.task_became_healthy(svc, t)
        if (
            len(svc.deployments) == 1
            and all_healthy
            and primary.rollout_state is RolloutState.IN_PROGRESS
            and not self.backend.shifts.holds_completion(svc)
            # its bake time over (docs/behaviour.md, "Deployment alarms")
            and self.backend.alarm_watch.baked(svc, primary)
        ):
            primary.rollout_state = RolloutState.COMPLETED
            primary.rollout_state_reason = f"ECS deployment {primary.id} completed."
            svc.last_completed = primary
            self.backend.shifts.completed(svc, primary)
            self.deployment_changed(svc, primary)
            self.backend.records.completed(svc, primary)
            self.event(svc, msg.deployment_completed(svc.name, primary.id))
        # Not steady while tasks still have to leave a DRAINING container instance.
        moving = any(on_draining_instance(t) for t in live)
        steady = len(svc.deployments) == 1 and all_healthy and not moving
        if steady:
            self.event(svc, msg.steady_state(svc.name), dedupe=True)
        elif svc.steady:
            svc.last_messages.pop(msg.steady_state(svc.name), None)
        svc.steady = steady

    # --- Availability Zone rebalancing (rebalancing.py) -------------------------------------

    def _rebalance(self, svc: Service) -> None:
        """Once steady, even out the service's RUNNING tasks over its AZs, one task at a time."""
        if (
            svc.az_rebalancing != rebalancing.ENABLED
            or not rebalancing.compatible(svc)
            or svc.rebalance_task is not None
            or not (svc.steady or svc.rebalancing)
        ):
            return
        live = self._live(svc)
        running = [t for t in live if t.last_status is TaskStatus.RUNNING]
        counts = rebalancing.spread(running, rebalancing.zones(self.backend, svc))
        if rebalancing.balanced(counts):
            if svc.rebalancing:
                svc.rebalancing = False
                self.event(svc, msg.az_balanced(svc.name, counts))
            return
        if not svc.steady:
            return  # the step under way is not done yet
        if not svc.rebalancing:
            svc.rebalancing = True
            self.event(svc, msg.not_az_balanced(svc.name, counts))
        cfg = svc.deployment_configuration
        desired = svc.desired_count
        if not rebalancing.can_even_out(counts, rebalancing.zones(self.backend, svc, True)):
            return  # no room where it would help (full instances, exhausted subnets)
        if len(live) < cfg.max_tasks(desired):
            task = self.backend.place_service_task(svc, svc.primary)
            if task is None:
                return
            svc.rebalance_task = task.id
            self.event(svc, msg.rebalance_started(svc.name, task.az, [task.id]))
            self.backend.lifecycle.launch(task)
        elif len(running) - 1 >= cfg.min_healthy(desired):
            # no room to start first: stop first; the replacement goes to the AZ with fewest
            task = self._order_for_stop(svc, running)[0]
            self.event(svc, msg.rebalance_stopped(svc.name, task.az, [task.id]))
            self.backend.lifecycle.stop(
                task, TaskStopCode.SERVICE_SCHEDULER_INITIATED, msg.scaling_reason(svc.primary.id)
            )
        else:
            return
        svc.steady = False
        svc.changed = True

    # --- deletion -------------------------------------------------------------------------

    def _drain_service(self, svc: Service) -> None:
        """DeleteService: stop every task; INACTIVE once all are STOPPING or STOPPED
        (docs/behaviour.md, "Deleting a service")."""
        live = self._live(svc)
        if live:
            self._stop(svc, live, msg.scaling_reason(svc.primary.id))
        done = all(
            t.last_status in (TaskStatus.STOPPING, TaskStatus.DEPROVISIONING, TaskStatus.STOPPED)
            for t in svc.tasks.values()
        )
        if done:
            self.backend.service_inactive(svc)
        else:
            self.poke(svc, self.ctx.settings.scheduler.interval)
