"""A real HTTP port for one listener of a simulated Application Load Balancer.

Each request entering the port enters the simulated ALB at the current simulated time
(`w.traffic.send`): the listener's rules route it to a target the way the ALB would, and the
answer is the simulation's. The port waits the simulated latency scaled by the live speed
(`latency / speed`, at most `MAX_WAIT` wall seconds), then answers:

- from a task: a small JSON body naming the task, its IP, AZ and task definition revision
  (status 200, or 500 when the app answers with an error);
- from the load balancer: its own 502, 503 or 504 (or a rule's fixed response or redirect),
  with `Server: awselb/2.0` and the ALB's HTML bodies (docs/behaviour.md, "ALB-generated answers");
- when a real client could not even connect (the load balancer is not active yet, or has no
  listener on the port): 503 with `X-Ecsim-Status: 000` and a plain-text explanation, since an
  HTTP server cannot refuse a connection it has already accepted.

Every request is counted in the model's statistics and events like a simulated one.
Headers `X-Ecsim-*` tell what happened inside the simulation (target, latency, reason).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response

from ecsim.live.runtime import LiveWorld
from ecsim.model.errors import AwsError

log = logging.getLogger("ecsim.awsapi.alb")

MAX_WAIT = 60.0  # wall seconds a request may be held for its simulated latency
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
        try:
            trace = self.live.world.traffic.send(
                path, host, self.load_balancer, port=self.listener_port
            )
            response = self._answer(trace, request)
        except AwsError as e:  # no such load balancer: nothing would accept the connection
            trace = {"status": 0, "latencyMs": 0.0, "reason": e.message}
            response = self._not_connected(trace)
        except Exception:
            log.exception("the simulated ALB failed on %s %s", request.method, path)
            response = Response(
                b"ecsim failed to route this request; the failure is in the server's log.\n",
                500,
                headers={"X-Ecsim-Error": "internal"},
                media_type="text/plain",
            )
            trace = {"latencyMs": 0.0}
        wait = float(trace.get("latencyMs") or 0.0) / 1000.0 / self.live.clock.speed
        if wait > 0:
            await asyncio.sleep(min(wait, MAX_WAIT))
        self.answered += 1
        self.by_status[response.status_code] = self.by_status.get(response.status_code, 0) + 1
        return response

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
