"""Traffic statistics, kept in buckets of simulated time so memory does not grow per request.

Each answered request lands in the bucket of the instant it was answered, per load balancer:
counts by HTTP status, by target IP and by who answered (`target` or `elb`), and a latency
histogram with 1 % wide bins, from which p50 and p99 are read.

Answers are added in batches (numpy arrays) and counted with `bincount`, whatever their
number. A bucket stays open while answers may still land in it; once simulated time has
passed its end it is sealed: its counts become the three dicts of its `RequestsCompleted`
record (kept by reference, not copied: the record is the bucket) and its histogram a small
array of the narrowest integer type that holds it. A sealed second of one load balancer thus
costs a few hundred bytes, however many requests it saw.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

_BIN_BASE = math.log(1.01)
_BIN_FLOOR = 0.001  # ms; anything faster shares the lowest bin
_DENSE_CELLS = 1 << 22  # above this, a batch's (bucket x column) table is built by sorting

SOURCES = ("elb", "target")


def latency_bins(latency_ms: F64) -> I64:
    """The histogram bin of each latency (ms): bin b holds [1.01^b, 1.01^(b+1))."""
    x = np.maximum(latency_ms, _BIN_FLOOR)
    np.log(x, out=x)
    x /= _BIN_BASE
    np.floor(x, out=x)
    bins: I64 = x.astype(np.int64)
    return bins


def bin_value(b: int) -> float:
    """The middle of a latency bin, in ms."""
    return math.exp((b + 0.5) * _BIN_BASE)


def status_key(status: int) -> str:
    return f"{status:03d}"


_STATUS_KEYS: dict[int, str] = {}


def _status_key(code: int) -> str:
    key = _STATUS_KEYS.get(code)
    if key is None:
        key = _STATUS_KEYS[code] = status_key(code)
    return key


def percentile(hist: Counter[int], q: float) -> float | None:
    """The q-quantile (0..1) of a latency histogram {bin: count}, in ms (bin middles)."""
    if not hist:
        return None
    lo = min(hist)
    dense = np.zeros(max(hist) - lo + 1, dtype=np.int64)
    for b, n in hist.items():
        dense[b - lo] += n
    return _dense_percentile(dense, lo, q)


def _dense_percentile(hist: I64, lo: int, q: float) -> float | None:
    """The first bin whose cumulative count passes q (total - 1), as its middle in ms."""
    total = int(hist.sum())
    if total == 0:
        return None
    rank = q * (total - 1)
    i = int(np.searchsorted(np.cumsum(hist), rank, side="right"))
    return round(bin_value(lo + min(i, len(hist) - 1)), 3)


class _Open:
    """A bucket that may still receive answers. Its arrays may be views into the tables of
    the batch that opened it; merging replaces them, never writes into them."""

    __slots__ = ("cols", "counts", "lat", "lat_lo", "source", "status")

    def __init__(
        self,
        status: dict[int, int],
        source: list[int],
        cols: I64,
        counts: I64,
        lat_lo: int,
        lat: I64,
    ) -> None:
        self.status = status
        self.source = source  # [elb, target]
        self.cols = cols  # target columns of the load balancer with answers, and how many
        self.counts = counts
        self.lat_lo = lat_lo
        self.lat = lat

    def merge(
        self,
        status: dict[int, int],
        source: list[int],
        cols: I64,
        counts: I64,
        lat_lo: int,
        lat: I64,
    ) -> None:
        for code, n in status.items():
            self.status[code] = self.status.get(code, 0) + n
        self.source = [self.source[0] + source[0], self.source[1] + source[1]]
        if len(cols):
            all_cols = np.concatenate((self.cols, cols))
            summed = np.bincount(all_cols, np.concatenate((self.counts, counts)))
            self.cols = np.flatnonzero(summed)
            self.counts = summed[self.cols].astype(np.int64)
        if not len(lat):
            return
        if not len(self.lat):
            self.lat_lo, self.lat = lat_lo, lat
            return
        lo = min(lat_lo, self.lat_lo)
        hi = max(lat_lo + len(lat), self.lat_lo + len(self.lat))
        hist = np.zeros(hi - lo, dtype=np.int64)
        hist[self.lat_lo - lo : self.lat_lo - lo + len(self.lat)] += self.lat
        hist[lat_lo - lo : lat_lo - lo + len(lat)] += lat
        self.lat_lo, self.lat = lo, hist


@dataclass(frozen=True, slots=True)
class Sealed:
    """A bucket that can get no more answers: the dicts of its record and its histogram."""

    by_status: dict[str, int]
    by_target: dict[str, int]
    by_source: dict[str, int]
    lat_lo: int
    lat: npt.NDArray[Any]  # counts of bins lat_lo, lat_lo+1, ... (narrowest unsigned type)


class _LoadBalancerStats:
    def __init__(self) -> None:
        self.open: dict[int, _Open] = {}
        self.sealed_index: list[int] = []  # ascending
        self.sealed: list[Sealed] = []
        self.col_of: I64 = np.full(0, -1, dtype=np.int64)  # ip index -> column
        self.col_ip: list[int] = []  # column -> ip index
        self._names: tuple[I64, list[str], I64, npt.NDArray[np.object_]] | None = None

    def columns(self, ips: I64) -> I64:
        """The column of each ip index, adding columns for new ones."""
        top = int(ips.max()) + 1
        if top > len(self.col_of):
            grown = np.full(max(top, 2 * len(self.col_of)), -1, dtype=np.int64)
            grown[: len(self.col_of)] = self.col_of
            self.col_of = grown
        cols = self.col_of[ips]
        if cols.min() < 0:
            for ip in np.unique(ips[cols < 0]).tolist():
                self.col_of[ip] = len(self.col_ip)
                self.col_ip.append(ip)
            self._names = None
            cols = self.col_of[ips]
        return cols

    def names(self, ip_names: list[str]) -> tuple[I64, list[str], I64, npt.NDArray[np.object_]]:
        """The columns in the order of their IP strings, those strings (as a list and as an
        object array), and each column's rank in that order."""
        if self._names is None:
            keys = [ip_names[ip] for ip in self.col_ip]
            order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            names = [keys[c] for c in order.tolist()]
            self._names = (order, names, rank, np.array(names, dtype=object))
        return self._names


