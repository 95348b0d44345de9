"""`ecsim`: the command line."""

from __future__ import annotations

import click

from ecsim import __version__


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="ecsim")
@click.pass_context
def main(ctx: click.Context) -> None:
    """ecsim: Amazon ECS services and tasks behind an Application Load Balancer, simulated.

    Without a command, serves the live simulator page (like `ecsim serve --open`) at
    http://127.0.0.1:8000/. `ecsim demo` plays the seed's scenarios headless instead.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve_command, open_page=True)


@main.command()
@click.option("--seed", default=0, show_default=True, help="Seed of the simulated world.")
def demo(seed: int) -> None:
    """Play the seed's scenarios headless, printing what happens."""
    from ecsim.cli.demo import play

    play(seed)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, help="Port of the page and the AWS API.")
@click.option("--speed", default=1.0, show_default=True, help="Simulated seconds per wall second.")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the simulated world (default 0, or the scenario's).",
)
@click.option(
    "--alb-port",
    "alb_ports",
    multiple=True,
    metavar="PORT[=LB[:LISTENER]]",
    help="A real port for a listener of the simulated ALB (repeatable): `8080` is listener "
    ":80 of the first load balancer, `8081=home-alb:8080` listener :8080 of home-alb.",
)
@click.option(
    "--scenario",
    default=None,
    metavar="NAME",
    help="Start from a built-in scenario's world; the page plays its timeline as a tour.",
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="URL",
    help="A web page origin (http://localhost:3000) that may drive ecsim besides its own page "
    "(repeatable). Pages of other origins are refused.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME[:PORT]",
    help="A Host name to answer besides localhost and the bound address (repeatable): a proxy's "
    "or a port mapping's; '*' answers any (turns off the DNS rebinding check).",
)
@click.option(
    "--classroom",
    is_flag=True,
    help="Give every browser a world of its own from the start (its own clock, speed, "
    "scenario, tour); the AWS API and the ALB's ports stay on the shared world, whose clock "
    "no browser can then stop. Without it a browser takes one with a click.",
)
@click.option(
    "--max-worlds",
    default=40,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Worlds of their own the server keeps at most (the next browsers share the main one).",
)
@click.option(
    "--world-idle",
    default=600.0,
    show_default=True,
    type=click.FloatRange(1.0),
    help="Wall seconds a world of one's own lives on without a browser or a command.",
)
@click.option("--open", "open_page", is_flag=True, help="Open the page in a web browser.")
def serve_command(
    host: str = "127.0.0.1",
    port: int = 8000,
    speed: float = 1.0,
    seed: int | None = None,
    alb_ports: tuple[str, ...] = (),
    scenario: str | None = None,
    allow_origins: tuple[str, ...] = (),
    allow_hosts: tuple[str, ...] = (),
    classroom: bool = False,
    max_worlds: int = 40,
    world_idle: float = 600.0,
    open_page: bool = False,
) -> None:
    """Serve the live simulator: the page, the AWS API and the simulated ALB's ports."""

    from ecsim.awsapi import Policy
    from ecsim.cli.serve import AlbPort, Rooms, demo_factory, open_browser, run, serve
    from ecsim.live.runtime import LiveWorld
    from ecsim.web.tours import LiveScenario

    played = None
    try:
        if scenario is not None:
            played = LiveScenario(scenario)
            seed = played.scenario.seed if seed is None else seed
        factory = played.factory if played is not None else demo_factory
        live = LiveWorld(factory, seed=seed or 0, speed=speed)
        albs = [AlbPort.parse(p) for p in alb_ports]
        policy = Policy.of(host, allow_origins, allow_hosts)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    if open_page:
        open_browser(f"http://{host}:{port}/")
    rooms = Rooms(classroom, max_worlds, world_idle)
    run(serve(live, host, port, albs, scenario=played, policy=policy, rooms=rooms))


@main.command()
def scenarios() -> None:
    """List the built-in scenarios, one line each."""
    from ecsim.scenario import builtin_names, load

    names = builtin_names()
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"{name:<{width}}  {load(name).summary}")


@main.command("run")
@click.argument("name_or_file")
@click.option("--seed", type=int, default=None, help="Seed of the world (default: the file's).")
@click.option("--until", default=None, help="Stop at this scenario time (e.g. 90s, 5m, 1h).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.option(
    "--report",
    type=click.Path(file_okay=False),
    default=None,
    help="Write an HTML report with plots into this directory.",
)
def run_scenario(
    name_or_file: str, seed: int | None, until: str | None, as_json: bool, report: str | None
) -> None:
    """Run a scenario (a built-in NAME or a FILE) headless.

    Prints the timeline of key events, a summary and the expectations. Exit code 0 when
    every expectation holds, 1 when one fails, 2 when the file is broken.
    """
    from ecsim.cli.run import execute

    code = execute(name_or_file, seed, until, as_json, report)
    if code:
        raise SystemExit(code)


@main.command("sweep")
@click.argument("name_or_file")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Seeds per point (default: the file's).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Local worker processes (default: one per CPU).",
)
@click.option(
    "--dask",
    default=None,
    metavar="ADDRESS",
    help="Run on a Dask distributed cluster, e.g. tcp://127.0.0.1:8786 (pip install 'ecsim[dask]').",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write runs.csv (and runs.parquet), summary.csv and report.html into this directory.",
)
@click.option("--resume", is_flag=True, help="Skip the runs already in --out's runs.csv.")
def sweep_command(
    name_or_file: str,
    seeds: int | None,
    workers: int | None,
    dask: str | None,
    out: str | None,
    resume: bool,
) -> None:
    """Run a sweep (a built-in NAME or a FILE): a scenario over a grid of settings and seeds.

    Prints the medians per point and the sweep's conclusion. Exit code 0 when it ran (a run
    that failed is a row with its error), 2 when the file or an option is wrong.
    """
    from ecsim.cli.sweep import execute

    code = execute(name_or_file, seeds, workers, dask, out, resume)
    if code:
        raise SystemExit(code)


@main.command()
def sweeps() -> None:
    """List the built-in sweeps, each with the question it answers."""
    from ecsim.sweep import builtin_names, load

    for name in builtin_names():
        click.echo(f"{name}\n    {' '.join(load(name).question.split())}")


@main.command()
@click.argument("text")
def explain(text: str) -> None:
    """Say what an ARN, ID or name is, who manages it, and how to look it up."""
    from ecsim.model.aws.explain import explain as explain_text

    click.echo(explain_text(text))
