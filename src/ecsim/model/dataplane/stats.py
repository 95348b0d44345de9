"""Traffic statistics, kept in buckets of simulated time so memory does not grow per request.

Each answered request lands in the bucket of the instant it was answered, per load balancer:
counts by HTTP status, by target IP and by who answered (`target` or `elb`), and a latency
histogram with 1 % wide bins, from which p50 and p99 are read.

Answers are added in batches (numpy arrays) and counted with `bincount`, whatever their
number. A bucket stays open while answers may still land in it; once simulated time has
passed its end it is sealed: it becomes a row of its load balancer's `Ledger`, columns of
counts in the narrowest unsigned type that holds them, and its `RequestsCompleted` record
reads that row when asked. A sealed second of one load balancer with ten targets and a
thousand answers costs about 190 bytes in the ledger (120 of them its compressed latency
histogram) and 130 in the event log: memory grows with simulated time only, not with the
number of requests (benchmark 4).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

_BIN_BASE = math.log(1.01)
_BIN_FLOOR = 0.001  # ms; anything faster shares the lowest bin
_BLOCK = 256  # sealed rows whose latency histograms are compressed together
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


_EPS = 1e-9  # periods: a bound this close to a period's edge is on it (float division)


def window(since: float | None, until: float | None, period: float) -> tuple[float, float]:
    """The buckets a statistics window [since, until) of simulated time counts, as bucket
    indexes [lo, hi): every bucket it reaches into, whole. So every answer of [since, until)
    is counted, a bound inside a period brings in that period's other answers too, and an
    empty window (until <= since) counts nothing (docs/behaviour.md, "Traffic statistics")."""
    lo = -math.inf if since is None else float(math.floor(since / period + _EPS))
    hi = math.inf if until is None else float(math.ceil(until / period - _EPS))
    if since is not None and until is not None and until <= since:
        hi = lo
    return lo, hi


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


_WIDTHS: tuple[type[np.unsignedinteger[Any]], ...] = (np.uint8, np.uint16, np.uint32, np.uint64)


class _Column:
    """An append-only integer array, grown by doubling. A column of counts (`widens`) starts
    at one byte per value and moves to a wider unsigned type when a value needs it."""

    __slots__ = ("data", "size", "widens")

    def __init__(self, dtype: type[np.integer[Any]], *, widens: bool = False) -> None:
        self.data: npt.NDArray[Any] = np.zeros(64, dtype=dtype)
        self.size = 0
        self.widens = widens

    def extend(self, values: npt.NDArray[Any]) -> None:
        n = len(values)
        if not n:
            return
        data = self.data
        if self.widens:
            top = int(values.max())
            if top > np.iinfo(data.dtype).max:
                data = data.astype(next(t for t in _WIDTHS if top <= np.iinfo(t).max))
        end = self.size + n
        if end > len(data):
            grown = np.zeros(max(end, 2 * len(data)), dtype=data.dtype)
            grown[: self.size] = data[: self.size]
            data = grown
        data[self.size : end] = values
        self.data = data
        self.size = end

    def view(self) -> npt.NDArray[Any]:
        return self.data[: self.size]


def _start(end: npt.NDArray[Any], row: int) -> int:
    """The first entry of `row` in a table whose row r ends before entry end[r]."""
    return int(end[row - 1]) if row else 0


class _Rows:
    """Variable-length rows of (key, count) entries: row r holds the entries
    [end[r - 1], end[r])."""

    __slots__ = ("end", "key", "n")

    def __init__(self, key: type[np.integer[Any]]) -> None:
        self.end = _Column(np.int64)
        self.key = _Column(key, widens=True)
        self.n = _Column(np.uint8, widens=True)

    def append(self, lengths: list[int], counts: I64, keys: I64) -> None:
        """Rows of `lengths` entries, their counts and keys laid end to end."""
        self.end.extend(self.n.size + np.cumsum(lengths))
        self.n.extend(counts)
        self.key.extend(keys)

    def span(self, a: int, b: int) -> slice:
        """The entries of rows a..b-1."""
        return slice(_start(self.end.data, a), int(self.end.data[b - 1]))


class _Histograms:
    """Latency histogram rows: row r counts the bins lo[r], lo[r] + 1, ... Once `_BLOCK`
    rows are complete their counts are compressed together (zlib): a row of a thousand
    answers spread over some 260 bins then costs about 120 bytes instead of 260. A block is
    only read back by a statistics window that reaches into it."""

    __slots__ = ("_cache", "blocks", "end", "lo", "tail")

    def __init__(self) -> None:
        self.lo = _Column(np.int32)
        self.end = _Column(np.int64)  # entry offsets, counted over all rows
        self.blocks: list[tuple[bytes, np.dtype[Any]]] = []  # full blocks, compressed
        self.tail = _Column(np.uint8, widens=True)  # counts of the rows after the blocks
        self._cache: tuple[int, npt.NDArray[Any]] | None = None

    def append(self, los: list[int], counts: list[I64]) -> None:
        if not counts:
            return
        done = _start(self.end.data, self.end.size)
        self.lo.extend(np.array(los, dtype=np.int64))
        self.end.extend(done + np.cumsum([len(c) for c in counts]))
        self.tail.extend(np.concatenate(counts))
        while self.end.size >= (len(self.blocks) + 1) * _BLOCK:
            k = len(self.blocks)
            start, stop = self._entries(k)
            block = self.tail.view()[: stop - start]
            self.blocks.append((zlib.compress(block.tobytes(), 1), block.dtype))
            rest = self.tail.view()[stop - start :].copy()
            self.tail = _Column(np.uint8, widens=True)
            self.tail.extend(rest)

    def _entries(self, k: int) -> tuple[int, int]:
        """The entry offsets where block k starts and ends."""
        end = self.end.data
        return _start(end, k * _BLOCK), int(end[min((k + 1) * _BLOCK, self.end.size) - 1])

    def _counts(self, k: int) -> npt.NDArray[Any]:
        """The counts of block k, from its first entry on."""
        if k == len(self.blocks):
            return self.tail.view()
        if self._cache is None or self._cache[0] != k:
            data, dtype = self.blocks[k]
            self._cache = (k, np.frombuffer(zlib.decompress(data), dtype=dtype))
        return self._cache[1]

    def merged(self, a: int, b: int) -> tuple[int, I64] | None:
        """The sum of rows a..b-1 (all in one block) as (first bin, counts)."""
        k = a // _BLOCK
        first = self._entries(k)[0]
        start = _start(self.end.data, a)
        stop = int(self.end.data[b - 1])
        if stop == start:
            return None
        lengths = np.diff(self.end.data[a:b], prepend=start)
        # bin of each entry: its row's lo, plus its place in the row
        offset = self.lo.data[a:b].astype(np.int64) - (self.end.data[a:b] - lengths)
        bins = np.repeat(offset, lengths) + np.arange(start, stop)
        low = int(bins.min())
        counts = self._counts(k)[start - first : stop - first]
        return low, np.bincount(bins - low, weights=counts).astype(np.int64)


class Ledger:
    """The answers of one load balancer, per bucket: the open buckets, and the sealed ones in
    columns, so that a sealed second costs a couple of hundred bytes however many requests
    it saw.

    A sealed row never changes: its `RequestsCompleted` record reads it when asked
    (`record`) instead of keeping dicts of its own.
    """

    def __init__(self, load_balancer: str, period: float, ip_names: list[str]) -> None:
        self.load_balancer = load_balancer
        self.period = period
        self.ip_names = ip_names  # ip index -> IP string (shared with the data plane)
        self.open: dict[int, _Open] = {}
        self.col_of: I64 = np.full(0, -1, dtype=np.int64)  # ip index -> column
        self.col_ip: list[int] = []  # column -> ip index
        self._names: tuple[I64, npt.NDArray[np.object_]] | None = None
        # sealed rows, in the order they were sealed (ascending bucket index)
        self.index = _Column(np.int64)
        self.by_elb = _Column(np.uint8, widens=True)
        self.by_target_app = _Column(np.uint8, widens=True)
        self.status = _Rows(np.uint16)  # key: HTTP status, ascending
        self.targets = _Rows(np.uint8)  # key: column, ascending
        self.latency = _Histograms()

    def columns(self, ips: I64) -> I64:
        """The column of each ip index, adding columns for new ones."""
        top = int(ips.max()) + 1
        if top > len(self.col_of):
            grown = np.full(max(top, 2 * len(self.col_of)), -1, dtype=np.int64)
            grown[: len(self.col_of)] = self.col_of
            self.col_of = grown
        cols = self.col_of[ips]
        if cols.min() < 0:
            for ip in np.flatnonzero(np.bincount(ips[cols < 0])).tolist():
                self.col_of[ip] = len(self.col_ip)
                self.col_ip.append(ip)
            self._names = None
            cols = self.col_of[ips]
        return cols

    def _ranked(self) -> tuple[I64, npt.NDArray[np.object_]]:
        """Each column's rank in the order of their IP strings, and each column's IP string
        (an object array)."""
        if self._names is None:
            keys = [self.ip_names[ip] for ip in self.col_ip]
            order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            self._names = (rank, np.array(keys, dtype=object))
        return self._names

    def seal(self, ready: list[int]) -> int:
        """Seal the open buckets `ready` (ascending): they become rows. Returns the first
        row's number."""
        first = self.index.size
        if first and ready[0] <= self.index.data[first - 1]:
            # answers are counted before their second is sealed (DataPlane._seal)
            raise RuntimeError(f"answers for a second already sealed: {ready[0]}")
        buckets = [self.open.pop(index) for index in ready]
        self.index.extend(np.array(ready, dtype=np.int64))
        self.by_elb.extend(np.array([b.source[0] for b in buckets], dtype=np.int64))
        self.by_target_app.extend(np.array([b.source[1] for b in buckets], dtype=np.int64))
        codes = [sorted(b.status) for b in buckets]
        self.status.append(
            [len(k) for k in codes],
            np.array([b.status[c] for b, k in zip(buckets, codes, strict=True) for c in k]),
            np.array([c for k in codes for c in k]),
        )
        self.targets.append(
            [len(b.cols) for b in buckets],
            np.concatenate([b.counts for b in buckets]),
            np.concatenate([b.cols for b in buckets]),
        )
        self.latency.append([b.lat_lo for b in buckets], [b.lat for b in buckets])
        return first

    def time(self, row: int) -> float:
        """The end of row's bucket: the time of its record."""
        return (int(self.index.data[row]) + 1) * self.period

    def record(self, row: int) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        """A sealed row as the dicts of its `RequestsCompleted` record: answers by status
        (ascending), by target IP (in IP string order) and by who answered."""
        s = self.status.span(row, row + 1)
        codes = self.status.key.data[s].tolist()
        by_status = dict(zip(map(_status_key, codes), self.status.n.data[s].tolist(), strict=True))
        t = self.targets.span(row, row + 1)
        rank, names = self._ranked()
        ranks = rank[self.targets.key.data[t]]
        o = np.argsort(ranks)
        cols = self.targets.key.data[t][o]
        by_target = dict(zip(names[cols].tolist(), self.targets.n.data[t][o].tolist(), strict=True))
        by_source = {}
        elb, app = int(self.by_elb.data[row]), int(self.by_target_app.data[row])
        if elb:
            by_source["elb"] = elb
        if app:
            by_source["target"] = app
        return by_status, by_target, by_source

    def sum_sealed(
        self,
        lo: float,
        hi: float,
        counters: tuple[Counter[str], Counter[str], Counter[str]],
        hists: list[tuple[int, I64]],
    ) -> None:
        """Add the sealed rows of buckets lo <= index < hi (`window`) to the counters, and
        their merged latency histogram to `hists`."""
        # rows are in bucket order: the window is one range of them
        index = self.index.view()
        a = int(np.searchsorted(index, lo, side="left"))
        b = int(np.searchsorted(index, hi, side="left"))
        # block by block: a long window needs no big temporaries, and one block of
        # latency histograms is decompressed at a time
        for k in range(a // _BLOCK, (b - 1) // _BLOCK + 1) if b > a else ():
            self._sum_rows(max(a, k * _BLOCK), min(b, (k + 1) * _BLOCK), counters, hists)

    def _sum_rows(
        self,
        a: int,
        b: int,
        counters: tuple[Counter[str], Counter[str], Counter[str]],
        hists: list[tuple[int, I64]],
    ) -> None:
        by_status, by_target, by_source = counters
        e = self.status.span(a, b)
        counts = np.bincount(self.status.key.data[e], weights=self.status.n.data[e])
        for code in np.flatnonzero(counts).tolist():
            by_status[_status_key(code)] += int(counts[code])
        e = self.targets.span(a, b)
        counts = np.bincount(
            self.targets.key.data[e], weights=self.targets.n.data[e], minlength=len(self.col_ip)
        )
        for c in np.flatnonzero(counts).tolist():
            by_target[self.ip_names[self.col_ip[c]]] += int(counts[c])
        for name, column in (("elb", self.by_elb), ("target", self.by_target_app)):
            n = int(column.data[a:b].sum(dtype=np.int64))
            if n:
                by_source[name] += n
        merged = self.latency.merged(a, b)
        if merged is not None:
            hists.append(merged)


class Stats:
    """Answered requests per (load balancer, time bucket)."""

    def __init__(self, period: float, ip_names: list[str]) -> None:
        self.period = period
        self.ip_names = ip_names  # ip index -> IP string (shared with the data plane)
        self.lbs: dict[str, Ledger] = {}
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
            st = self.lbs[lb] = Ledger(lb, self.period, self.ip_names)
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
    def _targets(st: Ledger, row: I64, nr: int, ip: I64) -> list[tuple[I64, I64]]:
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

    def seal(self, until: float) -> list[tuple[Ledger, int]]:
        """Seal the buckets that end at or before `until`: they can get no more answers.
        Returns the new rows (ledger, row number) in the order of their records: by
        bucket, then by load balancer."""
        last = math.floor(until / self.period)
        if last <= self.sealed_until:
            return []
        out: list[tuple[int, str, Ledger, int]] = []
        for lb, ledger in self.lbs.items():
            ready = sorted(i for i in ledger.open if i < last)
            if ready:
                first = ledger.seal(ready)
                out += [(index, lb, ledger, first + k) for k, index in enumerate(ready)]
        self.sealed_until = last
        if len(self.lbs) > 1:
            out.sort(key=lambda x: (x[0], x[1]))
        return [(ledger, row) for _, _, ledger, row in out]

    def summary(
        self, since: float | None, until: float | None, lb: str | None = None
    ) -> dict[str, Any]:
        """Answers in the buckets that [since, until) reaches into (`window`)."""
        lo, hi = window(since, until, self.period)
        by_status: Counter[str] = Counter()
        by_target: Counter[str] = Counter()
        by_source: Counter[str] = Counter()
        hists: list[tuple[int, npt.NDArray[Any]]] = []
        for arn, ledger in self.lbs.items():
            if lb is not None and arn != lb:
                continue
            ledger.sum_sealed(lo, hi, (by_status, by_target, by_source), hists)
            for index, bucket in ledger.open.items():
                if not lo <= index < hi:
                    continue
                for code, n in bucket.status.items():
                    by_status[_status_key(code)] += n
                for name, n in zip(SOURCES, bucket.source, strict=True):
                    if n:
                        by_source[name] += n
                for c, n in zip(bucket.cols.tolist(), bucket.counts.tolist(), strict=True):
                    if n:
                        by_target[self.ip_names[ledger.col_ip[c]]] += n
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
