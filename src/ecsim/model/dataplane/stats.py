"""Traffic statistics, kept in buckets of simulated time so memory does not grow per request.

Each answered request lands in the bucket of the instant it was answered, per load balancer:
counts by HTTP status, by target IP and by who answered (`target` or `elb`), and a latency
histogram with 1 % wide bins, from which p50 and p99 are read.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

_BIN_BASE = math.log(1.01)
_BIN_FLOOR = 0.001  # ms; anything faster shares the lowest bin


def latency_bins(latency_ms: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    return np.floor(np.log(np.maximum(latency_ms, _BIN_FLOOR)) / _BIN_BASE).astype(np.int64)


def bin_value(b: int) -> float:
    """The middle of a latency bin, in ms."""
    return math.exp((b + 0.5) * _BIN_BASE)


def status_key(status: int) -> str:
    return f"{status:03d}"


@dataclass
class Bucket:
    by_status: Counter[str] = field(default_factory=Counter)
    by_target: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    latency: Counter[int] = field(default_factory=Counter)

    def merge(self, other: Bucket) -> None:
        self.by_status.update(other.by_status)
        self.by_target.update(other.by_target)
        self.by_source.update(other.by_source)
        self.latency.update(other.latency)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def percentile(hist: Counter[int], q: float) -> float | None:
    total = sum(hist.values())
    if total == 0:
        return None
    rank = q * (total - 1)
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen > rank:
            return round(bin_value(b), 3)
    return round(bin_value(max(hist)), 3)


class Stats:
    """Answered requests per (load balancer, time bucket)."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.buckets: dict[str, dict[int, Bucket]] = {}
        self.sealed_until = 0

    def add(
        self,
        lb: str,
        done: npt.NDArray[np.float64],
        status: npt.NDArray[np.int64],
        target: list[str | None],
        from_target: npt.NDArray[np.bool_],
        latency: npt.NDArray[np.float64],
    ) -> None:
        buckets = self.buckets.setdefault(lb, {})
        index = np.floor(done / self.period).astype(np.int64)
        bins = latency_bins(latency * 1000.0)
        order = np.argsort(index, kind="stable")
        idx_sorted = index[order]
        starts = np.flatnonzero(np.r_[True, idx_sorted[1:] != idx_sorted[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for s, e in zip(starts, ends, strict=True):
            sel = order[s:e]
            b = buckets.setdefault(int(idx_sorted[s]), Bucket())
            codes, counts = np.unique(status[sel], return_counts=True)
            for code, n in zip(codes.tolist(), counts.tolist(), strict=True):
                b.by_status[status_key(code)] += n
            n_target = int(np.count_nonzero(from_target[sel]))
            if n_target:
                b.by_source["target"] += n_target
            if len(sel) - n_target:
                b.by_source["elb"] += len(sel) - n_target
            values, counts = np.unique(bins[sel], return_counts=True)
            for v, n in zip(values.tolist(), counts.tolist(), strict=True):
                b.latency[v] += n
            for i in sel.tolist():
                ip = target[i]
                if ip is not None:
                    b.by_target[ip] += 1

    def seal(self, until: float) -> list[tuple[str, int, Bucket]]:
        """Buckets that can get no more requests (they end at or before `until`)."""
        last = math.floor(until / self.period)
        out = []
        for lb, buckets in self.buckets.items():
            for index in range(self.sealed_until, last):
                bucket = buckets.get(index)
                if bucket is not None:
                    out.append((lb, index, bucket))
        self.sealed_until = max(self.sealed_until, last)
        out.sort(key=lambda x: (x[1], x[0]))
        return out

    def window(self, since: float | None, until: float | None, lb: str | None = None) -> Bucket:
        total = Bucket()
        lo = -math.inf if since is None else since / self.period
        hi = math.inf if until is None else until / self.period
        for arn, buckets in self.buckets.items():
            if lb is not None and arn != lb:
                continue
            for index, bucket in buckets.items():
                if lo <= index and index + 1 <= hi + 1e-9:
                    total.merge(bucket)
        return total

    def summary(
        self, since: float | None, until: float | None, lb: str | None = None
    ) -> dict[str, Any]:
        b = self.window(since, until, lb)
        return {
            "requests": b.total,
            "by_status": dict(sorted(b.by_status.items())),
            "by_target": dict(sorted(b.by_target.items())),
            "by_source": dict(sorted(b.by_source.items())),
            "latency_ms": {"p50": percentile(b.latency, 0.50), "p99": percentile(b.latency, 0.99)},
        }
