"""Checking expectations against a finished run: a value at a time, a bound over a window, a
condition reached within a time of a step, a service event that must appear."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsim.scenario.conditions import Condition
from ecsim.scenario.series import Fold
from ecsim.scenario.spec import Bound, Expectation


@dataclass(frozen=True)
class Outcome:
    expectation: Expectation
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "expect": self.expectation.text,
            "passed": self.passed,
            "detail": self.detail,
            "line": self.expectation.where.line,
        }


def clock(t: float) -> str:
    """`2m05.3s`-style scenario time."""
    minutes, seconds = divmod(round(t, 1), 60)
    return f"{int(minutes)}m{seconds:04.1f}s" if minutes else f"{seconds:.1f}s"


def fmt(value: float | None) -> str:
    if value is None:
        return "nothing (no requests)"
    return f"{value:g}" if value == int(value) else f"{value:.3g}"


def fmt_of(c: Condition, value: float | None) -> str:
    """A value of `c`'s metric: a stage's name, a weight's %, else a number."""
    shown = c.show(value)
    return fmt(value) if shown is None else shown


class Checker:
    def __init__(
        self,
        fold: Fold,
        end: float,
        occurrences: dict[str, list[float]],
        traffic: Callable[[float, float, str | None], dict[str, Any]],
        subjects: Callable[[Condition], str],
    ) -> None:
        self.fold = fold
        self.end = end
        self.occurrences = occurrences
        self.traffic = traffic
        self.subjects = subjects

    def bound(self, b: Bound) -> float:
        if b == "end":
            return self.end
        if isinstance(b, str):
            times = self.occurrences.get(b) or [self.end]
            return times[0]
        return b

    def windows(self, e: Expectation) -> list[tuple[float, float, str]]:
        """The windows to check, each with words for the detail."""
        if e.between is not None:
            a, b = self.bound(e.between[0]), self.bound(e.between[1])
            return [(a, min(b, self.end), f"between {clock(a)} and {clock(b)}")]
        if e.within is not None and e.of is not None:
            times = self.occurrences.get(e.of, [])
            return [(t, min(t + e.within, self.end), f"after {e.of} at {clock(t)}") for t in times]
        if e.at is not None:
            return [(0.0, min(e.at, self.end), f"by {clock(e.at)}")]
        return [(0.0, self.end, "over the run")]

    def check(self, e: Expectation) -> Outcome:
        if e.condition is None:
            return self.event(e)
        c = e.condition
        if c.kind == "traffic":
            return self.traffic_condition(e, c)
        series = self.fold.metric(c.metric, self.subjects(c))
        what = f"{c.metric}({self.subjects(c)})"
        if e.at is not None:
            value = series.value_at(e.at)
            return Outcome(e, c.holds(value), f"{what} was {fmt_of(c, value)} at {clock(e.at)}")
        if e.within is not None:
            windows = self.windows(e)
            if not windows:
                return Outcome(e, False, f"step {e.of!r} never ran")
            details, ok = [], True
            for a, b, words in windows:
                since = series.last_became(a, b, c.holds)
                if since is None:
                    ok = False
                    details.append(
                        f"{what} was {fmt_of(c, series.value_at(b))} {clock(b - a)} {words}"
                    )
                else:
                    details.append(f"held from {clock(since - a)} {words}")
            return Outcome(e, ok, "; ".join(details))
        ((a, b, words),) = self.windows(e)
        bad = series.first_where(a, b, lambda v: not c.holds(v))
        if bad is not None:
            return Outcome(e, False, f"{what} was {fmt_of(c, bad[1])} at {clock(bad[0])}")
        return Outcome(
            e,
            True,
            f"{what} stayed between {fmt_of(c, series.lowest(a, b))} and {fmt_of(c, series.highest(a, b))} {words}",
        )

    def traffic_condition(self, e: Expectation, c: Condition) -> Outcome:
        from ecsim.scenario.traffic_window import metric

        windows = self.windows(e)
        if not windows:
            return Outcome(e, False, f"step {e.of!r} never ran")
        details, ok = [], True
        for a, b, words in windows:
            value = metric(self.traffic(a, b, c.subject), c.metric)
            ok = ok and c.holds(value)
            unit = "%" if c.metric == "availability" else " ms" if "latency" in c.metric else ""
            details.append(
                f"{c.metric} was {fmt(value)}{unit if value is not None else ''} {words}"
            )
        return Outcome(e, ok, "; ".join(details))

    def event(self, e: Expectation) -> Outcome:
        assert e.event is not None
        windows = self.windows(e)
        if not windows:
            return Outcome(e, False, f"step {e.of!r} never ran")
        details, ok = [], True
        for a, b, words in windows:
            found = next(
                (
                    ev
                    for ev in self.fold.service_events
                    if a <= ev.time - self.fold.t0 <= b
                    and e.event in ev.message
                    and (e.service is None or ev.service == e.service)
                ),
                None,
            )
            if found is None:
                ok = False
                details.append(f"no such service event {words}")
            else:
                details.append(f"at {clock(found.time - self.fold.t0)}: {found.message}")
        return Outcome(e, ok, "; ".join(details))
