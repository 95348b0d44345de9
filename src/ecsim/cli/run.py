"""`ecsim run NAME_OR_FILE`: run a scenario headless, print its timeline, summary and
expectations; exit 0 when every expectation holds, 1 when one fails, 2 on a bad file."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from ecsim.cli.narrate import lines, timeline
from ecsim.model.durations import parse_duration
from ecsim.scenario import RunError, ScenarioError, limits, load, run, summarize
from ecsim.scenario.loader import calls_message


def parse_until(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--until") from None
    if not math.isfinite(seconds) or seconds > limits.MAX_DURATION:
        raise click.BadParameter(
            f"expected at most {limits.span(limits.MAX_DURATION)} (a scenario's longest); "
            f"got {value!r}",
            param_hint="--until",
        )
    return seconds


def execute(
    name_or_file: str, seed: int | None, until: str | None, as_json: bool, report: str | None
) -> int:
    """Run and print; the exit code."""
    stop = parse_until(until)
    if seed is not None and not 0 <= seed <= limits.MAX_SEED:
        raise click.BadParameter(
            f"expected a seed from 0 to {limits.MAX_SEED}; got {seed}", param_hint="--seed"
        )
    try:
        scenario = load(name_or_file)
    except ScenarioError as e:
        click.echo(f"error: {e}", err=True)
        return 2
    total = stop if stop is not None else scenario.duration
    found = scenario.too_many_calls(total)
    if found is not None:  # (only a longer --until can: the file's own duration was checked)
        where = found[0].where
        error = ScenarioError(where.file, where.line, where.field, calls_message(*found, total))
        click.echo(f"error: --until {until}: {error}", err=True)
        return 2
    show_bar = sys.stderr.isatty()
    try:
        if show_bar:
            with click.progressbar(
                length=int(total), label=f"running {scenario.name}", file=sys.stderr
            ) as bar:
                done = [0]

                def progress(t: float, _: float) -> None:
                    step = int(t) - done[0]
                    if step > 0:
                        bar.update(step)
                        done[0] += step

                result = run(scenario, seed=seed, until=stop, progress=progress)
        else:
            result = run(scenario, seed=seed, until=stop)
    except RunError as e:
        click.echo(f"error: {e}", err=True)
        return 1
    summary = summarize(result)
    report_path = None
    if report is not None:
        from ecsim.cli.report import write_report

        report_path = write_report(result, summary, Path(report))
    if as_json:
        document = {
            "scenario": scenario.name,
            "passed": result.passed,
            "summary": summary,
            "timeline": timeline(result),
            "report": None if report_path is None else str(report_path),
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for text, colour in lines(result, summary):
            if colour == "bold":
                click.secho(text, bold=True)
            else:
                click.secho(text, fg=colour)
        if report_path is not None:
            click.echo(f"\nReport: {report_path}")
    return 0 if result.passed else 1
