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
