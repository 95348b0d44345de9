"""Fixtures shared by the tests; the helpers are in tests/support."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ecsim
from tests.support.server import LiveServer, Serve


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "server(**settings): what the `server` fixture serves (tests/support/server.py, Serve)",
    )


@pytest.fixture
def demo() -> ecsim.World:
    return ecsim.World.demo(seed=0)


@pytest.fixture(scope="module")
def _servers() -> Iterator[dict[Serve, LiveServer]]:
    """The servers the tests of one module share, one per `Serve`; stopped after the last."""
    servers: dict[Serve, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def server(
    request: pytest.FixtureRequest, _servers: dict[Serve, LiveServer]
) -> Iterator[LiveServer]:
    """A live `ecsim serve` on localhost ports: `url` for boto3 clients, the AWS CLI, the page
    and ecsim's own API, `alb_url` for a listener of the simulated ALB. The closest `server`
    mark configures it (`Serve`: world, speed, seed, ALB port, ...); the tests of a module
    share it, unless `fresh=True` gives each test its own."""
    mark = request.node.get_closest_marker("server")
    assert mark is None or not mark.args, "the server mark takes keywords: Serve's fields"
    serve = Serve(**mark.kwargs) if mark else Serve()
    if serve.fresh:
        server = serve.start()
        try:
            yield server
        finally:
            server.stop()
    else:
        if serve not in _servers:
            _servers[serve] = serve.start()
        yield _servers[serve]
