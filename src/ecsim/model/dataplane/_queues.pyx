# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The queues' common case in one compiled pass (queues.py, `Queues.arrive`): a batch in which
every app it reaches is clear (no backlog, and at most its capacity of arrivals counted in
the batch and before it), so nothing waits. queues.py is the definition and the fallback
where this module was not built or the batch is not clear; tests/test_dataplane_queues.py
checks that both leave the same state.
"""

import numpy as np


def arrive_clear(
    const long long[::1] ip,
    const double[::1] t,
    long long[::1] second,
    double[::1] backlog,
    long long[::1] arrivals,
    const double[::1] capacity,
):
    """Count the arrivals at the apps `ip` at times `t` when every app among them is clear
    (backlog 0, and its arrivals counted so far plus the batch's at most its capacity), as
    `Queues.arrive` does: each app's state becomes (the batch's last second, 0, its arrivals
    in that second). Returns True then; False, with the state untouched, otherwise (or for an
    IP out of range)."""
    cdef Py_ssize_t n = ip.shape[0]
    cdef Py_ssize_t m = second.shape[0]
    if t.shape[0] != n:
        raise ValueError("ip and t must have the same length")
    if backlog.shape[0] != m or arrivals.shape[0] != m or capacity.shape[0] != m:
        raise ValueError("the state's columns must have the same length")
    if n == 0:
        return True
    total_arr = np.zeros(m, dtype=np.int64)
    at_end_arr = np.zeros(m, dtype=np.int64)
    cdef long long[::1] total = total_arr
    cdef long long[::1] at_end = at_end_arr
    cdef Py_ssize_t i, k
    cdef long long j, s, s_end
    cdef bint ok = True
    with nogil:
        s_end = <long long> t[0]
        for i in range(n):
            s = <long long> t[i]  # truncation, as numpy's astype
            if s > s_end:
                s_end = s
        for i in range(n):
            j = ip[i]
            if j < 0 or j >= m:
                ok = False
                break
            total[j] += 1
            if <long long> t[i] == s_end:
                at_end[j] += 1
        if ok:
            for k in range(m):
                if total[k] and not (
                    backlog[k] == 0.0 and <double> (arrivals[k] + total[k]) <= capacity[k]
                ):
                    ok = False
                    break
        if ok:
            for k in range(m):
                if total[k]:
                    if second[k] == s_end:
                        arrivals[k] = at_end[k] + arrivals[k]
                    else:
                        arrivals[k] = at_end[k]
                    second[k] = s_end
                    backlog[k] = 0.0
    return ok
