"""A real `ecsim serve` for the tests: uvicorn on 127.0.0.1 in a background thread, the AWS
API and the page on one port, a listener of the simulated ALB on another. Tests get one from
the `server` fixture (tests/conftest.py), configured by a `server` mark (`Serve`).

The live world belongs to the server's event loop; tests read it through the API, or with
`server.call(fn)`, which runs `fn(world)` on that loop between two slices.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import boto3
import httpx
import uvicorn
from botocore.config import Config

from ecsim.awsapi import ALB, API, AlbServer, Policy, Wire, alb_app, uvicorn_config
from ecsim.cli.serve import Rooms, build_app
from ecsim.live.runtime import LiveWorld
from ecsim.model.demo import DESIRED
from ecsim.model.world import World

T = TypeVar("T")


@dataclass(frozen=True)
class Serve:
    """What the `server` fixture serves: the keywords of the closest `server` mark, e.g.

        pytestmark = pytest.mark.server(world="demo", rate=0, speed=60)

    - world: "empty" (`World(seed)`: the default VPC, nothing else) or "demo"
      (`World.demo(seed, desired=desired, rate=rate)`, steady, at `rate` requests per second);
    - speed: simulated seconds per wall second;
    - alb, alb_port: the load balancer (name or ARN; None: the first) and the listener port
      that `alb_url` answers for;
    - paused: pause the clock through ecsim's API (`POST /ecsim/api/time/pause`) at the start;
    - warm: simulated seconds the world advances before the first test;
    - fresh: a new server for every test; else the tests of a module share one per `Serve`;
    - allow_origins, allow_hosts: `ecsim serve --allow-origin`, `--allow-host` (the guard);
    - classroom, max_worlds, world_idle: `ecsim serve --classroom`, `--max-worlds`,
      `--world-idle` (worlds of one's own).
    """

    world: Literal["empty", "demo"] = "empty"
    desired: int = DESIRED
    rate: float = 5.0
    seed: int = 0
    speed: float = 120.0
    alb: str | None = None
    alb_port: int = 80
    paused: bool = False
    warm: float = 0.0
    fresh: bool = False
    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    classroom: bool = False
    max_worlds: int = 40
    world_idle: float = 600.0

    def factory(self) -> Callable[[int], World]:
        if self.world == "demo":
            return lambda seed: World.demo(seed=seed, desired=self.desired, rate=self.rate)
        if self.world == "empty":
            return lambda seed: World(seed=seed)
        raise ValueError(f"world: 'empty' or 'demo', not {self.world!r}")

    def start(self) -> LiveServer:
        policy = Policy.of("127.0.0.1", self.allow_origins, self.allow_hosts)
        rooms = Rooms(self.classroom, self.max_worlds, self.world_idle)
        server = LiveServer(
            self.factory(), self.speed, self.seed, self.alb, self.alb_port, policy, rooms
        )
        server.start()
        try:
            if self.paused:
                r = httpx.post(f"{server.url}/ecsim/api/time/pause", json={})
                assert r.status_code == 200, r.text
            if self.warm:
                server.call(lambda w: w.advance(self.warm))
        except BaseException:
            server.stop()
            raise
        return server


class LiveServer:
    """The page/API port and one ALB port (a listener of a load balancer: by default :80 of
    the first)."""

    def __init__(
        self,
        factory: Callable[[int], World] = lambda seed: World(seed=seed),
        speed: float = 120.0,
        seed: int = 0,
        alb: str | None = None,
        alb_port: int = 80,
        policy: Policy | None = None,
        rooms: Rooms | None = None,
    ) -> None:
        self.live = LiveWorld(factory, seed=seed, speed=speed)
        self.app = build_app(self.live, policy=policy, rooms=rooms)  # app.state.worlds
        self.url = self.alb_url = ""
        # configured as `ecsim serve` configures them (cli/serve.py)
        self._server = uvicorn.Server(
            uvicorn_config(
                self.app,
                "127.0.0.1",
                0,
                API,
                log_level="warning",
                ws="websockets-sansio",  # the page's stream
            )
        )
        self._alb = AlbServer(alb_app(self.live, alb, alb_port), "127.0.0.1", 0, ALB)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="ecsim-test-server", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            await self._alb.start()
            try:
                # (uvicorn binds the port itself: sockets handed to it answer 40 ms slower)
                await self._server.serve()
            finally:
                await self._alb.stop(1.0)

        asyncio.run(main())

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        main = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{main}"
        self.alb_url = f"http://127.0.0.1:{self._alb.bound_port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def call(self, fn: Callable[[World], T]) -> T:
        """Run `fn(world)` on the server's loop (between two slices) and return its result."""
        assert self.loop is not None

        async def run() -> T:
            return fn(self.live.world)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def client(self, service: str, **config: Any) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, **config),
        )


@contextlib.contextmanager
def serving(app: Any, wire: Wire) -> Iterator[str]:
    """Any ASGI `app` on a localhost port, its connections held to `wire`'s limits (a test of
    the limits themselves, with shorter ones), in a thread; its URL."""
    server = uvicorn.Server(
        uvicorn_config(app, "127.0.0.1", 0, wire, log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), 10)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


FAST = {"Delay": 0.2, "MaxAttempts": 300}  # waiter config: poll the fast-running world often


def wait_for(cond: Callable[[], Any], seconds: float = 60) -> Any:
    """Poll `cond()` (wall clock, bounded) until it is truthy; its value."""
    deadline = time.monotonic() + seconds
    while not (value := cond()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.1)
    return value


def aws_cli(
    server: LiveServer, home: Path, *args: str, region: str = "us-east-1"
) -> subprocess.CompletedProcess[str]:
    """The real AWS CLI (`python -m awscli ARGS --endpoint-url ... --output json`) against
    the server, with test credentials and a config of its own under `home` (no pager, no
    instance metadata lookups)."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--endpoint-url", server.url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
