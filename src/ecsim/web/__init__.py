"""The browser page: an ASGI app with a WebSocket stream of the world's events."""

from __future__ import annotations

from starlette.routing import BaseRoute

from ecsim.live.runtime import LiveWorld


def routes(live: LiveWorld) -> list[BaseRoute]:
    """The page's routes (being written: issue 4)."""
    return []
