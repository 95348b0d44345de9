"""The data plane engine: requests evaluated in batches between control-plane events.

Between two events that change routing (a health transition, a registration, a task death)
the set of routable targets is constant, so the requests in between are evaluated together
with numpy (design.md, "The data plane must be fast"). Every model change that affects routing
calls `flush()` first, which evaluates all requests up to that instant.

Two things make the result independent of where batches start and end:

- request `i` of a load balancer's client stream always draws the same random numbers
  (counter-based Philox, `ecsim.sim.uniforms`);
- an app's queue is modelled per whole second of simulated time: a task that receives more
  requests in one second than its capacity carries the excess into the next second, and a
  request waits `backlog / capacity` seconds. The backlog at the start of a second depends
  only on earlier seconds.

A request ends in exactly one answer: 200 or 500 from the task; 502 when nothing listens at
the target or the target dies or drains out mid-request; 503 when the target group has no
target to send to; 504 when the target does not accept the connection within 10 s or does not
answer within the load balancer's idle timeout (reference 3.7).
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ecsim.model.dataplane.routing import Action, Pool, RequestKind, Snapshot
from ecsim.model.dataplane.stats import Stats
from ecsim.model.elbv2.resources import LoadBalancingAlgorithm
from ecsim.model.events import RequestsCompleted, TrafficChanged
from ecsim.sim import uniforms

if TYPE_CHECKING:
    from ecsim.model.ecs.task import Task
    from ecsim.model.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

# The random numbers of one request, one lane each.
LANES = 7
GAP, KIND, GROUP, PICK, Z1, Z2, ERR = range(LANES)

# How the address behind a target answers (see ecs.task.EndpointMode).
SERVING, REFUSED, HANGING, UNREACHABLE = 0, 1, 2, 3

STATUS_REFUSED = 0  # the client could not connect to the load balancer at all
_INFLIGHT = ("t", "done", "lat", "status", "slot", "ip", "lb", "index", "from_target", "connected")


def request_draws(key: int, start: int, n: int) -> F64:
    """The random numbers of requests start..start+n-1 of a stream, shape (n, LANES)."""
    return uniforms(key, start * LANES, n * LANES).reshape(n, LANES)


def normal(u1: F64, u2: F64) -> F64:
    """Standard normal deviates from two uniforms (Box-Muller)."""
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * math.pi * u2)


@dataclass
class Outcome:
    status: I64
    done: F64
    from_target: B8
    connected: B8


def outcome(
    t: F64,
    mode: I64,
    log_mu: F64,
    sigma: F64,
    err: F64,
    wait: F64,
    z: F64,
    u_err: F64,
    idle: F64,
    connect_timeout: float,
    elb_latency: float,
) -> Outcome:
    """What the client gets; arrays broadcast, so one formula serves batches and matrices."""
    serving = mode == SERVING
    service = np.exp(log_mu + sigma * z) + wait
    too_slow = serving & (service >= idle)
    ok = serving & ~too_slow
    status = np.where(ok, np.where(u_err < err, 500, 200), 504)
    status = np.where(mode == REFUSED, 502, status)
    done = np.where(ok, t + service, t + idle)
    done = np.where(mode == REFUSED, t + elb_latency, done)
    done = np.where(mode == UNREACHABLE, t + connect_timeout, done)
    connected = (mode == SERVING) | (mode == HANGING)
    return Outcome(status.astype(np.int64), done, ok, connected)


@dataclass
class TrafficSource:
    """A steady client load on one load balancer: Poisson arrivals of weighted request kinds."""

    lb_arn: str
    key: int
    rate: float = 0.0
    kinds: list[RequestKind] = field(default_factory=lambda: [RequestKind()])
    port: int | None = None
    next_t: float = math.inf
    next_i: int = 0

    @property
    def kind_cdf(self) -> F64:
        w = np.array([k.weight for k in self.kinds], dtype=np.float64)
        cdf: F64 = np.cumsum(w) / w.sum()
        return cdf


@dataclass
class Load:
    """The queue in front of one app: backlog at the start of `second`, arrivals during it."""

    second: int = 0
    backlog: float = 0.0
    arrivals: int = 0

    def peek(self, second: int, capacity: float) -> float:
        """The backlog at the start of `second`, leaving the state as it is."""
        if second <= self.second:
            return self.backlog
        b = max(0.0, self.backlog + self.arrivals - capacity)
        gap = second - self.second - 1
        if gap and b:
            b = max(0.0, b - capacity * gap)
        return b

    def at(self, second: int, capacity: float) -> float:
        """Move to `second` (time only moves forward) and return its starting backlog."""
        if second > self.second:
            self.backlog, self.second, self.arrivals = self.peek(second, capacity), second, 0
        return self.backlog


class DataPlane:
    """Client traffic through the world's load balancers."""

    def __init__(self, world: World, record_requests: bool = False) -> None:
        self.world = world
        self.flushed_until = 0.0
        self.sources: dict[str, TrafficSource] = {}
        self.stats = Stats(world.settings.stats_period)
        self.record_requests = record_requests
        self.log: list[dict[str, Any]] = []
        self.rr: dict[str, int] = {}
        self.loads: dict[str, Load] = {}
        self._slots: list[tuple[str, str, int]] = []
        self._slot_index: dict[tuple[str, str, int], int] = {}
        self._ips: list[str] = []
        self._ip_index: dict[str, int] = {}
        self._lbs: list[str] = []
        self._lb_index: dict[str, int] = {}
        self._inflight: dict[str, np.ndarray[Any, Any]] = _empty_inflight()
        self._manual = 0
        self.arrived = 0
        self.answered = 0

    # --- identities -----------------------------------------------------------------------

    def slot(self, tg_arn: str, ip: str, port: int) -> int:
        key = (tg_arn, ip, port)
        s = self._slot_index.get(key)
        if s is None:
            s = self._slot_index[key] = len(self._slots)
            self._slots.append(key)
            self.ip(ip)
        return s

    def ip(self, ip: str) -> int:
        i = self._ip_index.get(ip)
        if i is None:
            i = self._ip_index[ip] = len(self._ips)
            self._ips.append(ip)
        return i

    def _lb(self, arn: str) -> int:
        i = self._lb_index.get(arn)
        if i is None:
            i = self._lb_index[arn] = len(self._lbs)
            self._lbs.append(arn)
        return i

    # --- traffic --------------------------------------------------------------------------

    def set_rate(
        self,
        lb_arn: str,
        rps: float,
        kinds: list[RequestKind] | None = None,
        port: int | None = None,
    ) -> None:
        """From now on, clients send `rps` requests per second (Poisson) to the load balancer."""
        if not rps >= 0 or math.isinf(rps):
            raise ValueError(f"the request rate must be a finite number >= 0, got {rps!r}")
        self.flush()
        now = self.world.now
        src = self.sources.get(lb_arn)
        if src is None:
            src = self.sources[lb_arn] = TrafficSource(
                lb_arn, self.world.streams.key(f"traffic:{lb_arn}")
            )
            self._lb(lb_arn)
        src.rate = rps
        if kinds is not None:
            if not kinds or sum(k.weight for k in kinds) <= 0:
                raise ValueError("give at least one request kind with a positive weight")
            src.kinds = kinds
        if port is not None:
            src.port = port
        if rps > 0:
            gap = -math.log1p(-float(request_draws(src.key, src.next_i, 1)[0, GAP])) / rps
            src.next_t = now + gap
        else:
            src.next_t = math.inf
        self.world.emit(TrafficChanged(now, lb_arn, rps))

    def _arrivals(self, src: TrafficSource, until: float) -> tuple[F64, I64, F64]:
        """Arrival times, indices and draws of the source's requests before `until`."""
        if src.next_t >= until or src.rate <= 0:
            return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((0, LANES))
        n = int((until - src.next_t) * src.rate * 1.1) + 16
        while True:
            u = request_draws(src.key, src.next_i, n + 1)
            gaps = -np.log1p(-u[1:, GAP]) / src.rate
            times = np.cumsum(np.concatenate(([src.next_t], gaps)))
            m = int(np.searchsorted(times, until, side="left"))
            if m <= n:
                break
            n *= 2
        index = np.arange(src.next_i, src.next_i + m, dtype=np.int64)
        src.next_i += m
        src.next_t = float(times[m])
        return times[:m], index, u[:m]

    # --- evaluation -----------------------------------------------------------------------

    def flush(self, until: float | None = None) -> None:
        """Evaluate every request that arrives before `until` (default: now)."""
        t1 = self.world.now if until is None else until
        if t1 <= self.flushed_until:
            return
        t0 = self.flushed_until
        self.flushed_until = t1
        self._evaluate(t0, t1)
        self._finalize(t1)

    def _evaluate(self, t0: float, t1: float) -> None:
        parts = [(i, *self._arrivals(src, t1)) for i, src in enumerate(self.sources.values())]
        parts = [p for p in parts if len(p[1])]
        if not parts:
            return
        sources = list(self.sources.values())
        t = np.concatenate([p[1] for p in parts])
        order = np.argsort(t, kind="stable")
        t = t[order]
        src_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in parts])[order]
        index = np.concatenate([p[2] for p in parts])[order]
        u = np.concatenate([p[3] for p in parts])[order]
        n = len(t)
        self.arrived += n

        snap = Snapshot(self.world, at=t0)
        status = np.zeros(n, dtype=np.int64)
        fixed = np.zeros(n, dtype=np.bool_)
        pool_of = np.full(n, -1, dtype=np.int64)
        pools: list[Pool] = []
        pool_ids: dict[str, int] = {}
        idle = np.zeros(n)
        for si in np.unique(src_of).tolist():
            src = sources[si]
            lb = self.world.elb.load_balancers.get(src.lb_arn)
            in_src = src_of == si
            kind_of = np.searchsorted(src.kind_cdf, u[:, KIND], side="right").clip(
                0, len(src.kinds) - 1
            )
            idle[in_src] = lb.idle_timeout if lb else 60.0
            for ki, kind in enumerate(src.kinds):
                sel = np.flatnonzero(in_src & (kind_of == ki))
                if not len(sel):
                    continue
                action = (
                    snap.resolve(lb, src.port, kind)
                    if lb
                    else Action(
                        None, None, fixed_status=STATUS_REFUSED, why="the load balancer is gone"
                    )
                )
                self._route(action, sel, u, status, fixed, pool_of, pools, pool_ids)

        slot = np.full(n, -1, dtype=np.int64)
        lor = [
            g
            for g, p in enumerate(pools)
            if p.algorithm is LoadBalancingAlgorithm.LEAST_OUTSTANDING_REQUESTS
        ]
        for g, pool in enumerate(pools):
            if g not in lor:
                sel = np.flatnonzero(pool_of == g)
                slot[sel] = pool.slots[self._pick(pool, t[sel], u[sel, PICK])]

        ep = _EndpointTable(self, snap)
        ep.add_slots(slot[slot >= 0])
        for pool in (pools[g] for g in lor):
            ep.add_slots(pool.slots)
        z = normal(u[:, Z1], u[:, Z2])
        connect = self.world.settings.elb.connect_timeout
        elb_latency = self.world.settings.elb.elb_answer_latency

        done = np.where(fixed, t + elb_latency, np.nan)
        from_target = np.zeros(n, dtype=np.bool_)
        connected = np.zeros(n, dtype=np.bool_)
        routed = np.flatnonzero(~fixed)
        fast = not lor and ep.unloaded(t[routed], slot[routed])
        if fast:
            rows = routed
            s = slot[rows]
            o = outcome(
                t[rows],
                ep.mode[s],
                ep.log_mu[s],
                ep.sigma[s],
                ep.err[s],
                np.zeros(len(rows)),
                z[rows],
                u[rows, ERR],
                idle[rows],
                connect,
                elb_latency,
            )
            status[rows], done[rows], from_target[rows], connected[rows] = (
                o.status,
                o.done,
                o.from_target,
                o.connected,
            )
            ep.count(t[rows], s, o)
        else:
            self._evaluate_by_second(
                t,
                u,
                z,
                idle,
                slot,
                pool_of,
                pools,
                lor,
                ep,
                routed,
                status,
                done,
                from_target,
                connected,
                connect,
                elb_latency,
            )

        self._append_inflight(
            t=t,
            done=done,
            lat=done - t,
            status=status,
            slot=slot,
            ip=ep.ip_of_slot(slot),
            lb=np.array([self._lb_index[x.lb_arn] for x in sources])[src_of],
            index=index,
            from_target=from_target,
            connected=connected,
        )

    def _route(
        self,
        action: Action,
        sel: I64,
        u: F64,
        status: I64,
        fixed: B8,
        pool_of: I64,
        pools: list[Pool],
        pool_ids: dict[str, int],
    ) -> None:
        if action.fixed_status is not None:
            status[sel], fixed[sel] = action.fixed_status, True
            return
        weights = action.weights
        if not action.pools or weights.sum() <= 0:
            status[sel], fixed[sel] = 503, True
            return
        cdf = np.cumsum(weights) / weights.sum()
        choice = np.searchsorted(cdf, u[sel, GROUP], side="right").clip(0, len(cdf) - 1)
        for i, pool in enumerate(action.pools):
            rows = sel[choice == i]
            if not len(rows):
                continue
            if pool.size == 0:
                status[rows], fixed[rows] = 503, True
                continue
            g = pool_ids.get(pool.tg.arn)
            if g is None:
                g = pool_ids[pool.tg.arn] = len(pools)
                pools.append(pool)
            pool_of[rows] = g

    def _pick(self, pool: Pool, t: F64, u: F64) -> I64:
        """Targets for requests of a round-robin or weighted-random pool, in arrival order."""
        n, m = len(t), pool.size
        if pool.in_slow_start:
            # Slow start (reference 3.4): a target's share grows linearly over the window.
            ramp = np.clip(
                (t[:, None] - pool.slow_from[None, :])
                / (pool.slow_until - pool.slow_from)[None, :],
                0.001,
                1.0,
            )
            w = np.where(np.isnan(pool.slow_until)[None, :], 1.0, ramp)
            cdf = np.cumsum(w, axis=1)
            picked: I64 = (cdf < (u * cdf[:, -1])[:, None]).sum(axis=1).clip(0, m - 1)
            return picked
        if pool.algorithm is LoadBalancingAlgorithm.WEIGHTED_RANDOM:
            return np.minimum((u * m).astype(np.int64), m - 1)
        start = self.rr.get(pool.tg.arn, 0)
        self.rr[pool.tg.arn] = start + n
        return (start + np.arange(n, dtype=np.int64)) % m

    def _evaluate_by_second(
        self,
        t: F64,
        u: F64,
        z: F64,
        idle: F64,
        slot: I64,
        pool_of: I64,
        pools: list[Pool],
        lor: list[int],
        ep: _EndpointTable,
        routed: I64,
        status: I64,
        done: F64,
        from_target: B8,
        connected: B8,
        connect: float,
        elb_latency: float,
    ) -> None:
        """The exact path: one second at a time, so queue waits and outstanding counts are known."""
        heaps = {g: self._outstanding(pools[g], float(t[0])) for g in lor}
        rows_all = routed
        seconds = np.floor(t[rows_all]).astype(np.int64)
        bounds = np.flatnonzero(np.r_[True, seconds[1:] != seconds[:-1], True])
        for a, b in itertools.pairwise(bounds):
            rows = rows_all[a:b]
            second = int(seconds[a])
            wait = ep.waits(second)
            for g in lor:
                mine = rows[pool_of[rows] == g]
                if len(mine):
                    self._least_outstanding(
                        pools[g],
                        heaps[g],
                        mine,
                        t,
                        u,
                        z,
                        idle,
                        wait,
                        ep,
                        slot,
                        connect,
                        elb_latency,
                    )
            s = slot[rows]
            o = outcome(
                t[rows],
                ep.mode[s],
                ep.log_mu[s],
                ep.sigma[s],
                ep.err[s],
                wait[s],
                z[rows],
                u[rows, ERR],
                idle[rows],
                connect,
                elb_latency,
            )
            status[rows], done[rows], from_target[rows], connected[rows] = (
                o.status,
                o.done,
                o.from_target,
                o.connected,
            )
            ep.count(t[rows], s, o)

    def _outstanding(self, pool: Pool, t: float) -> list[list[float]]:
        """Per target of a pool, the answer times of its requests still outstanding at `t`."""
        f = self._inflight
        heaps: list[list[float]] = []
        for s in pool.slots.tolist():
            mine = f["done"][(f["slot"] == s) & (f["done"] > t)]
            h = mine.tolist()
            heapq.heapify(h)
            heaps.append(h)
        return heaps

    def _least_outstanding(
        self,
        pool: Pool,
        heaps: list[list[float]],
        rows: I64,
        t: F64,
        u: F64,
        z: F64,
        idle: F64,
        wait: F64,
        ep: _EndpointTable,
        slot: I64,
        connect: float,
        elb_latency: float,
    ) -> None:
        """Least outstanding requests (reference 3.5): each pick depends on the ones before."""
        s = pool.slots
        o = outcome(
            t[rows][:, None],
            ep.mode[s][None, :],
            ep.log_mu[s][None, :],
            ep.sigma[s][None, :],
            ep.err[s][None, :],
            wait[s][None, :],
            z[rows][:, None],
            u[rows, ERR][:, None],
            idle[rows][:, None],
            connect,
            elb_latency,
        )
        done = o.done
        times = t[rows].tolist()
        picks = u[rows, PICK].tolist()
        m = pool.size
        for k in range(len(rows)):
            now = times[k]
            counts = []
            for h in heaps:
                while h and h[0] <= now:
                    heapq.heappop(h)
                counts.append(len(h))
            low = min(counts)
            tied = [j for j in range(m) if counts[j] == low]
            j = tied[min(int(picks[k] * len(tied)), len(tied) - 1)]
            slot[rows[k]] = s[j]
            heapq.heappush(heaps[j], float(done[k, j]))

    # --- in flight ------------------------------------------------------------------------

    def _append_inflight(self, **cols: np.ndarray[Any, Any]) -> None:
        f = self._inflight
        for name in _INFLIGHT:
            f[name] = np.concatenate((f[name], cols[name]))

    def _finalize(self, t1: float) -> None:
        f = self._inflight
        if len(f["done"]):
            out = f["done"] <= t1
            if out.any():
                self._answer({k: v[out] for k, v in f.items()})
                self._inflight = {k: v[~out] for k, v in f.items()}
        for lb_arn, index, bucket in self.stats.seal(t1):
            period = self.stats.period
            self.world.emit(
                RequestsCompleted(
                    (index + 1) * period,
                    lb_arn,
                    period,
                    dict(sorted(bucket.by_status.items())),
                    dict(sorted(bucket.by_target.items())),
                    dict(sorted(bucket.by_source.items())),
                )
            )

    def _answer(self, f: dict[str, np.ndarray[Any, Any]]) -> None:
        self.answered += len(f["done"])
        for li in np.unique(f["lb"]).tolist():
            sel = f["lb"] == li
            ips = [self._ips[i] if i >= 0 else None for i in f["ip"][sel].tolist()]
            self.stats.add(
                self._lbs[li],
                f["done"][sel],
                f["status"][sel],
                ips,
                f["from_target"][sel],
                f["lat"][sel],
            )
        if self.record_requests:
            for row in zip(*(f[k].tolist() for k in _INFLIGHT), strict=True):
                rec = dict(zip(_INFLIGHT, row, strict=True))
                rec["lb"] = self._lbs[rec["lb"]]
                rec["ip"] = self._ips[rec["ip"]] if rec["ip"] >= 0 else None
                rec["slot"] = self._slots[rec["slot"]] if rec["slot"] >= 0 else None
                self.log.append(rec)

    def _rewrite(self, mask: B8, status: int, done: F64 | float) -> None:
        f = self._inflight
        f["status"] = np.where(mask, status, f["status"])
        f["done"] = np.where(mask, done, f["done"])
        f["lat"] = f["done"] - f["t"]
        f["from_target"] = np.where(mask, False, f["from_target"])

    def endpoint_failed(self, ip: str) -> None:
        """The app at `ip` died: its open requests are cut off, the ALB answers 502 (3.7)."""
        self.flush()
        i = self._ip_index.get(ip)
        if i is None or not len(self._inflight["done"]):
            return
        f = self._inflight
        self._rewrite(
            (f["ip"] == i) & f["connected"] & (f["done"] > self.world.now), 502, self.world.now
        )

    def endpoint_unreachable(self, ip: str) -> None:
        """The network to `ip` is cut: open requests wait out the idle timeout and get 504."""
        self.flush()
        i = self._ip_index.get(ip)
        if i is None or not len(self._inflight["done"]):
            return
        f = self._inflight
        mask = (f["ip"] == i) & f["connected"] & (f["done"] > self.world.now)
        idle = np.array([self._idle(self._lbs[li]) for li in f["lb"].tolist()])
        self._rewrite(mask, 504, np.maximum(f["t"] + idle, self.world.now))

    def drain_expired(self, tg_arn: str, ip: str, port: int) -> None:
        """Deregistration delay over: requests still running on the target get 502 (3.3)."""
        self.flush()
        s = self._slot_index.get((tg_arn, ip, port))
        if s is None or not len(self._inflight["done"]):
            return
        f = self._inflight
        self._rewrite(
            (f["slot"] == s) & f["connected"] & (f["done"] > self.world.now), 502, self.world.now
        )

    def _idle(self, lb_arn: str) -> float:
        lb = self.world.elb.load_balancers.get(lb_arn)
        return lb.idle_timeout if lb else 60.0

    @property
    def in_flight(self) -> int:
        return len(self._inflight["done"])

    # --- one request, traced --------------------------------------------------------------

    def trace(self, lb_arn: str, kind: RequestKind, port: int | None = None) -> dict[str, Any]:
        """Send one request now and follow it hop by hop."""
        self.flush()
        lb = self.world.elb.load_balancers[lb_arn]
        now = self.world.now
        key = self.world.streams.key("traffic:manual")
        u = request_draws(key, self._manual, 1)
        self._manual += 1
        snap = Snapshot(self.world, at=now)
        action = snap.resolve(lb, port, kind)
        trace: dict[str, Any] = {
            "time": now,
            "client": "client",
            "loadBalancer": lb.name,
            "loadBalancerArn": lb.arn,
            "path": kind.path,
            "host": kind.host,
            "listener": action.listener_arn,
            "rule": action.rule_arn,
            "targetGroup": None,
            "target": None,
            "status": None,
            "latencyMs": None,
            "answeredBy": "elb",
            "reason": action.why or None,
        }
        status = np.zeros(1, dtype=np.int64)
        fixed = np.zeros(1, dtype=np.bool_)
        pool_of = np.full(1, -1, dtype=np.int64)
        pools: list[Pool] = []
        self._route(action, np.zeros(1, dtype=np.int64), u, status, fixed, pool_of, pools, {})
        elb_latency = self.world.settings.elb.elb_answer_latency
        if fixed[0]:
            code = int(status[0])
            trace.update(status=code, latencyMs=round(elb_latency * 1000, 3))
            if code == 503:
                trace["reason"] = "the target group has no target to send to"
                trace["targetGroup"] = action.pools[0].tg.arn if action.pools else None
            self._record_one(lb.arn, now, now + elb_latency, code, -1, False, False)
            return trace
        pool = pools[0]
        t = np.array([now])
        if pool.algorithm is LoadBalancingAlgorithm.LEAST_OUTSTANDING_REQUESTS:
            heaps = self._outstanding(pool, now)
            low = min(len(h) for h in heaps)
            local = next(j for j, h in enumerate(heaps) if len(h) == low)
        else:
            local = int(self._pick(pool, t, u[:, PICK])[0])
        s = int(pool.slots[local])
        ep = _EndpointTable(self, snap)
        ep.add_slots(np.array([s]))
        wait = ep.waits(math.floor(now))
        idle = np.array([lb.idle_timeout])
        o = outcome(
            t,
            ep.mode[[s]],
            ep.log_mu[[s]],
            ep.sigma[[s]],
            ep.err[[s]],
            wait[[s]],
            normal(u[:, Z1], u[:, Z2]),
            u[:, ERR],
            idle,
            self.world.settings.elb.connect_timeout,
            elb_latency,
        )
        code = int(o.status[0])
        done = float(o.done[0])
        ep.count(t, np.array([s]), o)
        ip = pool.ips[local]
        trace.update(
            targetGroup=pool.tg.arn,
            target=f"{ip}:{self._slots[s][2]}",
            status=code,
            latencyMs=round((done - now) * 1000, 3),
            answeredBy="target" if bool(o.from_target[0]) else "elb",
            failOpen=pool.fail_open,
            reason=_why(code, int(ep.mode[s]), pool.fail_open),
        )
        self._record_one(lb.arn, now, done, code, s, bool(o.from_target[0]), bool(o.connected[0]))
        return trace

    def _record_one(
        self,
        lb_arn: str,
        t: float,
        done: float,
        status: int,
        slot: int,
        from_target: bool,
        connected: bool,
    ) -> None:
        self.arrived += 1
        ip = self._ip_index[self._slots[slot][1]] if slot >= 0 else -1
        self._append_inflight(
            t=np.array([t]),
            done=np.array([done]),
            lat=np.array([done - t]),
            status=np.array([status]),
            slot=np.array([slot]),
            ip=np.array([ip]),
            lb=np.array([self._lb(lb_arn)]),
            index=np.array([-1]),
            from_target=np.array([from_target]),
            connected=np.array([connected]),
        )
        self._finalize(self.world.now)

    def summary(
        self, since: float | None = None, until: float | None = None, lb_arn: str | None = None
    ) -> dict[str, Any]:
        self.flush()
        return self.stats.summary(since, until, lb_arn)


