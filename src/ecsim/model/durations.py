"""Durations as people write them: `90`, `90s`, `1.5m`, `5m`, `1h`, `250ms`."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d)?")


def parse_duration(text: str | float | int) -> float:
    """Seconds in `text`; `1h30m` and `2m 30s` combine. Raises ValueError with the text."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"a duration cannot be negative: {text!r}")
        return float(text)
    s = text.strip().lower()
    pos, total, matched = 0, 0.0, False
    while pos < len(s):
        if s[pos].isspace():
            pos += 1
            continue
        m = _PART.match(s, pos)
        if not m or (m.group(2) is None and m.end() != len(s)):
            raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 5m, 1h, 250ms)")
        total += float(m.group(1)) * _UNITS[m.group(2) or "s"]
        pos, matched = m.end(), True
    if not matched:
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 5m, 1h, 250ms)")
    return total
