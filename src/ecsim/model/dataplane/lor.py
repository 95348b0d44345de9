"""Least outstanding requests (docs/behaviour.md, "Routing algorithms"): each pick depends on the
ones before it.

A request goes to a target of its pool with the fewest requests outstanding (sent, not yet
answered) at its arrival; among tied targets, in pool order, the `int(u * ties)`-th, with `u`
its PICK uniform. A request answered at exactly the arrival instant no longer counts.

This cannot be batched with numpy, so it runs as a loop over the requests: compiled
(`_lor.pyx`, built with the package where a C compiler is at hand: a binary heap of the
answers outstanding and a scan of the pool's counts per request) or, failing that, in Python
as a tight loop over plain lists, with the same picks (tests/test_lor_walk.py). Most pools
are homogeneous: every target answers a given request at the same instant (same app
profile, same way of answering), so the answer times are known before the picks and the
loop only walks them in sorted order (`_walk`). Otherwise, per target class, the loop keeps a
heap of answer times (`_heap`).

The walk of a small pool (`_SMALL` targets at most, the common case) is table driven
(`_Tables`): a set of targets is a bit mask; the targets at the lowest count, the next
count and the one after are kept as masks (`m0`, `m1`, `m2`) beside every target's count,
so that a pick is a lookup in the row of `m0` and no step scans the pool. Which tied target
a request takes depends only on `u` through `int(u * ties)` for ties = 1..m: that is a step
function of `u` for every number of ties, so `u` is reduced beforehand (numpy) to the cell
between two steps, and a row holds the pick and the remaining mask for every cell. Larger
pools walk with plain counts (`_walk_counts`).

`prior` is what is outstanding when the batch starts: answer times and pool-local targets.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_SMALL = 12  # pools up to this many targets take the table-driven walk

Walk = Callable[[F64, F64, F64, I64, int, F64, I64], I64]

compiled_walk: Walk | None
try:
    from ecsim.model.dataplane._lor import least_outstanding as compiled_walk
except ImportError:  # not built (no C compiler where the package was installed)
    compiled_walk = None


def least_outstanding(
    t: F64,
    u: F64,
    done: F64,
    cls: I64,
    m: int,
    prior_done: F64,
    prior_j: I64,
) -> I64:
    """Pool-local targets of requests arriving at `t` (ascending). `done[c, k]`: the answer
    instant of request k on a target of class c; `cls[j]`: the class of target j."""
    if compiled_walk is not None:
        return compiled_walk(t, u, done, cls, m, prior_done, prior_j)
    return walk_in_python(t, u, done, cls, m, prior_done, prior_j)


def walk_in_python(
    t: F64,
    u: F64,
    done: F64,
    cls: I64,
    m: int,
    prior_done: F64,
    prior_j: I64,
) -> I64:
    """`least_outstanding` without the compiled walk."""
    if done.shape[0] == 1:
        picks = _walk(t, u, done[0], m, prior_done, prior_j)
        if picks is not None:
            return picks
    return _heap(t, u, done, cls, m, prior_done, prior_j)


def _tie_steps(m: int) -> list[float]:
    """Every `u` at which `min(int(u * n), n - 1)` steps up for some n <= m: the least float
    with `u * n >= i` (float product), for 0 < i < n."""
    steps = set()
    for n in range(2, m + 1):
        for i in range(1, n):
            x = i / n
            while x * n >= i:
                x = math.nextafter(x, 0.0)
            while x * n < i:
                x = math.nextafter(x, 1.0)
            steps.add(x)
    return sorted(steps)


@dataclass
class _Tables:
    """What the walk of a pool of m targets looks up (built once per m)."""

    m: int
    steps: F64  # cell c of u: steps[c - 1] <= u < steps[c]
    lo: F64  # lo[c] = steps[c - 1] (-inf for c = 0), hi[c] = steps[c] (inf for the last)
    hi: F64
    grid: I64  # the cell of k / scale, for a first guess from int(u * scale)
    scale: int
    tie: list[list[int]]  # tie[c][n]: the tied target cell c takes among n
    add: list[list[int]]  # add[mask][j] = mask | 1 << j
    drop: list[list[int]]  # drop[mask][j] = mask & ~(1 << j)
    members: list[list[int]]  # the targets of a mask, in pool order
    rows: list[list[tuple[int, int]]]  # rows[m0][c]: (target, m0 without it), built lazily

    @property
    def cells(self) -> int:
        return len(self.tie)

    def row(self, mask: int) -> list[tuple[int, int]]:
        drop = self.drop[mask]
        pairs = [(j, drop[j]) for j in self.members[mask]]
        n = len(pairs)
        row = [pairs[tie[n]] for tie in self.tie]
        self.rows[mask] = row
        return row

    def cells_of(self, u: F64) -> I64:
        """The cell of every `u` (exact: a first guess from a grid, checked against the steps)."""
        k = (u * self.scale).astype(np.int64)
        np.clip(k, 0, self.scale, out=k)
        c = self.grid[k]
        c += u >= self.hi[c]
        c -= u < self.lo[c]
        if not ((self.lo[c] <= u) & (u < self.hi[c])).all():
            c = np.searchsorted(self.steps, u, side="right").astype(np.int64)
        return c


_TABLES: dict[int, _Tables] = {}


def _tables(m: int) -> _Tables:
    tab = _TABLES.get(m)
    if tab is None:
        steps = _tie_steps(m)
        starts = [0.0, *steps]
        tie = [[0] + [min(int(x * n), n - 1) for n in range(1, m + 1)] for x in starts]
        scale = math.lcm(*range(1, m + 1))
        arr = np.array(steps, dtype=np.float64)
        grid = np.searchsorted(arr, np.arange(scale + 1) / scale, side="right").astype(np.int64)
        full = range(1 << m)
        bits = [1 << j for j in range(m)]
        tab = _Tables(
            m=m,
            steps=arr,
            lo=np.concatenate(([-np.inf], arr)),
            hi=np.concatenate((arr, [np.inf])),
            grid=grid,
            scale=scale,
            tie=tie,
            add=[[mask | b for b in bits] for mask in full],
            drop=[[mask & ~b for b in bits] for mask in full],
            members=[[j for j in range(m) if mask >> j & 1] for mask in full],
            rows=[[] for _ in full],
        )
        _TABLES[m] = tab
    return tab


def _walk(t: F64, u: F64, done: F64, m: int, prior_done: F64, prior_j: I64) -> I64 | None:
    """Every target answers request k at done[k]: walk arrivals and answers in time order
    (answers first at a tie)."""
    n_p, n = len(prior_done), len(t)
    if not n:
        return np.zeros(0, dtype=np.int64)
    if (done <= t).any():
        return None  # answered at its own arrival instant: let the heap decide
    if m > _SMALL:
        return _walk_counts(t, u, done, m, prior_done, prior_j)
    tab = _tables(m)
    base = tab.cells
    # Event codes: an arrival is its cell (< base); an answer is base + its slot, the place of
    # its target in `own` (base + p for prior entry p, base + n_p + k for request k). Stable
    # sort: answers before arrivals at a tie, arrivals in order.
    codes = np.concatenate((np.arange(base, base + n_p + n, dtype=np.int64), tab.cells_of(u)))
    order = np.argsort(np.concatenate((prior_done, done, t)), kind="stable")
    events: list[int] = codes[order].tolist()
    own: list[int] = [0] * base + prior_j.tolist()
    append = own.append
    cnt: list[int] = np.bincount(prior_j, minlength=m).tolist() if n_p else [0] * m
    add, drop, members, rows = tab.add, tab.drop, tab.members, tab.rows
    bit = [1 << j for j in range(m)]
    full = (1 << m) - 1
    low = min(cnt)
    low1, low2 = low + 1, low + 2
    m0 = m1 = m2 = 0  # the targets at count low, low + 1, low + 2
    for j, c in enumerate(cnt):
        if c == low:
            m0 |= bit[j]
        elif c == low1:
            m1 |= bit[j]
        elif c == low2:
            m2 |= bit[j]
    for x in events:
        if x >= base:  # an answer
            j = own[x]
            c = cnt[j] - 1
            cnt[j] = c
            if c == low:
                m0 = add[m0][j]
                m1 = drop[m1][j]
            elif c < low:
                low2, low1, low = low1, low, c
                m2 = m1
                m1 = drop[m0][j]
                m0 = bit[j]
            elif c == low1:
                m1 = add[m1][j]
                m2 = drop[m2][j]
            elif c == low2:
                m2 = add[m2][j]
            continue
        try:
            j, m0 = rows[m0][x]
        except IndexError:  # first time this set is the lowest
            j, m0 = tab.row(m0)[x]
        append(j)
        cnt[j] = low1
        m1 = add[m1][j]
        if not m0:  # every target of the lowest count took one more: one count up
            low, low1, low2 = low1, low2, low2 + 1
            m0, m1, m2 = m1, m2, 0
            for j in members[full ^ (m0 | m1)]:
                if cnt[j] == low2:
                    m2 = add[m2][j]
    return np.array(own[base + n_p :], dtype=np.int64)


def _walk_counts(t: F64, u: F64, done: F64, m: int, prior_done: F64, prior_j: I64) -> I64:
    """The walk of a large pool: per-target counts and the lowest count's tie size."""
    n_p, n = len(prior_done), len(t)
    base = n_p + n
    # Event codes: base + k for the arrival of request k; ~slot for an answer, where slot is
    # where the answered request's target is kept (p for prior entry p, base + k for request
    # k). Stable sort: answers before arrivals at a tie.
    arrivals = np.arange(base, base + n, dtype=np.int64)
    codes = np.concatenate((~np.arange(n_p, dtype=np.int64), ~arrivals, arrivals))
    order = np.argsort(np.concatenate((prior_done, done, t)), kind="stable")
    events: list[int] = codes[order].tolist()
    owner: list[int] = prior_j.tolist() + [0] * (n + n)  # by slot
    u_at: list[float] = [0.0] * base + u.tolist()  # by arrival code
    counts: list[int] = np.bincount(prior_j, minlength=m).tolist() if n_p else [0] * m
    low = min(counts)
    nlow = counts.count(low)
    index = counts.index
    count = counts.count
    for x in events:
        if x < 0:
            j = owner[~x]
            c = counts[j] - 1
            counts[j] = c
            if c < low:
                low = c
                nlow = 1
            elif c == low:
                nlow += 1
            continue
        if nlow == 1:
            j = index(low)
        elif nlow == m:
            j = min(int(u_at[x] * m), m - 1)
        else:
            r = min(int(u_at[x] * nlow), nlow - 1)
            j = index(low)
            while r:
                j = index(low, j + 1)
                r -= 1
        owner[x] = j
        counts[j] = low + 1
        nlow -= 1
        if not nlow:
            low += 1
            nlow = count(low)
    return np.array(owner[base:], dtype=np.int64)


