"""The queue in front of each app, per task IP, kept per whole second of simulated time.

A task that gets more requests in one second than its capacity carries the excess into the
next: with `a` arrivals during second `s` and backlog `b` at its start, the backlog at the
start of `s + 1` is `max(0, b + a - capacity)`, and it drains by `capacity` per empty second.
A request arriving during second `s` waits `b / capacity` before its app starts on it. The
backlog at the start of a second depends only on earlier seconds, so the order in which a
batch's requests are counted does not matter.

Per IP the state is (second, backlog at its start, arrivals counted in it so far). Batches
count their arrivals at once; the exact per-second recurrence runs only for the IPs that may
queue in the batch (others have a zero backlog throughout and need no per-second work). A
batch in which every app is clear at once (the usual case: apps without a capacity) is
counted in one compiled pass (`_queues.pyx`, built with the package where a C compiler is at
hand; the numpy code below does the same where it is not).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

State = tuple[I64, F64, I64]

arrive_clear: Callable[[I64, F64, I64, F64, I64, F64], bool] | None
try:
    from ecsim.model.dataplane._queues import arrive_clear
except ImportError:  # not built (no C compiler where the package was installed): numpy
    arrive_clear = None


class Queues:
    def __init__(self) -> None:
        self.second: I64 = np.full(0, -1, dtype=np.int64)
        self.backlog: F64 = np.zeros(0)
        self.arrivals: I64 = np.zeros(0, dtype=np.int64)
        self.capacity: F64 = np.full(0, math.inf)

    def ensure(self, n: int) -> None:
        """Room for IP indices 0..n-1."""
        old = len(self.second)
        if n <= old:
            return
        size = max(n, 2 * old, 64)
        self.second = np.concatenate((self.second, np.full(size - old, -1, dtype=np.int64)))
        self.backlog = np.concatenate((self.backlog, np.zeros(size - old)))
        self.arrivals = np.concatenate((self.arrivals, np.zeros(size - old, dtype=np.int64)))
        self.capacity = np.concatenate((self.capacity, np.full(size - old, math.inf)))

    def save(self) -> State:
        return (self.second.copy(), self.backlog.copy(), self.arrivals.copy())

    def restore(self, state: State) -> None:
        n = len(state[0])
        self.second[:n], self.backlog[:n], self.arrivals[:n] = state
        self.second[n:], self.backlog[n:], self.arrivals[n:] = -1, 0.0, 0

    def backlog_at(self, ip: int, second: int) -> float:
        """The backlog of `ip` at the start of `second` (not before its state's second)."""
        s, b, a = int(self.second[ip]), float(self.backlog[ip]), int(self.arrivals[ip])
        if second <= s:
            return b
        cap = float(self.capacity[ip])
        b = max(0.0, b + a - cap)
        gap = second - s - 1
        if gap and b:
            b = max(0.0, b - cap * gap)
        return b

    def arrive(self, ip: I64, t: F64) -> F64 | None:
        """Count requests arriving at the apps `ip` at times `t` (any order, none before the
        queues' current seconds) and return each one's wait, or None when every wait is 0."""
        n = len(ip)
        if not n:
            return None
        if arrive_clear is not None and arrive_clear(
            ip, t, self.second, self.backlog, self.arrivals, self.capacity
        ):
            return None  # every app clear: counted as below, without a numpy pass per step
        sec = t.astype(np.int64)  # t >= 0: truncation is the floor
        s_end = int(sec.max())
        total = np.bincount(ip, minlength=len(self.second))
        touched = np.flatnonzero(total)
        # Clear: no backlog at the start of the current second, and neither it (with what
        # was counted in it before) nor any later second gets more arrivals than the
        # capacity, so nothing ever waits. First a cheap sufficient test on the batch's
        # total, then second by second.
        calm = self.backlog[touched] == 0
        clear = calm & (self.arrivals[touched] + total[touched] <= self.capacity[touched])
        rest = touched[~clear]
        cells = None
        if len(rest):
            cells = self._cells(ip, sec, rest, s_end)
            cell_ip, cell_sec, cell_n, _ = cells
            carried = np.where(cell_sec == self.second[cell_ip], self.arrivals[cell_ip], 0)
            peak = np.zeros(len(self.second), dtype=np.int64)
            np.maximum.at(peak, cell_ip, cell_n + carried)
            cap = self.capacity[rest]
            ok = calm[~clear] & (peak[rest] <= cap) & (self.arrivals[rest] <= cap)
            clear[np.flatnonzero(~clear)[ok]] = True
        done = touched[clear]
        if len(done):
            at_end = np.bincount(ip[sec == s_end], minlength=len(self.second))
            same = self.second[done] == s_end
            self.arrivals[done] = at_end[done] + np.where(same, self.arrivals[done], 0)
            self.second[done] = s_end
            self.backlog[done] = 0.0
        busy = touched[~clear]
        if not len(busy) or cells is None:
            return None
        # The exact recurrence, second by second, for the apps that may queue.
        cell_ip, cell_sec, cell_n, requests_of = cells
        rows, row_cell = requests_of()
        is_busy = np.zeros(len(self.second), dtype=np.bool_)
        is_busy[busy] = True
        chosen = np.flatnonzero(is_busy[cell_ip])
        waits_of_cell = np.zeros(len(cell_ip))
        cur = -1
        s_q, b_q, a_q, cap = 0, 0.0, 0, 1.0
        for j, i, s, c in zip(
            chosen.tolist(),
            cell_ip[chosen].tolist(),
            cell_sec[chosen].tolist(),
            cell_n[chosen].tolist(),
            strict=True,
        ):
            if i != cur:
                if cur >= 0:
                    self.second[cur], self.backlog[cur], self.arrivals[cur] = s_q, b_q, a_q
                cur = i
                s_q, b_q, a_q = int(self.second[i]), float(self.backlog[i]), int(self.arrivals[i])
                cap = float(self.capacity[i])
            if s > s_q:
                b = max(0.0, b_q + a_q - cap)
                gap = s - s_q - 1
                if gap and b:
                    b = max(0.0, b - cap * gap)
                s_q, b_q, a_q = s, b, 0
            waits_of_cell[j] = b_q / cap
            a_q += c
        self.second[cur], self.backlog[cur], self.arrivals[cur] = s_q, b_q, a_q
        if not waits_of_cell.any():
            return None
        waits = np.zeros(n)
        waits[rows] = waits_of_cell[row_cell]
        return waits

    def _cells(
        self, ip: I64, sec: I64, which: I64, s_end: int
    ) -> tuple[I64, I64, I64, Callable[[], tuple[I64, I64]]]:
        """Arrivals per (ip, second) for the IPs `which`: the non-empty cells sorted by ip then
        second (ip, second, count), and a function giving the rows concerned and the cell of
        each (only needed when an app may queue, so only computed then)."""
        mark = np.full(len(self.second), -1, dtype=np.int64)
        mark[which] = np.arange(len(which))
        local = mark[ip]
        if local.min() >= 0:
            rows = np.arange(len(ip))
            s_min = int(sec.min())
            span = s_end - s_min + 1
            key = local * span
            key += sec
            key -= s_min
        else:
            rows = np.flatnonzero(local >= 0)
            local = local[rows]
            s_min = int(sec[rows].min())
            span = s_end - s_min + 1
            key = local * span + (sec[rows] - s_min)
        requests_of: Callable[[], tuple[I64, I64]]
        if len(which) * span <= 4 * len(rows) + 4096:
            counts = np.bincount(key, minlength=len(which) * span)
            keys = np.flatnonzero(counts)
            n_of = counts[keys]

            def requests_of() -> tuple[I64, I64]:
                position = np.zeros(len(counts), dtype=np.int64)
                position[keys] = np.arange(len(keys))
                return rows, position[key]

        else:
            keys, row_cell, n_of = np.unique(key, return_inverse=True, return_counts=True)

            def requests_of() -> tuple[I64, I64]:
                return rows, row_cell

        cell_local, cell_sec = np.divmod(keys, span)
        return which[cell_local], cell_sec + s_min, n_of, requests_of
