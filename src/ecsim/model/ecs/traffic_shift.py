"""Blue/green, linear and canary deployments: the lifecycle stages of a deployment that shifts
traffic between a load balancer's two target groups (docs/behaviour.md, "Blue/green, linear
and canary deployments", "Lifecycle hooks").

A part of the ECS backend, its one writer of the stages. The new revision (green) registers
in the group production traffic does not go to; the stages follow AWS's order: RECONCILE_SERVICE
(only when older revisions still run tasks), PRE_SCALE_UP, SCALE_UP (green scales to the desired
count, blue untouched), POST_SCALE_UP (once every green task is healthy), TEST_TRAFFIC_SHIFT
(the test listener rule forwards to green), POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT
(the production rule's weights move to green: at once, by linear steps, or canary then the
rest), POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (blue still running), CLEAN_UP (blue scaled in;
the scheduler completes the deployment). Every change of routing goes through the ELBv2 backend
(`set_forward_weights`), which settles the data plane first.

A stage's lifecycle hooks run when it starts; it ends once all of them succeeded (and, within
the production shift, once the step's bake time is over). A hook that fails, or times out with
the ROLLBACK action, rolls the deployment back (`EcsBackend.roll_back`), and so do the circuit
breaker and StopServiceDeployment: every rollback starts a deployment (`start_deployment`),
which first `abort`s the shift under way: the weights go back to blue, and the scheduler
scales green in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ecsim.model.ecs import messages as msg
from ecsim.model.ecs import strategy as st
from ecsim.model.ecs.strategy import LifecycleHook
from ecsim.model.elbv2.resources import forward_targets
from ecsim.sim import Timer

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.service import Deployment, Service

# What a hook's Lambda answers (chaos.set_hook_outcome): ecsim runs no function.
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
OUTCOMES = (SUCCEEDED, FAILED, TIMED_OUT)
IN_PROGRESS = "IN_PROGRESS"


@dataclass
class HookRun:
    """One invocation of a hook at a stage, as DescribeServiceDeployments'
    `lifecycleHookDetails` shows it."""

    hook_id: str
    hook: LifecycleHook
    stage: str
    status: str
    expires_at: float


@dataclass
class Shift:
    """The traffic-shifting deployment of one service, while it runs."""

    svc: Service
    green: Deployment
    blue_groups: dict[str, str]  # the live groups when it started (blue's)
    stage: str = st.PRE_SCALE_UP
    percent: float = 0.0  # production traffic to green
    generation: int = 0  # a wait's callbacks are its generation's
    pending: int = 0
    then: Callable[[], None] | None = None
    timers: list[Timer] = field(default_factory=list)
    hooks: list[HookRun] = field(default_factory=list)

    @property
    def launching(self) -> bool:
        """The scheduler launches green tasks from SCALE_UP on."""
        return st.STAGES.index(self.stage) >= st.STAGES.index(st.SCALE_UP)

    @property
    def keeps_blue(self) -> bool:
        """Blue's tasks stay until CLEAN_UP."""
        return self.stage != st.CLEAN_UP


