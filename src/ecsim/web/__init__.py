"""The browser page: the simulator of the seed, live.

`GET /` serves the page; its ES modules and SVG are under `/ecsim/ui/static/`. The page's
stream is the WebSocket `/ecsim/ui/ws`: a snapshot on connect, then each slice's changes;
commands go over the same socket (`{"id": 1, "cmd": "kill", "args": {...}}`) or as JSON to
`POST /ecsim/ui/command`. Every command is a call of the model's API, run on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ecsim.live.runtime import LiveWorld
from ecsim.web import commands
from ecsim.web.hub import RESYNC, Client, Hub, dumps
from ecsim.web.tours import LiveScenario, Session

STATIC = Path(__file__).parent / "static"
MAX_MESSAGE = 64 * 1024


def handle(live: LiveWorld, hub: Hub, message: Any) -> dict[str, Any]:
    """Run one command; the answer for the browser that sent it."""
    ident = message.get("id") if isinstance(message, dict) else None
    try:
        outcome = commands.run(live, message, hub.session)
    except commands.CommandError as e:
        return {"type": "error", "id": ident, "message": str(e)}
    hub.after_command(outcome.message if outcome.broadcast else None)
    return {"type": "result", "id": ident, "message": outcome.message, "data": outcome.data}


def parse(text: str) -> Any:
    if len(text) > MAX_MESSAGE:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # nested deeper than the interpreter's stack
        return None


def routes(live: LiveWorld, scenario: LiveScenario | None = None) -> list[BaseRoute]:
    """The page, its static files, its WebSocket stream and its command endpoint.

    `scenario`: the built-in scenario `live` was built from (its timeline is the page's tour).
    """
    hub = Hub(live, Session(scenario, seed=live.seed if scenario is None else 0))

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def command(request: Request) -> Response:
        hub.ensure_started()
        body = await request.body()
        message = parse(body.decode("utf-8", "replace"))
        if message is None:
            answer = {"type": "error", "id": None, "message": "The command is not valid JSON."}
        else:
            answer = handle(live, hub, message)
        return JSONResponse(answer, status_code=400 if answer["type"] == "error" else 200)

    async def state(_: Request) -> Response:
        hub.ensure_started()
        return Response(dumps(hub.snapshot()), media_type="application/json")

    async def stream(ws: WebSocket) -> None:
        hub.ensure_started()
        await ws.accept()
        client = Client()
        hub.clients.add(client)

        async def writer() -> None:
            await ws.send_text(dumps(hub.snapshot()))
            while True:
                text = await client.queue.get()
                await ws.send_text(dumps(hub.snapshot()) if text == RESYNC else text)

        sender = asyncio.get_running_loop().create_task(writer())
        try:
            while True:
                frame = await ws.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                text = frame.get("text")
                if text is None:
                    text = (frame.get("bytes") or b"").decode("utf-8", "replace")
                message = parse(text)
                if message is None:
                    answer = {
                        "type": "error",
                        "id": None,
                        "message": "Malformed message: a command is JSON like "
                        '{"cmd": "send", "args": {}}.',
                    }
                else:
                    answer = handle(live, hub, message)
                client.put(dumps(answer))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    return [
        Route("/", page, methods=["GET"]),
        Route("/ecsim/ui/command", command, methods=["POST"]),
        Route("/ecsim/ui/state", state, methods=["GET"]),
        WebSocketRoute("/ecsim/ui/ws", stream),
        Mount("/ecsim/ui/static", app=StaticFiles(directory=STATIC), name="ecsim-ui-static"),
    ]
