"""The ALB's control loop: target registration, health checking and draining.

Each registered target of a target group that a listener uses is probed every
`HealthCheckIntervalSeconds`; a probe's verdict arrives when the target answers or the
timeout passes. A new target is in service after one passing check; after that it takes
`UnhealthyThresholdCount` consecutive failures to turn unhealthy and `HealthyThresholdCount`
consecutive passes to come back
(docs/behaviour.md, "Target health checks"). Deregistration drains for
`deregistration_delay.timeout_seconds`; requests still running when it ends get 502
(docs/behaviour.md, "Deregistration delay").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ecsim.model.elbv2.health import DESCRIPTIONS, ProbeResult, Reason, TargetHealthState
from ecsim.model.elbv2.resources import (
    LoadBalancer,
    LoadBalancerState,
    Target,
    TargetGroup,
    forward_targets,
)
from ecsim.model.events import TargetHealthChanged

if TYPE_CHECKING:
    from ecsim.model.world import World

HealthListener = Callable[[TargetGroup, Target, TargetHealthState], None]

_ROUTABLE = (TargetHealthState.HEALTHY, TargetHealthState.UNHEALTHY, TargetHealthState.INITIAL)


class ElbBackend:
    """All load balancers and target groups of the region, and their health checks."""

    _owners: dict[str, LoadBalancer] | None = None  # see load_balancer_of

    def __init__(self, world: World) -> None:
        self.world = world
        self.load_balancers: dict[str, LoadBalancer] = {}
        self.target_groups: dict[str, TargetGroup] = {}
        self.health_listeners: list[HealthListener] = []
        self._rng = world.streams.scalar("elb")

    # --- topology -------------------------------------------------------------------------

    def load_balancer_of(self, tg: TargetGroup) -> LoadBalancer | None:
        """The load balancer whose listener rules forward to `tg` (the first one, scanning
        load balancers, listeners and their rules in order), or None.

        Answered from an index built on first use and dropped by `topology_changed()`, which
        every create/modify/delete of a load balancer, listener or rule calls: scanning every
        rule for every group made building a world with many groups quadratic.
        """
        owners = self._owners
        if owners is None:
            owners = self._owners = {}
            for lb in self.load_balancers.values():
                for listener in lb.listeners.values():
                    for rule in listener.ordered_rules():
                        for arn, _ in forward_targets(rule.actions):
                            owners.setdefault(arn, lb)
        return owners.get(tg.arn)

    def in_use(self, tg: TargetGroup) -> bool:
        return self.load_balancer_of(tg) is not None

    def activate(self, lb: LoadBalancer) -> None:
        """Provisioning is over: requests from now on reach the listeners."""
        self.world.dataplane.flush()
        lb.state = LoadBalancerState.ACTIVE

    def topology_changed(self) -> None:
        """Listeners or rules changed: start or stop health checks of the affected groups."""
        self._owners = None
        self.world.dataplane.flush()
        for tg in self.target_groups.values():
            lb = self.load_balancer_of(tg)
            for target in tg.targets.values():
                if target.state is TargetHealthState.DRAINING:
                    continue
                if lb is None or (target.az is not None and target.az not in lb.zones):
                    if target.state is not TargetHealthState.UNUSED:
                        self._cancel(target)
                        self._set(tg, target, TargetHealthState.UNUSED, Reason.NOT_IN_USE)
                elif target.state is TargetHealthState.UNUSED:
                    self._begin_checks(tg, target)

    # --- registration ---------------------------------------------------------------------

    def register(self, tg: TargetGroup, target_id: str, port: int, az: str | None) -> Target:
        existing = tg.targets.get((target_id, port))
        if existing is not None and existing.state is not TargetHealthState.DRAINING:
            return existing
        if existing is not None:
            self._cancel(existing)
        self.world.dataplane.flush()
        target = Target(target_id, port, az, registered_at=self.world.now)
        tg.targets[target.key] = target
        lb = self.load_balancer_of(tg)
        if lb is None or (az is not None and az not in lb.zones):
            self._set(tg, target, TargetHealthState.UNUSED, Reason.NOT_IN_USE)
        else:
            self._begin_checks(tg, target)
        return target

    def deregister(self, tg: TargetGroup, target_id: str, port: int) -> Target | None:
        target = tg.targets.get((target_id, port))
        if target is None or target.state is TargetHealthState.DRAINING:
            return target
        self._cancel(target)
        if target.state is TargetHealthState.UNUSED:
            del tg.targets[target.key]
            self._set_removed(tg, target)
            return target
        self._set(tg, target, TargetHealthState.DRAINING, Reason.DEREGISTRATION_IN_PROGRESS)
        target.slow_start_until = None
        target.timer = self.world.kernel.after(
            tg.deregistration_delay, self._drained, tg, target, target.generation
        )
        return target

    def _drained(self, tg: TargetGroup, target: Target, generation: int) -> None:
        if target.generation != generation or tg.targets.get(target.key) is not target:
            return
        self.world.dataplane.drain_expired(tg.arn, target.id, target.port)
        del tg.targets[target.key]
        self._set_removed(tg, target)

    def _set_removed(self, tg: TargetGroup, target: Target) -> None:
        target.state, target.reason = TargetHealthState.UNUSED, Reason.NOT_REGISTERED
        target.description = DESCRIPTIONS[Reason.NOT_REGISTERED]
        self._emit(tg, target)
        self._notify(tg, target, TargetHealthState.UNUSED)

    # --- health checks --------------------------------------------------------------------

    def _begin_checks(self, tg: TargetGroup, target: Target) -> None:
        target.ok_streak = target.fail_streak = 0
        self._set(tg, target, TargetHealthState.INITIAL, Reason.REGISTRATION_IN_PROGRESS)
        lo, hi = self.world.settings.elb.registration
        target.timer = self.world.kernel.after(
            self._rng.uniform(lo, hi), self._registered, tg, target, target.generation
        )

    def _registered(self, tg: TargetGroup, target: Target, generation: int) -> None:
        if target.generation != generation:
            return
        self._set(tg, target, TargetHealthState.INITIAL, Reason.INITIAL_HEALTH_CHECKING)
        self._probe(tg, target, target.generation)

    def _probe(self, tg: TargetGroup, target: Target, generation: int) -> None:
        if target.generation != generation:
            return
        hc = tg.health
        port = target.port if hc.port == "traffic-port" else int(hc.port)
        result = self.world.probe(target.id, port, hc.path, float(hc.timeout), hc.matcher)
        kernel = self.world.kernel
        if result.passed and target.state is TargetHealthState.HEALTHY:
            # The verdict of a passing probe on a healthy target only counts the pass; it
            # is counted now rather than in a kernel event of its own (most probes of a
            # large fleet are such). Nothing reads the streaks but `_verdict`, and a change
            # of state before the answer (deregistration, topology) cancels the target's
            # checks and resets the streaks when checking starts again (`_begin_checks`).
            target.ok_streak += 1
            target.fail_streak = 0
        else:
            kernel.after(result.duration, self._verdict, tg, target, generation, result)
        target.timer = kernel.after(float(hc.interval), self._probe, tg, target, generation)

    def _verdict(
        self, tg: TargetGroup, target: Target, generation: int, result: ProbeResult
    ) -> None:
        if target.generation != generation or target.state is TargetHealthState.DRAINING:
            return
        hc = tg.health
        if result.passed:
            target.ok_streak += 1
            target.fail_streak = 0
            if target.state is TargetHealthState.INITIAL or (
                target.state is TargetHealthState.UNHEALTHY
                and target.ok_streak >= hc.healthy_threshold
            ):
                self._become_healthy(tg, target)
            return
        target.fail_streak += 1
        target.ok_streak = 0
        if target.state is TargetHealthState.UNHEALTHY:
            if (target.reason, target.description) != (result.reason, result.description):
                self._set(
                    tg, target, TargetHealthState.UNHEALTHY, result.reason, result.description
                )
        elif target.fail_streak >= hc.unhealthy_threshold:
            self._set(tg, target, TargetHealthState.UNHEALTHY, result.reason, result.description)

    def _become_healthy(self, tg: TargetGroup, target: Target) -> None:
        duration = tg.slow_start
        others = [
            t
            for t in tg.targets.values()
            if t is not target
            and t.state is TargetHealthState.HEALTHY
            and (t.slow_start_until is None or t.slow_start_until <= self.world.now)
        ]
        self.world.dataplane.flush()
        if duration > 0 and others:
            # Slow start needs at least one healthy target not in slow start
            # (docs/behaviour.md, "Slow start").
            target.slow_start_from = self.world.now
            target.slow_start_until = self.world.now + duration
        self._set(tg, target, TargetHealthState.HEALTHY, None)

    def _cancel(self, target: Target) -> None:
        target.generation += 1
        if target.timer is not None:
            target.timer.cancel()
            target.timer = None

    # --- state changes --------------------------------------------------------------------

    def _set(
        self,
        tg: TargetGroup,
        target: Target,
        state: TargetHealthState,
        reason: Reason | None,
        description: str | None = None,
    ) -> None:
        previous = target.state
        if previous != state and (previous in _ROUTABLE or state in _ROUTABLE):
            self.world.dataplane.flush()
        target.state = state
        target.reason = reason
        target.description = description or (DESCRIPTIONS.get(reason) if reason else None)
        if state is not TargetHealthState.HEALTHY:
            target.slow_start_until = None
        self._emit(tg, target)
        if previous != state:
            self._notify(tg, target, state)

    def _emit(self, tg: TargetGroup, target: Target) -> None:
        self.world.emit(
            TargetHealthChanged(
                self.world.now,
                tg.arn,
                target.id,
                target.port,
                target.state.value,
                target.reason.value if target.reason else None,
                target.description,
            )
        )

    def _notify(self, tg: TargetGroup, target: Target, state: TargetHealthState) -> None:
        for listener in self.health_listeners:
            listener(tg, target, state)

    def forget_target_group(self, tg: TargetGroup) -> None:
        """DeleteTargetGroup: its targets are gone at once (no listener used the group)."""
        self.world.dataplane.flush()
        for target in list(tg.targets.values()):
            self._cancel(target)
            self._set_removed(tg, target)
        tg.targets.clear()
        del self.target_groups[tg.arn]
