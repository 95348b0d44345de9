"""`ecsim serve`: the live world behind one HTTP port (the page, its WebSocket, the AWS API)
and the simulated ALB's listeners on real local ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import webbrowser
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware

from ecsim import awsapi, web
from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World
from ecsim.web.tours import LiveScenario
from ecsim.web.worlds import IDLE, LIMIT

# Wall seconds a stopping server (SIGTERM, Ctrl-C) waits for the requests in flight before it
# cancels them: a long `time/advance` stops where it got to (LiveWorld.advance_sliced).
GRACEFUL_SHUTDOWN = 2
T = TypeVar("T")


@dataclass(frozen=True)
class AlbPort:
    """A real local port answering for one listener of a simulated load balancer."""

    port: int
    load_balancer: str | None = None  # name; None: the first load balancer
    listener_port: int = 80

    @classmethod
    def parse(cls, text: str) -> AlbPort:
        """`8080`, `8080=home-alb` or `8080=home-alb:80` (`--alb-port`)."""
        port, _, target = text.partition("=")
        lb, colon, listener = target.rpartition(":")
        if not colon or not listener.isdigit():  # no listener port (an ARN has colons too)
            lb, listener = target, "80"
        try:
            out = cls(int(port), lb or None, int(listener))
        except ValueError:
            raise ValueError(
                f"expected PORT[=LOAD_BALANCER[:LISTENER_PORT]], got {text!r}"
            ) from None
        if not (0 < out.port < 65536 and 0 < out.listener_port < 65536):
            raise ValueError(f"ports must be between 1 and 65535, got {text!r}")
        return out


@dataclass(frozen=True)
class Rooms:
    """The worlds of one's own a server gives (`--classroom`, `--max-worlds`, `--world-idle`)."""

    classroom: bool = False
    max_worlds: int = LIMIT
    world_idle: float = IDLE


def build_app(
    live: LiveWorld,
    scenario: LiveScenario | None = None,
    policy: awsapi.Policy | None = None,
    rooms: Rooms | None = None,
) -> Starlette:
    """One ASGI app: the AWS API on `POST /`, the page and its stream on everything else,
    behind the guard that refuses other web pages and foreign `Host`s (`awsapi/guard.py`).

    `scenario`: the built-in scenario `live` was built from (the page plays its timeline);
    `policy`: what the guard accepts (default: loopback, the server's own origin only);
    `rooms`: the worlds of one's own it gives (`web/worlds.py`; default: on a click, no
    classroom)."""
    rooms = rooms or Rooms()
    worlds = web.Worlds(live, scenario, rooms.classroom, rooms.max_worlds, rooms.world_idle)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        live.start()
        try:
            yield
        finally:
            await worlds.stop()
            await live.stop()

    app = Starlette(
        routes=[*awsapi.routes(live), *web.routes(live, scenario, worlds)],
        middleware=[Middleware(awsapi.Guard, policy=policy or awsapi.Policy.of())],
        lifespan=lifespan,
    )
    app.state.live = live
    app.state.worlds = worlds
    return app


async def serve(
    live: LiveWorld,
    host: str,
    port: int,
    alb_ports: list[AlbPort],
    announce: Callable[[str], None] = click.echo,
    scenario: LiveScenario | None = None,
    policy: awsapi.Policy | None = None,
    rooms: Rooms | None = None,
) -> None:
    """Run the main server and one server per ALB port on this event loop until stopped.
    `policy`: the `Host`s and origins the main port accepts (default: loopback only)."""
    policy = policy or awsapi.Policy.of(host)
    main = uvicorn.Server(
        awsapi.uvicorn_config(
            build_app(live, scenario, policy, rooms),
            host,
            port,
            awsapi.API,
            log_level="warning",
            ws="websockets-sansio",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
    )
    live.real_ports = [
        {"port": a.port, "loadBalancer": a.load_balancer, "listenerPort": a.listener_port}
        for a in alb_ports
    ]
    albs = [
        awsapi.AlbServer(awsapi.alb_app(live, a.load_balancer, a.listener_port), host, a.port)
        for a in alb_ports
    ]
    try:
        for alb_server in albs:
            try:
                await alb_server.start()
            except OSError as e:
                raise click.ClickException(
                    f"cannot listen on {host}:{alb_server.port}: {e.strerror or e}"
                ) from None
        if rooms is not None and rooms.classroom:
            announce(
                "ecsim: classroom: every browser gets a world of its own (at most "
                f"{rooms.max_worlds}, dropped after {rooms.world_idle:g} s without a browser)"
            )
        where = "loopback only" if host in ("127.0.0.1", "localhost", "::1") else f"host {host}"
        announce(f"ecsim: http://{host}:{port}/  (the page, the AWS API; {where})")
        for alb in alb_ports:
            announce(
                f"ecsim: http://{host}:{alb.port}/  -> listener :{alb.listener_port} of "
                f"{alb.load_balancer or 'the first load balancer'}"
            )
        if policy.wildcard or policy.hosts or policy.origins or policy.any_host:
            origins = ", ".join(sorted(policy.origins)) or "none"
            announce(f"ecsim: accepts {policy.accepted_hosts()}; other pages allowed: {origins}")
        live.freeze_heap()
        await main.serve()
    finally:
        await asyncio.gather(*(s.stop(GRACEFUL_SHUTDOWN) for s in albs))


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop's event loop where it is installed (uvicorn[standard] brings
    it), else asyncio's. uvloop's sockets and loop are native code: a socket write, a
    callback, a timer cost a fraction of what asyncio's Python transports cost, and the
    AWS API and the ALB ports write an answer per request (benchmarks 6 and 8)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of uvicorn[standard]
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def demo_factory(seed: int) -> World:
    return World.demo(seed=seed)


def open_browser(url: str) -> None:
    """Open the page in the user's browser where there is a desktop; say where it is anyway."""
    click.echo(f"ecsim: open {url} in a browser")
    desktop = sys.platform in ("darwin", "win32") or any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY")
    )
    if desktop:
        with contextlib.suppress(Exception):
            webbrowser.open(url)
