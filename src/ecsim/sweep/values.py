"""A parameter's values: a list as written, or a range `{from, to, step}` of numbers or of
durations (`{from: 5s, to: 60s, step: 5s}` gives seconds, as a scenario reads a plain number).

A range is counted before it is made (`size`), exactly, in decimal arithmetic, so a range of
10^12 values is refused by its count (`ecsim.sweep.limits`) without making one of them, and
`0.1 + 0.2` style steps give the values as written (0.3, not 0.30000000000000004).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from ecsim.model.durations import parse_duration


class RangeError(ValueError):
    """A range that cannot be read; `key` is its field (from, to or step)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


def _number(key: str, value: Any) -> tuple[Decimal, bool]:
    """The bound as a Decimal, and whether it was written as a duration."""
    if isinstance(value, bool):
        raise RangeError(key, f"expected a number or a duration; got {value}")
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError as e:
            raise RangeError(key, f"expected a number or a duration like 10s: {e}") from None
        if not math.isfinite(seconds):
            raise RangeError(key, f"expected a finite duration; got {value!r}")
        return Decimal(repr(seconds)), True
    if isinstance(value, int):
        return Decimal(value), False
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value)), False
    raise RangeError(key, f"expected a finite number or a duration; got {value!r}")


class Range:
    """`{from, to, step}`: from, from + step, ... up to `to` (included when reached)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.start, d1 = _number("from", spec["from"])
        self.stop, d2 = _number("to", spec["to"])
        self.step, d3 = _number("step", spec["step"])
        self.whole = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in spec)
        self.durations = d1 or d2 or d3
        if self.step <= 0:
            raise RangeError("step", f"expected a step above 0; got {spec['step']!r}")
        if self.stop < self.start:
            raise RangeError("to", f"expected `to` at or after `from`; got {spec['to']!r}")

    def size(self) -> int:
        try:
            return int((self.stop - self.start) / self.step) + 1
        except (InvalidOperation, OverflowError):  # (a step of 1e-300 over 1e300)
            return 10**100

    def values(self) -> list[int | float]:
        out: list[int | float] = []
        for i in range(self.size()):
            x = self.start + self.step * i
            out.append(int(x) if self.whole else _float(x))
        return out


def _float(x: Decimal) -> int | float:
    f = float(x)
    return int(f) if f == int(f) and abs(f) < 2**53 else f
