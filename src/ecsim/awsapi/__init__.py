"""The AWS-compatible API (ECS JSON 1.1, ELBv2 and EC2 query) and the ALB's real HTTP port.

- `routes(live)`: `POST /` answers the AWS API (`dispatch.py`); `/ecsim/api/...` is ecsim's
  own JSON API for what AWS has no API for (`native.py`), described by `/ecsim/openapi.json`.
- `alb_app(live, load_balancer, listener_port)`: one real port that sends each request
  through a listener of the simulated ALB (`alb.py`), an ASGI app; `AlbServer(app, host,
  port)` serves it on the wire as `ecsim serve` does (`alb_wire.py`).
- `Guard(app, Policy.of(host, allow_origins, allow_hosts))`: the middleware of the main port
  that refuses other web pages and DNS rebinding (`guard.py`).
- `uvicorn_config(app, host, port, wire)`: how uvicorn serves either, with the limits of its
  connections (`connections.py`: `API` for the main port, `ALB` for an ALB port).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ecsim.awsapi.alb import AlbPort, alb_port_app
from ecsim.awsapi.alb_wire import AlbServer
from ecsim.awsapi.connections import ALB, API, Wire, uvicorn_config
from ecsim.awsapi.dispatch import Dispatcher
from ecsim.awsapi.guard import Guard, Policy
from ecsim.awsapi.native import native_routes
from ecsim.awsapi.services import SERVICES
from ecsim.live.runtime import LiveWorld

__all__ = [
    "ALB",
    "API",
    "AlbServer",
    "Guard",
    "Policy",
    "Wire",
    "alb_app",
    "routes",
    "uvicorn_config",
]


def routes(live: LiveWorld) -> list[BaseRoute]:
    """The AWS API on `POST /` and ecsim's own API under `/ecsim/`."""
    for service in SERVICES:  # load botocore's models now, not during the first call
        service.model  # noqa: B018
    return [
        Route("/", Dispatcher(live).handle, methods=["POST"], name="aws-api"),
        *native_routes(live),
    ]


def alb_app(live: LiveWorld, load_balancer: str | None, listener_port: int) -> AlbPort:
    """The ASGI app of a real port answering for listener `listener_port` of `load_balancer`
    (name, ARN or DNS name; None: the first load balancer). Serve it with `AlbServer`, or
    with uvicorn's `server_header=False`: the answers carry their own `Server` header."""
    return alb_port_app(live, load_balancer, listener_port)
