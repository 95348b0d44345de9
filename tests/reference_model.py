"""A per-request reference data plane: one request at a time, a heap of arrivals and answers.

It stands in for `w.dataplane` (`w.dataplane = ReferenceDataPlane(w)` before any traffic) and
answers the same calls the model makes (`flush`, `set_rate`, `endpoint_failed`,
`endpoint_unreachable`, `drain_expired`, `trace`, `summary`). It shares only the random numbers
with the fast engine (`ecsim.model.dataplane.draws.request_draws`). Everything else is written
out again here, plainly, request by request, from the model's rules (docs/behaviour.md):

- arrivals: Poisson, gap `-log1p(-u[GAP]) / rate`, the first one after a rate change counted
  from the change;
- routing: the listener on the request's port (or the lowest), rules by priority then the
  default, path and host conditions with wildcards, fixed responses and redirects, weighted
  forwards; healthy targets, or healthy and unhealthy ones below the minimum healthy count
  or percentage of the registered targets (fail-open); 503 without targets;
- target: round robin (one position per target group), weighted random, least outstanding
  requests (ties at random), slow start (weights growing linearly over each window);
- the app: lognormal answer time plus the queue wait (per IP, per whole second), error rate,
  502 / 504 when nothing listens, it hangs or cannot be reached; 504 past the idle timeout;
- in flight: a dying app's open requests get 502 now, an unreachable one's 504 at the idle
  timeout, a drained-out target's 502 now;
- statistics per second of the answer instant (a window counts every second it reaches
  into), and `RequestsCompleted` records;
- a traced request's trace says what it will get until it is answered, then what it got.

It is slow (a heap operation per request and per answer): the fast path is trusted because
it matches this one (tests/test_dataplane_reference.py).
"""

from __future__ import annotations

import bisect
import fnmatch
import heapq
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ecsim.model.dataplane.draws import ERR, GAP, GROUP, KIND, LOSS, PICK, Z, request_draws
from ecsim.model.dataplane.routing import RequestKind
from ecsim.model.ecs.task import EndpointMode
from ecsim.model.elbv2.health import TargetHealthState
from ecsim.model.elbv2.resources import (
    LoadBalancerState,
    LoadBalancingAlgorithm,
    TargetGroup,
    forward_targets,
)
from ecsim.model.events import RequestsCompleted, TrafficChanged

if TYPE_CHECKING:
    from ecsim.model.world import World

BLOCK = 4096  # uniforms read ahead per source
LOG_101 = math.log(1.01)


@dataclass
class Request:
    lb: str
    index: int  # -1: a single traced request
    t: float
    done: float = 0.0
    status: int = 0
    slot: tuple[str, str, int] | None = None
    from_target: bool = False
    connected: bool = False
    version: int = 0  # bumped when the network rewrites the answer
    trace: dict[str, Any] | None = None  # a traced request's trace, settled when answered

    @property
    def ip(self) -> str | None:
        return self.slot[1] if self.slot else None


@dataclass
class Source:
    lb_arn: str
    key: int
    rate: float = 0.0
    kinds: list[RequestKind] = field(default_factory=lambda: [RequestKind()])
    kind_cdf: list[float] = field(default_factory=lambda: [1.0])
    port: int | None = None
    next_i: int = 0
    next_t: float = math.inf
    _base: int = -1
    _block: Any = None
    _z: list[float] = field(default_factory=list)
    _gap: list[float] = field(default_factory=list)

    def _load(self, i: int) -> None:
        if self._block is None or not self._base <= i < self._base + BLOCK:
            self._base = i
            u = self._block = request_draws(self.key, i, BLOCK)
            self._z = u[:, Z].tolist()
            self._gap = (-np.log1p(-u[:, GAP])).tolist()  # times 1 / rate

    def draws(self, i: int) -> Any:
        self._load(i)
        return self._block[i - self._base]

    def z(self, i: int) -> float:
        self._load(i)
        return self._z[i - self._base]

    def gap(self, i: int) -> float:
        """The unit exponential of request i (its gap is this over the rate)."""
        self._load(i)
        return self._gap[i - self._base]


