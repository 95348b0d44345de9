"""The data plane engine: requests evaluated in batches between control-plane events.

Between two events that change routing (a health transition, a registration, a task death)
the set of routable targets is constant, so the requests in between are evaluated together
with numpy (design.md, "The data plane must be fast"). Every model change that affects routing
calls `flush()` first, which evaluates all requests up to that instant. A long flush is cut
into chunks (`CHUNK` requests, more for worlds with many request kinds), so memory does not
grow with the number of requests; answered requests go to the statistics at once (stats.py),
the others wait in a small in-flight table for their answer or for the network to change
under them (`endpoint_failed`, `endpoint_unreachable`, `drain_expired`).

Per chunk: arrivals (`TrafficSource`), routing to pools (routing.py), target choice
(round robin and weighted random vectorised over pools, slow start per request, least
outstanding requests as a loop in lor.py), queue waits (queues.py, exact per-second
recurrence only for apps that may queue), answers (`outcome`).

Three things make the result independent of where batches start and end:

- request `i` of a load balancer's client stream always draws the same random numbers
  (random-access streams per lane, `draws.lane_draws`);
- an app's queue is modelled per whole second of simulated time (`queues.py`): the backlog
  at the start of a second depends only on earlier seconds;
- target choice carries its state across batches: the round-robin position per target
  group, the requests outstanding per target (least outstanding requests), and slow start
  decided per request from its arrival time.

A request ends in exactly one answer: 200 or 500 from the task; 502 when nothing listens at
the target or the target dies or drains out mid-request; 503 when the target group has no
target to send to; 504 when the target does not accept the connection within 10 s or does not
answer within the load balancer's idle timeout (docs/behaviour.md, "ALB-generated answers").

tests/reference_model.py evaluates the same requests one at a time (a heap of arrivals and
answers); tests/test_dataplane_reference.py checks that both agree on every request.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ecsim.model.dataplane.draws import (
    ERR,
    GAP,
    GROUP,
    KIND,
    LANES,
    LOSS,
    PICK,
    Ahead,
    Z,
    lane_draws,
)
from ecsim.model.dataplane.lor import least_outstanding, still_outstanding
from ecsim.model.dataplane.queues import Queues
from ecsim.model.dataplane.routing import (
    HANGING,
    REFUSED,
    SERVING,
    UNREACHABLE,
    Action,
    Pool,
    RequestKind,
    Snapshot,
)
from ecsim.model.dataplane.stats import ResponseTimes, Stats
from ecsim.model.dataplane.traced import TracedRoutes
from ecsim.model.elbv2.resources import LoadBalancingAlgorithm
from ecsim.model.events import RequestsCompleted, TrafficChanged
from ecsim.sim.heap import keep_freed_heap
from ecsim.sim.rng import running_sum

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.task import Task
    from ecsim.model.elbv2.backend import ElbBackend
    from ecsim.model.elbv2.endpoints import Endpoints

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

route_kinds: Callable[[F64, F64, int, I64, I64], None] | None
pick_plain: Callable[[I64, I64, I64, I64, I64, F64, I64], None] | None
try:
    from ecsim.model.dataplane._picks import pick_plain, route_kinds
except ImportError:  # not built (no C compiler where the package was installed): numpy
    route_kinds = pick_plain = None

# Requests evaluated together, at most: memory stays flat beyond this, and the arrays of a
# chunk stay in the CPU caches. Worlds with many routes (request kinds) take bigger chunks,
# as each route costs a little per chunk.
CHUNK = 1 << 15
CHUNK_PER_ROUTE = 256
CHUNK_MAX = 1 << 18
_BLOCK = 1024  # requests generated ahead, at least (small flushes use what is left)
_MARGIN = 64  # requests generated ahead beyond the expected number before a flush's end
_PENDING = 1 << 16  # answers waiting to be counted into the statistics, at most

STATUS_REFUSED = 0  # the client could not connect to the load balancer at all
_FIELDS = ("t", "done", "lat", "status", "slot", "ip", "lb", "index", "from_target", "connected")
_RR, _WR, _LOR = 0, 1, 2  # as _picks.pyx numbers them
_NO_NUMBERS: F64 = np.zeros(0)
_FEW_KINDS = 8  # request kinds of a source routed by a pass each, more by one sort
_FEW_POOLS = 8  # pools of a chunk picked by a pass each, more by one sort
_FEW_IDS = 256  # ids told apart with a set (`_distinct`), more by a sort
_ALGORITHMS = {
    LoadBalancingAlgorithm.ROUND_ROBIN: _RR,
    LoadBalancingAlgorithm.WEIGHTED_RANDOM: _WR,
    LoadBalancingAlgorithm.LEAST_OUTSTANDING_REQUESTS: _LOR,
}


@dataclass
class Outcome:
    status: I64
    done: F64
    from_target: B8
    connected: B8


def outcome(
    t: F64,
    mode: I64 | int,
    log_mu: F64 | float,
    sigma: F64 | float,
    err: F64 | float,
    wait: F64 | None,
    z: F64,
    u_err: F64 | None,
    idle: F64 | float,
    connect_timeout: float,
    elb_latency: float,
    delay: F64 | float = 0.0,
) -> Outcome:
    """What the client gets from a target; arrays broadcast (one formula for batches and
    matrices). `u_err` may be None when every error rate is 0; `wait` None when all are 0;
    `delay`: what the network adds to the answer (a FIS latency fault, model/verbs/faults.py)."""
    service = np.exp(log_mu + sigma * z)
    if wait is not None:
        service = service + wait
    if np.any(delay):
        service = service + delay
    if isinstance(mode, int) and mode == SERVING:
        done: F64 = t + service
        too_slow = service >= idle
        if u_err is None:
            status = np.full(done.shape, 200, dtype=np.int64)
        else:
            status = np.where(u_err < err, 500, 200).astype(np.int64)
        if too_slow.any():
            status[too_slow] = 504
            done = np.where(too_slow, t + idle, done)
        ones = np.ones(done.shape, dtype=np.bool_)
        return Outcome(status, done, ~too_slow, ones)
    serving = mode == SERVING
    too_slow = serving & (service >= idle)
    ok = serving & ~too_slow
    if u_err is None:
        status = np.where(ok, 200, 504)
    else:
        status = np.where(ok, np.where(u_err < err, 500, 200), 504)
    status = np.where(mode == REFUSED, 502, status)
    done = np.where(ok, t + service, t + idle)
    done = np.where(mode == REFUSED, t + elb_latency, done)
    done = np.where(mode == UNREACHABLE, t + connect_timeout, done)
    shape = np.shape(done)
    connected = np.broadcast_to(serving | (mode == HANGING), shape)
    return Outcome(
        np.broadcast_to(np.asarray(status, dtype=np.int64), shape).copy(),
        np.broadcast_to(np.asarray(done, dtype=np.float64), shape).copy(),
        np.broadcast_to(ok, shape).copy(),
        connected.copy(),
    )


_POOL_COLUMNS = ("slots", "ip_index", "mode", "log_mu", "sigma", "err", "delay", "loss")
RTO = 0.2  # s: Linux's minimum TCP retransmission timeout
MAX_RETRANSMISSIONS = 8


def network_delay(delay: F64 | float, loss: F64 | float, u: F64 | None) -> F64 | float:
    """What the task's network adds to an answer: a FIS latency, plus the retransmissions of
    a lost answer (draws.py: `n` losses in a row, `RTO x (2**n - 1)`). Arrays broadcast."""
    if u is None or not np.any(loss):
        return delay
    q = 1.0 - np.asarray(u)[..., None]
    j = np.arange(1, MAX_RETRANSMISSIONS + 1, dtype=np.float64)
    n = (q < np.power(np.asarray(loss, dtype=np.float64)[..., None], j)).sum(axis=-1)
    extra: F64 = RTO * (np.exp2(n) - 1.0)
    return delay + extra


@dataclass
class TrafficSource:
    """A steady client load on one load balancer: Poisson arrivals of weighted request kinds."""

    lb_arn: str
    key: int
    rate: float = 0.0
    kinds: list[RequestKind] = field(default_factory=lambda: [RequestKind()])
    port: int | None = None
    next_t: float = math.inf  # arrival time of request `next_i`
    next_i: int = 0
    # arrival times of requests next_i, next_i + 1, ... generated ahead
    ahead_t: F64 = field(default_factory=lambda: np.zeros(0))

    @property
    def kind_cdf(self) -> F64:
        w = np.array([k.weight for k in self.kinds], dtype=np.float64)
        cdf: F64 = np.cumsum(w) / w.sum()
        return cdf

    def restart(self, now: float, rate: float) -> None:
        """From `now` on, arrivals at `rate`: request next_i comes one gap after now."""
        self.rate = rate
        if rate > 0:
            u = lane_draws(self.key, GAP, self.next_i, 1)
            self.next_t = now + -math.log1p(-float(u[0])) / rate
            self.ahead_t = np.array([self.next_t])
        else:
            self.next_t = math.inf
            self.ahead_t = np.zeros(0)

    def horizon(self, count: int) -> float:
        """The arrival time of request next_i + count (generating requests ahead as needed)."""
        if len(self.ahead_t) <= count:
            # Regenerate from next_i (random-access draws: the same numbers again) rather
            # than append to what is left: no copy of the block. Times keep their exact sums.
            n = max(count + 1, _BLOCK)
            times = lane_draws(self.key, GAP, self.next_i, n)  # a fresh array: used in place
            np.negative(times, out=times)
            np.log1p(times, out=times)
            # -log1p(-u) / rate as one division: rounding is symmetric about 0, so
            # x / -rate is -(x / rate) to the bit
            times /= -self.rate
            times[0] = self.next_t
            running_sum(times)
            self.ahead_t = times
        return float(self.ahead_t[count])

    def take(self, until: float, limit: int) -> tuple[F64, int]:
        """Arrival times and first index of the next requests before `until` (at most
        `limit` of them)."""
        if self.rate <= 0 or self.next_t >= until:
            return np.zeros(0), self.next_i
        while True:
            m = int(np.searchsorted(self.ahead_t, until, side="left"))
            if m < len(self.ahead_t) or m >= limit:
                break
            self.horizon(min(limit, 2 * len(self.ahead_t) + _BLOCK))
        m = min(m, limit)
        times, first = self.ahead_t[:m], self.next_i
        self.ahead_t = self.ahead_t[m:]
        self.next_i += m
        self.next_t = float(self.ahead_t[0])
        return times, first


class _Targets:
    """The pools of one flush, laid end to end so that requests index their targets flat,
    and its routes: request kind k of the source at position `pos` is route
    `route_base[pos] + k`, resolved once per flush into lookup arrays (`resolve`), so that
    routing a chunk costs per request, not per route."""

    def __init__(
        self, dp: DataPlane, snap: Snapshot, active: list[tuple[int, TrafficSource]]
    ) -> None:
        self.dp = dp
        self.snap = snap
        self.pools: list[Pool] = []
        self.ids: dict[str, int] = {}
        self.rr: I64 = np.zeros(16, dtype=np.int64)  # round-robin position per pool
        # least outstanding requests: per pool, what is outstanding (answer times, targets)
        self.lor: dict[int, tuple[F64, I64]] = {}
        f = dp.inflight.col
        self._inflight0 = (f["done"], f["slot"])  # the in-flight requests at the flush start
        self._flat: dict[str, np.ndarray[Any, Any]] | None = None
        self.sources = dict(active)
        nk = [len(src.kinds) for _, src in active]
        bases = np.cumsum([0, *nk[:-1]]).tolist()
        self.route_base = {pos: base for (pos, _), base in zip(active, bases, strict=True)}
        self.route_source: I64 = np.repeat(np.array([p for p, _ in active], dtype=np.int64), nk)
        # per route: a pool id, _MULTI (weighted pools, `route_split`), _ANSWERED (the load
        # balancer answers `route_status`) or _UNRESOLVED (not met yet in this flush)
        self.route_pool: I64 = np.full(sum(nk), _UNRESOLVED, dtype=np.int64)
        self.route_status: I64 = np.zeros(sum(nk), dtype=np.int64)
        # a weighted route: the cumulative weights of its pools, each pool's id (-1: no
        # target), and whether one of them has no target
        self.route_split: dict[int, tuple[F64, list[int], bool]] = {}
        self._kind_cdfs: dict[int, tuple[F64, bool, tuple[I64, I64] | None]] = {}

    def kind_cdf(self, pos: int) -> tuple[F64, bool, tuple[I64, I64] | None]:
        """The cumulative weight shares of a source's request kinds, whether they ascend,
        and then their guide table (`_guide`) if there are many kinds."""
        cached = self._kind_cdfs.get(pos)
        if cached is None:
            cdf = self.sources[pos].kind_cdf
            ascending = bool(np.all(cdf[1:] >= cdf[:-1]))
            guide = _guide(cdf) if ascending and len(cdf) > _FEW_KINDS else None
            cached = self._kind_cdfs[pos] = (cdf, ascending, guide)
        return cached

    def action(self, pos: int, kind: int) -> Action:
        src = self.sources[pos]
        lb = self.dp.elb.load_balancers.get(src.lb_arn)
        return (
            self.snap.resolve(lb, src.port, src.kinds[kind])
            if lb
            else Action(None, None, fixed_status=STATUS_REFUSED, why="no load balancer")
        )

    def resolve(self, routes: I64) -> None:
        """The actions of routes met for the first time (ascending: pools get their ids in
        the order the requests' sources and kinds name them)."""
        for r in routes.tolist():
            pos = int(self.route_source[r])
            action = self.action(pos, r - self.route_base[pos])
            weights = action.weights
            if action.fixed_status is not None:
                self.route_pool[r] = _ANSWERED
                self.route_status[r] = action.fixed_status
            elif not action.pools or weights.sum() <= 0:
                self.route_pool[r] = _ANSWERED
                self.route_status[r] = 503
            elif len(action.pools) == 1:
                pool = action.pools[0]
                if pool.size == 0:
                    self.route_pool[r] = _ANSWERED
                    self.route_status[r] = 503
                else:
                    self.route_pool[r] = self.pool_id(pool)
            else:
                cdf = np.cumsum(weights) / weights.sum()
                ids = [self.pool_id(pool) if pool.size else -1 for pool in action.pools]
                self.route_pool[r] = _MULTI
                self.route_split[r] = (cdf, ids, -1 in ids)

    def pool_id(self, pool: Pool) -> int:
        g = self.ids.get(pool.tg.arn)
        if g is None:
            g = self.ids[pool.tg.arn] = len(self.pools)
            self.pools.append(pool)
            if g >= len(self.rr):
                self.rr = np.concatenate((self.rr, np.zeros(len(self.rr), dtype=np.int64)))
            self.rr[g] = self.dp.rr.get(pool.tg.arn, 0)
            q = self.dp.queues
            q.ensure(len(self.dp._ips))
            serving = pool.mode == SERVING
            q.capacity[pool.ip_index[serving]] = pool.capacity[serving]
            self._flat = None
        return g

    def flat(self) -> dict[str, np.ndarray[Any, Any]]:
        """The pools' columns end to end; the last flush's when it used the same pools in
        the same order (`Snapshot.pool` hands out a target group's last pool again when
        nothing it is made of changed)."""
        if self._flat is None:
            pools = tuple(self.pools)
            last = self.dp.flat_memo
            if (
                last is not None
                and len(last[0]) == len(pools)
                and all(a is b for a, b in zip(last[0], pools, strict=True))
            ):
                self._flat = last[1]
            else:
                self._flat = _columns(pools)
                self.dp.flat_memo = (pools, self._flat)
        return self._flat

    def outstanding(self, g: int) -> tuple[F64, I64]:
        """What is outstanding on pool g's targets (pool-local), from the flush start on."""
        state = self.lor.get(g)
        if state is None:
            done, slot = self._inflight0
            pool = self.pools[g]
            local = np.full(len(self.dp._slots), -1, dtype=np.int64)
            local[pool.slots] = np.arange(pool.size)
            # slot -1: answered by the load balancer itself, on no target
            j = np.where(slot >= 0, local[slot], -1) if len(slot) else np.zeros(0, np.int64)
            mine = j >= 0
            state = self.lor[g] = (done[mine], j[mine])
        return state


_LOR_ALG = LoadBalancingAlgorithm.LEAST_OUTSTANDING_REQUESTS
_GUIDE = 1 << 12  # cells of a guide table (a power of two: u * _GUIDE is exact)


def _guide(cdf: F64) -> tuple[I64, I64]:
    """For each cell [c, c + 1) / _GUIDE of [0, 1): the fewest and the most entries of the
    ascending `cdf` that a number in it is at least (equal: its search is settled)."""
    edges = np.arange(_GUIDE + 1, dtype=np.float64) / _GUIDE
    least: I64 = np.searchsorted(cdf, edges[:-1], side="right")
    most: I64 = np.searchsorted(cdf, edges[1:], side="left")
    return least, most


def _guided_search(cdf: F64, guide: tuple[I64, I64], u: F64) -> I64:
    """`searchsorted(cdf, u, side="right")` for uniforms in [0, 1), to the same result: the
    guide table settles most numbers by a lookup, a search the others (a binary search of
    random numbers costs several times a lookup)."""
    least, most = guide
    cell = (u * _GUIDE).astype(np.int64)
    found = least[cell]
    unsure = np.flatnonzero(found != most[cell])
    if len(unsure):
        found[unsure] = np.searchsorted(cdf, u[unsure], side="right")
    return found


# what a route leads to, besides a pool id (_Targets.route_pool)
_ANSWERED, _MULTI, _UNRESOLVED = -1, -2, -3


def _columns(pools: tuple[Pool, ...]) -> dict[str, np.ndarray[Any, Any]]:
    """The pools laid end to end: their targets' columns, and per pool its size, offset,
    algorithm, and whether it needs the special path (slow start, least outstanding
    requests) or answers uniformly."""
    sizes = np.array([p.size for p in pools], dtype=np.int64)
    cat: dict[str, np.ndarray[Any, Any]] = {
        name: np.concatenate([getattr(p, name) for p in pools])
        if len(pools) > 1
        else getattr(pools[0], name)
        for name in _POOL_COLUMNS
    }
    cat["size"] = sizes
    cat["offset"] = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    cat["algorithm"] = np.array([_ALGORITHMS[p.algorithm] for p in pools], dtype=np.int64)
    cat["special"] = np.array(
        [p.in_slow_start or p.algorithm is _LOR_ALG for p in pools], dtype=np.bool_
    )
    cat["uniform"] = np.array([p.uniform for p in pools], dtype=np.bool_)
    # per pool: its app profile's id (equal ids: equal first-target profiles), whether any
    # target errs or loses packets
    profiles: dict[tuple[float, ...], int] = {}
    cat["profile"] = np.array([_profile(p, profiles) for p in pools], dtype=np.int64)
    cat["err_any"] = np.array([bool(p.err.any()) for p in pools], dtype=np.bool_)
    cat["loss_any"] = np.array([bool(p.loss.any()) for p in pools], dtype=np.bool_)
    return cat


def _profile(pool: Pool, ids: dict[tuple[float, ...], int]) -> int:
    """An id of the app profile of the pool's first target (-1: no target). Keys equal as
    tuples of floats share an id (a NaN never equals another, as in a set)."""
    if not pool.size:
        return -1
    key = (
        float(pool.log_mu[0]),
        float(pool.sigma[0]),
        float(pool.err[0]),
        float(pool.delay[0]),
        float(pool.loss[0]),
    )
    return ids.setdefault(key, len(ids))


def _distinct(ids: I64) -> I64:
    """`np.unique` of a few ids (a chunk's routes' pools): a set is several times faster
    for them, and np.unique's first call imports numpy.ma, a hundredth of a second."""
    if len(ids) > _FEW_IDS:
        return np.unique(ids)
    return np.array(sorted(set(ids.tolist())), dtype=np.int64)


def _round_robin(start: int, n: int, size: int, offset: int) -> I64:
    """Targets `offset + (start + i) % size` for i in 0..n-1, the picks of round robin: one
    round of them, repeated (a remainder per request costs five times the copies)."""
    s = start % size
    one = np.arange(offset + s, offset + s + size, dtype=np.int64)
    one[size - s :] -= size
    picks: I64 = np.tile(one, -(-n // size))[:n]
    return picks


class _Chunk:
    """The requests of all sources arriving in one slice of time, source after source."""

    def __init__(self, parts: list[tuple[int, TrafficSource, F64, int]]) -> None:
        self.parts = parts
        self.t: F64 = np.concatenate([p[2] for p in parts]) if len(parts) > 1 else parts[0][2]
        n = len(self.t)
        self.n = n
        self.bounds: list[tuple[int, int]] = []
        a = 0
        for p in parts:
            self.bounds.append((a, a + len(p[2])))
            a += len(p[2])
        self.status = np.zeros(n, dtype=np.int64)
        self.pool = np.full(n, -1, dtype=np.int64)
        self.flat = np.full(n, -1, dtype=np.int64)  # the target, an index into _Targets.flat()
        # the pools routing sends to (ascending ids), and those of them more than one source
        # sends to (their requests are picked in arrival order)
        self.used: I64 = np.zeros(0, dtype=np.int64)
        self.shared: I64 = np.zeros(0, dtype=np.int64)
        self.all_routed = True  # no request answered by the load balancer itself
        self._lanes: dict[int, F64] = {}

    def lane(self, lane: int) -> F64:
        """The numbers of one lane, drawn when first asked for."""
        u = self._lanes.get(lane)
        if u is None:
            cols = [lane_draws(src.key, lane, first, len(t)) for _, src, t, first in self.parts]
            u = self._lanes[lane] = np.concatenate(cols) if len(cols) > 1 else cols[0]
        return u

    def index(self) -> I64:
        return np.concatenate(
            [np.arange(first, first + len(t), dtype=np.int64) for _, _, t, first in self.parts]
        )


class _InFlight:
    """Requests sent and not yet answered, column by column."""

    def __init__(self) -> None:
        self.col: dict[str, np.ndarray[Any, Any]] = {
            "t": np.zeros(0),
            "done": np.zeros(0),
            "status": np.zeros(0, dtype=np.int64),
            "slot": np.zeros(0, dtype=np.int64),
            "ip": np.zeros(0, dtype=np.int64),
            "lb": np.zeros(0, dtype=np.int64),
            "index": np.zeros(0, dtype=np.int64),
            "from_target": np.zeros(0, dtype=np.bool_),
            "connected": np.zeros(0, dtype=np.bool_),
            "trace": np.zeros(0, dtype=np.int64),  # the trace of a traced request, else -1
        }

    @property
    def n(self) -> int:
        return len(self.col["done"])

    def add(self, cols: dict[str, np.ndarray[Any, Any]]) -> None:
        n = len(cols["done"])
        if not n:
            return
        if "trace" not in cols:
            cols = {**cols, "trace": np.full(n, -1, dtype=np.int64)}
        if not self.n:
            self.col = {k: np.asarray(cols[k], dtype=v.dtype) for k, v in self.col.items()}
            return
        self.col = {k: np.concatenate((v, cols[k])) for k, v in self.col.items()}

    def pop_answered(self, until: float) -> dict[str, np.ndarray[Any, Any]] | None:
        if not self.n:
            return None
        return self.pop(self.col["done"] <= until)

    def pop(self, out: B8) -> dict[str, np.ndarray[Any, Any]] | None:
        if not out.any():
            return None
        if out.all():  # every one (the ALB port's few requests often are)
            answered, self.col = self.col, {k: v[:0] for k, v in self.col.items()}
            return answered
        answered = {k: v[out] for k, v in self.col.items()}
        self.col = {k: v[~out] for k, v in self.col.items()}
        return answered

    def rewrite(self, mask: B8, status: int, done: F64 | float) -> None:
        f = self.col
        f["status"] = np.where(mask, status, f["status"])
        f["done"] = np.where(mask, done, f["done"])
        f["from_target"] = np.where(mask, False, f["from_target"])


class DataPlane:
    """Client traffic through the world's load balancers."""

    def __init__(
        self,
        ctx: SimContext,
        elb: ElbBackend,
        endpoints: Endpoints[Task],
        record_requests: bool = False,
    ) -> None:
        keep_freed_heap()
        self.ctx = ctx
        self.elb = elb
        self.endpoints = endpoints
        self.flushed_until = 0.0
        self.sources: dict[str, TrafficSource] = {}
        self._ips: list[str] = []
        self._ip_index: dict[str, int] = {}
        self.stats = Stats(ctx.settings.stats_period, self._ips)
        self.record_requests = record_requests
        self.log: list[dict[str, Any]] = []
        self.rr: dict[str, int] = {}
        self.queues = Queues()
        self.inflight = _InFlight()
        self._slots: list[tuple[str, str, int]] = []
        self._slot_index: dict[tuple[str, str, int], int] = {}
        self._lbs: list[str] = []
        self._lb_index: dict[str, int] = {}
        self._manual = 0
        self._manual_draws: Ahead | None = None  # the traced requests' random numbers
        # traced requests not yet answered: their trace, and why the network changed the
        # answer under them (endpoint_failed, endpoint_unreachable, drain_expired)
        self._traces: dict[int, dict[str, Any]] = {}
        self._retraced: dict[int, str] = {}
        self.arrived = 0
        self.answered = 0
        # which rule each request kind meets, by listener and rules' content (routing.py)
        self.decisions: dict[tuple[Any, ...], Any] = {}
        self.rule_versions: dict[tuple[Any, ...], int] = {}
        # per target group: what its last pool was made of, and that pool (routing.py)
        self.pool_memo: dict[str, tuple[tuple[Any, ...], Pool]] = {}
        # the pools of the last flush and their columns end to end (_Targets.flat)
        self.flat_memo: tuple[tuple[Pool, ...], dict[str, np.ndarray[Any, Any]]] | None = None
        self._pending: dict[str, list[tuple[F64, I64, I64, B8, F64]]] = {}
        self._n_pending = 0
        self.routing_epoch = 0  # moves on at each change of routing (`routing_will_change`)
        self.traced_routes = TracedRoutes(self)

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

    @property
    def slot_keys(self) -> list[tuple[str, str, int]]:
        """(target group ARN, IP, port) of each slot."""
        return self._slots

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
        if kinds is not None and (not kinds or sum(k.weight for k in kinds) <= 0):
            raise ValueError("give at least one request kind with a positive weight")
        self.flush()
        now = self.ctx.now
        src = self.sources.get(lb_arn)
        if src is None:
            src = self.sources[lb_arn] = TrafficSource(
                lb_arn, self.ctx.streams.key(f"traffic:{lb_arn}")
            )
            self._lb(lb_arn)
        if kinds is not None:
            src.kinds = kinds
        if port is not None:
            src.port = port
        src.restart(now, rps)
        self.ctx.emit(TrafficChanged(now, lb_arn, rps))

    # --- evaluation -----------------------------------------------------------------------

    def flush(self, until: float | None = None) -> None:
        """Evaluate every request that arrives before `until` (default: now)."""
        t1 = self.ctx.now if until is None else until
        if t1 <= self.flushed_until:
            return
        t0 = self.flushed_until
        self.flushed_until = t1
        active = [
            (pos, src)
            for pos, src in enumerate(self.sources.values())
            if src.rate > 0 and src.next_t < t1
        ]
        targets = _Targets(self, Snapshot(self, at=t0), active) if active else None
        answered = self.inflight.pop_answered(t1)
        if answered is not None:
            self._answer(answered)
        if targets is not None:
            self._evaluate(targets, active, t1)
        self._seal(t1)

    def _evaluate(
        self, targets: _Targets, active: list[tuple[int, TrafficSource]], t1: float
    ) -> None:
        total_rate = sum(src.rate for _, src in active)
        routes = sum(len(src.kinds) for _, src in active)
        size = min(max(CHUNK, CHUNK_PER_ROUTE * routes), max(CHUNK, CHUNK_MAX))
        while True:
            te = t1
            for _, src in active:
                share = max(1, int(size * src.rate / total_rate))
                # requests expected before t1, with a margin: no more are generated ahead
                expected = (t1 - src.next_t) * src.rate
                te = min(
                    te, src.horizon(min(share, int(expected * 1.1 + 4 * expected**0.5) + _MARGIN))
                )
            parts = self._take(active, te, size)
            if not parts and te < t1:
                te = min(t1, float(np.nextafter(te, math.inf)))
                parts = self._take(active, te, size)
            if parts:
                chunk = _Chunk(parts)
                self.arrived += chunk.n
                self._route(targets, chunk)
                self._settle(targets, chunk, t1)
            if te >= t1:
                break
            if self._n_pending > _PENDING:  # else counted and sealed once, at the flush's end
                self._seal(te)
        for g, pool in enumerate(targets.pools):
            self.rr[pool.tg.arn] = int(targets.rr[g])

    @staticmethod
    def _take(
        active: list[tuple[int, TrafficSource]], until: float, limit: int
    ) -> list[tuple[int, TrafficSource, F64, int]]:
        parts = []
        for pos, src in active:
            times, first = src.take(until, limit)
            if len(times):
                parts.append((pos, src, times, first))
        return parts

    def _route(self, targets: _Targets, chunk: _Chunk) -> None:
        """Each request's action: an answer of the load balancer itself, or a pool. One
        lookup per request in the flush's route table (`_Targets`), weighted routes apart."""
        route, counts = self._route_ids(targets, chunk)
        present = np.flatnonzero(counts)
        fresh = present[targets.route_pool[present] == _UNRESOLVED]
        if len(fresh):
            targets.resolve(fresh)
        leads = targets.route_pool[present]
        pool = targets.route_pool[route]
        if (leads == _ANSWERED).any():
            answered = np.flatnonzero(pool == _ANSWERED)
            chunk.status[answered] = targets.route_status[route[answered]]
            chunk.all_routed = False
        single = leads >= 0
        pools, sources = [leads[single]], [targets.route_source[present[single]]]
        if (leads == _MULTI).any():
            rows = np.flatnonzero(pool == _MULTI)
            pool[rows] = -1
            for ids, pos in self._split(targets, chunk, route, pool, rows):
                pools.append(np.array(ids, dtype=np.int64))
                sources.append(np.full(len(ids), pos, dtype=np.int64))
        chunk.pool = pool
        g = np.concatenate(pools) if len(pools) > 1 else pools[0]
        src = np.concatenate(sources) if len(sources) > 1 else sources[0]
        chunk.used = _distinct(g)
        if len(g) > len(chunk.used):  # a pool some routes share: from more than one source?
            width = int(src.max()) + 1
            pairs = _distinct(g * width + src) // width  # the pool of each (pool, source)
            chunk.shared = _distinct(pairs[1:][pairs[1:] == pairs[:-1]])

    @staticmethod
    def _route_ids(targets: _Targets, chunk: _Chunk) -> tuple[I64, I64]:
        """Each request's route: its source's first route plus its request kind; and how
        many requests each route has."""
        route = np.empty(chunk.n, dtype=np.int64)
        counts = np.zeros(len(targets.route_pool), dtype=np.int64)
        counted = True  # else counted at the end, in one pass
        for (pos, src, *_), (a, b) in zip(chunk.parts, chunk.bounds, strict=True):
            base = targets.route_base[pos]
            nk = len(src.kinds)
            if nk == 1:
                route[a:b] = base
                counts[base] += b - a
                continue
            cdf, ascending, guide = targets.kind_cdf(pos)
            u = chunk.lane(KIND)[a:b]
            if nk <= _FEW_KINDS and ascending and route_kinds is not None:
                route_kinds(u, cdf, base, route[a:b], counts)  # the comparisons below
                continue
            counted = False
            if nk <= _FEW_KINDS and ascending:
                # searchsorted(cdf, u, side="right") capped at nk - 1, as comparisons
                kind_of = (u >= cdf[0]).view(np.int8)
                for c in cdf[1:-1].tolist():
                    kind_of += (u >= c).view(np.int8)
                route[a:b] = kind_of
            elif guide is not None:
                route[a:b] = np.minimum(_guided_search(cdf, guide, u), nk - 1)
            else:
                route[a:b] = np.minimum(np.searchsorted(cdf, u, side="right"), nk - 1)
            route[a:b] += base
        if not counted:
            counts = np.bincount(route, minlength=len(targets.route_pool))
        return route, counts

    @staticmethod
    def _split(
        targets: _Targets, chunk: _Chunk, route: I64, pool: I64, rows: I64
    ) -> list[tuple[list[int], int]]:
        """The requests of weighted routes (`rows`) among their pools (the GROUP lane);
        returns each such route's pools that have targets, with its source."""
        rows = rows[np.argsort(route[rows], kind="stable")]
        ids = route[rows]
        cut = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        out = []
        for idx in np.split(rows, cut):
            r = int(route[idx[0]])
            cdf, gs, empty = targets.route_split[r]
            choice = np.searchsorted(cdf, chunk.lane(GROUP)[idx], side="right")
            choice = np.minimum(choice, len(cdf) - 1)
            for i, g in enumerate(gs):
                part = idx[choice == i]
                if g < 0:
                    chunk.status[part] = 503
                else:
                    pool[part] = g
            if empty:
                chunk.all_routed = False
            out.append(([g for g in gs if g >= 0], int(targets.route_source[r])))
        return out

    # --- target choice --------------------------------------------------------------------

    def _pick(self, targets: _Targets, chunk: _Chunk, z: F64, idle: F64 | float) -> list[int]:
        """Each routed request's target (chunk.flat). Returns the least-outstanding pools."""
        flat = targets.flat()
        if chunk.all_routed and len(chunk.used) == 1:
            # one pool takes every request: whole-array views, no row lists
            p = int(chunk.used[0])
            if not flat["special"][p] and int(flat["algorithm"][p]) == _RR:
                start, size = targets.rr[p], int(flat["size"][p])
                chunk.flat = _round_robin(start, chunk.n, size, int(flat["offset"][p]))
                targets.rr[p] = start + chunk.n
                return []
            if targets.pools[p].algorithm is _LOR_ALG:
                self._pick_lor(targets, chunk, p, slice(0, chunk.n), z, idle)
                return [p]
        if chunk.all_routed and not len(chunk.shared) and not flat["special"][chunk.used].any():
            # every request to a plain pool that one source uses: no row lists, no masks
            self._pick_plain(targets, chunk, np.arange(chunk.n))
            return []
        routed = np.flatnonzero(chunk.pool >= 0)
        if not len(routed):
            return []
        g = chunk.pool[routed]
        lo, hi = int(g.min()), int(g.max())
        shared = chunk.shared
        special = flat["special"][g] if (lo != hi or flat["special"][lo]) else None
        if len(shared):
            mask = np.zeros(len(targets.pools), dtype=np.bool_)
            mask[shared] = True
            special = mask[g] | (special if special is not None else False)
        plain = routed if special is None else routed[~special]
        if len(plain):
            self._pick_plain(targets, chunk, plain)
        lor: list[int] = []
        if special is not None and special.any():
            shared_set = set(shared.tolist())
            for p in np.flatnonzero(np.bincount(g[special])).tolist():
                rows = np.flatnonzero(chunk.pool == p)
                if p in shared_set:
                    rows = rows[np.argsort(chunk.t[rows], kind="stable")]
                pool = targets.pools[p]
                if pool.algorithm is _LOR_ALG:
                    lor.append(p)
                    self._pick_lor(targets, chunk, p, rows, z, idle)
                else:
                    self._pick_special(targets, chunk, p, rows)
        return lor

    def _pick_plain(self, targets: _Targets, chunk: _Chunk, rows: I64) -> None:
        """Round robin and weighted random, outside slow start: vectorised over pools."""
        flat = targets.flat()
        n = len(rows)
        g = chunk.pool if n == chunk.n else chunk.pool[rows]  # rows is 0..n-1, or some
        if pick_plain is not None:  # what follows, in one pass
            algorithm = flat["algorithm"]
            u = chunk.lane(PICK) if (algorithm[chunk.used] == _WR).any() else _NO_NUMBERS
            if n == chunk.n:
                pick_plain(g, algorithm, flat["size"], flat["offset"], targets.rr, u, chunk.flat)
            else:
                picked = np.empty(n, dtype=np.int64)
                u = u[rows] if len(u) else u
                pick_plain(g, algorithm, flat["size"], flat["offset"], targets.rr, u, picked)
                chunk.flat[rows] = picked
            return
        lo, hi = int(g.min()), int(g.max())
        if lo == hi:
            size, alg = int(flat["size"][lo]), int(flat["algorithm"][lo])
            offset = int(flat["offset"][lo])
            if alg == _RR:
                start = targets.rr[lo]
                chunk.flat[rows] = _round_robin(start, n, size, offset)
                targets.rr[lo] = start + n
            else:
                local = np.minimum((chunk.lane(PICK)[rows] * size).astype(np.int64), size - 1)
                chunk.flat[rows] = offset + local
            return
        counts = np.bincount(g, minlength=len(targets.pools))
        used = np.flatnonzero(counts)
        if len(used) <= _FEW_POOLS:  # a pass per pool costs less than a sort
            self._pick_each(targets, chunk, rows, g, used)
            return
        # a stable sort of small keys is a radix sort
        key = g.astype(np.uint16) if len(targets.pools) <= 1 << 16 else g.astype(np.uint32)
        order = np.argsort(key, kind="stable")
        starts = np.cumsum(counts) - counts
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n, dtype=np.int64) - starts[g[order]]
        sizes: I64 = flat["size"][g]
        local = (targets.rr[g] + rank) % sizes
        wr = flat["algorithm"][g] == _WR
        if wr.any():
            u = chunk.lane(PICK)[rows[wr]]
            local[wr] = np.minimum((u * sizes[wr]).astype(np.int64), sizes[wr] - 1)
        chunk.flat[rows] = flat["offset"][g] + local
        rr = np.flatnonzero(counts)
        rr = rr[flat["algorithm"][rr] == _RR]
        targets.rr[rr] += counts[rr]

    @staticmethod
    def _pick_each(targets: _Targets, chunk: _Chunk, rows: I64, g: I64, used: I64) -> None:
        """`_pick_plain` pool by pool: each pool's requests in their order, as the sort
        would give them."""
        flat = targets.flat()
        every = len(rows) == chunk.n  # rows is 0..n-1
        for p in used.tolist():
            mine = np.flatnonzero(g == p)
            if not every:
                mine = rows[mine]
            size, offset = int(flat["size"][p]), int(flat["offset"][p])
            if int(flat["algorithm"][p]) == _RR:
                start = targets.rr[p]
                chunk.flat[mine] = _round_robin(start, len(mine), size, offset)
                targets.rr[p] = start + len(mine)
            else:
                local = np.minimum((chunk.lane(PICK)[mine] * size).astype(np.int64), size - 1)
                chunk.flat[mine] = offset + local

    def _pick_special(self, targets: _Targets, chunk: _Chunk, p: int, rows: I64) -> None:
        """Slow start (docs/behaviour.md, "Slow start"): while a target of the pool is in its
        window, requests
        pick at random with weights growing linearly over each window; then the algorithm."""
        pool = targets.pools[p]
        offset = int(targets.flat()["offset"][p])
        m = pool.size
        t = chunk.t[rows]
        ramping = t < pool.slow_start_end
        ramp_rows, after = rows[ramping], rows[~ramping]
        if len(ramp_rows):
            u = chunk.lane(PICK)[ramp_rows]
            width = (pool.slow_until - pool.slow_from)[None, :]
            step = max(1, CHUNK // max(m, 1))
            for a in range(0, len(ramp_rows), step):
                tt = chunk.t[ramp_rows[a : a + step]]
                ramp = np.clip((tt[:, None] - pool.slow_from[None, :]) / width, 0.001, 1.0)
                w = np.where(np.isnan(pool.slow_until)[None, :], 1.0, ramp)
                cdf = np.cumsum(w, axis=1)
                picked = (cdf < (u[a : a + step] * cdf[:, -1])[:, None]).sum(axis=1)
                chunk.flat[ramp_rows[a : a + step]] = offset + np.minimum(picked, m - 1)
        if len(after):
            if pool.algorithm is LoadBalancingAlgorithm.WEIGHTED_RANDOM:
                u = chunk.lane(PICK)[after]
                local = np.minimum((u * m).astype(np.int64), m - 1)
            else:
                start = targets.rr[p]
                local = (start + np.arange(len(after), dtype=np.int64)) % m
                targets.rr[p] = start + len(after)
            chunk.flat[after] = offset + local

    def _class_done(
        self,
        pool: Pool,
        t: F64,
        z: F64,
        u_err: F64 | None,
        idle: F64 | float,
        wait: F64 | None = None,
        u_loss: F64 | None = None,
    ) -> tuple[F64, I64]:
        """Answer instants of requests at `t` per target class (or per target, with waits)."""
        settings = self.ctx.settings.elb
        if wait is None:
            reps = pool.class_rep
            cls = pool.classes
            rows = [
                outcome(
                    t,
                    int(pool.mode[j]),
                    float(pool.log_mu[j]),
                    float(pool.sigma[j]),
                    float(pool.err[j]),
                    None,
                    z,
                    u_err,
                    idle,
                    settings.connect_timeout,
                    settings.elb_answer_latency,
                    network_delay(float(pool.delay[j]), float(pool.loss[j]), u_loss),
                ).done
                for j in reps
            ]
            return np.stack(rows), cls
        o = outcome(
            t[None, :],
            pool.mode[:, None],
            pool.log_mu[:, None],
            pool.sigma[:, None],
            pool.err[:, None],
            wait[:, None],
            z[None, :],
            None if u_err is None else u_err[None, :],
            idle if isinstance(idle, float) else idle[None, :],
            settings.connect_timeout,
            settings.elb_answer_latency,
            network_delay(
                pool.delay[:, None], pool.loss[:, None], None if u_loss is None else u_loss[None, :]
            ),
        )
        return o.done, np.arange(pool.size, dtype=np.int64)

    def _pick_lor(
        self,
        targets: _Targets,
        chunk: _Chunk,
        p: int,
        rows: I64 | slice,
        z: F64,
        idle: F64 | float,
        wait: F64 | None = None,
    ) -> None:
        """Least outstanding requests: a loop over the rows in arrival order (lor.py)."""
        pool = targets.pools[p]
        t = chunk.t[rows]
        u_err = chunk.lane(ERR)[rows] if pool.err.any() else None
        idle_r = idle if isinstance(idle, float) else idle[rows]
        u_loss = chunk.lane(LOSS)[rows] if pool.loss.any() else None
        done, cls = self._class_done(pool, t, z[rows], u_err, idle_r, wait, u_loss)
        prior_done, prior_j = targets.outstanding(p)
        picks = least_outstanding(
            t, chunk.lane(PICK)[rows], done, cls, pool.size, prior_done, prior_j
        )
        targets.lor[p] = still_outstanding(prior_done, prior_j, done, cls, picks, float(t[-1]))
        chunk.flat[rows] = int(targets.flat()["offset"][p]) + picks

    # --- answers --------------------------------------------------------------------------

    def _idle(self, lb_arn: str) -> float:
        lb = self.elb.load_balancers.get(lb_arn)
        return lb.idle_timeout if lb else 60.0

    def _settle(self, targets: _Targets, chunk: _Chunk, t1: float) -> None:
        """Targets, queue waits and answers of a chunk; answered requests to the statistics,
        the others in flight."""
        n, t = chunk.n, chunk.t
        settings = self.ctx.settings.elb
        idles = [self._idle(src.lb_arn) for _, src, *_ in chunk.parts]
        idle: F64 | float
        if len(set(idles)) == 1:
            idle = idles[0]
        else:
            idle = np.repeat(np.array(idles), [b - a for a, b in chunk.bounds])
        used = chunk.used
        status = chunk.status
        if not len(used) or not chunk.all_routed:
            # answers of the load balancer itself, unless every request goes to a target
            # (then all of these come from `outcome` below)
            done = t + settings.elb_answer_latency
            from_target = np.zeros(n, dtype=np.bool_)
            connected = np.zeros(n, dtype=np.bool_)
            slot = np.full(n, -1, dtype=np.int64)
            ip = np.full(n, -1, dtype=np.int64)
        if len(used):
            everything = chunk.all_routed
            routed = np.arange(n) if everything else np.flatnonzero(chunk.pool >= 0)
            z_all = chunk.lane(Z)
            flat = targets.flat()
            lor = used[flat["algorithm"][used] == _LOR].tolist()
            saved = (self.queues.save(), dict(targets.lor)) if lor else None
            self._pick(targets, chunk, z_all, idle)

            def sel(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
                return x if everything else x.take(routed)

            fi = sel(chunk.flat)
            profiles = flat["profile"][used]
            uniform = bool(flat["uniform"][used].all()) and bool((profiles == profiles[0]).all())
            # take: half the cost of indexing with an array, for the same values
            ips = flat["ip_index"].take(fi)
            tr = sel(t)
            mode: I64 | int
            if uniform:
                mode = SERVING
                waits = self.queues.arrive(ips, tr)
            else:
                mode = flat["mode"].take(fi)
                serving = mode == SERVING
                w = self.queues.arrive(ips[serving], tr[serving])
                waits = None
                if w is not None:
                    waits = np.zeros(len(routed))
                    waits[serving] = w
            if (
                waits is not None
                and saved is not None
                and waits[np.isin(chunk.pool[routed], lor)].any()
            ):
                waits = self._by_second(targets, chunk, routed, lor, saved, z_all, idle)
                fi = sel(chunk.flat)
                ips = flat["ip_index"].take(fi)
                if not uniform:
                    mode = flat["mode"].take(fi)
            z = sel(z_all)
            idle_r = idle if isinstance(idle, float) else sel(idle)
            u_err = sel(chunk.lane(ERR)) if flat["err_any"][used].any() else None
            u_loss = sel(chunk.lane(LOSS)) if flat["loss_any"][used].any() else None
            if uniform:
                p0 = targets.pools[int(used[0])]
                o = outcome(
                    tr,
                    SERVING,
                    float(p0.log_mu[0]),
                    float(p0.sigma[0]),
                    float(p0.err[0]),
                    waits,
                    z,
                    u_err,
                    idle_r,
                    settings.connect_timeout,
                    settings.elb_answer_latency,
                    network_delay(float(p0.delay[0]), float(p0.loss[0]), u_loss),
                )
            else:
                o = outcome(
                    tr,
                    mode,
                    flat["log_mu"].take(fi),
                    flat["sigma"].take(fi),
                    flat["err"].take(fi),
                    waits,
                    z,
                    u_err,
                    idle_r,
                    settings.connect_timeout,
                    settings.elb_answer_latency,
                    network_delay(flat["delay"].take(fi), flat["loss"].take(fi), u_loss),
                )
            if everything:
                status, done, from_target, connected = o.status, o.done, o.from_target, o.connected
                slot, ip = flat["slots"].take(fi), ips
            else:
                status[routed], done[routed] = o.status, o.done
                from_target[routed], connected[routed] = o.from_target, o.connected
                slot[routed], ip[routed] = flat["slots"].take(fi), ips
        answered = done <= t1
        all_answered = bool(answered.all())
        n_answered = n if all_answered else int(answered.sum())
        self.answered += n_answered
        for (_, src, *_), (a, b) in zip(chunk.parts, chunk.bounds, strict=True):
            if all_answered:
                self._count(src.lb_arn, done[a:b], status[a:b], ip[a:b], from_target[a:b], t[a:b])
            else:
                ans = answered[a:b]
                self._count(
                    src.lb_arn,
                    done[a:b][ans],
                    status[a:b][ans],
                    ip[a:b][ans],
                    from_target[a:b][ans],
                    t[a:b][ans],
                )
        if all_answered and not self.record_requests:
            return
        if not self.record_requests:
            # the few requests still in flight at t1 (those that came last), without a pass
            # per column over the chunk
            self.inflight.add(
                self._late(
                    chunk, np.flatnonzero(~answered), done, status, slot, ip, from_target, connected
                )
            )
            return
        lb = np.repeat(
            np.array([self._lb_index[src.lb_arn] for _, src, *_ in chunk.parts], dtype=np.int64),
            [b - a for a, b in chunk.bounds],
        )
        cols = {
            "t": t,
            "done": done,
            "status": status,
            "slot": slot,
            "ip": ip,
            "lb": lb,
            "index": chunk.index(),
            "from_target": from_target,
            "connected": connected,
        }
        if self.record_requests:
            self._log(cols if all_answered else {k: v[answered] for k, v in cols.items()})
        if not all_answered:
            self.inflight.add({k: v[~answered] for k, v in cols.items()})

    def _late(
        self,
        chunk: _Chunk,
        late: I64,
        done: F64,
        status: I64,
        slot: I64,
        ip: I64,
        from_target: B8,
        connected: B8,
    ) -> dict[str, np.ndarray[Any, Any]]:
        """The in-flight columns of the chunk's rows `late`: each row's load balancer and
        request index found from its part (`_Chunk.index` of those rows only)."""
        starts = np.array([a for a, _ in chunk.bounds], dtype=np.int64)
        part = np.searchsorted(starts, late, side="right") - 1
        lbs = np.array([self._lb_index[p[1].lb_arn] for p in chunk.parts], dtype=np.int64)
        firsts = np.array([p[3] for p in chunk.parts], dtype=np.int64)
        return {
            "t": chunk.t.take(late),
            "done": done.take(late),
            "status": status.take(late),
            "slot": slot.take(late),
            "ip": ip.take(late),
            "lb": lbs.take(part),
            "index": firsts.take(part) + (late - starts.take(part)),
            "from_target": from_target.take(late),
            "connected": connected.take(late),
        }

    def _by_second(
        self,
        targets: _Targets,
        chunk: _Chunk,
        routed: I64,
        lor: list[int],
        saved: tuple[Any, dict[int, tuple[F64, I64]]],
        z: F64,
        idle: F64 | float,
    ) -> F64:
        """The exact path when a least-outstanding pool meets a queue: one second at a time,
        so that each second's picks see the waits its queues give."""
        self.queues.restore(saved[0])
        targets.lor = dict(saved[1])
        flat = targets.flat()
        q = self.queues
        seconds = np.floor(chunk.t[routed]).astype(np.int64)
        order = np.argsort(seconds, kind="stable")
        seconds_sorted = seconds[order]
        bounds = np.flatnonzero(np.r_[True, seconds_sorted[1:] != seconds_sorted[:-1], True])
        waits = np.zeros(len(routed))
        is_lor = np.zeros(len(targets.pools), dtype=np.bool_)
        is_lor[lor] = True
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            second = int(seconds_sorted[a])
            idx = order[a:b]  # positions in `routed`
            rows = routed[idx]
            for p in lor:
                mine = rows[chunk.pool[rows] == p]
                if not len(mine):
                    continue
                mine = mine[np.argsort(chunk.t[mine], kind="stable")]
                pool = targets.pools[p]
                wait = np.array(
                    [
                        q.backlog_at(int(i), second) / float(c) if m == SERVING else 0.0
                        for i, c, m in zip(
                            pool.ip_index.tolist(),
                            pool.capacity.tolist(),
                            pool.mode.tolist(),
                            strict=True,
                        )
                    ]
                )
                self._pick_lor(targets, chunk, p, mine, z, idle, wait)
            fi = chunk.flat[rows]
            serving = flat["mode"][fi] == SERVING
            w = q.arrive(flat["ip_index"][fi[serving]], chunk.t[rows[serving]])
            if w is not None:
                sub = np.zeros(len(rows))
                sub[serving] = w
                waits[idx] = sub
        return waits

    def _log(self, cols: dict[str, np.ndarray[Any, Any]]) -> None:
        cols = {**cols, "lat": cols["done"] - cols["t"]}
        for row in zip(*(cols[k].tolist() for k in _FIELDS), strict=True):
            rec = dict(zip(_FIELDS, row, strict=True))
            rec["lb"] = self._lbs[rec["lb"]]
            rec["ip"] = self._ips[rec["ip"]] if rec["ip"] >= 0 else None
            rec["slot"] = self._slots[rec["slot"]] if rec["slot"] >= 0 else None
            self.log.append(rec)

    def _answer(self, f: dict[str, np.ndarray[Any, Any]]) -> None:
        """In-flight requests answered: to the statistics (and the log), and the traces of
        traced ones settled."""
        self.answered += len(f["done"])
        if self._traces:
            self._settle_traces(f)
        lbs = f["lb"]
        first = int(lbs[0])
        if not (lbs != first).any():  # one load balancer's answers: no selection
            self._count(self._lbs[first], f["done"], f["status"], f["ip"], f["from_target"], f["t"])
        else:
            self._count_each(f)
        if self.record_requests:
            self._log(f)

    def _count_each(self, f: dict[str, np.ndarray[Any, Any]]) -> None:
        """`_count` the answers of each load balancer in `f`."""
        lbs = f["lb"]
        for li in np.flatnonzero(np.bincount(lbs)).tolist():
            sel = lbs == li
            self._count(
                self._lbs[li],
                f["done"][sel],
                f["status"][sel],
                f["ip"][sel],
                f["from_target"][sel],
                f["t"][sel],
            )

    def _settle_traces(self, f: dict[str, np.ndarray[Any, Any]]) -> None:
        """The traces of traced requests now answered say what the client got: what the
        statistics count (docs/behaviour.md, "Traffic statistics")."""
        ids = f["trace"]
        rows = np.flatnonzero(ids >= 0)
        if not len(rows):
            return
        columns = zip(
            ids[rows].tolist(),
            f["status"][rows].tolist(),
            (f["done"][rows] - f["t"][rows]).tolist(),
            f["from_target"][rows].tolist(),
            strict=True,
        )
        for i, status, latency, from_target in columns:
            trace = self._traces.pop(i, None)
            if trace is None:
                continue
            trace["status"] = status
            trace["latencyMs"] = round(latency * 1000, 3)
            trace["answeredBy"] = "target" if from_target else "elb"
            trace["settled"] = True
            why = self._retraced.pop(i, None)
            if why is not None:
                trace["reason"] = why

    def _retrace(self, mask: B8, why: str) -> None:
        """The network changed the answers of the requests in `mask`: note why, for the
        traced ones among them."""
        if not self._traces:
            return
        ids = self.inflight.col["trace"][mask]
        for i in ids[ids >= 0].tolist():
            self._retraced[int(i)] = why

    def _count(self, lb_arn: str, done: F64, status: I64, ip: I64, from_target: B8, t: F64) -> None:
        """Answers for the statistics, counted together at the next seal."""
        if len(done):
            self._pending.setdefault(lb_arn, []).append((done, status, ip, from_target, t))
            self._n_pending += len(done)

    def _take_pending(self) -> list[tuple[str, F64, I64, I64, B8, F64]]:
        """The answers waiting to be counted, one batch per load balancer (`Stats.add`)."""
        batches = []
        for lb_arn, parts in self._pending.items():
            if len(parts) == 1:
                done, status, ip, from_target, t = parts[0]
            else:
                done, status, ip, from_target, t = (
                    np.concatenate([p[k] for p in parts]) for k in range(5)
                )
            batches.append((lb_arn, done, status, ip, from_target, done - t))
        self._pending.clear()
        self._n_pending = 0
        return batches

    def _count_pending(self) -> None:
        for batch in self._take_pending():
            self.stats.add(*batch)

    def _seal(self, until: float) -> None:
        period = self.stats.period
        if math.floor(until / period) <= self.stats.sealed_until:
            if self._n_pending > _PENDING:
                self._count_pending()
            return  # no bucket to seal yet
        # a record per second and load balancer, in time order
        self.ctx.emit_many(
            [
                RequestsCompleted(
                    ledger.time(row), ledger.load_balancer, ledger.period, counts=ledger, row=row
                )
                for ledger, row in self.stats.add_and_seal(self._take_pending(), until)
            ]
        )

    def _finalize(self, t1: float) -> None:
        answered = self.inflight.pop_answered(t1)
        if answered is not None:
            self._answer(answered)
        self._seal(t1)

    # --- the network changes under requests in flight --------------------------------------

    def endpoint_failed(self, ip: str) -> None:
        """The app at `ip` died: its open requests are cut off, the ALB answers 502
        (docs/behaviour.md, "ALB-generated answers")."""
        self.flush()
        i = self._ip_index.get(ip)
        f = self.inflight
        if i is None or not f.n:
            return
        now = self.ctx.now
        c = f.col
        mask = (c["ip"] == i) & c["connected"] & (c["done"] > now)
        self._retrace(mask, "the target stopped before it answered: the connection was cut")
        f.rewrite(mask, 502, now)

    def endpoint_unreachable(self, ip: str) -> None:
        """The network to `ip` is cut: open requests wait out the idle timeout and get 504."""
        self.flush()
        i = self._ip_index.get(ip)
        f = self.inflight
        if i is None or not f.n:
            return
        now = self.ctx.now
        c = f.col
        mask = (c["ip"] == i) & c["connected"] & (c["done"] > now)
        idle = np.array([self._idle(arn) for arn in self._lbs])[c["lb"]]
        self._retrace(
            mask,
            "the target became unreachable before it answered: no answer within the idle timeout",
        )
        f.rewrite(mask, 504, np.maximum(c["t"] + idle, now))

    def routing_will_change(self) -> None:
        """A `RoutingObserver`: settle every request up to now under the routing as it is."""
        self.flush()
        self.routing_epoch += 1

    def target_drained(self, tg_arn: str, ip: str, port: int) -> None:
        self.drain_expired(tg_arn, ip, port)

    def drain_expired(self, tg_arn: str, ip: str, port: int) -> None:
        """Deregistration delay over: requests still running on the target get 502
        (docs/behaviour.md, "Deregistration delay")."""
        self.flush()
        s = self._slot_index.get((tg_arn, ip, port))
        f = self.inflight
        if s is None or not f.n:
            return
        now = self.ctx.now
        c = f.col
        mask = (c["slot"] == s) & c["connected"] & (c["done"] > now)
        self._retrace(mask, "the target's deregistration delay ended before it answered")
        f.rewrite(mask, 502, now)

    @property
    def in_flight(self) -> int:
        return self.inflight.n

    # --- one request, traced --------------------------------------------------------------

    def trace(self, lb_arn: str, kind: RequestKind, port: int | None = None) -> dict[str, Any]:
        """Send one request now and follow it hop by hop.

        The trace gives the answer the request gets if nothing changes under it (`settled`
        False) until simulated time reaches that answer; then this same dict is updated with
        the answer the client got, the one the statistics count (`settled` True): a target
        that dies, is cut off or drains out meanwhile changes it (a 502 or 504 from the load
        balancer, with the `reason`). A request answered at once is settled on return.
        """
        return self.trace_many(lb_arn, [kind], port)[0]

    def trace_many(
        self, lb_arn: str, kinds: list[RequestKind], port: int | None = None
    ) -> list[dict[str, Any]]:
        """`trace` for each of `kinds`, sent now one after the other: the same traces and
        answers as that many calls of `trace`, evaluated together (the ALB's real port sends
        the requests that reach it within one turn of its event loop so). Routing and target
        choice go request by request (each one's pick counts for the next), the answers of
        the requests sent to targets as one array."""
        self.flush()
        n = len(kinds)
        if not n:
            return []
        lb = self.elb.load_balancers[lb_arn]
        now = self.ctx.now
        first = self._manual
        self._manual += n
        ahead = self._manual_draws
        if ahead is None:
            ahead = self._manual_draws = Ahead(self.ctx.streams.key("traffic:manual"))
        # the lanes a traced request reads (not GAP and KIND: it is sent now, as it is)
        draws = np.zeros((n, LANES))
        for lane in (GROUP, PICK, Z, ERR, LOSS):
            draws[:, lane] = ahead.take(lane, first, n)
        u = draws.tolist()
        routes = self.traced_routes
        routes.refresh(now)
        elb_latency = self.ctx.settings.elb.elb_answer_latency
        elb_ms = round(elb_latency * 1000, 3)
        lor: dict[str, list[int]] = {}  # a least-outstanding pool's counts, this batch's too
        traces: list[dict[str, Any]] = []
        elb_rows: list[tuple[int, int]] = []  # (request, status) answered by the load balancer
        sent: list[tuple[int, Pool, int]] = []  # (request, pool, target) sent to a target
        rr = self.rr
        for k, kind in enumerate(kinds):
            action, cdf, start = routes.route(lb, port, kind)
            trace = start.copy()
            trace["time"] = now
            traces.append(trace)
            code = action.fixed_status
            pool: Pool | None = None
            if code is None and cdf is not None:
                choice = bisect.bisect_right(cdf, u[k][GROUP])
                pool = action.pools[min(choice, len(cdf) - 1)]
            if code is None and (pool is None or pool.size == 0):
                code = 503
            if code is not None or pool is None:
                code = 503 if code is None else code
                trace["status"], trace["latencyMs"] = code, elb_ms
                if code == 503:
                    trace["reason"] = "the target group has no target to send to"
                    trace["targetGroup"] = action.pools[0].tg.arn if action.pools else None
                elb_rows.append((k, code))
                continue
            if pool.algorithm is _LOR_ALG:
                counts = lor.get(pool.tg.arn)
                if counts is None:
                    counts = lor[pool.tg.arn] = self._outstanding_one(pool, now)
                low = min(counts)
                tied = [j for j in range(len(counts)) if counts[j] == low]
                local = tied[min(int(u[k][PICK] * len(tied)), len(tied) - 1)]
                counts[local] += 1
            else:
                pick = routes.pick(pool)
                m = pool.size
                if now < pick[0]:
                    local = self._pick_one(pool, now, u[k][PICK])
                elif pick[1]:
                    local = min(int(u[k][PICK] * m), m - 1)
                else:  # round robin
                    arn = pool.tg.arn
                    at = rr.get(arn, 0)
                    rr[arn] = at + 1
                    local = at % m
            sent.append((k, pool, local))
        self._record_many(lb, now, elb_latency, traces, elb_rows, sent, draws, first)
        return traces

    def _record_many(
        self,
        lb: Any,
        now: float,
        elb_latency: float,
        traces: list[dict[str, Any]],
        elb_rows: list[tuple[int, int]],
        sent: list[tuple[int, Pool, int]],
        draws: F64,
        first: int,
    ) -> None:
        """The answers of a batch of traced requests (`trace_many`; `draws`: their lanes, a
        row each), into the in-flight table."""
        n_elb, n_sent = len(elb_rows), len(sent)
        n = n_elb + n_sent
        req = np.empty(n, dtype=np.int64)
        done = np.empty(n)
        status = np.empty(n, dtype=np.int64)
        slot = np.full(n, -1, dtype=np.int64)
        ip = np.full(n, -1, dtype=np.int64)
        from_target = np.zeros(n, dtype=np.bool_)
        connected = np.zeros(n, dtype=np.bool_)
        if n_elb:
            req[:n_elb] = [k for k, _ in elb_rows]
            status[:n_elb] = [c for _, c in elb_rows]
            done[:n_elb] = now + elb_latency
        if n_sent:
            settings = self.ctx.settings.elb
            arr = _gather(sent)
            mode = arr["mode"].astype(np.int64)
            ip_i = arr["ip_index"].astype(np.int64)
            rows = [k for k, _, _ in sent]
            if n_elb:
                draws = draws[rows]
            serving = mode == SERVING
            every = bool(serving.all())
            wait: F64 | None = None
            if every or serving.any():
                self.queues.ensure(len(self._ips))
                to = ip_i if every else ip_i[serving]
                self.queues.capacity[to] = arr["capacity"] if every else arr["capacity"][serving]
                w = self.queues.arrive(to, np.full(len(to), now))
                if w is not None:
                    wait = w if every else np.zeros(n_sent)
                    if not every:
                        wait[serving] = w
            o = outcome(
                np.full(n_sent, now),
                SERVING if every else mode,  # one target mode: outcome's shorter path
                arr["log_mu"],
                arr["sigma"],
                arr["err"],
                wait,
                draws[:, Z],
                draws[:, ERR],
                lb.idle_timeout,
                settings.connect_timeout,
                elb_latency,
                network_delay(arr["delay"], arr["loss"], draws[:, LOSS]),
            )
            at = slice(n_elb, n)
            req[at] = rows
            done[at] = o.done
            status[at] = o.status
            slot[at] = arr["slots"]
            ip[at] = ip_i
            from_target[at] = o.from_target
            connected[at] = o.connected
            rows_status = o.status.tolist()
            rows_done = o.done.tolist()
            rows_target = o.from_target.tolist()
            rows_mode = mode.tolist()
            for j, (k, pool, local) in enumerate(sent):
                code, m = rows_status[j], rows_mode[j]
                trace = traces[k]
                trace["targetGroup"] = pool.tg.arn
                trace["target"] = self.traced_routes.names(pool)[local]
                trace["status"] = code
                trace["latencyMs"] = round((rows_done[j] - now) * 1000, 3)
                trace["answeredBy"] = "target" if rows_target[j] else "elb"
                trace["reason"] = _why(code, m, pool.fail_open)
                trace["failOpen"] = pool.fail_open
        cols = {
            "done": done,
            "status": status,
            "slot": slot,
            "ip": ip,
            "from_target": from_target,
            "connected": connected,
        }
        if n_elb and n_sent:  # in the order they were sent (else they are already)
            order = np.argsort(req, kind="stable")
            req = req[order]
            cols = {name: col[order] for name, col in cols.items()}
        ids = first + req
        for k, i in zip(req.tolist(), ids.tolist(), strict=True):
            self._traces[i] = traces[k]
        self.arrived += n
        self.inflight.add(
            {
                "t": np.full(n, now),
                **cols,
                "lb": np.full(n, self._lb(lb.arn), dtype=np.int64),
                "index": np.full(n, -1, dtype=np.int64),
                "trace": ids,
            }
        )
        self._finalize(now)

    def _outstanding_one(self, pool: Pool, now: float) -> list[int]:
        """The requests outstanding on each of a pool's targets now (least outstanding
        requests)."""
        m = pool.size
        c = self.inflight.col
        if not self.inflight.n:
            return [0] * m
        local = np.full(len(self._slots), -1, dtype=np.int64)
        local[pool.slots] = np.arange(m)
        j = local[c["slot"]]
        mine = (j >= 0) & (c["done"] > now)
        counts: list[int] = np.bincount(j[mine], minlength=m).tolist()
        return counts

    def _pick_one(self, pool: Pool, now: float, u: float) -> int:
        """The target of one request sent now (the rules of the batched picks), outside
        least outstanding requests (`trace_many` keeps its counts)."""
        m = pool.size
        if now < pool.slow_start_end:
            ramp = np.clip((now - pool.slow_from) / (pool.slow_until - pool.slow_from), 0.001, 1.0)
            w = np.where(np.isnan(pool.slow_until), 1.0, ramp)
            cdf = np.cumsum(w)
            return min(int((cdf < u * cdf[-1]).sum()), m - 1)
        if pool.algorithm is LoadBalancingAlgorithm.WEIGHTED_RANDOM:
            return min(int(u * m), m - 1)
        start = self.rr.get(pool.tg.arn, 0)
        self.rr[pool.tg.arn] = start + 1
        return start % m

    def settle(self, trace: dict[str, Any]) -> None:
        """Answer a traced request now, with the answer the model gives it now, however far
        simulated time is from that answer: the ALB's real port, when the answer is due in
        wall time but simulated time stands still (the clock is paused), answers its client
        with it, and from then on nothing can change it (awsapi/alb.py). The statistics count
        it at its answer instant, like any other."""
        i = next((k for k, v in self._traces.items() if v is trace), None)
        if i is None:
            return  # settled already
        answered = self.inflight.pop(self.inflight.col["trace"] == i)
        if answered is not None:
            self._answer(answered)

    def summary(
        self, since: float | None = None, until: float | None = None, lb_arn: str | None = None
    ) -> dict[str, Any]:
        self.flush()
        self._count_pending()
        return self.stats.summary(since, until, lb_arn)

    def response_times(
        self, since: float | None, until: float | None, lb_arn: str
    ) -> ResponseTimes | None:
        """Every statistic of the targets' answer times of one load balancer over a window
        (`Stats.response_times`): what CloudWatch's `TargetResponseTime` reads."""
        self.flush()
        self._count_pending()
        return self.stats.response_times(since, until, lb_arn)


def _gather(sent: list[tuple[int, Pool, int]]) -> dict[str, np.ndarray[Any, Any]]:
    """The pool columns (and capacity) of each (request, pool, target) sent, in order."""
    names = (*_POOL_COLUMNS, "capacity")
    by_pool: dict[int, tuple[Pool, list[int], list[int]]] = {}
    for j, (_, pool, local) in enumerate(sent):
        entry = by_pool.get(id(pool))
        if entry is None:
            entry = by_pool[id(pool)] = (pool, [], [])
        entry[1].append(j)
        entry[2].append(local)
    if len(by_pool) == 1:
        pool, _, locals_ = next(iter(by_pool.values()))
        at = np.array(locals_, dtype=np.int64)
        return {c: getattr(pool, c)[at] for c in names}
    out: dict[str, np.ndarray[Any, Any]] = {}
    for c in names:
        column = None
        for pool, rows, locals_ in by_pool.values():
            values = getattr(pool, c)[np.array(locals_, dtype=np.int64)]
            if column is None:
                column = np.empty(len(sent), dtype=values.dtype)
            column[rows] = values
        out[c] = column if column is not None else np.zeros(0)
    return out


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
        return (
            "too few targets are healthy (the target group's minimum healthy count or "
            "percentage): the load balancer fails open and routes to unhealthy ones too"
        )
    return None