def _heap(t: F64, u: F64, done: F64, cls: I64, m: int, prior_done: F64, prior_j: I64) -> I64:
    heap = list(zip(prior_done.tolist(), prior_j.tolist(), strict=True))
    heapq.heapify(heap)
    counts: list[int] = np.bincount(prior_j, minlength=m).tolist() if len(prior_j) else [0] * m
    rows = [d.tolist() for d in done]
    cls_l: list[int] = cls.tolist()
    out = [0] * len(t)
    index = counts.index
    push, pop = heapq.heappush, heapq.heappop
    for k, (tk, uk) in enumerate(zip(t.tolist(), u.tolist(), strict=True)):
        while heap and heap[0][0] <= tk:
            counts[pop(heap)[1]] -= 1
        low = min(counts)
        ties = counts.count(low)
        j = index(low)
        if ties > 1:
            r = min(int(uk * ties), ties - 1)
            while r:
                j = index(low, j + 1)
                r -= 1
        out[k] = j
        counts[j] += 1
        push(heap, (rows[cls_l[j]][k], j))
    return np.array(out, dtype=np.int64)


def still_outstanding(
    prior_done: F64, prior_j: I64, done: F64, cls: I64, picks: I64, after: float
) -> tuple[F64, I64]:
    """The prior and new requests still outstanding after `after`."""
    mine = done[0] if done.shape[0] == 1 else done[cls[picks], np.arange(len(picks))]
    all_done = np.concatenate((prior_done, mine))
    all_j = np.concatenate((prior_j, picks))
    keep = all_done > after
    return all_done[keep], all_j[keep]
