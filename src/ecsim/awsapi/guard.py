"""Who may talk to the main port: no other web page may drive the simulation.

`ecsim serve` has no credentials: whoever reaches its port can pause the clock, crash the
scheduler or delete a service. Reaching it is easy for any web page the user has open, unless
the server tells the browser's requests from the rest. `Guard` wraps the whole app of the main
port (the page, its WebSocket, the AWS API on `POST /`, ecsim's own API) and refuses, before any
route runs:

- a `Host` header that names neither the address ecsim is bound to nor localhost (`421`): a
  page of another site reaching the server through DNS rebinding always carries its own name.
  With a wildcard bind (`--host 0.0.0.0`, the user chose to expose the server) the machine's
  host name and any IP address are accepted too, since a rebinding attack cannot carry an IP
  literal. `--allow-host NAME[:PORT]` adds a name (behind a reverse proxy, a port mapping);
  `--allow-host '*'` turns the check off. The port must be the one the request arrived on,
  unless an `--allow-host` name without a port accepts it on any;
- a WebSocket handshake or a state-changing request (any method but GET, HEAD and OPTIONS) from
  a page of another origin (`403`): its `Origin`, when there is one, must be the server's own
  (`http://` + the `Host`) or one given with `--allow-origin`; without an `Origin`,
  `Sec-Fetch-Site: cross-site` or `same-site` is refused. `Sec-Fetch-Site: same-origin` or
  `none` is the browser itself saying the page is ecsim's own (or the user typed the address).
  A request with neither header is not a browser's (boto3, the AWS CLI, curl) and passes.

A refusal answers in the shape of the face asked: AWS's error (`AccessDeniedException` in JSON,
`AccessDenied` in query XML, EC2's `UnauthorizedOperation`) on `POST /`, `{"code": "AccessDenied",
"message"}` under `/ecsim/`, plain text elsewhere; a refused WebSocket handshake gets an HTTP
answer instead of the upgrade, so no command ever runs. Pages of `--allow-origin` origins also
get CORS answers (their `fetch` may send JSON and read the answer).

The ALB's real ports are not guarded: a real ALB answers any `Host` and any `Origin`, and what
they serve is the simulated application, which changes nothing but the request counts.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ecsim.awsapi.protocol import json as json_protocol
from ecsim.awsapi.protocol import query as query_protocol
from ecsim.awsapi.services import ECS, by_signing_name, by_target_prefix, by_version

log = logging.getLogger("ecsim.guard")

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BROWSER_OWN = frozenset({"same-origin", "none"})  # Sec-Fetch-Site: ecsim's page, or the user
BODY_PEEK = 64 * 1024  # bytes of a refused query call read to tell EC2 from ELBv2
EXPOSED = ["x-amzn-RequestId", "x-amzn-query-error"]  # what the AWS SDKs read in a browser
LOGGED = 100  # distinct refusals logged (a page retrying in a loop must not flood the log)


def _name(text: str) -> str:
    """A host name as compared: lower case, no trailing dot, an IP address in its short form."""
    name = text.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def split_host(text: str) -> tuple[str, int | None]:
    """`name[:port]` (`[v6]:port` for IPv6) -> (name as compared, port or None); ValueError
    if it is no host."""
    text = text.strip()
    port: str | None = None
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"not a host: {text!r}")
        name, port = inside, rest[1:] if rest else None
    elif text.count(":") == 1:
        name, _, port = text.partition(":")
    else:
        name = text  # a bare IPv6 address, or no port
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"not a port: {text!r}")
    name = _name(name)
    if not name or any(c in name for c in "/?#@ \t\\"):
        raise ValueError(f"not a host: {text!r}")
    return name, int(port) if port is not None else None


@functools.lru_cache(maxsize=256)
def _host_refusal(
    policy: Policy, machine: tuple[str, ...], host: str | None, server_port: int | None
) -> str | None:
    """`Policy.host_refusal`, remembered; `machine` is part of the key (the policy's equality
    leaves it out)."""
    return policy._host_refusal(host, server_port)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _netloc(name: str, port: int | None, scheme: str) -> str:
    host = f"[{name}]" if ":" in name else name
    default = {"http": 80, "https": 443}.get(scheme)
    return host if port is None or port == default else f"{host}:{port}"


def normalize_origin(text: str) -> str:
    """`scheme://host[:port]` as browsers write an `Origin` (lower case, default port left
    out); ValueError if `text` is not one (a path, `null`, another scheme)."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("http", "https") or parts.path not in ("", "/"):
        raise ValueError(f"expected an origin like http://localhost:3000, got {text!r}")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"expected an origin like http://localhost:3000, got {text!r}")
    scheme = parts.scheme.lower()
    name, port = split_host(parts.netloc)
    return f"{scheme}://{_netloc(name, port, scheme)}"


