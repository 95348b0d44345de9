# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A chunk's routes and plain picks, each in one compiled pass (engine.py, `_route_ids` and
`_pick_plain`): what the numpy path does with a comparison pass per request kind and a pass
per pool, compiled. engine.py is the definition and the fallback where this module was not
built; tests/test_dataplane_picks.py checks that both give the same routes and targets.
"""

import numpy as np


def route_kinds(
    const double[::1] u,
    const double[::1] cdf,
    long long base,
    long long[::1] route,
    long long[::1] counts,
):
    """Request kind of each number of `u` (the KIND lane of one source's requests): the
    number of entries of the ascending `cdf` but its last that it is at least (the first
    kind whose cumulative share exceeds it, capped at the last kind); each request's route is
    `base` plus its kind, into `route`, and `counts[route]` counts them."""
    cdef Py_ssize_t n = u.shape[0]
    cdef Py_ssize_t last = cdf.shape[0] - 1
    cdef Py_ssize_t i, j
    cdef long long k
    cdef double x
    if route.shape[0] != n:
        raise ValueError("u and route must have the same length")
    if last < 0 or base < 0 or base + last >= counts.shape[0]:
        raise ValueError("the routes of the kinds must be in counts")
    with nogil:
        for i in range(n):
            x = u[i]
            k = 0
            for j in range(last):
                k += x >= cdf[j]  # no branch: random numbers would mispredict it
            route[i] = base + k
            counts[base + k] += 1


def pick_plain(
    const long long[::1] pool,
    const long long[::1] algorithm,
    const long long[::1] size,
    const long long[::1] offset,
    long long[::1] rr,
    const double[::1] u,
    long long[::1] flat,
):
    """Each request's target (`flat`, an index into the pools laid end to end) in a pool of
    round robin or weighted random outside slow start (`pool`: each request's pool id):
    round robin takes the pool's targets in turn from its counter `rr` on, in the requests'
    order, and moves the counter on by as many; weighted random takes target
    `min(floor(u * size), size - 1)` (`u`: the PICK lane; may be empty when no pool is
    weighted random)."""
    cdef Py_ssize_t n = pool.shape[0]
    cdef Py_ssize_t m = algorithm.shape[0]
    cdef Py_ssize_t i
    cdef long long p, s, local
    if flat.shape[0] != n:
        raise ValueError("pool and flat must have the same length")
    if size.shape[0] != m or offset.shape[0] != m or rr.shape[0] < m:
        raise ValueError("every pool needs its size, offset and counter")
    at_arr = np.zeros(m, dtype=np.int64)  # round robin: each pool's next target, local
    taken_arr = np.zeros(m, dtype=np.int64)
    cdef long long[::1] at = at_arr
    cdef long long[::1] taken = taken_arr
    cdef bint bad = False
    with nogil:
        for p in range(m):
            if size[p] > 0:
                at[p] = rr[p] % size[p]
        for i in range(n):
            p = pool[i]
            if p < 0 or p >= m or size[p] <= 0:
                bad = True
                break
            s = size[p]
            if algorithm[p] == 0:  # round robin (engine._RR)
                flat[i] = offset[p] + at[p]
                at[p] += 1
                if at[p] == s:
                    at[p] = 0
                taken[p] += 1
            elif algorithm[p] == 1:  # weighted random (engine._WR)
                if i >= u.shape[0]:
                    bad = True
                    break
                local = <long long> (u[i] * s)
                if local > s - 1:
                    local = s - 1
                flat[i] = offset[p] + local
            else:
                bad = True
                break
        if not bad:
            for p in range(m):
                rr[p] += taken[p]
    if bad:
        raise ValueError(
            "every request needs a pool of round robin or weighted random with targets, and "
            "weighted random a number"
        )
