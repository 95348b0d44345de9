"""Traffic statistics, kept in buckets of simulated time so memory does not grow per request.

Each answered request lands in the bucket of the instant it was answered, per load balancer:
counts by HTTP status, by target IP and by who answered (`target` or `elb`), and latency
histograms with 1 % wide bins, one of the targets' answers and one of the load balancer's own,
from which p50 and p99 of every answer are read. The targets' answers also keep the exact sum
(in whole nanoseconds), minimum and maximum of their latencies, so that CloudWatch's
`TargetResponseTime` answers every statistic of any window (`ResponseTimes`).

Answers are added in batches (numpy arrays) and counted per bucket in one pass, whatever
their number (`_Batch`: compiled, `_counts.pyx`, or with numpy's `bincount`). A bucket stays
open while answers may still land in it; once simulated time has passed its end it is
sealed: it becomes a row of its load balancer's `Ledger`, columns of counts in the narrowest
unsigned type that holds them, and its `RequestsCompleted` record reads that row when asked.
The buckets a batch fills alone and that are over by the time it is counted become rows at
once, without being opened (`Stats.add_and_seal`, the data plane's way). A sealed second of one load balancer with ten targets and a
thousand answers costs about 220 bytes in the ledger (120 of them its compressed latency
histogram, 24 the targets' latency sum, minimum and maximum) and 130 in the event log: memory
grows with simulated time only, not with the number of requests (benchmark 4).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

_Tables = tuple[I64, I64, I64, I64, I64, F64, F64]
count_rows: Callable[..., _Tables | None] | None
try:
    from ecsim.model.dataplane._counts import count_rows, trim_rows
except ImportError:  # not built (no C compiler where the package was installed): numpy counts
    count_rows = None

_BIN_BASE = math.log(1.01)
_BIN_FLOOR = 0.001  # ms; anything faster shares the lowest bin
_BLOCK = 256  # sealed rows whose latency histograms are compressed together
_DENSE_CELLS = 1 << 22  # above this, a batch's (bucket x column) table is built by sorting

SOURCES = ("elb", "target")


def latency_bins(latency_ms: F64) -> I64:
    """The histogram bin of each latency (ms): bin b holds [1.01^b, 1.01^(b+1))."""
    x = np.maximum(latency_ms, _BIN_FLOOR)
    return _bins_in_place(x)


def _bins_in_place(x: F64) -> I64:
    """`latency_bins`, overwriting x (latencies in ms, at least _BIN_FLOOR)."""
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

    __slots__ = ("data", "limit", "size", "widens")

    def __init__(self, dtype: type[np.number[Any]], *, widens: bool = False) -> None:
        self.data: npt.NDArray[Any] = np.zeros(64, dtype=dtype)
        self.size = 0
        self.widens = widens
        # the largest value it holds (a column of counts)
        self.limit = int(np.iinfo(self.data.dtype).max) if widens else 0

    def extend(self, values: npt.NDArray[Any]) -> None:
        n = len(values)
        if not n:
            return
        data = self.data
        if self.widens:
            top = int(values.max())
            if top > self.limit:
                wide = next(t for t in _WIDTHS if top <= np.iinfo(t).max)
                data = data.astype(wide)
                self.limit = int(np.iinfo(wide).max)
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

    def append(self, lengths: I64, counts: I64, keys: I64) -> None:
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

    def append(self, los: I64, lengths: I64, counts: I64) -> None:
        """Rows: their first bins, numbers of bins, and counts laid end to end."""
        if not len(los):
            return
        done = _start(self.end.data, self.end.size)
        self.lo.extend(los)
        self.end.extend(done + np.cumsum(lengths))
        self.tail.extend(counts)
        while self.end.size >= (len(self.blocks) + 1) * _BLOCK:
            k = len(self.blocks)
            start, stop = self._entries(k)
            block = self.tail.view()[: stop - start]
            self.blocks.append((_compress(block.tobytes()), block.dtype))
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


def _compress(data: bytes) -> bytes:
    """A block of histogram counts, compressed: small counts, few repeated strings, so
    Huffman coding alone (no string matching) packs them 14 % tighter than zlib's level 1
    in 40 % less time (benchmark 2's blocks)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    return packer.compress(data) + packer.flush()


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

    def seal(self, ready: list[int], fresh: _Sealed | None = None) -> int:
        """Seal the open buckets `ready` (ascending), then the rows `fresh` (later buckets,
        never open): they become rows. Returns the first row's number."""
        first = self.index.size
        if ready or fresh is None:
            rows = _Sealed.of_open(ready, [self.open.pop(index) for index in ready])
            if fresh is not None:
                rows = rows.concat(fresh)
        else:
            rows = fresh
        if first and len(rows.index) and rows.index[0] <= self.index.data[first - 1]:
            # answers are counted before their second is sealed (DataPlane._seal)
            raise RuntimeError(f"answers for a second already sealed: {rows.index[0]}")
        self.index.extend(rows.index)
        self.by_elb.extend(rows.by_elb)
        self.by_target_app.extend(rows.by_target)
        self.status.append(*rows.status)
        self.targets.append(*rows.targets)
        self.latency.append(*rows.latency)
        self.elb_latency.append(*rows.elb_latency)
        self.t_ns.extend(rows.t_ns)
        self.t_min.extend(rows.t_min)
        self.t_max.extend(rows.t_max)
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


_EMPTY = np.zeros(0, dtype=np.int64)
_Flat = tuple[I64, I64, I64]  # rows of entries: lengths, counts, keys (or first bins)


class _Sealed:
    """Rows about to be sealed, in the layout of a ledger's columns: bucket index, answers
    by who answered, (status, count) and (column, count) entries, both latency histograms
    (first bin, number of bins, counts laid end to end), and the targets' latency sum (ns),
    minimum and maximum."""

    __slots__ = (
        "by_elb", "by_target", "elb_latency", "index", "latency", "status", "t_max", "t_min",
        "t_ns", "targets",
    )  # fmt: skip

    def __init__(
        self,
        index: I64,
        by_elb: I64,
        by_target: I64,
        status: _Flat,
        targets: _Flat,
        latency: _Flat,
        elb_latency: _Flat,
        t: tuple[npt.NDArray[np.uint64], F64, F64],
    ) -> None:
        self.index = index
        self.by_elb = by_elb
        self.by_target = by_target
        self.status = status
        self.targets = targets
        self.latency = latency
        self.elb_latency = elb_latency
        self.t_ns, self.t_min, self.t_max = t

    @staticmethod
    def of_open(ready: list[int], buckets: list[_Open]) -> _Sealed:
        """Open buckets (of the indexes `ready`) as rows."""
        codes = [sorted(b.status) for b in buckets]

        def flat(hists: list[tuple[int, I64]]) -> _Flat:
            counts = np.concatenate([h for _, h in hists]) if hists else _EMPTY
            return (
                np.array([lo for lo, _ in hists], dtype=np.int64),
                np.array([len(h) for _, h in hists], dtype=np.int64),
                counts,
            )

        return _Sealed(
            np.array(ready, dtype=np.int64),
            np.array([b.source[0] for b in buckets], dtype=np.int64),
            np.array([b.source[1] for b in buckets], dtype=np.int64),
            (
                np.array([len(k) for k in codes], dtype=np.int64),
                np.array(
                    [b.status[c] for b, k in zip(buckets, codes, strict=True) for c in k],
                    dtype=np.int64,
                ),
                np.array([c for k in codes for c in k], dtype=np.int64),
            ),
            (
                np.array([len(b.cols) for b in buckets], dtype=np.int64),
                np.concatenate([b.counts for b in buckets]) if buckets else _EMPTY,
                np.concatenate([b.cols for b in buckets]) if buckets else _EMPTY,
            ),
            flat([(b.lat_lo, b.lat) for b in buckets]),
            flat([(b.elb_lo, b.elb_lat) for b in buckets]),
            (
                np.array([b.t_ns for b in buckets], dtype=np.uint64),
                np.array([b.t_min for b in buckets], dtype=np.float64),
                np.array([b.t_max for b in buckets], dtype=np.float64),
            ),
        )

    def concat(self, other: _Sealed) -> _Sealed:
        """These rows, then `other`'s."""

        def cat(a: _Flat, b: _Flat) -> _Flat:
            return (
                np.concatenate((a[0], b[0])),
                np.concatenate((a[1], b[1])),
                np.concatenate((a[2], b[2])),
            )

        return _Sealed(
            np.concatenate((self.index, other.index)),
            np.concatenate((self.by_elb, other.by_elb)),
            np.concatenate((self.by_target, other.by_target)),
            cat(self.status, other.status),
            cat(self.targets, other.targets),
            cat(self.latency, other.latency),
            cat(self.elb_latency, other.elb_latency),
            (
                np.concatenate((self.t_ns, other.t_ns)),
                np.concatenate((self.t_min, other.t_min)),
                np.concatenate((self.t_max, other.t_max)),
            ),
        )


def _flat_table(table: I64) -> _Flat:
    """The non-zero entries of a (row x key) table, row by row: (entries per row, counts,
    keys)."""
    nr, width = table.shape
    filled = table > 0
    if filled.all():
        keys = np.tile(np.arange(width, dtype=np.int64), nr)
        return np.full(nr, width, dtype=np.int64), table.ravel(), keys
    rows_nz, keys = np.nonzero(filled)
    return np.bincount(rows_nz, minlength=nr), table[rows_nz, keys], keys


def _flat_rows(row: I64, key: I64, nr: int, width: int) -> _Flat:
    """Per row 0..nr-1 (`row`: each answer's row), the keys 0..width-1 met (`key`) and how
    many times, ascending, laid end to end: (entries per row, counts, keys)."""
    if nr * width <= _DENSE_CELLS:
        table = np.bincount(row * width + key, minlength=nr * width).reshape(nr, width)
        return _flat_table(table)
    uk, uc = np.unique(row * width + key, return_counts=True)
    ur, keys = np.divmod(uk, width)
    return np.bincount(ur, minlength=nr), uc, keys


def _hist_table(lat: I64, lo: int) -> _Flat:
    """The histogram rows of a (row x bin) table whose bin k is latency bin lo + k, each
    from its lowest to its highest non-empty bin (`_hist_rows`)."""
    nr, nb = lat.shape
    lengths = np.zeros(nr, dtype=np.int64)
    firsts = np.zeros(nr, dtype=np.int64)
    filled = lat > 0
    has: B8 = np.any(filled, axis=1)
    first = filled.argmax(axis=1)
    last = nb - filled[:, ::-1].argmax(axis=1)
    np.subtract(last, first, out=lengths, where=has)
    np.add(first, lo, out=firsts, where=has)
    j = np.arange(nb)
    inside = (j >= first[:, None]) & (j < last[:, None]) & has[:, None]
    return firsts, lengths, lat[inside]


def _hist_rows(row: I64, nr: int, latency_s: F64) -> _Flat:
    """Per row 0..nr-1 (`row`: each answer's row): the latency histogram of its answers
    from its lowest to its highest non-empty bin, laid end to end: (first bins, numbers of
    bins, counts); a row without answers has no bins (and first bin 0)."""
    lengths = np.zeros(nr, dtype=np.int64)
    firsts = np.zeros(nr, dtype=np.int64)
    if not len(row):
        return firsts, lengths, _EMPTY
    ms = latency_s * 1000.0
    bins = _bins_in_place(np.maximum(ms, _BIN_FLOOR, out=ms))
    lo, hi = int(bins.min()), int(bins.max())
    nb = hi - lo + 1
    bins -= lo
    if nr * nb <= _DENSE_CELLS:
        lat = np.bincount(row * nb + bins, minlength=nr * nb).reshape(nr, nb)
        return _hist_table(lat, lo)
    uk, uc = np.unique(row * nb + bins, return_counts=True)
    ur, ub = np.divmod(uk, nb)
    starts = np.flatnonzero(np.r_[True, ur[1:] != ur[:-1]])
    ends = np.r_[starts[1:], len(ur)] - 1
    rows = ur[starts]
    first = ub[starts]
    lengths[rows] = ub[ends] - first + 1
    firsts[rows] = first + lo
    offset = np.cumsum(lengths) - lengths
    counts = np.zeros(int(lengths.sum()), dtype=np.int64)
    counts[offset[ur] + ub - np.repeat(first, ends - starts + 1)] = uc
    return firsts, lengths, counts


def _runs(row: I64) -> I64 | None:
    """Where each run of equal rows starts, when answers come nearly in the order of their
    rows (at most one run per 8 answers); else None."""
    cut = np.flatnonzero(row[1:] != row[:-1])
    if len(cut) >= len(row) // 8:
        return None
    starts = np.empty(len(cut) + 1, dtype=np.int64)
    starts[0] = 0
    np.add(cut, 1, out=starts[1:])
    return starts


def _target_rows(row: I64, nr: int, latency_s: F64, starts: I64 | None) -> tuple[I64, F64, F64]:
    """Per row 0..nr-1: the exact sum (ns), minimum and maximum (s) of its answers'
    latencies; (0, inf, -inf) for a row without answers. Each latency is rounded to whole
    nanoseconds, and whole numbers add up to the same sum in any order: the sum does not
    depend on how the answers were batched. `starts`: `_runs(row)`."""
    ns = latency_s * NS
    np.rint(ns, out=ns)  # whole nanoseconds, as float64
    total = float(ns.sum())
    if nr == 1 and total < _EXACT:
        # every partial sum is a whole number below 2**53: float64 adds them exactly
        lat = np.array([latency_s.min()]), np.array([latency_s.max()])
        return np.array([int(total)], dtype=np.int64), *lat
    lows, highs, rows = latency_s, latency_s, row
    if starts is not None:  # each run of one row first
        lows = np.minimum.reduceat(latency_s, starts)
        highs = np.maximum.reduceat(latency_s, starts)
        rows = row[starts]
    sums: I64
    if total >= _EXACT:  # past 2**53 ns (104 days) in one batch: add them as integers
        whole = ns.astype(np.int64)
        order = np.argsort(row, kind="stable")
        counts = np.bincount(row, minlength=nr)
        first = np.minimum(np.cumsum(counts) - counts, len(row) - 1)
        sums = np.where(counts > 0, np.add.reduceat(whole[order], first), 0)
    elif starts is not None:
        sums = np.bincount(rows, np.add.reduceat(ns, starts), minlength=nr).astype(np.int64)
    else:
        sums = np.bincount(row, weights=ns, minlength=nr).astype(np.int64)
    lo = np.full(nr, math.inf)
    hi = np.full(nr, -math.inf)
    np.minimum.at(lo, rows, lows)
    np.maximum.at(hi, rows, highs)
    return sums, lo, hi


class _Batch:
    """A batch of answers of one load balancer counted per bucket, all buckets at once: a row
    per bucket with answers (ascending), each kind of count laid end to end over the rows.
    A row then opens or joins an open bucket (`open`), or, when it can get no more answers,
    becomes a sealed row with the others (`sealed`) without a Python object of its own."""

    def __init__(
        self,
        st: Ledger,
        period: float,
        done: F64,
        status: I64,
        ip: I64,
        from_target: B8,
        latency: F64,
    ) -> None:
        n = len(done)
        # answer instants are >= 0: truncation is the floor
        b = (done if period == 1.0 else done / period).astype(np.int64)
        if count_rows is not None and self._compiled(st, b, status, ip, from_target, latency):
            return
        starts = _runs(b)  # answers come nearly in bucket order: most work per run
        if starts is not None:
            run_b = b[starts]
            b_lo, b_hi = int(run_b.min()), int(run_b.max())
            run_n = np.diff(starts, append=n)
        else:
            b_lo, b_hi = int(b.min()), int(b.max())
        if b_hi - b_lo + 1 <= 2 * n + 64:
            row = b
            row -= b_lo
            span = b_hi - b_lo + 1
            if starts is not None:
                per_row = np.bincount(run_b - b_lo, run_n, minlength=span).astype(np.int64)
            else:
                per_row = np.bincount(row, minlength=span)
            if per_row.all():
                self.index = np.arange(b_lo, b_hi + 1, dtype=np.int64)
            else:
                used = per_row > 0
                row = (np.cumsum(used) - 1)[row]
                self.index = np.flatnonzero(used) + b_lo
                per_row = per_row[used]
        else:
            self.index, row = np.unique(b, return_inverse=True)
            per_row = np.bincount(row)
        nr = self.nr = len(self.index)

        # statuses: a lookup table from code to column
        code = int(status[0])
        if status.min() == code == status.max():
            self.status = (np.ones(nr, dtype=np.int64), per_row, np.full(nr, code))
        else:
            present = np.flatnonzero(np.bincount(status))
            lut = np.zeros(int(present[-1]) + 1, dtype=np.int64)
            lut[present] = np.arange(len(present))
            lengths, counts, keys = _flat_rows(row, lut[status], nr, len(present))
            self.status = (lengths, counts, present[keys])
        if from_target.all():
            self.by_elb, self.by_target = np.zeros(nr, dtype=np.int64), per_row
        elif not from_target.any():
            self.by_elb, self.by_target = per_row, np.zeros(nr, dtype=np.int64)
        else:
            self.by_target = np.bincount(row[from_target], minlength=nr)
            self.by_elb = per_row - self.by_target

        # targets, per column of this load balancer
        has_ip = ip >= 0
        every = bool(has_ip.all())
        if every or has_ip.any():
            cols = st.columns(ip if every else ip[has_ip])
            self.targets = _flat_rows(row if every else row[has_ip], cols, nr, len(st.col_ip))
        else:
            self.targets = (np.zeros(nr, dtype=np.int64), _EMPTY, _EMPTY)

        # latency histogram rows, the targets' answers apart from the load balancer's own
        none = (np.zeros(nr, dtype=np.int64), np.zeros(nr, dtype=np.int64), _EMPTY)
        if from_target.all():
            self.latency = _hist_rows(row, nr, latency)
            self.elb_latency = none
            self.t = _target_rows(row, nr, latency, starts)
        elif not from_target.any():
            self.latency = none
            self.elb_latency = _hist_rows(row, nr, latency)
            self.t = (np.zeros(nr, dtype=np.int64), np.full(nr, math.inf), np.full(nr, -math.inf))
        else:
            row_t = row[from_target]
            self.latency = _hist_rows(row_t, nr, latency[from_target])
            self.elb_latency = _hist_rows(row[~from_target], nr, latency[~from_target])
            self.t = _target_rows(row_t, nr, latency[from_target], _runs(row_t))

    def _compiled(
        self, st: Ledger, b: I64, status: I64, ip: I64, from_target: B8, latency: F64
    ) -> bool:
        """The tables counted in one compiled pass (`_counts.count_rows`), each a dense
        (bucket x column) table; False, with nothing done, where they would be too large
        (then the numpy path counts, `__init__`)."""
        assert count_rows is not None
        n = len(b)
        b_lo, b_hi = int(b.min()), int(b.max())
        span = b_hi - b_lo + 1
        if span > 2 * n + 64:
            return False
        ms = latency * 1000.0
        bins = _bins_in_place(np.maximum(ms, _BIN_FLOOR, out=ms))
        lo = int(bins.min())
        nb = int(bins.max()) - lo + 1
        if span * nb > _DENSE_CELLS or span * len(st.col_ip) > _DENSE_CELLS:
            return False
        code = int(status[0])
        present = None
        lut = _EMPTY
        if not status.min() == code == status.max():
            present = np.flatnonzero(np.bincount(status))
            lut = np.zeros(int(present[-1]) + 1, dtype=np.int64)
            lut[present] = np.arange(len(present))
        nc = 1 if present is None else len(present)
        row = b - b_lo
        ft = from_target.view(np.uint8)
        args = (row, span, status, lut, nc, ip)
        tables = count_rows(*args, st.col_of, len(st.col_ip), ft, latency, bins, lo, nb)
        if tables is None:  # a target without a column yet
            st.columns(ip[ip >= 0])
            if span * len(st.col_ip) > _DENSE_CELLS:
                return False
            tables = count_rows(*args, st.col_of, len(st.col_ip), ft, latency, bins, lo, nb)
            assert tables is not None
        status_t, target_t, lat_t, elb_t, sums, lows, highs = tables
        per_row = status_t[:, 0] if nc == 1 else status_t.sum(axis=1)
        if per_row.all():
            self.index = np.arange(b_lo, b_hi + 1, dtype=np.int64)
        else:
            used = per_row > 0
            self.index = np.flatnonzero(used) + b_lo
            status_t, target_t, lat_t, elb_t = (x[used] for x in (status_t, target_t, lat_t, elb_t))
            per_row, sums = per_row[used], sums[used]
            lows, highs = lows[used], highs[used]
        nr = self.nr = len(self.index)
        if present is None:
            self.status = (np.ones(nr, dtype=np.int64), per_row, np.full(nr, code))
        else:
            lengths, counts, keys = _flat_table(status_t)
            self.status = (lengths, counts, present[keys])
        self.by_target = lat_t.sum(axis=1)
        self.by_elb = per_row - self.by_target
        self.targets = _flat_table(target_t)
        none = (np.zeros(nr, dtype=np.int64), np.zeros(nr, dtype=np.int64), _EMPTY)
        self.latency = trim_rows(lat_t, lo) if from_target.any() else none  # `_hist_table`
        self.elb_latency = none if from_target.all() else trim_rows(elb_t, lo)
        self.t = (sums, lows, highs)
        return True

    def fresh(self, opened: dict[int, _Open], last: int) -> tuple[int, int]:
        """The rows a..z-1 that can be sealed as they are, after the open buckets below
        bucket `last` (which they merge into or follow): buckets below `last`, none open."""
        index = self.index
        z = int(np.searchsorted(index, last))
        a = 0
        while a < z and int(index[a]) in opened:
            a += 1
        if a < z and any(i >= int(index[a]) for i in opened if i < last):
            return z, z  # open buckets among them: every row through the open buckets
        return a, z

    def sealed(self, a: int, z: int) -> _Sealed:
        """Rows a..z-1 as sealed rows."""

        def part(flat: _Flat, hist: bool = False) -> _Flat:
            lengths = flat[0 if not hist else 1]
            ends = np.cumsum(lengths)
            e0, e1 = (int(ends[a - 1]) if a else 0), int(ends[z - 1])
            if hist:
                return flat[0][a:z], lengths[a:z], flat[2][e0:e1]
            return lengths[a:z], flat[1][e0:e1], flat[2][e0:e1]

        sums, lows, highs = self.t
        return _Sealed(
            self.index[a:z],
            self.by_elb[a:z],
            self.by_target[a:z],
            part(self.status),
            part(self.targets),
            part(self.latency, hist=True),
            part(self.elb_latency, hist=True),
            (sums[a:z].astype(np.uint64), lows[a:z], highs[a:z]),
        )

    def open(self, opened: dict[int, _Open], rows: Iterable[int]) -> None:
        """Rows into their open buckets (opened when new). The buckets' arrays are views
        into the batch's."""
        rows = list(rows)
        if not rows:
            return
        index = self.index

        def span(lengths: I64, r: int) -> slice:
            start = int(lengths[:r].sum())
            return slice(start, start + int(lengths[r]))

        st_len, st_n, st_key = self.status
        tg_len, tg_n, tg_key = self.targets
        lat_lo, lat_len, lat_n = self.latency
        elb_lo, elb_len, elb_n = self.elb_latency
        sums, lows, highs = self.t
        for r in rows:
            s, t = span(st_len, r), span(tg_len, r)
            parts = (
                dict(zip(st_key[s].tolist(), st_n[s].tolist(), strict=True)),
                [int(self.by_elb[r]), int(self.by_target[r])],
                tg_key[t],
                tg_n[t],
                (int(lat_lo[r]), lat_n[span(lat_len, r)]),
                (int(elb_lo[r]), elb_n[span(elb_len, r)]),
                (int(sums[r]), float(lows[r]), float(highs[r])),
            )
            bucket = opened.get(int(index[r]))
            if bucket is None:
                opened[int(index[r])] = _Open(*parts)
            else:
                bucket.merge(*parts)


class Stats:
    """Answered requests per (load balancer, time bucket)."""

    def __init__(self, period: float, ip_names: list[str]) -> None:
        self.period = period
        self.ip_names = ip_names  # ip index -> IP string (shared with the data plane)
        self.lbs: dict[str, Ledger] = {}
        self.sealed_until = 0  # buckets below this index are sealed

    def _ledger(self, lb: str) -> Ledger:
        st = self.lbs.get(lb)
        if st is None:
            st = self.lbs[lb] = Ledger(lb, self.period, self.ip_names)
        return st

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
        if not len(done):
            return
        st = self._ledger(lb)
        batch = _Batch(st, self.period, done, status, ip, from_target, latency)
        batch.open(st.open, range(batch.nr))

    def add_and_seal(
        self, batches: list[tuple[str, F64, I64, I64, B8, F64]], until: float
    ) -> list[tuple[Ledger, int]]:
        """`add` each batch (`add`'s arguments; one per load balancer at most), then
        `seal(until)`: the same rows, but the buckets a batch alone fills and that end
        before `until` become rows at once, all together, without being opened."""
        last = math.floor(until / self.period)
        if last <= self.sealed_until:
            for batch in batches:
                self.add(*batch)
            return []
        fresh: dict[str, _Sealed] = {}
        for lb, done, status, ip, from_target, latency in batches:
            if lb in fresh:
                raise ValueError(f"one batch per load balancer, got two for {lb}")
            if not len(done):
                continue
            st = self._ledger(lb)
            rows = _Batch(st, self.period, done, status, ip, from_target, latency)
            a, z = rows.fresh(st.open, last)
            if z > a:
                fresh[lb] = rows.sealed(a, z)
            rows.open(st.open, itertools.chain(range(a), range(z, rows.nr)))
        return self._seal(last, fresh)

    def seal(self, until: float) -> list[tuple[Ledger, int]]:
        """Seal the buckets that end at or before `until`: they can get no more answers.
        Returns the new rows (ledger, row number) in the order of their records: by
        bucket, then by load balancer."""
        last = math.floor(until / self.period)
        if last <= self.sealed_until:
            return []
        return self._seal(last, {})

    def _seal(self, last: int, fresh: dict[str, _Sealed]) -> list[tuple[Ledger, int]]:
        out: list[tuple[int, str, Ledger, int]] = []
        one: list[tuple[Ledger, int]] = []  # the rows of a world of one load balancer
        for lb, ledger in self.lbs.items():
            ready = sorted(i for i in ledger.open if i < last)
            rows = fresh.get(lb)
            if ready or rows is not None:
                first = ledger.seal(ready, rows)
                if rows is not None:
                    ready += rows.index.tolist()
                if len(self.lbs) == 1:  # in bucket order already: no sort, no keys
                    one = [(ledger, row) for row in range(first, first + len(ready))]
                else:
                    out += [(index, lb, ledger, first + k) for k, index in enumerate(ready)]
        self.sealed_until = last
        if len(self.lbs) == 1:
            return one
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
