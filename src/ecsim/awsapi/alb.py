"""A real HTTP port for one listener of a simulated Application Load Balancer.

Each request entering the port enters the simulated ALB at the current simulated time (the
world caught up with the wall clock first; `w.traffic.send`): the listener's rules route it
to a target the way the ALB would, and the answer is the simulation's. The port holds the
request until the model has answered it, when simulated time reaches the answer, and no
sooner than its simulated latency scaled by the live speed (`latency / speed`): so a target
that dies, is cut off or drains out meanwhile changes what the client gets exactly as it
changes what the statistics count (docs/behaviour.md, "Traffic statistics"). Then it answers:

- from a task: a small JSON body naming the task, its IP, AZ and task definition revision
  (status 200, or 500 when the app answers with an error);
- from the load balancer: its own 502, 503 or 504 (or a rule's fixed response or redirect),
  with `Server: awselb/2.0` and the ALB's HTML bodies (docs/behaviour.md, "ALB-generated answers");
- when a real client could not even connect (the load balancer is not active yet, or has no
  listener on the port): 503 with `X-Ecsim-Status: 000` and a plain-text explanation, since an
  HTTP server cannot refuse a connection it has already accepted.

While simulated time stands still (the clock is paused, or has not moved for `MAX_WAIT` wall
seconds), a request is answered when its simulated latency has passed in wall time, with the
answer the model gives it then, and the model settles it so (`w.traffic.settle`): nothing
that happens before the clock moves again changes it.

Every request is counted in the model's statistics and events like a simulated one, with the
status its client got (`X-Ecsim-Status` where HTTP cannot carry it). One answer is ecsim's own:
a world reset while a request waits gets 503 with `X-Ecsim-Status: reset` (that world and its
statistics are gone).
Headers `X-Ecsim-*` tell what happened inside the simulation (target, latency, reason).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import math
import re
import time
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from ecsim.live.runtime import LiveWorld
from ecsim.model.elbv2.listener_attributes import response_headers
from ecsim.model.errors import AwsError
from ecsim.model.world import World

log = logging.getLogger("ecsim.awsapi.alb")

MAX_WAIT = 60.0  # wall seconds after which simulated time that does not move stands still
POLL = 0.005  # wall seconds between two catch-ups while an answer is due but not yet settled
EARLY = 0.0005  # wall seconds: a timer may fire this much before the simulated answer is due
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
WATCH = 0.005  # wall seconds, at least, between two looks at the held requests after a slice
REASONS = {
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Time-out",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def elb_page(status: int) -> bytes:
    """The ALB's own HTML error page (the 503 is 162 bytes, as observed;
    docs/behaviour.md, "ALB-generated answers")."""
    title = f"{status} {REASONS.get(status, 'Error')}".strip()
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()


class _Waiting:
    """One request held by the port: its scope, the wall instant it arrived, its trace (the
    world's answer), and the future its handler awaits."""

    __slots__ = ("began", "due", "final", "future", "path", "scope", "trace", "world")

    def __init__(self, scope: Scope, path: str, future: asyncio.Future[Response]) -> None:
        self.scope = scope
        self.path = path
        self.future = future
        self.began = time.monotonic()
        self.due = self.began
        self.final = False  # settled, and held only until its answer's wall instant
        self.trace: dict[str, Any] = {}
        self.world: World | None = None

    def __lt__(self, other: _Waiting) -> bool:  # heap order when two are due at once
        return self.began < other.began


class AlbPort:
    """Answers real HTTP requests for listener `listener_port` of `load_balancer` (a name,
    ARN or DNS name; None: the world's first load balancer); an ASGI app.

    Requests are not handled one by one: those that arrive within one turn of the event loop
    enter the simulated ALB together (one catch-up of the world, one evaluation of the data
    plane, `Traffic.send_many`), and the held ones wait in one heap ordered by the wall
    instant of their answers, served by one timer: each firing catches the world up once and
    answers every request then due. A request costs no task, timer or catch-up of its own."""

    def __init__(self, live: LiveWorld, load_balancer: str | None, listener_port: int) -> None:
        self.live = live
        self.load_balancer = load_balancer
        self.listener_port = listener_port
        self.answered = 0  # requests answered, any status
        self.by_status: dict[int, int] = {}
        self._arrivals: list[_Waiting] = []
        self._held: list[tuple[float, _Waiting]] = []  # heap: (wall instant due, request)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._watcher: asyncio.Task[None] | None = None
        self._seen: tuple[World | None, float] = (None, -1.0)  # world and time last seen,
        self._still_since = 0.0  # and the wall instant they were first seen
        self._tasks: dict[str, tuple[object, str]] = {}  # ip -> (task, its JSON fields)
        self._paths: dict[str, str] = {}  # path -> its JSON string

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["method"] not in METHODS and "\n" not in scope["path"]:
            response: Response = PlainTextResponse(
                "Method Not Allowed", 405, headers={"Allow": ", ".join(METHODS)}
            )  # as the port's router always answered
        else:
            response = await self.handle(scope)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def handle(self, scope: Scope) -> Response:
        """The answer to one request (held until the model has answered it)."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(scope, _path(scope), loop.create_future())
        if not self._arrivals:
            loop.call_soon(self._admit)
        self._arrivals.append(waiting)
        if self._watcher is None or self._watcher.done():
            self._watcher = loop.create_task(self._watch(), name="ecsim-alb-port")
        response = await waiting.future
        self.answered += 1
        self.by_status[response.status_code] = self.by_status.get(response.status_code, 0) + 1
        return response

    # --- requests in ----------------------------------------------------------------------

    def _admit(self) -> None:
        """The requests that arrived since the last turn enter the simulated ALB now, at the
        present simulated time (the world caught up with the wall clock first)."""
        arrivals, self._arrivals = self._arrivals, []
        try:
            self.live.catch_up()
            world = self.live.world
            requests = [(w.path, _host(w.scope)) for w in arrivals]
            try:
                traces = world.traffic.send_many(requests, self.load_balancer, self.listener_port)
            except AwsError:
                raise
            except Exception:  # one request refused: the others go on, one by one
                if len(arrivals) == 1:
                    raise
                self._arrivals = arrivals[1:]
                self._admit_one(arrivals[0])
                self._admit()
                return
        except AwsError as e:  # no such load balancer: nothing would accept the connection
            for w in arrivals:
                _resolve(w, self._not_connected({"status": 0, "reason": e.message}))
            return
        except Exception:
            log.exception("the simulated ALB failed on %d requests", len(arrivals))
            for w in arrivals:
                _resolve(w, _internal())
            return
        for w, trace in zip(arrivals, traces, strict=True):
            w.trace, w.world = trace, world
            self._hold(w)
        self._answer_due(caught_up=True)  # the world just caught up: whatever is due, too
        self._arm()

    def _admit_one(self, w: _Waiting) -> None:
        try:
            world = self.live.world
            [w.trace] = world.traffic.send_many(
                [(w.path, _host(w.scope))], self.load_balancer, self.listener_port
            )
            w.world = world
        except AwsError as e:
            _resolve(w, self._not_connected({"status": 0, "reason": e.message}))
            return
        except Exception:
            log.exception("the simulated ALB failed on %s %s", w.scope.get("method"), w.path)
            _resolve(w, _internal())
            return
        self._hold(w)

    # --- requests held until their answers are due -----------------------------------------

    def _due(self, w: _Waiting) -> float:
        """The wall instant of the answer: when the clock reaches it, or while time stands
        still, its simulated latency after the request arrived."""
        clock = self.live.clock
        latency = float(w.trace["latencyMs"]) / 1000.0
        if clock.paused:
            return w.began + latency / clock.speed
        return clock.wall_at(float(w.trace["time"]) + latency) + EARLY

    def _hold(self, w: _Waiting) -> None:
        w.due = self._due(w)
        heapq.heappush(self._held, (w.due, w))

    def _arm(self) -> None:
        """The timer fires when the first held answer is due."""
        if not self._held:
            return
        at = self._held[0][0]
        if self._timer is not None:
            if self._timer_at <= at:
                return
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        delay = min(max(at - time.monotonic(), 0.0), MAX_WAIT)
        self._timer = loop.call_at(loop.time() + delay, self._fire)
        self._timer_at = at

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        try:
            self._answer_due()
        finally:
            self._arm()

    def _answer_due(self, caught_up: bool = False) -> None:
        """Answer every held request whose answer is due and settled; settle those due
        while simulated time stands still; hold the others a little longer. `caught_up`:
        the world has just caught up with the wall clock."""
        held, live = self._held, self.live
        now = time.monotonic()
        if caught_up:
            self._moving(now)
        later: list[_Waiting] = []
        while held and held[0][0] <= now:
            _, w = heapq.heappop(held)
            world = w.world
            if live.world is not world:
                _resolve(w, self._unsettled("reset"))
                continue
            if w.final:
                _resolve(w, self._answer(w))
                continue
            trace = w.trace
            if not trace["settled"]:
                if not caught_up:
                    live.catch_up()
                    caught_up = True
                    self._moving(now)
                if not trace["settled"]:
                    if live.clock.paused or now - max(w.began, self._still_since) >= MAX_WAIT:
                        world.traffic.settle(trace)
                    else:
                        due_at = float(trace["time"]) + float(trace["latencyMs"]) / 1000.0
                        # the clock a little behind: catch up again soon; else the network
                        # moved the answer later (a target cut off): the slices get there
                        w.due = now + (POLL if world.now < due_at else 1.0)
                        later.append(w)
                        continue
            due = self._due(w)
            if due > now:  # settled with a later answer: hold it until then
                w.due, w.final = min(due, now + MAX_WAIT), True
                later.append(w)
                continue
            _resolve(w, self._answer(w))
        for w in later:
            heapq.heappush(held, (w.due, w))

    def _moving(self, now: float) -> None:
        """Note when simulated time last moved (the `MAX_WAIT` rule)."""
        seen = (self.live.world, self.live.world.now)
        if seen != self._seen:
            self._seen, self._still_since = seen, now

    async def _watch(self) -> None:
        """After each slice (or catch-up, or reset) of the live world: requests settled
        sooner than their answers were due (a target that died meanwhile) and requests of a
        world that was reset are answered when due now, not when first expected."""
        while True:
            await self.live.moved(1.0)
            self._moving(time.monotonic())
            if self._held:
                changed = False
                held = []
                for due, w in self._held:
                    if self.live.world is not w.world:
                        due, changed = 0.0, True
                    elif w.trace["settled"] and not w.final:
                        new = self._due(w)
                        if new < due:
                            due, changed = new, True
                    w.due = due
                    held.append((due, w))
                if changed:
                    heapq.heapify(held)
                    self._held = held
                    self._arm()
            await asyncio.sleep(WATCH)

    # --- the answers ----------------------------------------------------------------------

    def _answer(self, w: _Waiting) -> Response:
        """The answer the model gave, with the listener's header attributes applied."""
        response = self._model_answer(w)
        if w.world is not None:
            self._listener_headers(w.world, response)
        return response

    def _listener_headers(self, world: World, response: Response) -> None:
        """The listener's header modification attributes: the `Server` header off, response
        headers added (docs/behaviour.md, "Listener attributes")."""
        lbs = list(world.elb.load_balancers.values())
        ref = self.load_balancer
        lb = next((b for b in lbs if ref in (b.arn, b.name, b.dns_name)), None) if ref else None
        if lb is None and ref is None and lbs:
            lb = lbs[0]
        listener = next(
            (x for x in (lb.listeners.values() if lb else []) if x.port == self.listener_port),
            None,
        )
        if listener is None:
            return
        server, added = response_headers(listener.attributes)
        if not server and "server" in response.headers:
            del response.headers["server"]
        for name, value in added.items():
            response.headers[name] = value

    def _model_answer(self, w: _Waiting) -> Response:
        trace = w.trace
        status = int(trace["status"])
        if trace["answeredBy"] == "target":
            return self._from_task(trace, status, w.path)
        headers = _trace_headers(trace)
        if status == 0:
            return self._not_connected(trace)
        reason = str(trace.get("reason") or "")
        if reason.startswith("fixed-response"):
            fixed = self._rule_action(trace, "fixed-response").get("FixedResponseConfig", {})
            return Response(
                str(fixed.get("MessageBody", "")).encode(),
                status,
                headers={"Server": "awselb/2.0", **headers},
                media_type=str(fixed.get("ContentType", "text/plain")),
            )
        if reason.startswith("redirect"):
            config = self._rule_action(trace, "redirect").get("RedirectConfig", {})
            headers["Location"] = self._location(config, Request(w.scope))
            return Response(
                elb_page(status),
                status,
                headers={"Server": "awselb/2.0", **headers},
                media_type="text/html",
            )
        return Response(
            elb_page(status),
            status,
            headers={"Server": "awselb/2.0", **headers},
            media_type="text/html",
        )

    def _from_task(self, trace: dict[str, Any], status: int, path: str) -> Response:
        """A task's answer: a small JSON body naming it. The common answer's bytes are
        written directly (the headers starlette would write, in its order)."""
        target = trace["target"] or ""
        ip = target.rsplit(":", 1)[0]
        error = ""
        if status >= 500:
            why = trace.get("reason") or "the application answered with an error"
            error = ", " + json.dumps({"error": why})[1:-1]
        # the JSON of {"status", "path", "ip", "simulatedTime", "latencyMs", the task's
        # fields, "error"}, as json.dumps writes it (floats and ints as their repr), from
        # parts that are the same for every answer of one task and path
        content = (
            f'{{"status": {status}, "path": {self._json_path(path)}, "ip": {self._json_path(ip)}, '
            f'"simulatedTime": {trace["time"]!r}, "latencyMs": {trace["latencyMs"]!r}'
            f"{self._task_fields(ip)}{error}}}"
        ).encode()
        raw = [
            (b"server", b"ecsim-task"),
            (b"x-ecsim-latency-ms", str(trace["latencyMs"]).encode()),
        ]
        if target:
            raw.append((b"x-ecsim-target", str(target).encode("latin-1")))
        if trace.get("reason"):
            raw.append((b"x-ecsim-reason", _header(str(trace["reason"])).encode()))
        raw += [(b"content-length", str(len(content)).encode()), _JSON]
        response = Response.__new__(Response)
        response.status_code, response.body, response.raw_headers = status, content, raw
        response.background = None
        return response

    def _task_fields(self, ip: str) -> str:
        """`, "task": ..., "revision": N` for the task at `ip` (or "" when none is there),
        remembered per task."""
        task = self.live.world.endpoints.get(ip)
        cached = self._tasks.get(ip)
        if cached is not None and cached[0] is task:
            return cached[1]
        text = ""
        if task is not None:
            td = task.task_definition
            fields = {
                "task": task.id,
                "taskArn": task.arn,
                "cluster": task.cluster_name,
                "group": task.group,
                "availabilityZone": task.az,
                "taskDefinition": td.family_revision,
                "revision": td.revision,
            }
            text = ", " + json.dumps(fields)[1:-1]
        if len(self._tasks) >= _REMEMBERED:
            self._tasks.clear()
        self._tasks[ip] = (task, text)
        return text

    def _json_path(self, path: str) -> str:
        """`path` (or any short string) as JSON, remembered."""
        text = self._paths.get(path)
        if text is None:
            if len(self._paths) >= _REMEMBERED:
                self._paths.clear()
            text = self._paths[path] = json.dumps(path)
        return text

    def _unsettled(self, why: str) -> Response:
        """ecsim's own answer when the model will not answer (see the module docstring)."""
        text = "the world was reset while this request waited for its answer"
        return Response(
            f"ecsim: {text}\n".encode(),
            503,
            headers={"X-Ecsim-Status": why, "X-Ecsim-Reason": text},
            media_type="text/plain",
        )

    def _not_connected(self, trace: dict[str, Any]) -> Response:
        reason = str(trace.get("reason") or "the connection would fail")
        return Response(
            f"ecsim: a real client could not connect: {reason}\n".encode(),
            503,
            headers={"X-Ecsim-Status": "000", "X-Ecsim-Reason": _header(reason)},
            media_type="text/plain",
        )

    def _rule_action(self, trace: dict[str, Any], kind: str) -> dict[str, Any]:
        rule = trace.get("rule")
        if not rule:
            return {}
        try:
            rules = self.live.world.elbv2.describe_rules(RuleArns=[rule])["Rules"]
        except AwsError:
            return {}
        for action in rules[0].get("Actions", []) if rules else []:
            if action.get("Type") == kind:
                return dict(action)
        return {}

    def _location(self, config: dict[str, Any], request: Request) -> str:
        """The redirect's URL, its `#{...}` filled from the request as the client sent it
        (the path still percent-encoded), and encoded again where a header could not carry
        it."""
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        values = {
            "#{protocol}": "http",
            "#{host}": (request.headers.get("host") or "localhost").rsplit(":", 1)[0],
            "#{port}": str(self.listener_port),
            "#{path}": raw_path.decode("latin-1").lstrip("/"),
            "#{query}": request.url.query,
        }

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace(key, value)
            return text

        protocol = fill(str(config.get("Protocol", "#{protocol}"))).lower()
        host = fill(str(config.get("Host", "#{host}")))
        port = fill(str(config.get("Port", "#{port}")))
        path = "/" + fill(str(config.get("Path", "/#{path}"))).lstrip("/")
        query = fill(str(config.get("Query", "#{query}")))
        url = f"{protocol}://{host}:{port}{path}"
        return quote(f"{url}?{query}" if query else url, safe=_URL_SAFE)


_JSON = (b"content-type", b"application/json")
_REMEMBERED = 4096  # tasks and paths whose JSON the port remembers, at most
_PLAIN_PATH = re.compile(r"[!$-\[\]-~]*")  # printable ASCII but for ?, # and backslash


def _path(scope: Scope) -> str:
    """The request's path as starlette's `request.url.path` gives it ("/" when empty)."""
    path: str = scope["path"]
    if _PLAIN_PATH.fullmatch(path) is None or "?" in path or "#" in path:
        path = Request(scope).url.path
    return path or "/"


def _host(scope: Scope) -> str | None:
    """The Host header's name, without the port (None without one)."""
    for name, value in scope["headers"]:
        if name == b"host":
            return value.decode("latin-1").rsplit(":", 1)[0] or None
    return None


def _resolve(w: _Waiting, response: Response) -> None:
    if not w.future.done():
        w.future.set_result(response)


def _internal() -> Response:
    return Response(
        b"ecsim failed to route this request; the failure is in the server's log.\n",
        500,
        headers={"X-Ecsim-Error": "internal"},
        media_type="text/plain",
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: the live world is the main server's."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def _trace_headers(trace: dict[str, Any]) -> dict[str, str]:
    out = {"X-Ecsim-Latency-Ms": str(trace.get("latencyMs"))}
    if trace.get("target"):
        out["X-Ecsim-Target"] = str(trace["target"])
    if trace.get("reason"):
        out["X-Ecsim-Reason"] = _header(str(trace["reason"]))
    return out


def _header(text: str) -> str:
    """`text` as a header value can carry it: ASCII, control characters as spaces."""
    return _CONTROL.sub(" ", text.encode("ascii", "replace").decode("ascii"))


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def alb_port_app(live: LiveWorld, load_balancer: str | None, listener_port: int) -> AlbPort:
    """The ASGI app of one real port (`AlbPort`)."""
    return AlbPort(live, load_balancer, listener_port)