def _machine_names() -> tuple[str, ...]:
    """This machine's host name, and its mDNS name (`name.local`) when it has no domain."""
    name = _name(socket.gethostname())
    if not name or name in LOOPBACK:
        return ()
    return (name,) if "." in name else (name, f"{name}.local")


def _origin_or_none(text: str | None) -> str | None:
    try:
        return normalize_origin(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Policy:
    """What `Guard` accepts: from `ecsim serve --host`, `--allow-origin`, `--allow-host`."""

    bind: str = "127.0.0.1"  # the address (or name) the server is bound to
    origins: frozenset[str] = frozenset()  # normalized; besides the server's own
    hosts: frozenset[tuple[str, int | None]] = frozenset()  # port None: on any port
    any_host: bool = False  # `--allow-host '*'`
    machine: tuple[str, ...] = field(default=(), compare=False)  # its names (wildcard binds)

    @classmethod
    def of(
        cls,
        bind: str = "127.0.0.1",
        allow_origins: tuple[str, ...] | list[str] = (),
        allow_hosts: tuple[str, ...] | list[str] = (),
    ) -> Policy:
        """The policy of the command line's options; ValueError names a bad one."""
        hosts = [h for h in allow_hosts if h.strip() != "*"]
        bind_name = _name(bind)
        return cls(
            bind=bind_name,
            origins=frozenset(normalize_origin(o) for o in allow_origins),
            hosts=frozenset(split_host(h) for h in hosts),
            any_host=len(hosts) < len(allow_hosts),
            machine=_machine_names() if bind_name in WILDCARDS else (),
        )

    @property
    def wildcard(self) -> bool:
        return self.bind in WILDCARDS

    def accepted_hosts(self) -> str:
        """The `Host` names accepted, for the start banner and the docs."""
        if self.any_host:
            return "any Host"
        names = ["localhost", "127.0.0.1", "[::1]"]
        if self.wildcard:
            names += ["any IP address", *self.machine]
        elif self.bind not in LOOPBACK:
            names.append(f"[{self.bind}]" if ":" in self.bind else self.bind)
        names += [_netloc(n, p, "") for n, p in sorted(self.hosts, key=str)]
        return "Host " + ", ".join(names)

    def host_refusal(self, host: str | None, server_port: int | None) -> str | None:
        """Why a request naming `host` on a connection to `server_port` is refused; None if
        it is not. Remembered: a client sends the same `Host` with every call, and parsing
        it (an IP address?) costs more than the rest of the guard."""
        return _host_refusal(self, self.machine, host, server_port)

    def _host_refusal(self, host: str | None, server_port: int | None) -> str | None:
        if host is None or self.any_host:
            return None  # no Host at all (HTTP/1.0) is not a browser's request
        try:
            name, port = split_host(host)
        except ValueError:
            return f"its Host header {host!r} is not a host name"
        if (name, None) in self.hosts or (name, port) in self.hosts:
            return None
        known = (
            name in LOOPBACK
            or name == self.bind
            or (self.wildcard and (_is_ip(name) or name in self.machine))
        )
        if known and (server_port is None or (port or 80) == server_port):
            return None
        where = f"127.0.0.1:{server_port}" if server_port else "127.0.0.1"
        return (
            f"its Host header {host!r} names another server than this one (a page of another "
            f"site can reach ecsim through DNS rebinding). Open ecsim as http://{where}/ or "
            f"http://localhost{where.removeprefix('127.0.0.1')}/, or start it with "
            f"`--allow-host {host}` if this name is yours."
        )

    def origin_refusal(self, origin: str | None, site: str | None, own: str | None) -> str | None:
        """Why a browser's request from `origin` (`Sec-Fetch-Site: site`) is refused by a server
        whose own origin is `own`; None if it is not."""
        site = site.strip().lower() if site else None
        if site in BROWSER_OWN:
            return None
        if origin is not None:
            # None for `null`: a sandboxed frame, a file, a redirect from another site
            normalized = _origin_or_none(origin)
            if normalized is not None and (
                normalized in self.origins or normalized == _origin_or_none(own)
            ):
                return None
            hint = (
                f" Start ecsim with `--allow-origin {normalized}` to let that page drive it."
                if normalized is not None
                else ""
            )
            return (
                f"it comes from a page of another site (Origin: {origin}), and only ecsim's own "
                f"page may change the simulation.{hint}"
            )
        if site in ("cross-site", "same-site"):
            return (
                f"it comes from a page of another site (Sec-Fetch-Site: {site}), and only "
                "ecsim's own page may change the simulation."
            )
        return None


class Guard:
    """ASGI middleware: the checks of `Policy` before the app sees a request or a socket."""

    def __init__(self, app: ASGIApp, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self.app: ASGIApp = app
        if self.policy.origins:  # their pages may send JSON and read the answers
            self.app = CORSMiddleware(
                app,
                allow_origins=sorted(self.policy.origins),
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=EXPOSED,
                max_age=600,
            )
        self._logged: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host")
        server = scope.get("server")
        status, why = 421, self.policy.host_refusal(host, server[1] if server else None)
        if why is None and (scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS):
            secure = scope.get("scheme") in ("https", "wss")
            own = f"{'https' if secure else 'http'}://{host}" if host else None
            status = 403
            why = self.policy.origin_refusal(
                headers.get("origin"), headers.get("sec-fetch-site"), own
            )
        if why is None:
            await self.app(scope, receive, send)
            return
        message = f"ecsim refused this request: {why}"
        self._log(scope, headers, status, message)
        if scope["type"] == "websocket":
            await self._refuse_socket(scope, receive, send, status, message)
            return
        response = await _answer(scope, receive, headers, status, message)
        await response(scope, receive, send)

    async def _refuse_socket(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        """An HTTP answer instead of the upgrade (uvicorn's `websocket.http.response`), or else
        a close before accepting, which the server answers with 403."""
        await receive()  # websocket.connect
        if "websocket.http.response" in (scope.get("extensions") or {}):
            body = message.encode()
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})

    def _log(self, scope: Scope, headers: Headers, status: int, message: str) -> None:
        key = (str(headers.get("origin") or headers.get("host")), str(status))
        if key not in self._logged and len(self._logged) < LOGGED:
            self._logged.add(key)
            what = "WebSocket" if scope["type"] == "websocket" else scope["method"]
            log.warning("%s %s: %d %s", what, scope.get("path", ""), status, message)


async def _answer(
    scope: Scope, receive: Receive, headers: Headers, status: int, message: str
) -> Response:
    """The refusal in the shape of the face that was asked."""
    path = scope.get("path", "")
    if path == "/" and scope["method"] == "POST":
        return await _aws_answer(scope, receive, headers, status, message)
    if path.startswith("/ecsim/ui/"):  # the page's own shape, with the API's code
        body = {"type": "error", "id": None, "code": "AccessDenied", "message": message}
        return JSONResponse(body, status)
    if path.startswith("/ecsim/"):
        return JSONResponse({"code": "AccessDenied", "message": message}, status)
    return PlainTextResponse(message, status)


async def _aws_answer(
    scope: Scope, receive: Receive, headers: Headers, status: int, message: str
) -> Response:
    """AWS's access-denied error, in the protocol of the service the call was for."""
    request_id = str(uuid.uuid4())
    target = headers.get("x-amz-target")
    if target is not None:
        json_service = by_target_prefix(target.partition(".")[0]) or ECS
        extra = {"x-amzn-RequestId": request_id}
        if json_service.query_compatible:
            extra["x-amzn-query-error"] = "AccessDenied;Sender"
        return Response(
            json_protocol.error_body("AccessDeniedException", message),
            status,
            headers=extra,
            media_type=json_protocol.content_type(json_service.json_version),
        )
    form = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    form.update(parse_qsl((await _peek(receive)).decode("utf-8", "replace")))
    service = by_version(form.get("Version")) or by_signing_name(headers.get("authorization"))
    ec2 = service is not None and service.protocol == "ec2"
    payload = query_protocol.error_body(
        "UnauthorizedOperation" if ec2 else "AccessDenied",
        message,
        status,
        request_id,
        service.namespace if service is not None and service is not ECS else "",
        query_protocol.EC2 if ec2 else query_protocol.QUERY,
    )
    return Response(
        payload,
        status,
        headers={"x-amzn-RequestId": request_id},
        media_type=query_protocol.CONTENT_TYPE,
    )


async def _peek(receive: Receive) -> bytes:
    """The start of the request's body (at most `BODY_PEEK` bytes)."""
    body = b""
    while len(body) < BODY_PEEK:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return body[:BODY_PEEK]
