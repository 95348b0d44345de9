"""The browser page: the simulator of the seed, live.

`GET /` serves the page; its ES modules and SVG are under `/ecsim/ui/static/`. The page's
stream is the WebSocket `/ecsim/ui/ws`: a snapshot on connect, then each slice's changes;
commands go over the same socket (`{"id": 1, "cmd": "kill", "args": {...}}`) or as JSON to
`POST /ecsim/ui/command`. Every command is a call of the model's API, run on the event loop.

Which world: the main one, unless the browser's cookie names a world of its own
(`POST /ecsim/ui/world`, `worlds.py`). `{"cmd": "replay", "args": {"t": T}}` answers what the
page showed at simulated time T (the hub's frames, `hub.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ecsim.live.runtime import LiveWorld
from ecsim.web import commands
from ecsim.web.hub import RESYNC, Client, dumps
from ecsim.web.tours import LiveScenario
from ecsim.web.worlds import BROWSERS_PER_WORLD, CLOSE, COOKIE, Place, Worlds

__all__ = ["Worlds", "handle", "parse", "routes"]

STATIC = Path(__file__).parent / "static"
MAX_MESSAGE = 64 * 1024


def handle(place: Place, message: Any, origin: str | None = None) -> dict[str, Any]:
    """Run one command in `place`'s world; the answer for the browser that sent it
    (`origin`: its id, for the others' notice)."""
    ident = message.get("id") if isinstance(message, dict) else None
    hub = place.hub
    if isinstance(message, dict) and message.get("cmd") == "replay":
        args = message.get("args") or {}
        t = args.get("t") if isinstance(args, dict) else None
        if isinstance(t, bool) or not isinstance(t, int | float):
            return {"type": "error", "id": ident, "message": "'t' must be a number."}
        try:
            return {"type": "result", "id": ident, "message": "", "data": hub.replay(t)}
        except ValueError as e:
            return {"type": "error", "id": ident, "message": str(e)}
    if isinstance(message, dict):
        refused = place.refusal(message.get("cmd"), message.get("args"))
        if refused is not None:
            return {"type": "error", "id": ident, "message": refused}
    place.last_seen = time.monotonic()
    try:
        outcome = commands.run(place.live, message, hub.session)
    except commands.CommandError as e:
        return {"type": "error", "id": ident, "message": str(e)}
    hub.after_command(outcome.message if outcome.broadcast else None, origin)
    return {"type": "result", "id": ident, "message": outcome.message, "data": outcome.data}


def parse(text: str) -> Any:
    if len(text) > MAX_MESSAGE:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # nested deeper than the interpreter's stack
        return None


def routes(
    live: LiveWorld, scenario: LiveScenario | None = None, worlds: Worlds | None = None
) -> list[BaseRoute]:
    """The page, its static files, its WebSocket stream, its command endpoint and the
    endpoint that gives a browser a world of its own.

    `scenario`: the built-in scenario `live` was built from (its timeline is the page's tour);
    `worlds`: the main world and the private ones (default: `live` alone, no classroom).
    """
    worlds = worlds or Worlds(live, scenario)

    def place_of(conn: HTTPConnection) -> Place:
        worlds.ensure_started()
        return worlds.find(conn.cookies.get(COOKIE))

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def command(request: Request) -> Response:
        place = place_of(request)
        body = await request.body()
        message = parse(body.decode("utf-8", "replace"))
        if message is None:
            answer = {"type": "error", "id": None, "message": "The command is not valid JSON."}
        else:
            answer = handle(place, message, "post")
        return JSONResponse(answer, status_code=400 if answer["type"] == "error" else 200)

    async def state(request: Request) -> Response:
        return Response(dumps(place_of(request).hub.snapshot()), media_type="application/json")

    async def world(request: Request) -> Response:
        """`{"want": "own"}`: a world of one's own (the one the cookie names, else a new one);
        `{"want": "shared"}`: back to the main world (the private one is dropped)."""
        place = place_of(request)
        message = parse((await request.body()).decode("utf-8", "replace"))
        want = message.get("want") if isinstance(message, dict) else None
        if want not in ("own", "shared"):
            return JSONResponse({"message": "'want' must be own or shared."}, status_code=400)
        if want == "shared":
            if place.token is not None:
                await worlds.drop(place.token)
            answer = JSONResponse({"world": "shared", **worlds.census()})
            answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
            return answer
        if place.token is None:
            made = worlds.create()
            if made is None:
                return JSONResponse(
                    {
                        "world": "shared",
                        "message": f"The server has {worlds.limit} worlds of their own already "
                        "(its limit): you are on the shared world.",
                        **worlds.census(),
                    },
                    status_code=503,
                )
            place = made
        answer = JSONResponse({"world": "private", **worlds.census()})
        assert place.token is not None
        answer.set_cookie(COOKIE, place.token, path="/", httponly=True, samesite="strict")
        return answer

    async def stream(ws: WebSocket) -> None:
        place = place_of(ws)
        hub = place.hub
        if place.private and len(hub.clients) >= BROWSERS_PER_WORLD:
            await ws.close(code=1008, reason="too many browsers on this world")
            return
        await ws.accept()
        client = Client()
        hub.clients.add(client)

        def snapshot() -> str:
            return dumps({**hub.snapshot(), "you": client.id})

        async def writer() -> None:
            await ws.send_text(snapshot())
            while True:
                text = await client.queue.get()
                if text == CLOSE:
                    await ws.close(code=1001, reason="this world was dropped")
                    return
                await ws.send_text(snapshot() if text == RESYNC else text)

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
                    answer = handle(place, message, client.id)
                client.put(dumps(answer))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.clients.discard(client)
            place.last_seen = time.monotonic()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    return [
        Route("/", page, methods=["GET"]),
        Route("/ecsim/ui/command", command, methods=["POST"]),
        Route("/ecsim/ui/state", state, methods=["GET"]),
        Route("/ecsim/ui/world", world, methods=["POST"]),
        WebSocketRoute("/ecsim/ui/ws", stream),
        Mount("/ecsim/ui/static", app=StaticFiles(directory=STATIC), name="ecsim-ui-static"),
    ]
