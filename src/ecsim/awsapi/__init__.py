"""The AWS-compatible API (ECS JSON 1.1, ELBv2 and EC2 query) and the ALB's real HTTP port."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from ecsim.live.runtime import LiveWorld


def routes(live: LiveWorld) -> list[BaseRoute]:
    """The AWS API's routes (being written: issue 5)."""
    return []


def alb_app(live: LiveWorld, load_balancer: str | None, listener_port: int) -> Starlette:
    """The ASGI app answering for one ALB listener on a real port (being written: issue 5)."""
    return Starlette()
