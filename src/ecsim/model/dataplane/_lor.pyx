# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Least outstanding requests, compiled: the same picks as `lor.least_outstanding`.

One pass over the arrivals with a binary heap of the outstanding answers (answer instant,
target). Each arrival first lets go of the answers due at or before it, then takes the
`min(int(u * ties), ties - 1)`-th target, in pool order, among those with the fewest
outstanding requests. lor.py is the definition and the fallback where this module was not
built; tests/test_lor_walk.py checks that both give the same picks.
"""

import numpy as np

from libc.stdlib cimport free, malloc


cdef inline void _push(double* at, long long* who, Py_ssize_t* size, double x, long long j) noexcept nogil:
    cdef Py_ssize_t i = size[0]
    cdef Py_ssize_t parent
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if at[parent] <= x:
            break
        at[i] = at[parent]
        who[i] = who[parent]
        i = parent
    at[i] = x
    who[i] = j


cdef inline void _pop(double* at, long long* who, Py_ssize_t* size) noexcept nogil:
    cdef Py_ssize_t n = size[0] - 1
    cdef double x = at[n]
    cdef long long j = who[n]
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t c
    size[0] = n
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and at[c + 1] < at[c]:
            c += 1
        if at[c] >= x:
            break
        at[i] = at[c]
        who[i] = who[c]
        i = c
    at[i] = x
    who[i] = j


def least_outstanding(
    const double[::1] t,
    const double[::1] u,
    const double[:, ::1] done,
    const long long[::1] cls,
    Py_ssize_t m,
    const double[::1] prior_done,
    const long long[::1] prior_j,
):
    """Pool-local targets of requests arriving at `t` (ascending). `done[c, k]`: the answer
    instant of request k on a target of class c; `cls[j]`: the class of target j."""
    cdef Py_ssize_t n = t.shape[0]
    cdef Py_ssize_t n_p = prior_done.shape[0]
    if m < 1:
        raise ValueError(f"a pool has at least one target, got m={m}")
    if u.shape[0] != n or done.shape[1] != n or prior_j.shape[0] != n_p or cls.shape[0] != m:
        raise ValueError("t, u and done's rows, prior_done and prior_j, cls and m must agree")
    picks_arr = np.zeros(n, dtype=np.int64)
    cdef long long[::1] picks = picks_arr
    if n == 0:
        return picks_arr
    cdef Py_ssize_t cap = n + n_p
    cdef double* at = <double*> malloc(cap * sizeof(double))
    cdef long long* who = <long long*> malloc(cap * sizeof(long long))
    cdef long long* counts = <long long*> malloc(m * sizeof(long long))
    if at == NULL or who == NULL or counts == NULL:
        free(at)
        free(who)
        free(counts)
        raise MemoryError()
    cdef Py_ssize_t size = 0
    cdef Py_ssize_t k, j, p, ties, r
    cdef long long low
    cdef double tk
    try:
        with nogil:
            for j in range(m):
                counts[j] = 0
            for p in range(n_p):
                counts[prior_j[p]] += 1
                _push(at, who, &size, prior_done[p], prior_j[p])
            for k in range(n):
                tk = t[k]
                while size and at[0] <= tk:
                    counts[who[0]] -= 1
                    _pop(at, who, &size)
                low = counts[0]
                ties = 1
                for j in range(1, m):
                    if counts[j] < low:
                        low = counts[j]
                        ties = 1
                    elif counts[j] == low:
                        ties += 1
                r = <Py_ssize_t>(u[k] * ties)
                if r > ties - 1:
                    r = ties - 1
                for j in range(m):
                    if counts[j] == low:
                        if r == 0:
                            break
                        r -= 1
                picks[k] = j
                counts[j] += 1
                _push(at, who, &size, done[cls[j], k], j)
    finally:
        free(at)
        free(who)
        free(counts)
    return picks_arr
