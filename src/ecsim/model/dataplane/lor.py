"""Least outstanding requests (reference 3.5): each pick depends on the ones before it.

A request goes to a target of its pool with the fewest requests outstanding (sent, not yet
answered) at its arrival; among tied targets, in pool order, the `int(u * ties)`-th, with `u`
its PICK uniform. A request answered at exactly the arrival instant no longer counts.

This cannot be batched with numpy, so it runs as a tight loop over plain lists. Most pools
are homogeneous: every target answers a given request at the same instant (same app
profile, same way of answering), so the answer times are known before the picks and the
loop only walks them in sorted order (`_walk`). Otherwise, per target class, the loop keeps a
heap of answer times (`_heap`).

`prior` is what is outstanding when the batch starts: answer times and pool-local targets.
"""

from __future__ import annotations

import heapq

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


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
    if done.shape[0] == 1:
        picks = _walk(t, u, done[0], m, prior_done, prior_j)
        if picks is not None:
            return picks
    return _heap(t, u, done, cls, m, prior_done, prior_j)


def _walk(t: F64, u: F64, done: F64, m: int, prior_done: F64, prior_j: I64) -> I64 | None:
    """Every target answers request k at done[k]: walk arrivals and answers in time order
    (answers first at a tie), keeping per-target counts and the lowest count's tie size."""
    n_p, n = len(prior_done), len(t)
    if not n:
        return np.zeros(0, dtype=np.int64)
    if (done <= t).any():
        return None  # answered at its own arrival instant: let the heap decide
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
            j = int(u_at[x] * m)
        else:
            r = int(u_at[x] * nlow)
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
