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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ecsim.model.aws.tags import TagStore
from ecsim.model.elbv2.endpoints import Endpoints
from ecsim.model.elbv2.health import (
    DESCRIPTIONS,
    NOT_IN_ENABLED_ZONE,
    ProbeResult,
    Reason,
    TargetHealthState,
)
from ecsim.model.elbv2.resources import (
    HealthCheck,
    Listener,
    LoadBalancer,
    LoadBalancerState,
    Rule,
    Target,
    TargetGroup,
    forward_targets,
)
from ecsim.model.events import ForwardWeightsChanged, TargetHealthChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ec2.network import Subnet

HealthListener = Callable[[TargetGroup, Target, TargetHealthState], None]

_ROUTABLE = (TargetHealthState.HEALTHY, TargetHealthState.UNHEALTHY, TargetHealthState.INITIAL)
# The state every probe of a steady fleet tests for, bound once: on Python 3.11 reading an
# enum member off its class goes through a descriptor (about 0.1 us, a seventh of a probe).
_HEALTHY = TargetHealthState.HEALTHY


class _Owners:
    """Which load balancer uses each target group: the first one, in the order load balancers
    were created, whose listener rules forward to it; kept up to date one load balancer at a
    time (`update`), so that a change of one rule costs the rules of its load balancer, not
    those of the region."""

    def __init__(self, lbs: dict[str, LoadBalancer]) -> None:
        self.lbs = lbs
        self.uses: dict[str, set[str]] = {}  # load balancer ARN -> target group ARNs
        self.users: dict[str, set[str]] = {}  # target group ARN -> load balancer ARNs
        self.owner: dict[str, LoadBalancer] = {}
        for lb in lbs.values():
            self.update(lb)

    def update(self, lb: LoadBalancer) -> set[str]:
        """`lb`'s listeners or rules changed, or it was deleted: the target groups whose
        owner changed."""
        used = _used_groups(lb) if self.lbs.get(lb.arn) is lb else set()
        before = self.uses.pop(lb.arn, set())
        if used:
            self.uses[lb.arn] = used
        changed = set()
        for arn in before ^ used:
            users = self.users.setdefault(arn, set())
            if arn in used:
                users.add(lb.arn)
            else:
                users.discard(lb.arn)
            old = self.owner.get(arn)
            new = self._first(users)
            if new is None:
                self.owner.pop(arn, None)
                del self.users[arn]
            else:
                self.owner[arn] = new
            if new is not old:
                changed.add(arn)
        return changed

    def _first(self, users: set[str]) -> LoadBalancer | None:
        if len(users) == 1:
            return self.lbs[next(iter(users))]
        return next((lb for arn, lb in self.lbs.items() if arn in users), None)


def _used_groups(lb: LoadBalancer) -> set[str]:
    return {
        arn
        for listener in lb.listeners.values()
        for rule in listener.ordered_rules()
        for arn, _ in forward_targets(rule.actions)
    }


