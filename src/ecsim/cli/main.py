"""`ecsim`: the command line."""

from __future__ import annotations

import click

from ecsim import __version__


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="ecsim")
@click.pass_context
def main(ctx: click.Context) -> None:
    """ecsim: Amazon ECS services and tasks behind an Application Load Balancer, simulated.

    Without a command, plays the seed's scenarios (traffic flow, auto-healing, service
    crash, delete) headless and narrates them.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(demo)


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
@click.option("--seed", default=0, show_default=True, help="Seed of the simulated world.")
@click.option(
    "--alb-port",
    "alb_ports",
    multiple=True,
    type=int,
    help="A real port for listener :80 of the first load balancer (repeatable).",
)
def serve_command(
    host: str, port: int, speed: float, seed: int, alb_ports: tuple[int, ...]
) -> None:
    """Serve the live simulator: the page, the AWS API and the simulated ALB's ports."""
    import asyncio

    from ecsim.cli.serve import AlbPort, demo_factory, serve
    from ecsim.live.runtime import LiveWorld

    try:
        live = LiveWorld(demo_factory, seed=seed, speed=speed)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    asyncio.run(serve(live, host, port, [AlbPort(p) for p in alb_ports]))
