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
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from starlette.types import Receive, Scope, Send

from ecsim.live.runtime import LiveWorld
from ecsim.model.elbv2.listener_attributes import response_headers
from ecsim.model.errors import AwsError
from ecsim.model.world import World

log = logging.getLogger("ecsim.awsapi.alb")

MAX_WAIT = 60.0  # wall seconds after which simulated time that does not move stands still
# Wall seconds an answer is held past the wall instant of its simulated answer: the answer's
# time is computed from the latency in milliseconds (rounded to 3 decimals), and the
# clock's wall/simulated mapping rounds too; an answer not settled when the world has caught
# up with its instant waits this long again.
LATE = 0.0002
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


class AlbRequest(NamedTuple):
    """One HTTP request as the port received it: what the listener's rules look at, and
    what a redirect fills in."""

    method: str
    path: str  # percent-decoded, as the rules match it
    raw_path: bytes  # as the client sent it
    query: str
    host_header: str  # the Host header as sent ("" without one)

    @property
    def host(self) -> str | None:
        """The Host header's name, without the port (None without one)."""
        return self.host_header.rsplit(":", 1)[0] or None


class Answer(NamedTuple):
    """An HTTP answer: its status, its headers (lower-case names, `content-length` among
    them) and its body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


Reply = Callable[[Answer], None]


class _Waiting:
    """One request held by the port: the wall instant it arrived, its trace (the world's
    answer), and whom to give the answer to."""

    __slots__ = ("began", "due", "final", "reply", "request", "trace", "world")

    def __init__(self, request: AlbRequest, reply: Reply, began: float) -> None:
        self.request = request
        self.reply: Reply | None = reply
        self.began = began
        self.due = began
        self.final = False  # settled, and held only until its answer's wall instant
        self.trace: dict[str, Any] = {}
        self.world: World | None = None

    def __lt__(self, other: _Waiting) -> bool:  # heap order when two are due at once
        return self.began < other.began


class AlbPort:
    """Answers real HTTP requests for listener `listener_port` of `load_balancer` (a name,
    ARN or DNS name; None: the world's first load balancer).

    A connection hands each request to `submit` with whom to give the answer to (`ecsim
    serve`'s own HTTP protocol, `alb_wire.py`); the port is an ASGI app as well, for any
    other server. Requests are not handled one by one: those that arrive within one turn of
    the event loop enter the simulated ALB together (one catch-up of the world, one
    evaluation of the data plane, `Traffic.send_many`), and the held ones wait in one heap
    ordered by the wall instant of their answers, served by one timer: each firing answers
    every request then due, in the same catch-up of the world as the turn's new requests.
    A request costs no task, timer or catch-up of its own."""

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
        # (target, path, status, reason) -> (task, JSON head and tail, headers)
        self._answers: dict[tuple[str, str, int, str | None], Any] = {}
        self._listener: tuple[bool, list[tuple[bytes, bytes]]] | None = None  # this batch's
        self._time: tuple[float, str] = (math.nan, "")  # a batch's instant, and its repr
        self._turning = False  # `_turn` is due in this turn of the event loop

    @property
    def waiting(self) -> int:
        """Requests submitted and not answered yet."""
        return len(self._arrivals) + len(self._held)

    def submit(self, request: AlbRequest, reply: Reply) -> None:
        """`request` enters the simulated ALB at the end of this turn of the event loop;
        `reply` gets its answer, once, when it is due."""
        if request.method not in METHODS and "\n" not in request.path:
            # as the port's router always answered
            _answer_now(reply, _answer(405, b"Method Not Allowed", "text/plain", _ALLOW))
            self._count(405)
            return
        if not self._arrivals:
            loop = asyncio.get_running_loop()  # once per turn: it calls getpid()
            self._turn_soon(loop)
            if self._watcher is None or self._watcher.done():
                self._watcher = loop.create_task(self._watch(), name="ecsim-alb-port")
        self._arrivals.append(_Waiting(request, reply, time.monotonic()))

    def _turn_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        """Once this turn of the event loop has read what came in: admit the requests that
        arrived and answer those due, after one catch-up of the world for both (a turn
        often has both: the timer of answers due fires before the turn's reads)."""
        if not self._turning:
            self._turning = True
            loop.call_soon(self._turn)

    def _turn(self) -> None:
        self._turning = False
        caught_up_at = -math.inf
        try:
            if self._arrivals:
                caught_up_at = self._admit()
            self._answer_due(caught_up_at)
        finally:
            self._arm()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The port as an ASGI app."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

        def reply(answer: Answer) -> None:
            if not future.done():
                future.set_result(answer)

        self.submit(_request(scope), reply)
        answer = await future
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})

    # --- requests in ----------------------------------------------------------------------

    def _admit(self) -> float:
        """The requests that arrived since the last turn enter the simulated ALB now, at the
        present simulated time (the world caught up with the wall clock first). Returns the
        wall instant of that catch-up (-inf: none)."""
        arrivals, self._arrivals = self._arrivals, []
        try:
            self.live.catch_up()
            caught_up_at = time.monotonic()
            world = self.live.world
            requests = [(w.request.path, w.request.host) for w in arrivals]
            try:
                traces = world.traffic.send_many(requests, self.load_balancer, self.listener_port)
            except AwsError:
                raise
            except Exception:  # one request refused: the others go on, one by one
                if len(arrivals) == 1:
                    raise
                self._arrivals = arrivals[1:]
                self._admit_one(arrivals[0])
                return self._admit()
        except AwsError as e:  # no such load balancer: nothing would accept the connection
            for w in arrivals:
                self._resolve(w, _not_connected({"status": 0, "reason": e.message}))
            return -math.inf
        except Exception:
            log.exception("the simulated ALB failed on %d requests", len(arrivals))
            for w in arrivals:
                self._resolve(w, _internal())
            return -math.inf
        for w, trace in zip(arrivals, traces, strict=True):
            w.trace, w.world = trace, world
            self._hold(w)
        return caught_up_at

    def _admit_one(self, w: _Waiting) -> None:
        try:
            world = self.live.world
            [w.trace] = world.traffic.send_many(
                [(w.request.path, w.request.host)], self.load_balancer, self.listener_port
            )
            w.world = world
        except AwsError as e:
            self._resolve(w, _not_connected({"status": 0, "reason": e.message}))
            return
        except Exception:
            log.exception("the simulated ALB failed on %s %s", w.request.method, w.request.path)
            self._resolve(w, _internal())
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
        return clock.wall_at(float(w.trace["time"]) + latency) + LATE

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
        self._turn_soon(asyncio.get_running_loop())

    def _answer_due(self, caught_up_at: float = -math.inf) -> None:
        """Answer every held request whose answer is due and settled; settle those due
        while simulated time stands still; hold the others a little longer.
        `caught_up_at`: the wall instant the world last caught up with the wall clock (it
        catches up again for an answer due after that)."""
        held, live = self._held, self.live
        now = time.monotonic()
        self._listener = None  # the listener's header attributes, read once per batch
        if caught_up_at > -math.inf:
            self._moving(now)
        later: list[_Waiting] = []
        while held and held[0][0] <= now:
            _, w = heapq.heappop(held)
            world = w.world
            if live.world is not world:
                self._resolve(w, _unsettled("reset"))
                continue
            if w.final:
                self._resolve(w, self._answer(w))
                continue
            trace = w.trace
            if not trace["settled"]:
                if caught_up_at < w.due:
                    live.catch_up()
                    caught_up_at = time.monotonic()
                    self._moving(now)
                if not trace["settled"]:
                    if live.clock.paused or now - max(w.began, self._still_since) >= MAX_WAIT:
                        world.traffic.settle(trace)
                    else:
                        due_at = float(trace["time"]) + float(trace["latencyMs"]) / 1000.0
                        # the clock short of the answer's instant: catch up again then;
                        # else the network moved the answer later (a target cut off): the
                        # slices get there
                        if world.now < due_at:
                            w.due = max(live.clock.wall_at(due_at), now) + LATE
                        else:
                            w.due = now + 1.0
                        later.append(w)
                        continue
            due = self._due(w)
            if due > now:  # settled with a later answer: hold it until then
                w.due, w.final = min(due, now + MAX_WAIT), True
                later.append(w)
                continue
            self._resolve(w, self._answer(w))
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

    def _resolve(self, w: _Waiting, answer: Answer) -> None:
        reply, w.reply = w.reply, None
        if reply is not None:
            self._count(answer.status)
            _answer_now(reply, answer)

    def _count(self, status: int) -> None:
        self.answered += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def _answer(self, w: _Waiting) -> Answer:
        """The answer the model gave, with the listener's header attributes applied."""
        answer = self._model_answer(w)
        if w.world is None:
            return answer
        if self._listener is None:  # `_answer_due` answers requests of the live world only
            self._listener = self._listener_headers(w.world)
        server, added = self._listener
        if server and not added:
            return answer
        names = {name for name, _ in added}
        if not server:
            names.add(b"server")
        headers = [h for h in answer.headers if h[0] not in names]
        return Answer(answer.status, headers + added, answer.body)

    def _listener_headers(self, world: World) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """The listener's header modification attributes: whether answers keep their
        `Server` header, and the headers added (docs/behaviour.md, "Listener attributes")."""
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
            return True, []
        server, added = response_headers(listener.attributes)
        return server, [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in added.items()
        ]

    def _model_answer(self, w: _Waiting) -> Answer:
        trace = w.trace
        status = int(trace["status"])
        if trace["answeredBy"] == "target":
            return self._from_task(trace, status, w.request.path)
        if status == 0:
            return _not_connected(trace)
        headers = {"Server": "awselb/2.0", **_trace_headers(trace)}
        reason = str(trace.get("reason") or "")
        if reason.startswith("fixed-response"):
            fixed = self._rule_action(trace, "fixed-response").get("FixedResponseConfig", {})
            body = str(fixed.get("MessageBody", "")).encode()
            return _answer(status, body, str(fixed.get("ContentType", "text/plain")), headers)
        if reason.startswith("redirect"):
            config = self._rule_action(trace, "redirect").get("RedirectConfig", {})
            headers["Location"] = self._location(config, w.request)
        return _answer(status, elb_page(status), "text/html", headers)

    def _from_task(self, trace: dict[str, Any], status: int, path: str) -> Answer:
        """A task's answer: a small JSON body naming it. Its text but for the simulated
        time and the latency is remembered per target, path and status (and task)."""
        target = trace["target"] or ""
        ip = target.rsplit(":", 1)[0]
        reason = trace.get("reason")
        latency = trace["latencyMs"]
        key = (target, path, status, reason)
        task = self.live.world.endpoints.get(ip)
        parts = self._answers.get(key)
        if parts is None or parts[0] is not task:
            parts = self._answer_parts(task, target, ip, path, status, reason)
            if len(self._answers) >= _REMEMBERED:
                self._answers.clear()
            self._answers[key] = parts
        _, head, tail, headers = parts
        at, text = self._time
        if trace["time"] != at:  # the requests of a batch share their instant
            at, text = self._time = (trace["time"], repr(trace["time"]))
        ms = repr(latency)
        # the JSON of {"status", "path", "ip", "simulatedTime", "latencyMs", the task's
        # fields, "error"}, as json.dumps writes it (floats and ints as their repr)
        content = f'{head}{text}, "latencyMs": {ms}{tail}'.encode()
        return Answer(
            status,
            [
                _TASK_SERVER,
                (b"x-ecsim-latency-ms", ms.encode()),
                *headers,
                (b"content-length", str(len(content)).encode()),
                _JSON,
            ],
            content,
        )

    def _answer_parts(
        self, task: object, target: str, ip: str, path: str, status: int, reason: str | None
    ) -> tuple[object, str, str, list[tuple[bytes, bytes]]]:
        """What a task's answers to one path share: the JSON before the simulated time and
        after the latency, and the headers naming the target and the reason."""
        error = ""
        if status >= 500:
            why = reason or "the application answered with an error"
            error = ", " + json.dumps({"error": why})[1:-1]
        head = (
            f'{{"status": {status}, "path": {json.dumps(path)}, "ip": {json.dumps(ip)}, '
            '"simulatedTime": '
        )
        tail = f"{self._task_fields(task)}{error}}}"
        headers = []
        if target:
            headers.append((b"x-ecsim-target", target.encode("latin-1")))
        if reason:
            headers.append((b"x-ecsim-reason", _header(reason).encode()))
        return task, head, tail, headers

    @staticmethod
    def _task_fields(task: Any) -> str:
        """`, "task": ..., "revision": N` for `task` (or "" for None)."""
        if task is None:
            return ""
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
        return ", " + json.dumps(fields)[1:-1]

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

    def _location(self, config: dict[str, Any], request: AlbRequest) -> str:
        """The redirect's URL, its `#{...}` filled from the request as the client sent it
        (the path still percent-encoded), and encoded again where a header could not carry
        it."""
        raw_path = request.raw_path or request.path.encode()
        values = {
            "#{protocol}": "http",
            "#{host}": (request.host_header or "localhost").rsplit(":", 1)[0],
            "#{port}": str(self.listener_port),
            "#{path}": raw_path.decode("latin-1").lstrip("/"),
            "#{query}": request.query,
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
_TASK_SERVER = (b"server", b"ecsim-task")
_REMEMBERED = 4096  # answers' shared parts the port remembers, at most
_PLAIN_PATH = re.compile(r"[!$-\[\]-~]*")  # printable ASCII but for ?, # and backslash


def request_of(method: str, path: str, raw_path: bytes, query: str, host_header: str) -> AlbRequest:
    """The request a server read: `path` percent-decoded (as uvicorn gives it), the path
    the rules see being what starlette's `request.url.path` gives ("/" when empty)."""
    if _PLAIN_PATH.fullmatch(path) is None or "?" in path or "#" in path:
        path = urlsplit("http://alb" + path).path
    return AlbRequest(method, path or "/", raw_path, query, host_header)


def _request(scope: Scope) -> AlbRequest:
    """The request of an ASGI scope."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    return request_of(
        scope["method"],
        scope["path"],
        scope.get("raw_path") or b"",
        scope.get("query_string", b"").decode("latin-1"),
        host.decode("latin-1"),
    )


def _answer(status: int, body: bytes, media_type: str, headers: dict[str, str]) -> Answer:
    """An answer with its `content-length` and `content-type` (text in UTF-8)."""
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type += "; charset=utf-8"
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw += [(b"content-length", str(len(body)).encode()), (b"content-type", media_type.encode())]
    return Answer(status, raw, body)


def _answer_now(reply: Reply, answer: Answer) -> None:
    try:
        reply(answer)
    except Exception:  # a connection that cannot take it: the others go on
        log.exception("the ALB port could not give an answer to its connection")


def _unsettled(why: str) -> Answer:
    """ecsim's own answer when the model will not answer (see the module docstring)."""
    text = "the world was reset while this request waited for its answer"
    return _answer(
        503,
        f"ecsim: {text}\n".encode(),
        "text/plain",
        {"X-Ecsim-Status": why, "X-Ecsim-Reason": text},
    )


def _not_connected(trace: dict[str, Any]) -> Answer:
    reason = str(trace.get("reason") or "the connection would fail")
    return _answer(
        503,
        f"ecsim: a real client could not connect: {reason}\n".encode(),
        "text/plain",
        {"X-Ecsim-Status": "000", "X-Ecsim-Reason": _header(reason)},
    )


def _internal() -> Answer:
    return _answer(
        500,
        b"ecsim failed to route this request; the failure is in the server's log.\n",
        "text/plain",
        {"X-Ecsim-Error": "internal"},
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
_ALLOW = {"Allow": ", ".join(METHODS)}


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