class ElbBackend:
    """All load balancers and target groups of the region, and their health checks."""

    def __init__(self, ctx: SimContext, endpoints: Endpoints[Any]) -> None:
        self.ctx = ctx
        self.endpoints = endpoints
        self._addresses = endpoints.items()  # who answers a probe to each address
        self.load_balancers: dict[str, LoadBalancer] = {}
        self.target_groups: dict[str, TargetGroup] = {}
        self._owners = _Owners(self.load_balancers)  # see load_balancer_of
        self.tags = TagStore()  # of every resource above, their listeners and rules, by ARN
        self.health_listeners: list[HealthListener] = []
        self._tg_order: dict[str, int] = {}  # target group ARN -> when it was created
        self._rng = ctx.streams.scalar("elb")

    # --- topology -------------------------------------------------------------------------

    def load_balancer_of(self, tg: TargetGroup) -> LoadBalancer | None:
        """The load balancer whose listener rules forward to `tg` (the first one, scanning
        load balancers, listeners and their rules in order), or None.

        Answered from an index that `topology_changed()`, which every create/modify/delete
        of a load balancer, listener or rule calls, keeps up to date: scanning every rule for
        every group made building a world with many groups quadratic.
        """
        return self._owners.owner.get(tg.arn)

    def _listener_owner(self, listener_arn: str) -> LoadBalancer | None:
        return next(
            (lb for lb in self.load_balancers.values() if listener_arn in lb.listeners), None
        )

    def rule(self, arn: str) -> Rule | None:
        """The listener rule with this ARN, or None."""
        for lb in self.load_balancers.values():
            for listener in lb.listeners.values():
                for rule in listener.ordered_rules():
                    if rule.arn == arn:
                        return rule
        return None

    def in_use(self, tg: TargetGroup) -> bool:
        return self.load_balancer_of(tg) is not None

    # --- the resources, as the API creates, changes and deletes them ------------------------

    def add_load_balancer(
        self,
        lb: LoadBalancer,
        node_ips: list[tuple[str, str]],
        defaults: Mapping[str, str],
        provisioning: float,
    ) -> None:
        """A new load balancer with its nodes' addresses, active after `provisioning`
        seconds; `defaults`: attributes it has unless given."""
        for key, value in defaults.items():
            lb.attributes.setdefault(key, value)
        lb.node_ips = node_ips
        self.load_balancers[lb.arn] = lb
        self.ctx.after(provisioning, self.activate, lb)

    def remove_load_balancer(self, lb: LoadBalancer) -> list[tuple[str, str]]:
        """DeleteLoadBalancer: its listeners and rules go with it. Answers the (subnet,
        address) of its nodes, for EC2 to release."""
        self.endpoints.will_change()
        for listener in list(lb.listeners.values()):
            self._drop_listener_tags(listener)
        self.tags.drop(lb.arn)
        lb.listeners.clear()
        node_ips, lb.node_ips = lb.node_ips, []
        del self.load_balancers[lb.arn]
        self.topology_changed(lb)
        return node_ips

    def set_load_balancer_attributes(self, lb: LoadBalancer, merged: dict[str, str]) -> None:
        self.endpoints.will_change()
        lb.attributes.update(merged)

    def add_target_group(self, tg: TargetGroup, defaults: Mapping[str, str]) -> None:
        for key, value in defaults.items():
            tg.attributes.setdefault(key, value)
        self.target_groups[tg.arn] = tg
        self._tg_order[tg.arn] = len(self._tg_order)

    def set_health_check(self, tg: TargetGroup, health: HealthCheck) -> None:
        """Running checks use the new settings from their next probe."""
        tg.health = health

    def set_target_group_attributes(self, tg: TargetGroup, merged: dict[str, str]) -> None:
        self.endpoints.will_change()
        tg.attributes.update(merged)

    def set_listener_attributes(self, listener: Listener, changed: dict[str, str]) -> None:
        """ModifyListenerAttributes (docs/behaviour.md, "Listener attributes")."""
        listener.attributes.update(changed)

    def set_subnets(
        self, lb: LoadBalancer, subnets: list[Subnet], nodes: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """SetSubnets: the load balancer's zones and nodes are those of `subnets` now;
        answers the (subnet, address) of the nodes it no longer has, for EC2 to release
        (docs/behaviour.md, "Load balancer subnets and security groups")."""
        self.endpoints.will_change()
        gone = [node for node in lb.node_ips if node not in nodes]
        lb.subnets = [s.id for s in subnets]
        lb.availability_zones = [(s.az, s.id) for s in subnets]
        lb.node_ips = list(nodes)
        self.topology_changed(lb, zones=True)
        return gone

    def set_security_groups(self, lb: LoadBalancer, groups: list[str]) -> None:
        lb.security_groups = list(groups)

    def add_listener(self, lb: LoadBalancer, listener: Listener) -> None:
        self.endpoints.will_change()
        lb.listeners[listener.arn] = listener
        self.topology_changed(lb)

    def modify_listener(
        self,
        listener: Listener,
        port: int | None,
        protocol: str | None,
        actions: list[dict[str, Any]] | None,
    ) -> None:
        self.endpoints.will_change()
        if port is not None:
            listener.port = port
        if protocol is not None:
            listener.protocol = protocol
        if actions is not None:
            listener.default_rule.actions = actions
        self.topology_changed(self.load_balancers[listener.load_balancer_arn])

    def remove_listener(self, listener: Listener) -> None:
        self.endpoints.will_change()
        self._drop_listener_tags(listener)
        lb = self.load_balancers[listener.load_balancer_arn]
        del lb.listeners[listener.arn]
        self.topology_changed(lb)

    def add_rule(self, listener: Listener, rule: Rule) -> None:
        self.endpoints.will_change()
        listener.rules.append(rule)
        self.topology_changed(self.load_balancers[listener.load_balancer_arn])

    def modify_rule(
        self,
        rule: Rule,
        conditions: list[dict[str, Any]] | None,
        actions: list[dict[str, Any]] | None,
    ) -> None:
        self.endpoints.will_change()
        if conditions is not None:
            rule.conditions = conditions
        if actions is not None:
            rule.actions = actions
        self.topology_changed(self._listener_owner(rule.listener_arn))

    def set_forward_weights(self, rule: Rule, weights: list[tuple[str, int]]) -> None:
        """ECS shifts traffic: the rule's forward action sends to these (target group,
        weight) pairs from now on, its stickiness kept; DescribeRules shows the weights and
        the data plane routes by them from this instant
        (docs/behaviour.md, "Blue/green, linear and canary deployments")."""
        self.endpoints.will_change()
        for action in rule.actions:
            if action.get("Type") != "forward":
                continue
            config = action.get("ForwardConfig") or {}
            stickiness = config.get("TargetGroupStickinessConfig", {"Enabled": False})
            action.pop("TargetGroupArn", None)
            action["ForwardConfig"] = {
                "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in weights],
                "TargetGroupStickinessConfig": stickiness,
            }
        self.ctx.emit(ForwardWeightsChanged(self.ctx.now, rule.arn, tuple(weights)))
        self.topology_changed(self._listener_owner(rule.listener_arn))

    def set_rule_priorities(self, changes: list[tuple[Rule, int]]) -> None:
        self.endpoints.will_change()
        for rule, priority in changes:
            rule.priority = priority
        self.topology_changed(
            *{
                rule.listener_arn: self._listener_owner(rule.listener_arn) for rule, _ in changes
            }.values()
        )

    def remove_rule(self, listener: Listener, rule: Rule) -> None:
        self.endpoints.will_change()
        self.tags.drop(rule.arn)
        listener.rules.remove(rule)
        self.topology_changed(self.load_balancers[listener.load_balancer_arn])

    # --- tags (docs/behaviour.md, "Tags") ---------------------------------------------------

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        """AddTags, and the `Tags` of a create call: a key it has takes the new value."""
        self.tags.set(arn, tags)

    def untag(self, arn: str, keys: list[str]) -> None:
        self.tags.remove(arn, keys)

    def _drop_listener_tags(self, listener: Listener) -> None:
        for rule in listener.ordered_rules():
            self.tags.drop(rule.arn)
        self.tags.drop(listener.arn)

    def activate(self, lb: LoadBalancer) -> None:
        """Provisioning is over: requests from now on reach the listeners."""
        self.endpoints.will_change()
        lb.state = LoadBalancerState.ACTIVE

    def topology_changed(self, *lbs: LoadBalancer | None, zones: bool = False) -> None:
        """Listeners or rules of `lbs` changed (or their zones, `zones`), or they were
        deleted: start or stop health checks of the target groups whose load balancer changed
        (or of all the groups of `lbs`, for `zones`), in the order the groups were created.

        Every other group's targets are as they were: registration and every earlier change
        left a target `unused` exactly when its group has no load balancer or its zone is not
        one of the load balancer's."""
        self.endpoints.will_change()
        index = self._owners
        changed: set[str] = set()
        for lb in lbs:
            if lb is None:
                continue
            changed |= index.update(lb)
            if zones:
                changed |= {arn for arn in index.uses.get(lb.arn, ()) if index.owner[arn] is lb}
        order = self._tg_order
        for arn in sorted(changed, key=lambda a: order.get(a, -1)):
            tg = self.target_groups.get(arn)
            if tg is None:
                continue
            lb = self.load_balancer_of(tg)
            for target in tg.targets.values():
                if target.state is TargetHealthState.DRAINING:
                    continue
                if lb is None or (target.az is not None and target.az not in lb.zones):
                    if target.state is not TargetHealthState.UNUSED:
                        self._cancel(target)
                        self._set_not_in_use(tg, target, lb)
                    elif target.description != _not_in_use_description(lb):
                        self._set_not_in_use(tg, target, lb)
                elif target.state is TargetHealthState.UNUSED:
                    self._begin_checks(tg, target)

    # --- registration ---------------------------------------------------------------------

    def register(self, tg: TargetGroup, target_id: str, port: int, az: str | None) -> Target:
        existing = tg.targets.get((target_id, port))
        if existing is not None and existing.state is not TargetHealthState.DRAINING:
            return existing
        if existing is not None:
            self._cancel(existing)
        self.endpoints.will_change()
        target = Target(target_id, port, az, registered_at=self.ctx.now)
        tg.targets[target.key] = target
        lb = self.load_balancer_of(tg)
        if lb is None or (az is not None and az not in lb.zones):
            self._set_not_in_use(tg, target, lb)
        else:
            self._begin_checks(tg, target)
        return target

    def register_targets(self, tg: TargetGroup, targets: list[tuple[str, int, str | None]]) -> None:
        """RegisterTargets: each (ID, port, AZ); a target already registered stays as it is."""
        self.endpoints.will_change()
        for target_id, port, az in targets:
            self.register(tg, target_id, port, az)

    def deregister_targets(self, tg: TargetGroup, targets: list[tuple[str, int]]) -> None:
        self.endpoints.will_change()
        for target_id, port in targets:
            self.deregister(tg, target_id, port)

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
        target.timer = self.ctx.kernel.after(
            tg.deregistration_delay, self._drained, tg, target, target.generation
        )
        return target

    def _drained(self, tg: TargetGroup, target: Target, generation: int) -> None:
        if target.generation != generation or tg.targets.get(target.key) is not target:
            return
        self.endpoints.drained(tg.arn, target.id, target.port)
        del tg.targets[target.key]
        self._set_removed(tg, target)

    def _set_not_in_use(self, tg: TargetGroup, target: Target, lb: LoadBalancer | None) -> None:
        """`unused` / `Target.NotInUse`, with the description of its case
        (docs/behaviour.md, "Target health states and reasons")."""
        self._set(
            tg, target, TargetHealthState.UNUSED, Reason.NOT_IN_USE, _not_in_use_description(lb)
        )

    def _set_removed(self, tg: TargetGroup, target: Target) -> None:
        target.state, target.reason = TargetHealthState.UNUSED, Reason.NOT_REGISTERED
        target.description = DESCRIPTIONS[Reason.NOT_REGISTERED]
        self._emit(tg, target)
        self._notify(tg, target, TargetHealthState.UNUSED)

    # --- health checks --------------------------------------------------------------------

    def _begin_checks(self, tg: TargetGroup, target: Target) -> None:
        target.ok_streak = target.fail_streak = 0
        self._set(tg, target, TargetHealthState.INITIAL, Reason.REGISTRATION_IN_PROGRESS)
        lo, hi = self.ctx.settings.elb.registration
        target.timer = self.ctx.kernel.after(
            self._rng.uniform(lo, hi), self._registered, tg, target, target.generation
        )

    def _registered(self, tg: TargetGroup, target: Target, generation: int) -> None:
        if target.generation != generation:
            return
        self._set(tg, target, TargetHealthState.INITIAL, Reason.INITIAL_HEALTH_CHECKING)
        interval = self._probe(tg, target, generation)
        if interval is not None:
            target.timer = self.ctx.kernel.periodic(interval, self._probe, tg, target, generation)

    def _probe(self, tg: TargetGroup, target: Target, generation: int) -> float | None:
        """One health check; answers when the next one is due (`Kernel.periodic`). An
        address nobody owns does not answer (a timeout)."""
        if target.generation != generation:
            return None
        hc = tg.health
        port = target.port if hc.port == "traffic-port" else int(hc.port)
        kernel = self.ctx.kernel
        timeout = float(hc.timeout)
        endpoint = self._addresses.get(target.id)
        if endpoint is None:
            result = ProbeResult(False, Reason.TIMEOUT, duration=timeout)
        else:
            result = endpoint.probe(kernel.now, port, hc.path, timeout, hc.matcher)
        if result.passed and target.state is _HEALTHY:
            # The verdict of a passing probe on a healthy target only counts the pass; it
            # is counted now rather than in a kernel event of its own (most probes of a
            # large fleet are such). Nothing reads the streaks but `_verdict`, and a change
            # of state before the answer (deregistration, topology) cancels the target's
            # checks and resets the streaks when checking starts again (`_begin_checks`).
            target.ok_streak += 1
            target.fail_streak = 0
        else:
            kernel.after(result.duration, self._verdict, tg, target, generation, result)
        return float(hc.interval)

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
            and (t.slow_start_until is None or t.slow_start_until <= self.ctx.now)
        ]
        self.endpoints.will_change()
        if duration > 0 and others:
            # Slow start needs at least one healthy target not in slow start
            # (docs/behaviour.md, "Slow start").
            target.slow_start_from = self.ctx.now
            target.slow_start_until = self.ctx.now + duration
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
            self.endpoints.will_change()
        target.state = state
        target.reason = reason
        target.description = description or (DESCRIPTIONS.get(reason) if reason else None)
        if state is not TargetHealthState.HEALTHY:
            target.slow_start_until = None
        self._emit(tg, target)
        if previous != state:
            self._notify(tg, target, state)

    def _emit(self, tg: TargetGroup, target: Target) -> None:
        self.ctx.emit(
            TargetHealthChanged(
                self.ctx.now,
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
        self.endpoints.will_change()
        for target in list(tg.targets.values()):
            self._cancel(target)
            self._set_removed(tg, target)
        tg.targets.clear()
        del self.target_groups[tg.arn]
        self.tags.drop(tg.arn)


def _not_in_use_description(lb: LoadBalancer | None) -> str:
    """No load balancer uses the group, or the target's AZ is not enabled for the one that
    does: the two cases of `Target.NotInUse`, each with its own description."""
    return DESCRIPTIONS[Reason.NOT_IN_USE] if lb is None else NOT_IN_ENABLED_ZONE