def _narrow(counts: I64) -> npt.NDArray[Any]:
    if not len(counts):
        return np.zeros(0, dtype=np.uint8)
    top = int(counts.max())
    for dtype, limit in ((np.uint8, 1 << 8), (np.uint16, 1 << 16), (np.uint32, 1 << 32)):
        if top < limit:
            return counts.astype(dtype)
    return counts.copy()


class Stats:
    """Answered requests per (load balancer, time bucket)."""

    def __init__(self, period: float, ip_names: list[str]) -> None:
        self.period = period
        self.ip_names = ip_names  # ip index -> IP string (shared with the data plane)
        self.lbs: dict[str, _LoadBalancerStats] = {}
        self.sealed_until = 0  # buckets below this index are sealed

    def add(
        self,
        lb: str,
        done: F64,
        status: I64,
        ip: I64,
        from_target: B8,
        latency: F64,
    ) -> None:
        """Count answers: their answer instants, statuses, target IP index (-1: none),
        whether the target answered, and latencies (s)."""
        n = len(done)
        if not n:
            return
        st = self.lbs.get(lb)
        if st is None:
            st = self.lbs[lb] = _LoadBalancerStats()
        # answer instants are >= 0: truncation is the floor
        b = (done if self.period == 1.0 else done / self.period).astype(np.int64)
        b_lo, b_hi = int(b.min()), int(b.max())
        keys: range | list[int]
        if b_hi - b_lo + 1 <= 2 * n + 64:
            nr = b_hi - b_lo + 1
            row = b - b_lo
            keys = range(b_lo, b_hi + 1)
        else:
            uniq, row = np.unique(b, return_inverse=True)
            nr = len(uniq)
            keys = uniq.tolist()
        per_row = np.bincount(row, minlength=nr)
        rows_used = range(nr) if per_row.min() > 0 else np.flatnonzero(per_row).tolist()
        totals = per_row.tolist()

        # statuses: a lookup table from code to column
        present = np.flatnonzero(np.bincount(status))
        codes = present.tolist()
        nc = len(codes)
        status_rows: list[dict[int, int]]
        if nc == 1:
            status_rows = [{codes[0]: c} for c in totals]
        else:
            lut = np.zeros(codes[-1] + 1, dtype=np.int64)
            lut[present] = np.arange(nc)
            table = np.bincount(row * nc + lut[status], minlength=nr * nc).reshape(nr, nc)
            status_rows = [
                {code: c for code, c in zip(codes, r, strict=True) if c} for r in table.tolist()
            ]
        source_rows: list[list[int]]
        if from_target.all():
            source_rows = [[0, c] for c in totals]
        elif not from_target.any():
            source_rows = [[c, 0] for c in totals]
        else:
            source_rows = (
                np.bincount(row * 2 + from_target, minlength=nr * 2).reshape(nr, 2).tolist()
            )

        # targets, per column of this load balancer
        target_rows = self._targets(st, row, nr, ip)

        # latency histogram rows, trimmed to their non-empty bins
        latency = latency * 1000.0
        bins = latency_bins(latency)
        lo, hi = int(bins.min()), int(bins.max())
        nb = hi - lo + 1
        lat_rows: list[tuple[int, I64]]
        if nr * nb <= _DENSE_CELLS:
            lat = np.bincount(row * nb + (bins - lo), minlength=nr * nb).reshape(nr, nb)
            filled = lat > 0
            first = filled.argmax(axis=1).tolist()
            last = (nb - filled[:, ::-1].argmax(axis=1)).tolist()
            lat_rows = [(lo + first[r], lat[r, first[r] : last[r]]) for r in range(nr)]
        else:
            lat_rows = [(lo, np.zeros(0, dtype=np.int64))] * nr
            key = row * nb + (bins - lo)
            uk, uc = np.unique(key, return_counts=True)
            ur, ub = np.divmod(uk, nb)
            starts = np.searchsorted(ur, np.arange(nr + 1)).tolist()
            for r in rows_used:
                a, z = starts[r], starts[r + 1]
                f = int(ub[a])
                dense = np.zeros(int(ub[z - 1]) - f + 1, dtype=np.int64)
                dense[ub[a:z] - f] = uc[a:z]
                lat_rows[r] = (lo + f, dense)

        opened = st.open
        for r in rows_used:
            index = keys[r]
            cols, counts = target_rows[r]
            lat_lo, hist = lat_rows[r]
            bucket = opened.get(index)
            if bucket is None:
                opened[index] = _Open(status_rows[r], source_rows[r], cols, counts, lat_lo, hist)
            else:
                bucket.merge(status_rows[r], source_rows[r], cols, counts, lat_lo, hist)

    @staticmethod
    def _targets(st: _LoadBalancerStats, row: I64, nr: int, ip: I64) -> list[tuple[I64, I64]]:
        """Per row: the target columns with answers and their counts."""
        none = np.zeros(0, dtype=np.int64)
        has_ip = ip >= 0
        every = bool(has_ip.all())
        if not every and not has_ip.any():
            return [(none, none)] * nr
        cols = st.columns(ip if every else ip[has_ip])
        rows_t = row if every else row[has_ip]
        width = len(st.col_ip)
        if nr * width <= _DENSE_CELLS:
            table = np.bincount(rows_t * width + cols, minlength=nr * width).reshape(nr, width)
            if table.all():
                every_col = np.arange(width, dtype=np.int64)
                return [(every_col, table[r]) for r in range(nr)]
            rows_nz, cols_nz = np.nonzero(table)
            counts_nz = table[rows_nz, cols_nz]
            starts = np.searchsorted(rows_nz, np.arange(nr + 1)).tolist()
            return [
                (cols_nz[starts[r] : starts[r + 1]], counts_nz[starts[r] : starts[r + 1]])
                for r in range(nr)
            ]
        key = rows_t * width + cols
        uk, uc = np.unique(key, return_counts=True)
        ur, uc_col = np.divmod(uk, width)
        starts = np.searchsorted(ur, np.arange(nr + 1)).tolist()
        return [
            (uc_col[starts[r] : starts[r + 1]], uc[starts[r] : starts[r + 1]]) for r in range(nr)
        ]

    def seal(self, until: float) -> list[tuple[str, int, Sealed]]:
        """Seal the buckets that end at or before `until`: they can get no more answers."""
        last = math.floor(until / self.period)
        if last <= self.sealed_until:
            return []
        out: list[tuple[str, int, Sealed]] = []
        for lb, st in self.lbs.items():
            ready = sorted(i for i in st.open if i < last)
            if not ready:
                continue
            order, names, rank, name_array = st.names(self.ip_names)
            width = len(order)
            for index in ready:
                bucket = st.open.pop(index)
                cols, counts = bucket.cols, bucket.counts
                by_target: dict[str, int]
                if len(cols) == width:  # every column (then cols is 0..width-1)
                    by_target = dict(zip(names, counts[order].tolist(), strict=True))
                elif len(cols):
                    ranks = rank[cols]
                    o = np.argsort(ranks)
                    by_target = dict(
                        zip(name_array[ranks[o]].tolist(), counts[o].tolist(), strict=True)
                    )
                else:
                    by_target = {}
                source = bucket.source
                by_source = {}
                if source[0]:
                    by_source["elb"] = source[0]
                if source[1]:
                    by_source["target"] = source[1]
                codes = bucket.status
                by_status = {_status_key(c): codes[c] for c in sorted(codes)}
                sealed = Sealed(by_status, by_target, by_source, bucket.lat_lo, _narrow(bucket.lat))
                if not st.sealed_index or index > st.sealed_index[-1]:
                    st.sealed_index.append(index)
                    st.sealed.append(sealed)
                else:
                    pos = bisect.bisect_left(st.sealed_index, index)
                    st.sealed_index.insert(pos, index)
                    st.sealed.insert(pos, sealed)
                out.append((lb, index, sealed))
        self.sealed_until = last
        if len(self.lbs) > 1:
            out.sort(key=lambda x: (x[1], x[0]))
        return out

    def summary(
        self, since: float | None, until: float | None, lb: str | None = None
    ) -> dict[str, Any]:
        """Answers in the buckets that lie within [since, until)."""
        lo = -math.inf if since is None else since / self.period
        hi = math.inf if until is None else until / self.period

        def inside(index: int) -> bool:
            return lo <= index and index + 1 <= hi + 1e-9

        by_status: Counter[str] = Counter()
        by_target: Counter[str] = Counter()
        by_source: Counter[str] = Counter()
        hists: list[tuple[int, npt.NDArray[Any]]] = []
        for arn, st in self.lbs.items():
            if lb is not None and arn != lb:
                continue
            a = 0 if since is None else bisect.bisect_left(st.sealed_index, math.floor(lo))
            for k in range(a, len(st.sealed_index)):
                index = st.sealed_index[k]
                if index > hi:
                    break
                if not inside(index):
                    continue
                s = st.sealed[k]
                by_status.update(s.by_status)
                by_target.update(s.by_target)
                by_source.update(s.by_source)
                hists.append((s.lat_lo, s.lat))
            for index, bucket in st.open.items():
                if not inside(index):
                    continue
                for code, n in bucket.status.items():
                    by_status[_status_key(code)] += n
                for name, n in zip(SOURCES, bucket.source, strict=True):
                    if n:
                        by_source[name] += n
                for c, n in zip(bucket.cols.tolist(), bucket.counts.tolist(), strict=True):
                    if n:
                        by_target[self.ip_names[st.col_ip[c]]] += n
                hists.append((bucket.lat_lo, bucket.lat))
        hists = [h for h in hists if len(h[1])]
        p50 = p99 = None
        if hists:
            h_lo = min(h[0] for h in hists)
            h_hi = max(h[0] + len(h[1]) for h in hists)
            merged = np.zeros(h_hi - h_lo, dtype=np.int64)
            for start, counts in hists:
                merged[start - h_lo : start - h_lo + len(counts)] += counts
            p50 = _dense_percentile(merged, h_lo, 0.50)
            p99 = _dense_percentile(merged, h_lo, 0.99)
        return {
            "requests": sum(by_status.values()),
            "by_status": dict(sorted(by_status.items())),
            "by_target": dict(sorted(by_target.items())),
            "by_source": dict(sorted(by_source.items())),
            "latency_ms": {"p50": p50, "p99": p99},
        }
