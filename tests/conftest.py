"""Fixtures shared by the tests; the helpers are in tests/support."""

from __future__ import annotations

import pytest

import ecsim


@pytest.fixture
def demo() -> ecsim.World:
    return ecsim.World.demo(seed=0)
