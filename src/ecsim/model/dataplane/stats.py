"""Traffic statistics, kept in buckets of simulated time so memory does not grow per request.

Each answered request lands in the bucket of the instant it was answered, per load balancer:
counts by HTTP status, by target IP and by who answered (`target` or `elb`), and latency
histograms with 1 % wide bins, one of the targets' answers and one of the load balancer's own,
from which p50 and p99 of every answer are read. The targets' answers also keep the exact sum
(in whole nanoseconds), minimum and maximum of their latencies, so that CloudWatch's
`TargetResponseTime` answers every statistic of any window (`ResponseTimes`).

Answers are added in batches (numpy arrays) and counted with `bincount`, whatever their
number. A bucket stays open while answers may still land in it; once simulated time has
passed its end it is sealed: it becomes a row of its load balancer's `Ledger`, columns of
counts in the narrowest unsigned type that holds them, and its `RequestsCompleted` record
reads that row when asked. A sealed second of one load balancer with ten targets and a
thousand answers costs about 220 bytes in the ledger (120 of them its compressed latency
histogram, 24 the targets' latency sum, minimum and maximum) and 130 in the event log: memory
grows with simulated time only, not with the number of requests (benchmark 4).
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


def _merge_hist(a_lo: int, a: I64, b_lo: int, b: I64) -> tuple[int, I64]:
    """The sum of two histograms (first bin, counts), in a new array: never writes into
    either (they may be views into a batch's tables)."""
    if not len(b):
        return a_lo, a
    if not len(a):
        return b_lo, b
    lo = min(a_lo, b_lo)
    hi = max(a_lo + len(a), b_lo + len(b))
    hist = np.zeros(hi - lo, dtype=np.int64)
    hist[a_lo - lo : a_lo - lo + len(a)] += a
    hist[b_lo - lo : b_lo - lo + len(b)] += b
    return lo, hist


def _sum_hists(hists: list[tuple[int, npt.NDArray[Any]]]) -> tuple[int, I64] | None:
    """Histograms (first bin, counts) added up; None when they count nothing."""
    hists = [h for h in hists if len(h[1])]
    if not hists:
        return None
    lo = min(h[0] for h in hists)
    hi = max(h[0] + len(h[1]) for h in hists)
    merged = np.zeros(hi - lo, dtype=np.int64)
    for start, counts in hists:
        merged[start - lo : start - lo + len(counts)] += counts
    return lo, merged


NS = 1_000_000_000  # nanoseconds in a second: the unit of the exact sums of latencies
_EXACT = float(1 << 53)  # float64 adds whole numbers exactly below this


class ResponseTimes:
    """The targets' answers of a window (CloudWatch's `TargetResponseTime`): how many, their
    exact sum (whole nanoseconds), minimum and maximum (s), and their latency histogram, from
    which any percentile is read (docs/behaviour.md, "ALB CloudWatch metrics").

    A percentile is the middle of the 1 % wide bin that holds the value of its rank, kept
    within [minimum, maximum]: within 0.5 % of that value (a bin spans a factor 1.01, its
    middle is a factor 1.01 ** 0.5 from either edge), or within 1 microsecond for latencies
    below 1 microsecond (they share the lowest bin). p0 is the minimum and p100 the maximum,
    exactly.
    """

    __slots__ = ("count", "hist", "lo", "maximum", "minimum", "sum_ns")

    def __init__(
        self, count: int, sum_ns: int, minimum: float, maximum: float, lo: int, hist: I64
    ) -> None:
        self.count = count
        self.sum_ns = sum_ns
        self.minimum = minimum
        self.maximum = maximum
        self.lo = lo
        self.hist = hist

    @property
    def sum(self) -> float:
        """Seconds."""
        return self.sum_ns / NS

    @property
    def average(self) -> float:
        """Seconds: Sum / SampleCount, from the exact integer sum."""
        return self.sum_ns / (self.count * NS)

    def percentile(self, hundredths: int) -> float:
        """The percentile `hundredths` / 100 (0 <= hundredths <= 10000: p99.9 is 9990), in
        seconds: the value of rank floor(hundredths x (count - 1) / 10000) in ascending
        order (0 the smallest; integers, so no rounding picks the rank), read from the
        histogram (the error bound: the class docstring)."""
        if hundredths <= 0:
            return self.minimum
        if hundredths >= 10000:
            return self.maximum
        rank = hundredths * (self.count - 1) // 10000
        i = int(np.searchsorted(np.cumsum(self.hist), rank, side="right"))
        value = bin_value(self.lo + min(i, len(self.hist) - 1)) / 1000.0
        return min(max(value, self.minimum), self.maximum)


class _Open:
    """A bucket that may still receive answers. Its arrays may be views into the tables of
    the batch that opened it; merging replaces them, never writes into them.

    `lat` counts the targets' answers, `elb_lat` the load balancer's own; `t_ns`, `t_min`,
    `t_max` are the exact sum (ns), minimum and maximum (s) of the targets' latencies."""

    __slots__ = (
        "cols", "counts", "elb_lat", "elb_lo", "lat", "lat_lo", "source", "status",
        "t_max", "t_min", "t_ns",
    )  # fmt: skip

    def __init__(
        self,
        status: dict[int, int],
        source: list[int],
        cols: I64,
        counts: I64,
        lat: tuple[int, I64],
        elb_lat: tuple[int, I64],
        target: tuple[int, float, float],
    ) -> None:
        self.status = status
        self.source = source  # [elb, target]
        self.cols = cols  # target columns of the load balancer with answers, and how many
        self.counts = counts
        self.lat_lo, self.lat = lat
        self.elb_lo, self.elb_lat = elb_lat
        self.t_ns, self.t_min, self.t_max = target

    def merge(
        self,
        status: dict[int, int],
        source: list[int],
        cols: I64,
        counts: I64,
        lat: tuple[int, I64],
        elb_lat: tuple[int, I64],
        target: tuple[int, float, float],
    ) -> None:
        for code, n in status.items():
            self.status[code] = self.status.get(code, 0) + n
        self.source = [self.source[0] + source[0], self.source[1] + source[1]]
        if len(cols):
            all_cols = np.concatenate((self.cols, cols))
            summed = np.bincount(all_cols, np.concatenate((self.counts, counts)))
            self.cols = np.flatnonzero(summed)
            self.counts = summed[self.cols].astype(np.int64)
        self.lat_lo, self.lat = _merge_hist(self.lat_lo, self.lat, *lat)
        self.elb_lo, self.elb_lat = _merge_hist(self.elb_lo, self.elb_lat, *elb_lat)
        self.t_ns += target[0]
        self.t_min = min(self.t_min, target[1])
        self.t_max = max(self.t_max, target[2])


_WIDTHS: tuple[type[np.unsignedinteger[Any]], ...] = (np.uint8, np.uint16, np.uint32, np.uint64)


class _Column:
    """An append-only numeric array, grown by doubling. A column of counts (`widens`) starts
    at one byte per value and moves to a wider unsigned type when a value needs it."""

    __slots__ = ("data", "size", "widens")

    def __init__(self, dtype: type[np.number[Any]], *, widens: bool = False) -> None:
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
        self.latency = _Histograms()  # the targets' answers
        self.elb_latency = _Histograms()  # the load balancer's own answers
        # the targets' latencies: exact sum (ns), minimum and maximum (s; +-inf: none)
        self.t_ns = _Column(np.uint8, widens=True)
        self.t_min = _Column(np.float64)
        self.t_max = _Column(np.float64)

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
        self.elb_latency.append([b.elb_lo for b in buckets], [b.elb_lat for b in buckets])
        self.t_ns.extend(np.array([b.t_ns for b in buckets], dtype=np.uint64))
        self.t_min.extend(np.array([b.t_min for b in buckets], dtype=np.float64))
        self.t_max.extend(np.array([b.t_max for b in buckets], dtype=np.float64))
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
        their merged latency histograms (the targets', the load balancer's) to `hists`."""
        a, b = self._rows(lo, hi)
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
        for latency in (self.latency, self.elb_latency):
            merged = latency.merged(a, b)
            if merged is not None:
                hists.append(merged)

    def _rows(self, lo: float, hi: float) -> tuple[int, int]:
        """The sealed rows a..b-1 of buckets lo <= index < hi: rows are in bucket order, so
        a window is one range of them."""
        index = self.index.view()
        a = int(np.searchsorted(index, lo, side="left"))
        b = int(np.searchsorted(index, hi, side="left"))
        return a, b

    def response_times_sealed(
        self, lo: float, hi: float, hists: list[tuple[int, I64]]
    ) -> tuple[int, int, float, float]:
        """The targets' answers in the sealed rows of buckets lo <= index < hi: (count, sum
        in ns, minimum, maximum); their latency histograms, one per block, go to `hists`."""
        a, b = self._rows(lo, hi)
        if b <= a:
            return 0, 0, math.inf, -math.inf
        for k in range(a // _BLOCK, (b - 1) // _BLOCK + 1):
            merged = self.latency.merged(max(a, k * _BLOCK), min(b, (k + 1) * _BLOCK))
            if merged is not None:
                hists.append(merged)
        count = int(self.by_target_app.data[a:b].sum(dtype=np.int64))
        # a Python int: exact however long the window
        total = sum(self.t_ns.data[a:b].tolist())
        return (
            count,
            total,
            float(self.t_min.data[a:b].min()),
            float(self.t_max.data[a:b].max()),
        )


def _hist_rows(row: I64, nr: int, latency_s: F64) -> list[tuple[int, I64]]:
    """Per row 0..nr-1: the latency histogram of its answers (`row`: each answer's row), as
    (first bin, counts) trimmed to the non-empty bins; empty for a row without answers."""
    empty = np.zeros(0, dtype=np.int64)
    out: list[tuple[int, I64]] = [(0, empty)] * nr
    if not len(row):
        return out
    bins = latency_bins(latency_s * 1000.0)
    lo, hi = int(bins.min()), int(bins.max())
    nb = hi - lo + 1
    if nr * nb <= _DENSE_CELLS:
        lat = np.bincount(row * nb + (bins - lo), minlength=nr * nb).reshape(nr, nb)
        filled = lat > 0
        first = filled.argmax(axis=1).tolist()
        last = (nb - filled[:, ::-1].argmax(axis=1)).tolist()
        for r in np.flatnonzero(filled.any(axis=1)).tolist():
            out[r] = (lo + first[r], lat[r, first[r] : last[r]])
        return out
    key = row * nb + (bins - lo)
    uk, uc = np.unique(key, return_counts=True)
    ur, ub = np.divmod(uk, nb)
    starts = np.searchsorted(ur, np.arange(nr + 1)).tolist()
    for r in range(nr):
        a, z = starts[r], starts[r + 1]
        if a == z:
            continue
        f = int(ub[a])
        dense = np.zeros(int(ub[z - 1]) - f + 1, dtype=np.int64)
        dense[ub[a:z] - f] = uc[a:z]
        out[r] = (lo + f, dense)
    return out


def _target_rows(row: I64, nr: int, latency_s: F64) -> list[tuple[int, float, float]]:
    """Per row 0..nr-1: the exact sum (ns), minimum and maximum (s) of its answers'
    latencies; (0, inf, -inf) for a row without answers. Each latency is rounded to whole
    nanoseconds, and whole numbers add up to the same sum in any order: the sum does not
    depend on how the answers were batched."""
    ns = latency_s * NS
    np.rint(ns, out=ns)  # whole nanoseconds, as float64
    total = float(ns.sum())
    sums: list[int]
    if total >= _EXACT:  # past 2**53 ns (104 days) in one batch: add them as integers
        whole = ns.astype(np.int64)
        order = np.argsort(row, kind="stable")
        counts = np.bincount(row, minlength=nr)
        starts = np.minimum(np.cumsum(counts) - counts, len(row) - 1)
        reduced = np.add.reduceat(whole[order], starts).tolist()
        sums = [int(v) if c else 0 for v, c in zip(reduced, counts.tolist(), strict=True)]
    elif nr == 1:
        # every partial sum is a whole number below 2**53: float64 adds them exactly
        return [(int(total), float(latency_s.min()), float(latency_s.max()))]
    else:
        sums = np.bincount(row, weights=ns, minlength=nr).astype(np.int64).tolist()
    # answers come nearly in the order of their rows: reduce each run of one row first
    starts = np.flatnonzero(row[1:] != row[:-1]) + 1
    lows, highs, rows = latency_s, latency_s, row
    if len(starts) < len(row) // 8:
        starts = np.concatenate(([0], starts))
        lows = np.minimum.reduceat(latency_s, starts)
        highs = np.maximum.reduceat(latency_s, starts)
        rows = row[starts]
    lo = np.full(nr, math.inf)
    hi = np.full(nr, -math.inf)
    np.minimum.at(lo, rows, lows)
    np.maximum.at(hi, rows, highs)
    return list(zip(sums, lo.tolist(), hi.tolist(), strict=True))


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

        # latency histogram rows, the targets' answers apart from the load balancer's own
        none: list[tuple[int, I64]] = [(0, np.zeros(0, dtype=np.int64))] * nr
        t_rows: list[tuple[int, float, float]] = [(0, math.inf, -math.inf)] * nr
        if from_target.all():
            lat_rows = _hist_rows(row, nr, latency)
            elb_rows = none
            t_rows = _target_rows(row, nr, latency)
        elif not from_target.any():
            lat_rows = none
            elb_rows = _hist_rows(row, nr, latency)
        else:
            lat_rows = _hist_rows(row[from_target], nr, latency[from_target])
            elb_rows = _hist_rows(row[~from_target], nr, latency[~from_target])
            t_rows = _target_rows(row[from_target], nr, latency[from_target])

        opened = st.open
        for r in rows_used:
            index = keys[r]
            cols, counts = target_rows[r]
            parts = (
                status_rows[r], source_rows[r], cols, counts, lat_rows[r], elb_rows[r], t_rows[r]
            )  # fmt: skip
            bucket = opened.get(index)
            if bucket is None:
                opened[index] = _Open(*parts)
            else:
                bucket.merge(*parts)

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
                hists.append((bucket.elb_lo, bucket.elb_lat))
        p50 = p99 = None
        merged = _sum_hists(hists)
        if merged is not None:
            p50 = _dense_percentile(merged[1], merged[0], 0.50)
            p99 = _dense_percentile(merged[1], merged[0], 0.99)
        return {
            "requests": sum(by_status.values()),
            "by_status": dict(sorted(by_status.items())),
            "by_target": dict(sorted(by_target.items())),
            "by_source": dict(sorted(by_source.items())),
            "latency_ms": {"p50": p50, "p99": p99},
        }

    def response_times(
        self, since: float | None, until: float | None, lb: str
    ) -> ResponseTimes | None:
        """The targets' answers of load balancer `lb` in the buckets that [since, until)
        reaches into (`window`), every statistic of them; None when there is none. Buckets
        add up as histograms (counts added, min of minimums, max of maximums, sums added),
        never as percentiles (docs/behaviour.md, "ALB CloudWatch metrics")."""
        ledger = self.lbs.get(lb)
        if ledger is None:
            return None
        lo, hi = window(since, until, self.period)
        hists: list[tuple[int, npt.NDArray[Any]]] = []
        count, total, low, high = ledger.response_times_sealed(lo, hi, hists)
        for index, bucket in ledger.open.items():
            if lo <= index < hi and bucket.source[1]:
                count += bucket.source[1]
                total += bucket.t_ns
                low = min(low, bucket.t_min)
                high = max(high, bucket.t_max)
                hists.append((bucket.lat_lo, bucket.lat))
        merged = _sum_hists(hists)
        if not count or merged is None:
            return None
        return ResponseTimes(count, total, low, high, merged[0], merged[1])