def _why(status: int, mode: int, fail_open: bool) -> str | None:
    if status == 502:
        return "the target refused the connection (nothing listens there)"
    if status == 504:
        return (
            "the target did not accept the connection within 10 s"
            if mode == UNREACHABLE
            else "the target did not answer within the idle timeout"
        )
    if status == 500:
        return "the application answered with an error"
    if fail_open:
        return "every target is unhealthy: the load balancer fails open and routes to all of them"
    return None


def _empty_inflight() -> dict[str, np.ndarray[Any, Any]]:
    out: dict[str, np.ndarray[Any, Any]] = {}
    for name in _INFLIGHT:
        dtype = (
            np.float64
            if name in ("t", "done", "lat")
            else (np.bool_ if name in ("from_target", "connected") else np.int64)
        )
        out[name] = np.zeros(0, dtype=dtype)
    return out


class _EndpointTable:
    """Per data-plane slot: how its address answers, and its app's profile and queue."""

    def __init__(self, dp: DataPlane, snap: Snapshot) -> None:
        self.dp = dp
        size = len(dp._slots)
        self.mode = np.full(size, UNREACHABLE, dtype=np.int64)
        self.log_mu = np.zeros(size)
        self.sigma = np.zeros(size)
        self.err = np.zeros(size)
        self.capacity = np.full(size, math.inf)
        self._ip = np.array([dp._ip_index[s[1]] for s in dp._slots], dtype=np.int64)
        self._known: set[int] = set()

    def ip_of_slot(self, slot: I64) -> I64:
        """The IP index behind each slot (-1 for requests that reached no target)."""
        if not len(self._ip):
            return np.full(len(slot), -1, dtype=np.int64)
        ips: I64 = np.where(slot >= 0, self._ip[np.maximum(slot, 0)], -1)
        return ips

    def add_slots(self, slots: I64) -> None:
        from ecsim.model.ecs.task import EndpointMode

        for s in np.unique(slots).tolist():
            if s in self._known:
                continue
            self._known.add(s)
            _, ip, port = self.dp._slots[s]
            task: Task | None = self.dp.world.endpoints.get(ip)
            if task is None:
                continue
            mode = task.mode
            if mode is EndpointMode.SERVING and port != task.port:
                mode = EndpointMode.REFUSED
            self.mode[s] = {
                EndpointMode.SERVING: SERVING,
                EndpointMode.REFUSED: REFUSED,
                EndpointMode.HANGING: HANGING,
                EndpointMode.UNREACHABLE: UNREACHABLE,
            }[mode]
            p = task.profile
            self.log_mu[s], self.sigma[s], self.err[s] = p.log_mu, p.latency_sigma, p.error_rate
            self.capacity[s] = p.capacity

    def _load(self, s: int, second: int) -> Load:
        return self.dp.loads.setdefault(self.dp._slots[s][1], Load(second))

    def _per_ip_second(self, t: F64, slot: I64) -> list[tuple[str, float, int, int]]:
        """(ip, capacity, second, arrivals) of the serving requests, by ip then second."""
        serving = self.mode[slot] == SERVING
        if not serving.any():
            return []
        seconds = np.floor(t[serving]).astype(np.int64)
        base = int(seconds.min())
        slots = slot[serving]
        key = self._ip[slots] * (1 << 32) + (seconds - base)
        values, first, counts = np.unique(key, return_index=True, return_counts=True)
        out = []
        for v, f, c in zip(values.tolist(), first.tolist(), counts.tolist(), strict=True):
            ip_i, sec = divmod(v, 1 << 32)
            out.append((self.dp._ips[ip_i], float(self.capacity[slots[f]]), sec + base, c))
        return out

    def unloaded(self, t: F64, slot: I64) -> bool:
        """True when no app queues during these requests: every wait is zero. Reads the
        queues without moving them (the seconds are visited in order by `count`)."""
        first_second: set[str] = set()
        for ip, cap, sec, n in self._per_ip_second(t, slot):
            load = self.dp.loads.get(ip)
            if load is None:
                if n > cap:
                    return False
                continue
            if ip not in first_second:
                first_second.add(ip)
                if load.peek(sec, cap) > 0:
                    return False
            if n + (load.arrivals if load.second == sec else 0) > cap:
                return False
        return True

    def waits(self, second: int) -> F64:
        """Queue wait per slot for a request arriving during `second`."""
        wait = np.zeros(len(self.mode))
        for s in self._known:
            if self.mode[s] == SERVING:
                wait[s] = self._load(s, second).at(second, self.capacity[s]) / self.capacity[s]
        return wait

    def count(self, t: F64, slot: I64, o: Outcome) -> None:
        """Add serving arrivals to their apps' queues."""
        for ip, cap, sec, n in self._per_ip_second(t, slot):
            load = self.dp.loads.setdefault(ip, Load(sec))
            load.at(sec, cap)
            load.arrivals += n