class ReferenceDataPlane:
    def __init__(self, world: World, record_requests: bool = True) -> None:
        self.world = world
        self.flushed_until = world.dataplane.flushed_until
        self.sources: dict[str, Source] = {}
        self.record_requests = record_requests
        self.log: list[dict[str, Any]] = []
        self.arrived = 0
        self.answered = 0
        self.open: dict[int, Request] = {}  # id(request) -> request, in flight
        self.heap: list[tuple[float, int, int, Request]] = []  # (done, seq, version, request)
        self.seq = itertools.count()
        self.rr: dict[str, int] = {}
        self.outstanding: Counter[tuple[str, str, int]] = Counter()
        self.queues: dict[str, list[float]] = {}  # ip -> [second, backlog, arrivals]
        self.buckets: dict[str, dict[int, dict[str, Counter[Any]]]] = {}
        self.sealed_until = 0
        self.manual = 0
        # routing, constant between two flushes (the model flushes before changing it)
        self.routes: dict[tuple[str, int | None, RequestKind], Any] = {}
        self.pools: dict[str, list[Any]] = {}

    @property
    def in_flight(self) -> int:
        return len(self.open)

    # --- traffic --------------------------------------------------------------------------

    def set_rate(
        self,
        lb_arn: str,
        rps: float,
        kinds: list[RequestKind] | None = None,
        port: int | None = None,
    ) -> None:
        self.flush()
        now = self.world.now
        src = self.sources.get(lb_arn)
        if src is None:
            src = self.sources[lb_arn] = Source(lb_arn, self.world.streams.key(f"traffic:{lb_arn}"))
        if kinds is not None:
            src.kinds = kinds
            w = np.array([k.weight for k in kinds])
            src.kind_cdf = (np.cumsum(w) / w.sum()).tolist()
        if port is not None:
            src.port = port
        src.rate = rps
        if rps > 0:
            u = float(src.draws(src.next_i)[GAP])
            src.next_t = now + -math.log1p(-u) / rps
        else:
            src.next_t = math.inf
        self.world.emit(TrafficChanged(now, lb_arn, rps))

    # --- time -----------------------------------------------------------------------------

    def flush(self, until: float | None = None) -> None:
        t1 = self.world.now if until is None else until
        if t1 <= self.flushed_until:
            return
        self.flushed_until = t1
        self.run(t1)

    def run(self, t1: float) -> None:
        """Arrivals before t1 and answers up to t1, in time order (answers first at a tie)."""
        self.routes = {}
        self.pools = {}
        sources = list(self.sources.values())
        while True:
            arrival = None
            for src in sources:
                if (
                    src.rate > 0
                    and src.next_t < t1
                    and (arrival is None or src.next_t < arrival.next_t)
                ):
                    arrival = src
            answer = None
            while self.heap:
                done, _, version, req = self.heap[0]
                if version != req.version:
                    heapq.heappop(self.heap)
                    continue
                if done <= t1:
                    answer = req
                break
            if answer is not None and (arrival is None or answer.done <= arrival.next_t):
                heapq.heappop(self.heap)
                self.answer(answer)
            elif arrival is not None:
                self.arrive(arrival)
            else:
                break
        self.seal(t1)

    def arrive(self, src: Source) -> None:
        i, t = src.next_i, src.next_t
        u = src.draws(i)
        z = src.z(i)
        src.next_i += 1
        src.next_t = t + src.gap(src.next_i) / src.rate
        kind = src.kinds[0]
        if len(src.kinds) > 1:
            k = bisect.bisect_right(src.kind_cdf, u[KIND])
            kind = src.kinds[min(k, len(src.kinds) - 1)]
        self.send(Request(src.lb_arn, i, t), kind, src.port, u, z)

    # --- one request ----------------------------------------------------------------------

    def send(
        self, req: Request, kind: RequestKind, port: int | None, u: Any, z: float
    ) -> dict[str, Any]:
        """Route, pick, answer one request; returns what the trace needs."""
        self.arrived += 1
        w = self.world
        elb_latency = w.settings.elb.elb_answer_latency
        lb = w.elb.load_balancers.get(req.lb)
        route = self.routes.get((req.lb, port, kind))
        if route is None:
            fixed, groups = self.resolve(lb, port, kind)
            weights = [weight for _, weight in groups]
            cdf = []
            if groups and sum(weights) > 0:
                cdf = (np.cumsum(np.array(weights, dtype=np.float64)) / np.sum(weights)).tolist()
            route = self.routes[(req.lb, port, kind)] = (fixed, groups, cdf)
        fixed, groups, cdf = route
        tg = None
        if fixed is None:
            if cdf:
                tg = groups[min(bisect.bisect_right(cdf, u[GROUP]), len(cdf) - 1)][0]
            targets = self.routable(tg) if tg is not None else []
            if not targets:
                fixed = 503
        if fixed is not None:
            req.status, req.done = fixed, req.t + elb_latency
            self.record(req)
            return {"status": fixed, "target": None, "tg": None}
        assert tg is not None
        target = targets[self.pick(tg, targets, req.t, float(u[PICK]))]
        req.slot = (tg.arn, target.id, target.port)
        task = w.endpoints.get(target.id)
        mode = EndpointMode.UNREACHABLE if task is None else task.mode_on(target.port)
        if task is not None and mode is EndpointMode.SERVING and target.port != task.port:
            mode = EndpointMode.REFUSED
        idle = lb.idle_timeout if lb is not None else 60.0
        if mode is EndpointMode.SERVING:
            assert task is not None
            p = task.profile
            wait = self.wait(target.id, req.t, task.capacity)
            service = np.exp(np.float64(p.log_mu + p.latency_sigma * z)) + wait
            network = task.network_delay
            if task.packet_loss:  # the answer lost n times in a row is sent again after RTOs
                q = 1.0 - float(u[LOSS])
                n = sum(1 for j in range(1, 9) if q < task.packet_loss**j)
                network = network + 0.2 * (2.0**n - 1.0)
            if network:
                service = service + network
            req.connected = True
            if service >= idle:
                req.status, req.done = 504, req.t + idle
            else:
                req.status = 500 if u[ERR] < p.error_rate else 200
                req.done, req.from_target = float(req.t + service), True
        elif mode is EndpointMode.REFUSED:
            req.status, req.done = 502, req.t + elb_latency
        elif mode is EndpointMode.HANGING:
            req.status, req.done, req.connected = 504, req.t + idle, True
        else:
            req.status, req.done = 504, req.t + w.settings.elb.connect_timeout
        self.outstanding[req.slot] += 1
        self.record(req)
        return {"status": req.status, "target": f"{target.id}:{target.port}", "tg": tg.arn}

    def resolve(
        self, lb: Any, port: int | None, kind: RequestKind
    ) -> tuple[int | None, list[tuple[TargetGroup, float]]]:
        """The load balancer's own answer, or the weighted target groups of the rule."""
        if lb is None or lb.state is not LoadBalancerState.ACTIVE:
            return 0, []
        listeners = sorted(lb.listeners.values(), key=lambda x: x.port)
        listener = next((x for x in listeners if port is None or x.port == port), None)
        if listener is None:
            return 0, []
        rules = [*sorted(listener.rules, key=lambda r: r.priority or 0), listener.default_rule]
        for rule in rules:
            if not rule.is_default and not all(self.matches(c, kind) for c in rule.conditions):
                continue
            for action in rule.actions:
                if action.get("Type") == "fixed-response":
                    return int((action.get("FixedResponseConfig") or {}).get("StatusCode", 200)), []
                if action.get("Type") == "redirect":
                    code = (action.get("RedirectConfig") or {}).get("StatusCode", "HTTP_301")
                    return int(str(code).removeprefix("HTTP_")), []
            groups = []
            for arn, weight in forward_targets(rule.actions):
                tg = self.world.elb.target_groups.get(arn)
                if tg is not None:
                    groups.append((tg, float(weight)))
            return None, groups
        return 404, []

    @staticmethod
    def matches(cond: dict[str, Any], kind: RequestKind) -> bool:
        name = cond.get("Field")
        values = list(cond.get("Values") or [])
        if name == "path-pattern":
            values += (cond.get("PathPatternConfig") or {}).get("Values", [])
            return any(fnmatch.fnmatchcase(kind.path, v) for v in values)
        if name == "host-header":
            values += (cond.get("HostHeaderConfig") or {}).get("Values", [])
            return any(fnmatch.fnmatchcase((kind.host or "").lower(), v.lower()) for v in values)
        return False

    def routable(self, tg: TargetGroup) -> list[Any]:
        cached = self.pools.get(tg.arn)
        if cached is not None:
            return cached
        pool: list[Any]
        healthy = [x for x in tg.targets.values() if x.state is TargetHealthState.HEALTHY]
        # registered: not draining, not unused (docs/behaviour.md, "Fail-open")
        registered = [
            x
            for x in tg.targets.values()
            if x.state
            in (
                TargetHealthState.HEALTHY,
                TargetHealthState.UNHEALTHY,
                TargetHealthState.INITIAL,
                TargetHealthState.UNAVAILABLE,
            )
        ]
        percent = tg.attributes[
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage"
        ]
        share = len(healthy) / len(registered) if registered else 1.0
        enough_percent = percent == "off" or share >= int(percent) / 100
        if len(healthy) >= tg.min_healthy_targets and enough_percent:
            pool = healthy
        else:
            allowed = {TargetHealthState.HEALTHY, TargetHealthState.UNHEALTHY}
            if self.world.settings.elb.fail_open_includes_initial:
                allowed.add(TargetHealthState.INITIAL)
            pool = [x for x in tg.targets.values() if x.state in allowed]
        self.pools[tg.arn] = pool
        return pool

    def pick(self, tg: TargetGroup, targets: list[Any], t: float, u: float) -> int:
        m = len(targets)
        if tg.algorithm is LoadBalancingAlgorithm.LEAST_OUTSTANDING_REQUESTS:
            counts = [self.outstanding[(tg.arn, x.id, x.port)] for x in targets]
            low = min(counts)
            tied = [j for j in range(m) if counts[j] == low]
            return tied[min(int(u * len(tied)), len(tied) - 1)]
        ramping = [
            x.slow_start_until is not None
            and x.slow_start_from is not None
            and x.slow_start_until > t
            for x in targets
        ]
        if any(ramping):
            weights = []
            for x in targets:
                if x.slow_start_until and x.slow_start_from is not None and x.slow_start_until > t:
                    share = (t - x.slow_start_from) / (x.slow_start_until - x.slow_start_from)
                    weights.append(min(max(share, 0.001), 1.0))
                else:
                    weights.append(1.0)
            cumulative = list(itertools.accumulate(weights))
            return min(sum(1 for c in cumulative if c < u * cumulative[-1]), m - 1)
        if tg.algorithm is LoadBalancingAlgorithm.WEIGHTED_RANDOM:
            return min(int(u * m), m - 1)
        n = self.rr.get(tg.arn, 0)
        self.rr[tg.arn] = n + 1
        return n % m

    def wait(self, ip: str, t: float, capacity: float) -> float:
        """The app's queue: per whole second, the excess carried to the next (queues.py)."""
        second = math.floor(t)
        q = self.queues.setdefault(ip, [second, 0.0, 0])
        if second > q[0]:
            b = max(0.0, q[1] + q[2] - capacity)
            gap = second - q[0] - 1
            if gap and b:
                b = max(0.0, b - capacity * gap)
            q[0], q[1], q[2] = second, b, 0
        wait = q[1] / capacity
        q[2] += 1
        return wait

    def record(self, req: Request) -> None:
        self.open[id(req)] = req
        heapq.heappush(self.heap, (req.done, next(self.seq), req.version, req))

    # --- answers --------------------------------------------------------------------------

    def answer(self, req: Request) -> None:
        del self.open[id(req)]
        if req.trace is not None:  # the client got this: the trace says so
            req.trace.update(
                status=req.status,
                latencyMs=round((req.done - req.t) * 1000, 3),
                answeredBy="target" if req.from_target else "elb",
                settled=True,
            )
        if req.slot is not None:
            self.outstanding[req.slot] -= 1
        self.answered += 1
        period = self.world.settings.stats_period
        index = math.floor(req.done / period)
        buckets = self.buckets.setdefault(req.lb, {})
        b = buckets.get(index)
        if b is None:
            b = buckets[index] = {k: Counter() for k in ("status", "target", "source", "latency")}
        b["status"][f"{req.status:03d}"] += 1
        if req.slot is not None:
            b["target"][req.slot[1]] += 1
        b["source"]["target" if req.from_target else "elb"] += 1
        latency_ms = np.float64(req.done - req.t) * 1000.0
        b["latency"][int(np.floor(np.log(max(latency_ms, 0.001)) / LOG_101))] += 1
        if self.record_requests:
            self.log.append(
                {
                    "t": req.t,
                    "done": req.done,
                    "lat": req.done - req.t,
                    "status": req.status,
                    "slot": req.slot,
                    "ip": req.ip,
                    "lb": req.lb,
                    "index": req.index,
                    "from_target": req.from_target,
                    "connected": req.connected,
                }
            )

    def seal(self, until: float) -> None:
        period = self.world.settings.stats_period
        last = math.floor(until / period)
        out = []
        for lb, buckets in self.buckets.items():
            for index in range(self.sealed_until, last):
                if index in buckets:
                    out.append((index, lb, buckets[index]))
        self.sealed_until = max(self.sealed_until, last)
        for index, lb, b in sorted(out, key=lambda x: (x[0], x[1])):
            self.world.emit(
                RequestsCompleted(
                    (index + 1) * period,
                    lb,
                    period,
                    dict(sorted(b["status"].items())),
                    dict(sorted(b["target"].items())),
                    dict(sorted(b["source"].items())),
                )
            )

    def summary(
        self, since: float | None = None, until: float | None = None, lb_arn: str | None = None
    ) -> dict[str, Any]:
        self.flush()
        period = self.world.settings.stats_period
        # every period the window reaches into, whole; nothing for an empty window
        lo = -math.inf if since is None else math.floor(since / period + 1e-9)
        hi = math.inf if until is None else math.ceil(until / period - 1e-9)
        if since is not None and until is not None and until <= since:
            hi = lo
        total: dict[str, Counter[Any]] = {
            k: Counter() for k in ("status", "target", "source", "latency")
        }
        for lb, buckets in self.buckets.items():
            if lb_arn is not None and lb != lb_arn:
                continue
            for index, b in buckets.items():
                if lo <= index < hi:
                    for k in total:
                        total[k].update(b[k])

        def percentile(q: float) -> float | None:
            hist = total["latency"]
            n = sum(hist.values())
            if not n:
                return None
            seen = 0
            for b in sorted(hist):
                seen += hist[b]
                if seen > q * (n - 1):
                    return round(math.exp((b + 0.5) * LOG_101), 3)
            return None

        return {
            "requests": sum(total["status"].values()),
            "by_status": dict(sorted(total["status"].items())),
            "by_target": dict(sorted(total["target"].items())),
            "by_source": dict(sorted(total["source"].items())),
            "latency_ms": {"p50": percentile(0.5), "p99": percentile(0.99)},
        }

    # --- the network changes under requests in flight --------------------------------------

    def rewrite(self, req: Request, status: int, done: float) -> None:
        req.status, req.done, req.from_target = status, done, False
        req.version += 1
        heapq.heappush(self.heap, (req.done, next(self.seq), req.version, req))

    def endpoint_failed(self, ip: str) -> None:
        self.flush()
        now = self.world.now
        for req in list(self.open.values()):
            if req.ip == ip and req.connected and req.done > now:
                self.rewrite(req, 502, now)

    def endpoint_unreachable(self, ip: str) -> None:
        self.flush()
        now = self.world.now
        for req in list(self.open.values()):
            if req.ip == ip and req.connected and req.done > now:
                lb = self.world.elb.load_balancers.get(req.lb)
                idle = lb.idle_timeout if lb is not None else 60.0
                self.rewrite(req, 504, max(req.t + idle, now))

    def routing_will_change(self) -> None:
        """A `RoutingObserver` (ecsim.model.elbv2.endpoints), like the fast engine."""
        self.flush()

    def target_drained(self, tg_arn: str, ip: str, port: int) -> None:
        self.drain_expired(tg_arn, ip, port)

    def drain_expired(self, tg_arn: str, ip: str, port: int) -> None:
        self.flush()
        now = self.world.now
        for req in list(self.open.values()):
            if req.slot == (tg_arn, ip, port) and req.connected and req.done > now:
                self.rewrite(req, 502, now)

    # --- one traced request ---------------------------------------------------------------

    def trace(self, lb_arn: str, kind: RequestKind, port: int | None = None) -> dict[str, Any]:
        self.flush()
        now = self.world.now
        self.run(now)  # answers due now (cut off just now) are no longer outstanding
        u = request_draws(self.world.streams.key("traffic:manual"), self.manual, 1)[0]
        self.manual += 1
        req = Request(lb_arn, -1, now)
        z = float(u[Z])
        out = self.send(req, kind, port, u, z)
        req.trace = {
            "status": out["status"],
            "target": out["target"],
            "targetGroup": out["tg"],
            "latencyMs": round((req.done - now) * 1000, 3),
            "answeredBy": "target" if req.from_target else "elb",
            "settled": False,
        }
        self.run(now)
        return req.trace