class TrafficShifts:
    """The shifts under way, by service ARN (ECS backend state)."""

    def __init__(self, backend: EcsBackend) -> None:
        self.backend = backend
        self.ctx = backend.ctx
        self.shifts: dict[str, Shift] = {}

    # --- reading --------------------------------------------------------------------------

    def of(self, svc: Service) -> Shift | None:
        return self.shifts.get(svc.arn)

    # --- the ECS backend's calls ----------------------------------------------------------

    def place(self, svc: Service) -> None:
        """CreateService: production and test traffic go to the service's own target groups
        (each rule forwards all of it to the live group, none to the alternate)."""
        for primary, _ in svc.advanced():
            svc.live_groups[primary] = primary
        self._route(svc, svc.live_groups, None)

    def start(self, svc: Service, green: Deployment, reconcile: bool) -> None:
        """A new revision to shift traffic to: its tasks go to the groups production traffic
        does not reach, and its first stage starts."""
        for primary, _ in svc.advanced():
            green.target_group_of[primary] = svc.other_group(primary)
        shift = Shift(svc, green, dict(svc.live_groups))
        self.shifts[svc.arn] = shift
        self._enter(shift, st.RECONCILE_SERVICE if reconcile else st.PRE_SCALE_UP)

    def abort(self, svc: Service) -> None:
        """A deployment starts (a rollback, or a newer revision) while a shift runs: production
        and test traffic go back to blue, at once; the scheduler scales green in."""
        shift = self.shifts.pop(svc.arn, None)
        if shift is None:
            return
        self._cancel(shift)
        for run in shift.hooks:
            if run.status == IN_PROGRESS:
                run.status = FAILED
        svc.live_groups = dict(shift.blue_groups)
        self._route(svc, svc.live_groups, None)

    def reconcile(self, svc: Service) -> None:
        """After each full reconcile of the scheduler: SCALE_UP ends once the green revision
        runs its desired count of healthy tasks."""
        shift = self.shifts.get(svc.arn)
        if shift is None or shift.stage != st.SCALE_UP:
            return
        scheduler = self.backend.scheduler
        healthy = [
            t
            for t in svc.live_tasks()
            if t.deployment_id == shift.green.id and scheduler.is_healthy(svc, t)
        ]
        if len(healthy) >= svc.desired_count:
            self._enter(shift, st.POST_SCALE_UP)

    def completed(self, svc: Service, d: Deployment) -> None:
        """The scheduler completed the deployment (after CLEAN_UP)."""
        shift = self.shifts.get(svc.arn)
        if shift is not None and shift.green is d:
            del self.shifts[svc.arn]

    def holds_completion(self, svc: Service) -> bool:
        """A shift before CLEAN_UP is not complete, whatever the task counts say."""
        shift = self.shifts.get(svc.arn)
        return shift is not None and shift.keeps_blue

    def service_gone(self, svc: Service) -> None:
        shift = self.shifts.pop(svc.arn, None)
        if shift is not None:
            self._cancel(shift)

    # --- the stages -----------------------------------------------------------------------

    def _enter(self, shift: Shift, stage: str) -> None:
        svc, d = shift.svc, shift.green
        shift.stage = stage
        self.backend.records.stage(svc, stage)
        self.backend.scheduler.event(svc, msg.lifecycle_stage(svc.name, d.id, stage))
        if stage == st.RECONCILE_SERVICE:
            self._wait(shift, 0.0, stage, lambda: self._enter(shift, st.PRE_SCALE_UP))
        elif stage == st.PRE_SCALE_UP:
            self._wait(shift, 0.0, stage, lambda: self._enter(shift, st.SCALE_UP))
        elif stage == st.SCALE_UP:
            self.backend.scheduler.poke(svc, 0.0)
        elif stage == st.POST_SCALE_UP:
            self._wait(shift, 0.0, stage, lambda: self._enter(shift, st.TEST_TRAFFIC_SHIFT))
        elif stage == st.TEST_TRAFFIC_SHIFT:
            self._route(svc, svc.live_groups, self._green_groups(shift), test=True)
            self._wait(shift, 0.0, stage, lambda: self._enter(shift, st.POST_TEST_TRAFFIC_SHIFT))
        elif stage == st.POST_TEST_TRAFFIC_SHIFT:
            self._wait(shift, 0.0, stage, lambda: self._enter(shift, st.PRODUCTION_TRAFFIC_SHIFT))
        elif stage == st.PRODUCTION_TRAFFIC_SHIFT:
            self._wait(shift, 0.0, st.PRE_PRODUCTION_TRAFFIC_SHIFT, lambda: self._step(shift, 0))
        elif stage == st.POST_PRODUCTION_TRAFFIC_SHIFT:
            self._wait(shift, 0.0, stage, lambda: self._enter(shift, st.BAKE_TIME))
        elif stage == st.BAKE_TIME:
            bake = 60.0 * (svc.deployment_configuration.strategy.bake_minutes or 0)
            self._wait(shift, bake, None, lambda: self._enter(shift, st.CLEAN_UP))
        else:  # CLEAN_UP: production is green's now; blue scales in
            svc.live_groups = self._green_groups(shift)
            self.backend.scheduler.poke(svc, 0.0)

    def _step(self, shift: Shift, i: int) -> None:
        """Step `i` of the production traffic shift; the stage's hooks run with the first."""
        strategy = shift.svc.deployment_configuration.strategy
        steps = strategy.steps()
        shift.percent = steps[i]
        self._route(
            shift.svc, shift.blue_groups, self._green_groups(shift), shift.percent, test=True
        )
        hooks = st.PRODUCTION_TRAFFIC_SHIFT if i == 0 else None
        if i + 1 < len(steps):
            self._wait(shift, strategy.step_bake(), hooks, lambda: self._step(shift, i + 1))
        else:
            self._wait(
                shift, 0.0, hooks, lambda: self._enter(shift, st.POST_PRODUCTION_TRAFFIC_SHIFT)
            )

    def _green_groups(self, shift: Shift) -> dict[str, str]:
        return {p: shift.green.target_group_of.get(p, p) for p in shift.blue_groups}

    # --- waiting for hooks and bake times ---------------------------------------------------

    def _wait(
        self, shift: Shift, seconds: float, stage: str | None, then: Callable[[], None]
    ) -> None:
        """Go on with `then` once `seconds` passed and every hook of `stage` succeeded."""
        self._cancel(shift)
        shift.generation += 1
        hooks = [
            h
            for h in shift.svc.deployment_configuration.strategy.hooks
            if stage is not None and stage in h.stages
        ]
        shift.pending = len(hooks) + (1 if seconds > 0 else 0)
        shift.then = then
        if seconds > 0:
            shift.timers.append(self.ctx.after(seconds, self._done, shift, shift.generation))
        for hook in hooks:
            assert stage is not None
            self._invoke(shift, hook, stage)
        if shift.pending == 0:
            then()

    def _done(self, shift: Shift, generation: int) -> None:
        if self.shifts.get(shift.svc.arn) is not shift or shift.generation != generation:
            return
        shift.pending -= 1
        if shift.pending == 0 and shift.then is not None:
            shift.then()

    def _invoke(self, shift: Shift, hook: LifecycleHook, stage: str) -> None:
        """ECS calls the hook's Lambda function; what it answers is the service's hook outcome
        for the stage (SUCCEEDED unless `chaos.set_hook_outcome` said otherwise)."""
        svc = shift.svc
        outcome = svc.hook_outcomes.get(stage) or svc.hook_outcomes.get("") or SUCCEEDED
        timeout = 60.0 * hook.timeout_minutes
        run = HookRun(self.ctx.ids.uuid(), hook, stage, IN_PROGRESS, self.ctx.now + timeout)
        shift.hooks.append(run)
        self.backend.records.hooks(svc, shift.hooks)
        delay = timeout if outcome == TIMED_OUT else self.ctx.settings.scheduler.hook_duration
        shift.timers.append(
            self.ctx.after(delay, self._answered, shift, shift.generation, run, outcome)
        )

    def _answered(self, shift: Shift, generation: int, run: HookRun, outcome: str) -> None:
        if self.shifts.get(shift.svc.arn) is not shift or shift.generation != generation:
            return
        svc = shift.svc
        run.status = outcome
        if outcome == SUCCEEDED or (outcome == TIMED_OUT and run.hook.timeout_action == "CONTINUE"):
            self._done(shift, generation)
            return
        why = msg.hook_failed(run.stage) if outcome == FAILED else msg.hook_timed_out(run.stage)
        self.backend.roll_back(svc, why)

    def _cancel(self, shift: Shift) -> None:
        for timer in shift.timers:
            timer.cancel()
        shift.timers.clear()

    # --- routing (through the ELBv2 backend) ------------------------------------------------

    def _route(
        self,
        svc: Service,
        blue: dict[str, str],
        green: dict[str, str] | None,
        percent: float = 0.0,
        test: bool = False,
    ) -> None:
        """The production rule sends `percent` of its traffic to green, the rest to blue; the
        test rule all of it to green once the test traffic shift happened (`test`), else all
        of it to blue. A rule that already forwards so is left alone."""
        elb = self.backend.elb
        for primary, config in svc.advanced():
            blue_tg = blue.get(primary, primary)
            other = config["alternateTargetGroupArn"] if blue_tg == primary else primary
            green_tg = green.get(primary, other) if green is not None else other
            wanted = [
                (config.get("testListenerRule"), 100.0 if test else 0.0),
                (config["productionListenerRule"], percent),
            ]
            for arn, share in wanted:
                rule = elb.rule(arn) if arn else None
                if rule is None:
                    continue
                weights = _weights(blue_tg, green_tg, share)
                if forward_targets(rule.actions) != weights:
                    elb.set_forward_weights(rule, weights)


def _weights(blue: str, green: str, percent: float) -> list[tuple[str, int]]:
    """The forward action's (group, weight) pairs for `percent` to green: whole percents as
    weights out of 100, tenths (a 0.1 % canary) out of 1000
    (docs/behaviour.md, "Blue/green, linear and canary deployments")."""
    if float(percent).is_integer():
        g = int(percent)
        return [(blue, 100 - g), (green, g)]
    g = round(percent * 10)
    return [(blue, 1000 - g), (green, g)]
