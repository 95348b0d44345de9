"""The AWS-compatible API (ECS JSON 1.1, ELBv2 and EC2 query) and the ALB's real HTTP port.

- `routes(live)`: `POST /` answers the AWS API (`dispatch.py`); `/ecsim/api/...` is ecsim's
  own JSON API for what AWS has no API for (`native.py`), described by `/ecsim/openapi.json`.
- `alb_app(live, load_balancer, listener_port)`: the ASGI app of one real port that sends
  each request through a listener of the simulated ALB (`alb.py`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from ecsim.awsapi.dispatch import Dispatcher
from ecsim.live.runtime import LiveWorld


def routes(live: LiveWorld) -> list[BaseRoute]:
    """The AWS API on `POST /` and ecsim's own API under `/ecsim/`."""
    return [Route("/", Dispatcher(live).handle, methods=["POST"], name="aws-api")]


def alb_app(live: LiveWorld, load_balancer: str | None, listener_port: int) -> Starlette:
    """The ASGI app answering for one ALB listener on a real port (being written: issue 5)."""
    return Starlette()
