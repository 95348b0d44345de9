# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The statistics' tables of a batch of answers in one pass (stats.py, `_Batch`): what the
numpy path counts with a `bincount` per table, compiled. stats.py is the definition and the
fallback where this module was not built; tests/test_stats_batches.py checks that both give
the same rows.
"""

import numpy as np

from libc.math cimport INFINITY, rint

cdef double _TWO_52 = 4503599627370496.0


cdef inline void _flush(
    Py_ssize_t r,
    long long n,
    long long total,
    double lo,
    double hi,
    long long[:, ::1] status_t,
    long long[::1] sums,
    double[::1] low,
    double[::1] high,
) noexcept nogil:
    """Add a run of answers of row r (`count_rows`): their count (one status column; 0
    otherwise), latency sum, minimum and maximum."""
    status_t[r, 0] += n
    sums[r] += total
    if lo < low[r]:
        low[r] = lo
    if hi > high[r]:
        high[r] = hi


def count_rows(
    const long long[::1] row,
    Py_ssize_t nr,
    const long long[::1] status,
    const long long[::1] status_col,
    Py_ssize_t nc,
    const long long[::1] ip,
    const long long[::1] col_of,
    Py_ssize_t width,
    const unsigned char[::1] from_target,
    const double[::1] latency,
    const long long[::1] bins,
    long long lo,
    Py_ssize_t nb,
):
    """Per row 0..nr-1 (`row`: each answer's): answers per status column (`status_col[code]`;
    every answer in column 0 when `nc` is 1), per target column (`col_of[ip]`; none for ip
    -1), per latency bin (`bins` - lo) of the targets' answers and of the load balancer's,
    and the exact sum (whole ns), minimum and maximum of the targets' latencies (s).
    None when an answer's IP has no column yet."""
    cdef Py_ssize_t n = row.shape[0]
    if (
        status.shape[0] != n or ip.shape[0] != n or from_target.shape[0] != n
        or latency.shape[0] != n or bins.shape[0] != n
    ):
        raise ValueError("every column of the answers must have the same length")
    status_arr = np.zeros((nr, nc), dtype=np.int64)
    target_arr = np.zeros((nr, width), dtype=np.int64)
    lat_arr = np.zeros((nr, nb), dtype=np.int64)
    elb_arr = np.zeros((nr, nb), dtype=np.int64)
    sums_arr = np.zeros(nr, dtype=np.int64)
    low_arr = np.full(nr, np.inf)
    high_arr = np.full(nr, -np.inf)
    cdef long long[:, ::1] status_t = status_arr
    cdef long long[:, ::1] target_t = target_arr
    cdef long long[:, ::1] lat_t = lat_arr
    cdef long long[:, ::1] elb_t = elb_arr
    cdef long long[::1] sums = sums_arr
    cdef double[::1] low = low_arr
    cdef double[::1] high = high_arr
    cdef Py_ssize_t i, r, c, b
    cdef Py_ssize_t n_cols = col_of.shape[0]
    cdef long long j
    cdef double x, v
    cdef bint missing = False
    cdef bint bad = False
    # The current row's answers, sum, minimum and maximum kept in registers while answers
    # stay in one row (they come nearly in row order), not added to memory one by one: an
    # add to the cell the previous answer added to waits for that store.
    cdef Py_ssize_t cur = -1
    cdef long long cur_n = 0, cur_sum = 0
    cdef double cur_lo = INFINITY, cur_hi = -INFINITY
    with nogil:
        for i in range(n):
            r = row[i]
            if r < 0 or r >= nr:
                bad = True
                break
            if r != cur:
                if cur >= 0:
                    _flush(cur, cur_n, cur_sum, cur_lo, cur_hi, status_t, sums, low, high)
                cur, cur_n, cur_sum, cur_lo, cur_hi = r, 0, 0, INFINITY, -INFINITY
            if nc == 1:
                cur_n += 1
            else:
                status_t[r, status_col[status[i]]] += 1
            j = ip[i]
            if j >= 0:
                if j >= n_cols or col_of[j] < 0:
                    missing = True
                    break
                target_t[r, col_of[j]] += 1
            b = bins[i] - lo
            if from_target[i]:
                lat_t[r, b] += 1
                x = latency[i]
                v = x * 1e9
                if 0.0 <= v < _TWO_52:
                    # rint without a call: adding and taking off 2**52 rounds to the nearest
                    # whole number, ties to even, as rint does in the default rounding mode
                    v = (v + _TWO_52) - _TWO_52
                else:
                    v = rint(v)
                cur_sum += <long long> v
                if x < cur_lo:
                    cur_lo = x
                if x > cur_hi:
                    cur_hi = x
            else:
                elb_t[r, b] += 1
        if cur >= 0 and not bad and not missing:
            _flush(cur, cur_n, cur_sum, cur_lo, cur_hi, status_t, sums, low, high)
    if bad:
        raise ValueError(f"rows must be in 0..{nr - 1}")
    if missing:
        return None
    return status_arr, target_arr, lat_arr, elb_arr, sums_arr, low_arr, high_arr


def trim_rows(const long long[:, ::1] table, long long lo):
    """The histogram rows of a (row x bin) table whose bin k is bin lo + k, each from its
    lowest to its highest non-empty bin (stats.py, `_hist_table`): (first bins, numbers of
    bins, counts laid end to end); a row without answers has no bins and first bin 0."""
    cdef Py_ssize_t nr = table.shape[0]
    cdef Py_ssize_t nb = table.shape[1]
    firsts_arr = np.zeros(nr, dtype=np.int64)
    lengths_arr = np.zeros(nr, dtype=np.int64)
    cdef long long[::1] firsts = firsts_arr
    cdef long long[::1] lengths = lengths_arr
    cdef Py_ssize_t r, a, z, k, total = 0
    with nogil:
        for r in range(nr):
            a = 0
            while a < nb and table[r, a] <= 0:
                a += 1
            if a == nb:
                continue
            z = nb - 1
            while table[r, z] <= 0:
                z -= 1
            firsts[r] = a + lo
            lengths[r] = z - a + 1
            total += z - a + 1
    counts_arr = np.empty(total, dtype=np.int64)
    cdef long long[::1] counts = counts_arr
    total = 0
    with nogil:
        for r in range(nr):
            if lengths[r]:
                a = firsts[r] - lo
                for k in range(lengths[r]):
                    counts[total + k] = table[r, a + k]
                total += lengths[r]
    return firsts_arr, lengths_arr, counts_arr
