"""How the ALB picks a target for a request, frozen between two control-plane events.

A `Snapshot` holds, per load balancer, what each kind of request (host, path) resolves to
through the listener's rules
(docs/behaviour.md, "Listener rules"), and per target group the targets a request may
go to: the healthy ones, or, when fewer than
`target_group_health.unhealthy_state_routing.minimum_healthy_targets.count` or `.percentage`
of them are healthy, all of them (fail-open; docs/behaviour.md, "Fail-open"). No target at all means 503
(docs/behaviour.md, "ALB-generated answers").

A pool also carries, per target, how its address answers (`Endpoint`: serving, refused,
hanging, unreachable) and its app's profile, both constant until the next control-plane event.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ecsim.model.ecs.task import EndpointMode
from ecsim.model.elbv2.health import TargetHealthState
from ecsim.model.elbv2.resources import (
    Listener,
    LoadBalancer,
    LoadBalancerState,
    LoadBalancingAlgorithm,
    Rule,
    TargetGroup,
    forward_targets,
)
from ecsim.model.elbv2.tghealth import routing_fails_open

if TYPE_CHECKING:
    from ecsim.model.dataplane.engine import DataPlane

_MODES = {
    EndpointMode.SERVING: 0,
    EndpointMode.REFUSED: 1,
    EndpointMode.HANGING: 2,
    EndpointMode.UNREACHABLE: 3,
}


@dataclass(frozen=True, slots=True)
class RequestKind:
    """One kind of request a client sends: a path and an optional Host header, with a weight."""

    path: str = "/"
    host: str | None = None
    weight: float = 1.0


# How the address behind a target answers (ecs.task.EndpointMode), as small integers.
SERVING, REFUSED, HANGING, UNREACHABLE = 0, 1, 2, 3


@dataclass
class Pool:
    """The targets one target group may send to right now, and how each of them answers."""

    tg: TargetGroup
    slots: npt.NDArray[np.int64]  # data-plane slot of each routable target
    ips: list[str]
    ip_index: npt.NDArray[np.int64]  # data-plane IP index of each target
    fail_open: bool
    algorithm: LoadBalancingAlgorithm
    slow_from: npt.NDArray[np.float64]  # slow-start window per target (nan: not in slow start)
    slow_until: npt.NDArray[np.float64]
    mode: npt.NDArray[np.int64]  # SERVING, REFUSED, HANGING or UNREACHABLE
    log_mu: npt.NDArray[np.float64]  # the app's answer time: lognormal(log_mu, sigma)
    sigma: npt.NDArray[np.float64]
    err: npt.NDArray[np.float64]  # the app's error rate (500)
    capacity: npt.NDArray[np.float64]  # requests per second before the app queues
    delay: npt.NDArray[np.float64]  # what the network adds to each answer (FIS latency fault)
    loss: npt.NDArray[np.float64]  # share of the task's packets lost (FIS packet-loss fault)
    classes: npt.NDArray[np.int64]  # targets that answer a request alike share a class
    class_rep: list[int]  # one target of each class

    @property
    def size(self) -> int:
        return len(self.ips)

    @property
    def in_slow_start(self) -> bool:
        return bool(np.any(~np.isnan(self.slow_until)))

    @property
    def slow_start_end(self) -> float:
        """When the last slow start of the pool ends (-inf: none)."""
        ends = self.slow_until[~np.isnan(self.slow_until)]
        return float(ends.max()) if len(ends) else -math.inf

    @property
    def uniform(self) -> bool:
        """Every target serves, with the same app profile."""
        return len(self.class_rep) == 1 and self.size > 0 and int(self.mode[0]) == SERVING


@dataclass
class Action:
    """What a rule does with a request: forward to weighted pools, or answer itself."""

    rule_arn: str | None
    listener_arn: str | None
    pools: list[Pool] = field(default_factory=list)
    weights: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    fixed_status: int | None = None  # fixed-response / redirect / no listener
    why: str = ""


def _matches(rule: Rule, kind: RequestKind) -> bool:
    for cond in rule.conditions:
        field_name = cond.get("Field")
        values = list(cond.get("Values") or [])
        if field_name == "path-pattern":
            values += (cond.get("PathPatternConfig") or {}).get("Values", [])
            if not any(fnmatch.fnmatchcase(kind.path, v) for v in values):
                return False
        elif field_name == "host-header":
            values += (cond.get("HostHeaderConfig") or {}).get("Values", [])
            host = (kind.host or "").lower()
            if not any(fnmatch.fnmatchcase(host, v.lower()) for v in values):
                return False
        else:
            # Conditions on headers, methods, query strings and source IPs: ecsim's clients
            # send none of them, so such a rule never matches.
            return False
    return True


def _fixed(action: dict[str, Any]) -> int | None:
    if action.get("Type") == "fixed-response":
        return int((action.get("FixedResponseConfig") or {}).get("StatusCode", 200))
    if action.get("Type") == "redirect":
        code = (action.get("RedirectConfig") or {}).get("StatusCode", "HTTP_301")
        return int(str(code).removeprefix("HTTP_"))
    return None


class Snapshot:
    """The routing of one world at one instant."""

    def __init__(self, dp: DataPlane, at: float) -> None:
        self.dp = dp
        self.at = at  # the start of the batch this routing serves
        self._pools: dict[str, Pool] = {}
        self._rules: dict[str, list[Rule]] = {}
        self._content: dict[str, int] = {}

    def pool(self, tg: TargetGroup) -> Pool:
        """The targets a request to `tg` may go to now. The last snapshot's pool of `tg` when
        everything it is made of is the same (`_rows`): building its arrays costs several
        times what comparing does, and most target groups are as they were."""
        cached = self._pools.get(tg.arn)
        if cached is not None:
            return cached
        fail_open, rows = self._rows(tg)
        made = (tg, tg.algorithm, fail_open, rows)
        memo = self.dp.pool_memo
        last = memo.get(tg.arn)
        if last is not None and last[0] == made:
            pool = last[1]
        else:
            pool = self._build(*made)
            memo[tg.arn] = (made, pool)
        self._pools[tg.arn] = pool
        return pool

    def _rows(self, tg: TargetGroup) -> tuple[bool, list[_Row]]:
        """Whether `tg` fails open, and what a pool is made of per target it may send to:
        address, port, how the address answers (`_Answer`), the app's capacity, and the
        target's slow-start window (None: not in slow start)."""
        settings = self.dp.ctx.settings.elb
        healthy = [t for t in tg.targets.values() if t.state is TargetHealthState.HEALTHY]
        fail_open = routing_fails_open(tg)
        chosen = healthy
        if fail_open:
            allowed = {TargetHealthState.HEALTHY, TargetHealthState.UNHEALTHY}
            if settings.fail_open_includes_initial:
                allowed.add(TargetHealthState.INITIAL)
            chosen = [t for t in tg.targets.values() if t.state in allowed]
            fail_open = any(t.state is not TargetHealthState.HEALTHY for t in chosen)
        now = self.at
        endpoints = self.dp.endpoints.items()
        rows: list[_Row] = []
        for target in chosen:
            ip, port = target.id, target.port
            task = endpoints.get(ip)
            key: _Answer
            if task is None:
                key = (UNREACHABLE, 0.0, 0.0, 0.0, 0.0, 0.0)
                cap = math.inf
            else:
                m = _MODES[task.mode_on(port)]
                if m == SERVING and port != task.port:
                    m = REFUSED
                p = task.profile
                key = (
                    m,
                    p.log_mu,
                    p.latency_sigma,
                    p.error_rate,
                    task.network_delay,
                    task.packet_loss,
                )
                cap = task.capacity
            until = target.slow_start_until
            window = (target.slow_start_from, until) if until and until > now else None
            rows.append((ip, port, key, cap, window))
        return fail_open, rows

    def _build(
        self,
        tg: TargetGroup,
        algorithm: LoadBalancingAlgorithm,
        fail_open: bool,
        rows: list[_Row],
    ) -> Pool:
        """A pool's arrays from its rows (`_rows`)."""
        slot, ip_index = self.dp.slot, self.dp.ip
        nan = math.nan
        slots, ip_ids, slow_from, slow_until = [], [], [], []
        classes: list[int] = []
        class_rep: list[int] = []
        kinds: dict[_Answer, int] = {}
        for j, (ip, port, key, _, window) in enumerate(rows):
            slots.append(slot(tg.arn, ip, port))
            ip_ids.append(ip_index(ip))
            if window is None:
                slow_from.append(nan)
                slow_until.append(nan)
            else:
                start, until = window
                slow_from.append(start if start is not None else nan)
                slow_until.append(until)
            c = kinds.get(key)
            if c is None:
                c = kinds[key] = len(class_rep)
                class_rep.append(j)
            classes.append(c)
        keys = [row[2] for row in rows]

        def column(k: int) -> npt.NDArray[np.float64]:
            return np.array([key[k] for key in keys], dtype=np.float64)

        return Pool(
            tg=tg,
            slots=np.array(slots, dtype=np.int64),
            ips=[row[0] for row in rows],
            ip_index=np.array(ip_ids, dtype=np.int64),
            fail_open=fail_open,
            algorithm=algorithm,
            slow_from=np.array(slow_from, dtype=np.float64),
            slow_until=np.array(slow_until, dtype=np.float64),
            mode=np.array([key[0] for key in keys], dtype=np.int64),
            log_mu=column(1),
            sigma=column(2),
            err=column(3),
            capacity=np.array([row[3] for row in rows], dtype=np.float64),
            delay=column(4),
            loss=column(5),
            classes=np.array(classes, dtype=np.int64),
            class_rep=class_rep,
        )

    def resolve(self, lb: LoadBalancer, port: int | None, kind: RequestKind) -> Action:
        """The action for a request of `kind` arriving at `lb` on listener `port`."""
        if lb.state is not LoadBalancerState.ACTIVE:
            return Action(None, None, fixed_status=0, why="the load balancer is not active yet")
        listeners = sorted(lb.listeners.values(), key=lambda x: x.port)
        listener = next((x for x in listeners if port is None or x.port == port), None)
        if listener is None:
            return Action(
                None,
                None,
                fixed_status=0,
                why=f"no listener on port {port}: the connection is refused",
            )
        decision = self._decide(listener, kind)
        if decision is None:
            return Action(None, listener.arn, fixed_status=404, why="no rule matched")
        rule_arn, fixed, why, targets = decision
        if fixed is not None:
            return Action(rule_arn, listener.arn, fixed_status=fixed, why=why)
        pools, weights = [], []
        for tg_arn, weight in targets:
            tg = self.dp.elb.target_groups.get(tg_arn)
            if tg is not None:
                pools.append(self.pool(tg))
                weights.append(float(weight))
        return Action(rule_arn, listener.arn, pools=pools, weights=np.array(weights))

    def _decide(self, listener: Listener, kind: RequestKind) -> _Decision | None:
        """The rule a request of `kind` meets on `listener`: its ARN, and its fixed answer or
        forward targets. Remembered across snapshots, keyed by the rules' content."""
        rules = self._rules.get(listener.arn)
        if rules is None:
            rules = self._rules[listener.arn] = listener.ordered_rules()
            content = tuple(
                (r.arn, r.priority, r.is_default, repr(r.conditions), repr(r.actions))
                for r in rules
            )
            versions = self.dp.rule_versions
            self._content[listener.arn] = versions.setdefault(content, len(versions))
        key = (listener.arn, self._content[listener.arn], kind)
        memo: dict[Any, _Decision | None] = self.dp.decisions
        if key in memo:
            return memo[key]
        decision: _Decision | None = None
        for rule in rules:
            if not rule.is_default and not _matches(rule, kind):
                continue
            for raw in rule.actions:
                fixed = _fixed(raw)
                if fixed is not None:
                    decision = (rule.arn, fixed, f"{raw['Type']} action of the rule", [])
                    break
            else:
                decision = (rule.arn, None, "", forward_targets(rule.actions))
            break
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
            self.dp.rule_versions.clear()
            self._content.clear()
            self._rules.clear()
        memo[key] = decision
        return decision


_MEMO_LIMIT = 1 << 16
# how a target's address answers: (mode, log_mu, sigma, error rate, network delay, packet
# loss); targets that answer alike share a class
_Answer = tuple[int, float, float, float, float, float]
# a pool's target: (ip, port, how it answers, capacity, slow start (from, until) or None)
_Row = tuple[str, int, _Answer, float, tuple[float | None, float] | None]
# (rule ARN, fixed status or None, why, forward targets [(target group ARN, weight)])
_Decision = tuple[str, int | None, str, list[tuple[str, int]]]
