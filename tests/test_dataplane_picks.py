"""Round robin's picks laid out as one repeated round (`engine._round_robin`) are the
remainders they stand for, whatever the counter, the pool size and the number of requests."""

from __future__ import annotations

import numpy as np
import pytest

from ecsim.model.dataplane.engine import _round_robin


@pytest.mark.parametrize("size", [1, 2, 3, 10, 64])
@pytest.mark.parametrize("start", [0, 1, 9, 10, 11, 12_345_678_901])
@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 5_000])
def test_round_robin_is_the_remainder(size: int, start: int, n: int) -> None:
    picks = _round_robin(start, n, size, 40)
    want = (start + np.arange(n, dtype=np.int64)) % size + 40
    assert picks.dtype == np.int64 and np.array_equal(picks, want)
