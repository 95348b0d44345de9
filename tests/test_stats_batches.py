"""The statistics count the same whatever path the answers take: `Stats.add_and_seal` (the
data plane's: buckets a batch fills alone become sealed rows at once) gives the rows that
`add` then `seal` give, record for record, and every window's summary and response times;
and the compiled counting pass (`_counts.pyx`) counts what the numpy path counts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ecsim.model.dataplane import stats
from ecsim.model.dataplane.stats import Stats

IPS = [f"10.0.{i // 250}.{i % 250}" for i in range(40)]


def _batch(rng: np.random.Generator, t0: float, t1: float, n: int, lb: str) -> tuple[Any, ...]:
    done = np.sort(rng.uniform(t0, t1, n))
    if rng.random() < 0.5:  # nearly in order, as answers come; else shuffled
        done[: n // 3] = rng.permutation(done[: n // 3])
    lat = np.exp(rng.normal(np.log(0.02), rng.choice([0.1, 1.5]), n))
    if rng.random() < 0.2:
        lat[: n // 10] = rng.uniform(1.0, 60.0, n // 10)  # some slow ones
    status = rng.choice([200, 200, 200, 500, 502, 503, 504], n) if rng.random() < 0.5 else None
    if status is None:
        status = np.full(n, 200, dtype=np.int64)
    from_target = status < 502 if rng.random() < 0.7 else np.zeros(n, dtype=np.bool_)
    ip = np.where(from_target, rng.integers(0, rng.integers(1, len(IPS) + 1), n), -1)
    return (lb, done, status.astype(np.int64), ip.astype(np.int64), from_target, lat)


def _records(rows: list[Any]) -> list[Any]:
    return [(ledger.load_balancer, ledger.time(row), ledger.record(row)) for ledger, row in rows]


def _windows(stats: Stats, end: float) -> list[Any]:
    out: list[Any] = []
    for since, until in [(None, None), (0.0, end / 3), (end / 3, end), (1.5, 2.5)]:
        out.append(stats.summary(since, until))
        for lb in sorted(stats.lbs):
            times = stats.response_times(since, until, lb)
            if times is not None:
                quantiles = [times.percentile(q) for q in (0, 5000, 9900, 10000)]
                out.append(
                    (times.count, times.sum_ns, times.minimum, times.maximum, times.lo),
                )
                out.append((times.hist.tolist(), quantiles))
    return out


def _run(seed: int, period: float) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """The same batches through `add` then `seal` and through `add_and_seal`: the records
    and windows of each."""
    rng = np.random.default_rng(seed)
    one, two = Stats(period, IPS), Stats(period, IPS)
    got: list[Any] = []
    want: list[Any] = []
    t = 0.0
    for _ in range(8):
        step = float(rng.choice([0.3, 2.7, 40.0, 900.0]))
        lbs = ["lb-b", "lb-a"] if rng.random() < 0.4 else ["lb-a"]
        batches = [_batch(rng, t, t + step, int(rng.integers(1, 3000)), lb) for lb in lbs]
        if rng.random() < 0.2:  # an answer counted ahead of time (a settled trace)
            batches[0][1][-1] = t + step + 3 * period
        if rng.random() < 0.3:  # answers counted without a seal (the data plane's summaries)
            extra = _batch(rng, t, t + step, 50, lbs[0])
            one.add(*extra)
            two.add(*extra)
        t += step
        for batch in batches:
            one.add(*batch)
        want += _records(one.seal(t))
        got += _records(two.add_and_seal(batches, t))
        assert one.sealed_until == two.sealed_until == math.floor(t / period)
        assert sorted(one.lbs["lb-a"].open) == sorted(two.lbs["lb-a"].open)
    return want, _windows(one, t), got, _windows(two, t)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("period", [1.0, 60.0])
def test_add_and_seal_counts_what_add_and_seal_count(
    seed: int, period: float, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not compiled:
        monkeypatch.setattr(stats, "count_rows", None)
    want, want_windows, got, got_windows = _run(seed, period)
    assert got == want
    assert got_windows == want_windows


@pytest.mark.skipif(stats.count_rows is None, reason="_counts.pyx not built")
@pytest.mark.parametrize("seed", range(12))
def test_the_compiled_count_counts_what_numpy_counts(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = _run(seed, 1.0)
    monkeypatch.setattr(stats, "count_rows", None)
    assert _run(seed, 1.0) == compiled


@pytest.mark.skipif(stats.count_rows is None, reason="_counts.pyx not built")
@pytest.mark.parametrize("seed", range(8))
def test_the_compiled_trimmed_rows_are_numpys(seed: int) -> None:
    """`_counts.trim_rows` gives `_hist_table`'s rows (empty rows, rows of one bin, zeros
    inside rows)."""
    from ecsim.model.dataplane._counts import trim_rows

    rng = np.random.default_rng(seed)
    table = rng.integers(0, 3, (int(rng.integers(1, 40)), int(rng.integers(1, 300))))
    table[rng.random(table.shape) < rng.random()] = 0
    table[rng.random(len(table)) < 0.3] = 0
    for a, b in zip(trim_rows(table, 17), stats._hist_table(table, 17), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.skipif(stats.count_rows is None, reason="_counts.pyx not built")
def test_the_compiled_sums_round_as_numpys_rint() -> None:
    """The compiled pass rounds each latency to whole nanoseconds as `np.rint` does (ties to
    even), halves included, and past 2**52 ns."""
    from ecsim.model.dataplane._counts import count_rows

    lat = np.concatenate(
        (np.arange(4000) / 2 * 1e-9, np.arange(4000) * 0.37e-9, [2.0**52 * 1e-9 * 1.5, 0.0])
    )
    n = len(lat)
    row = np.arange(n, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    sums = count_rows(
        row, n, zeros, stats._EMPTY, 1, zeros - 1, zeros[:0], 0,
        np.ones(n, dtype=np.uint8), lat, zeros, 0, 1,
    )[4]  # fmt: skip
    assert np.array_equal(sums, np.rint(lat * 1e9).astype(np.int64))
