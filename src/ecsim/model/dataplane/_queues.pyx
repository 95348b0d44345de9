# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The queues' common case in one compiled pass (queues.py, `Queues.arrive`): a batch in which
every app it reaches is clear (no backlog, and in no second more arrivals than its
capacity), so nothing waits. queues.py is the definition and the fallback
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
    (backlog 0, and in every second at most its capacity of arrivals, with those counted in
    its current second before the batch), as `Queues.arrive` does: each app's state becomes
    (the batch's last second, 0, its arrivals in that second). Returns True then; False,
    with the state untouched, otherwise (or for an IP out of range, or when the seconds of
    the apps to check one by one would need too large a table)."""
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
    mark_arr = np.full(m, -1, dtype=np.int64)
    cdef long long[::1] total = total_arr
    cdef long long[::1] at_end = at_end_arr
    cdef long long[::1] mark = mark_arr  # app -> its row in `cells`, -1: none
    cdef long long[::1] cells
    cdef Py_ssize_t i, k, c
    cdef long long j, s, s_end, s_min, span, carried
    cdef Py_ssize_t checked = 0  # apps whose batch total passes their capacity
    cdef bint ok = True
    with nogil:
        s_end = <long long> t[0]
        s_min = s_end
        for i in range(n):
            s = <long long> t[i]  # truncation, as numpy's astype
            if s > s_end:
                s_end = s
            if s < s_min:
                s_min = s
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
                if not total[k]:
                    continue
                if backlog[k] != 0.0 or <double> arrivals[k] > capacity[k]:
                    ok = False
                    break
                if <double> (arrivals[k] + total[k]) > capacity[k]:
                    mark[k] = checked  # clear only if no second passes the capacity
                    checked += 1
    span = s_end - s_min + 1
    if ok and checked and checked * span > 4 * n + 4096:
        ok = False  # left to numpy, which counts (app, second) cells by sorting
    if ok and checked:
        cells = np.zeros(checked * span, dtype=np.int64)
        with nogil:
            for i in range(n):
                j = mark[ip[i]]
                if j >= 0:
                    cells[j * span + (<long long> t[i] - s_min)] += 1
            for k in range(m):
                j = mark[k]
                if j < 0:
                    continue
                for c in range(span):
                    if not cells[j * span + c]:
                        continue
                    carried = arrivals[k] if s_min + c == second[k] else 0
                    if <double> (cells[j * span + c] + carried) > capacity[k]:
                        ok = False
                        break
                if not ok:
                    break
    if ok:
        with nogil:
            for k in range(m):
                if total[k]:
                    if second[k] == s_end:
                        arrivals[k] = at_end[k] + arrivals[k]
                    else:
                        arrivals[k] = at_end[k]
                    second[k] = s_end
                    backlog[k] = 0.0
    return ok
