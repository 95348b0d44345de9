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
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response

from ecsim.live.runtime import LiveWorld
from ecsim.model.elbv2.listener_attributes import response_headers
from ecsim.model.errors import AwsError
from ecsim.model.world import World

log = logging.getLogger("ecsim.awsapi.alb")

MAX_WAIT = 60.0  # wall seconds after which simulated time that does not move stands still
POLL = 0.005  # wall seconds between two catch-ups while an answer is due but not yet settled
EARLY = 0.0005  # wall seconds: a timer may fire this much before the simulated answer is due
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
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


class AlbPort:
    """Answers real HTTP requests for listener `listener_port` of `load_balancer` (a name,
    ARN or DNS name; None: the world's first load balancer)."""

    def __init__(self, live: LiveWorld, load_balancer: str | None, listener_port: int) -> None:
        self.live = live
        self.load_balancer = load_balancer
        self.listener_port = listener_port
        self.answered = 0  # requests answered, any status
        self.by_status: dict[int, int] = {}

    async def handle(self, request: Request) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0] or None
        path = request.url.path or "/"
        began = time.monotonic()
        response: Response | None = None
        try:
            self.live.catch_up()  # the request enters at the present simulated time
            world = self.live.world
            trace = world.traffic.send(path, host, self.load_balancer, port=self.listener_port)
        except AwsError as e:  # no such load balancer: nothing would accept the connection
            response = self._not_connected({"status": 0, "reason": e.message})
        except Exception:
            log.exception("the simulated ALB failed on %s %s", request.method, path)
            response = Response(
                b"ecsim failed to route this request; the failure is in the server's log.\n",
                500,
                headers={"X-Ecsim-Error": "internal"},
                media_type="text/plain",
            )
        if response is None:
            unsettled = await self._until_settled(world, trace, began)
            response = self._unsettled(unsettled) if unsettled else self._answer(trace, request)
            self._listener_headers(world, response)
        self.answered += 1
        self.by_status[response.status_code] = self.by_status.get(response.status_code, 0) + 1
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

    async def _until_settled(self, world: World, trace: dict[str, Any], began: float) -> str:
        """Hold the request until the model has answered it (`trace["settled"]`, see
        `DataPlane.trace`) and the clock has reached its answer; "" then, "reset" if another
        world replaced this one meanwhile. `began`: the wall instant it arrived."""
        clock = self.live.clock
        seen, still_since = world.now, began

        def due() -> float:
            """The wall instant of the answer: when the clock reaches it, or while time stands
            still, its simulated latency after the request arrived."""
            latency = float(trace["latencyMs"]) / 1000.0
            if clock.paused:
                return began + latency / clock.speed
            return clock.wall_at(float(trace["time"]) + latency) + EARLY

        while not trace["settled"]:
            if self.live.world is not world:
                return "reset"
            now = time.monotonic()
            if world.now > seen:
                seen, still_since = world.now, now
            if now < due():  # a slice may settle it sooner (a target that dies meanwhile)
                await self.live.moved(due() - now)
                continue
            self.live.catch_up()
            if trace["settled"]:
                break
            if clock.paused or now - still_since >= MAX_WAIT:
                world.traffic.settle(trace)  # time stands still: this is the answer
                break
            due_at = float(trace["time"]) + float(trace["latencyMs"]) / 1000.0
            # the clock a little behind: catch up again soon; else the network moved the
            # answer later (a target cut off): the slices will get there
            await self.live.moved(POLL if world.now < due_at else 1.0)
        rest = due() - time.monotonic()
        if rest > 0:
            await asyncio.sleep(min(rest, MAX_WAIT))
        return ""

    # --- the answers ----------------------------------------------------------------------

    def _answer(self, trace: dict[str, Any], request: Request) -> Response:
        status = int(trace["status"])
        headers = _trace_headers(trace)
        if status == 0:
            return self._not_connected(trace)
        if trace.get("answeredBy") == "target":
            return self._from_task(trace, status, request, headers)
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
            headers["Location"] = self._location(config, request)
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

    def _from_task(
        self, trace: dict[str, Any], status: int, request: Request, headers: dict[str, str]
    ) -> Response:
        ip = str(trace.get("target") or "").rsplit(":", 1)[0]
        task = self.live.world.endpoints.get(ip)
        body: dict[str, Any] = {
            "status": status,
            "path": request.url.path,
            "ip": ip,
            "simulatedTime": trace.get("time"),
            "latencyMs": trace.get("latencyMs"),
        }
        if task is not None:
            td = task.task_definition
            body.update(
                task=task.id,
                taskArn=task.arn,
                cluster=task.cluster_name,
                group=task.group,
                availabilityZone=task.az,
                taskDefinition=td.family_revision,
                revision=td.revision,
            )
        if status >= 500:
            body["error"] = trace.get("reason") or "the application answered with an error"
        return Response(
            json.dumps(body).encode(),
            status,
            headers={"Server": "ecsim-task", **headers},
            media_type="application/json",
        )

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


def alb_port_app(live: LiveWorld, load_balancer: str | None, listener_port: int) -> Starlette:
    port = AlbPort(live, load_balancer, listener_port)
    app = Starlette(routes=[Route("/{path:path}", port.handle, methods=METHODS)])
    app.router.default = request_response(port.handle)  # a path no route matches (a newline)
    app.state.alb = port
    return app
