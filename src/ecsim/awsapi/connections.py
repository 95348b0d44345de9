"""The connections of ecsim's ports: how much a client may send before ecsim answers, and
for how long (docs/awsapi.md, "Limits").

uvicorn, left to itself, holds a connection that has not finished its request for as long as
the client likes (its keep-alive timeout starts only after an answer) and reads a request head
of any size. `uvicorn_config` serves an app with uvicorn's httptools protocol made to hold
the limits of a `Wire`:

- the request head (request line and headers) must arrive within `head_timeout` of the
  connection opening, or of the head's first byte; within `keep_alive + head_timeout` of the
  previous answer on a kept-alive connection. Else 408, or a silent close when nothing came;
- the request line at most 16 KiB, one header at most 16 KiB, all headers at most 64 KiB
  (the ALB's limits): else 414 / 431 (400 on the ALB's port, as the ALB answers);
- the body within `body_timeout` of the head: else 408 (or, once answered, a close);
- a body an app reads past `max_body`: 413 (a backstop: the AWS API and ecsim's own API
  refuse smaller bodies themselves, in their own error shapes).

The answers are written by the protocol itself, before or instead of the app's; an app still
waiting for the body sees the client gone.
"""

from __future__ import annotations

import asyncio
import functools
import http
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ecsim.awsapi.alb import elb_page

KIB = 1024
Headers = list[tuple[bytes, bytes]]
Page = Callable[[int, str], tuple[bytes, Headers]]


def _plain_page(status: int, reason: str) -> tuple[bytes, Headers]:
    phrase = http.HTTPStatus(status).phrase
    return (
        f"{status} {phrase}: {reason}\n".encode(),
        [(b"content-type", b"text/plain; charset=utf-8")],
    )


def _alb_page(status: int, _: str) -> tuple[bytes, Headers]:
    """The ALB's own HTML page, as its 400 and 408 are."""
    return elb_page(status), [(b"server", b"awselb/2.0"), (b"content-type", b"text/html")]


@dataclass(frozen=True)
class Wire:
    """The limits of one port's connections."""

    name: str
    head_timeout: float = 10.0  # seconds for a request head
    body_timeout: float = 30.0  # seconds for a request body, from its head
    keep_alive: int = 5  # seconds an idle kept-alive connection stays open (uvicorn's)
    max_line: int = 16 * KIB  # the request line ("GET /... HTTP/1.1")
    max_header: int = 16 * KIB  # one header, name and value
    max_headers: int = 64 * KIB  # all headers
    max_body: int | None = 2 * KIB * KIB  # a body an app reads; None: no limit
    concurrency: int | None = 256  # connections and requests at once: uvicorn answers 503
    line_status: int = 414
    header_status: int = 431
    page: Page = field(default=_plain_page, repr=False)  # the body and headers of a refusal

    def header_refusal(self, name: bytes, size: int, total: int) -> str | None:
        """Why a header of `size` bytes (all headers `total` bytes so far) is refused, or
        None."""
        if size > self.max_header:
            return f"the header {name[:40]!r} is longer than {self.max_header} bytes"
        if total > self.max_headers:
            return f"the headers are longer than {self.max_headers} bytes"
        return None

    @functools.cached_property  # read on every read of a connection
    def max_head(self) -> int:
        """The bytes a head may take, all counted (CRLFs and colons too)."""
        return self.max_line + self.max_headers + 2 * KIB


# The page, the AWS API and ecsim's own API.
API = Wire("api")
# The ALB's real port: ALB answers 400 for a head over its limits, 408 for a client too slow;
# its idle timeout is 60 s by default. Bodies go to the simulated ALB unread (the ALB streams
# them to targets), so there is no body limit.
ALB = Wire(
    "alb",
    keep_alive=60,
    max_body=None,
    concurrency=1024,
    line_status=400,
    header_status=400,
    page=_alb_page,
)


class _Coalescing:
    """A transport whose writes made in one turn of the event loop go out as one: uvicorn
    writes an answer's head and its body apart, and each write to an idle socket is a
    `send` system call, a TCP segment on loopback and a wake-up of the client. Held writes
    go out at the end of the turn (`call_soon`), before anything else can be written, and
    before a close. Everything else is the transport's own."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._held: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is None:
            self._held = [bytes(data)]
            self._loop.call_soon(self._flush)
        else:
            self._held.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def get_write_buffer_size(self) -> int:
        held = sum(len(d) for d in self._held) if self._held else 0
        return self._transport.get_write_buffer_size() + held

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Deadline:
    """A connection's time limit, on one timer moved lazily: `arm` sets when the client's
    time is up, the timer fires at or before that and, if the deadline has moved on
    meanwhile, sets itself again for it. Arming the limit a few times per request then
    costs no timer handle each (a call_at, a cancel)."""

    __slots__ = ("_deadline", "_expired", "_loop", "_timer", "_timer_at")

    def __init__(self, loop: asyncio.AbstractEventLoop, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._expired = expired
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline: float | None = None  # None: no limit running

    def arm(self, delay: float) -> None:
        """The client's time is up `delay` seconds from now."""
        deadline = self._loop.time() + delay
        self._deadline = deadline
        if self._timer is None or self._timer_at > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(deadline, self._fire)
            self._timer_at = deadline

    def disarm(self) -> None:
        """No limit running (the timer, if any, fires and finds nothing to do)."""
        self._deadline = None

    def drop(self) -> None:
        """No limit, and no timer: the connection is gone."""
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if deadline > self._timer_at:  # armed again since: wait for the new deadline
            self._timer = self._loop.call_at(deadline, self._fire)
            self._timer_at = deadline
            return
        self._deadline = None
        self._expired()


class RefusedError(Exception):
    """Raised in a parser callback to stop reading a request that is refused."""


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol holding the limits of `wire` (see the module)."""

    wire: ClassVar[Wire] = API

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = Deadline(self.loop, self._expired)
        self._reading_head = True  # between two requests' heads, or inside one
        self._head_bytes = 0  # bytes received while reading the head
        self._line = 0
        self._headers = 0
        self._body = 0
        self._refusal: tuple[int, str] | None = None

    # --- the connection -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _Coalescing(transport)))
        self._deadline.arm(self.wire.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.drop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._reading_head
            and self._head_bytes > self.wire.max_head
            and not self.transport.is_closing()
        ):
            self._refuse(
                self.wire.header_status,
                f"the request head is longer than {self.wire.max_head} bytes",
            )

    def handle_websocket_upgrade(self) -> None:
        self._deadline.drop()  # a WebSocket from now on: its own protocol
        super().handle_websocket_upgrade()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request the parser could not read (or that a limit of ours
        stopped), in the port's own words (the ALB's page on its port)."""
        refusal, self._refusal = self._refusal, None
        self._refuse(*(refusal or (400, msg)))

    # --- the parser's callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._line = self._headers = 0
        self._deadline.arm(self.wire.head_timeout)

    def on_url(self, url: bytes) -> None:
        self._line += len(url)
        if self._line > self.wire.max_line:
            self._stop(
                self.wire.line_status, f"the request line is longer than {self.wire.max_line} bytes"
            )
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + 4  # ": " and CRLF
        self._headers += size
        why = self.wire.header_refusal(name, size, self._headers)
        if why is not None:
            self._stop(self.wire.header_status, why)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = self._body = 0
        self._deadline.arm(self.wire.body_timeout)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body += len(body)
        limit = self.wire.max_body
        if (
            limit is not None
            and self._body > limit
            and self.cycle is not None
            and not self.cycle.response_started
        ):
            self._stop(413, f"the body is longer than {limit} bytes")
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._deadline.disarm()  # the request is in: the app's time is not the client's
        self._reading_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._reading_head and not self.transport.is_closing():
            # idle (uvicorn closes it after keep_alive), or a next head under way
            self._deadline.arm(self.wire.keep_alive + self.wire.head_timeout)

    # --- limits ---------------------------------------------------------------------------

    def _expired(self) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answering = cycle is not None and not cycle.response_complete
        if self._reading_head:
            if answering:  # a pipelined head waits for the answer before it: armed again then
                return
            if self._head_bytes:
                self._refuse(
                    408, f"the request head did not arrive within {self.wire.head_timeout:g} s"
                )
            else:
                self.transport.close()
        elif self.pipeline:  # a pipelined body waits for the answers before it
            self._deadline.arm(self.wire.body_timeout)
        elif cycle is not None and cycle.response_started:  # answered without the body
            self.transport.close()
        else:
            self._refuse(
                408, f"the request body did not arrive within {self.wire.body_timeout:g} s"
            )

    def _stop(self, status: int, reason: str) -> None:
        """Refuse the request from inside a parser callback: the parser stops, uvicorn calls
        `send_400_response`, which answers this instead."""
        self._refusal = (status, reason)
        raise RefusedError(reason)

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` and close; an app still waiting for this request's body sees the
        client gone, and what it sends is dropped."""
        self._deadline.disarm()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:  # too late for another answer
                self.transport.close()
                return
        body, headers = self.wire.page(status, reason)
        out = [STATUS_LINE[status]]
        for name, value in [*self.server_state.default_headers, *headers]:
            out += [name, b": ", value, b"\r\n"]
        out += [b"content-length: ", str(len(body)).encode(), b"\r\nconnection: close\r\n\r\n"]
        self.transport.write(b"".join(out) + body)
        self.transport.close()


def guarded(wire: Wire) -> type[GuardedProtocol]:
    """The protocol class holding `wire`'s limits (uvicorn makes one per connection)."""
    name = f"Guarded{wire.name.title()}Protocol"
    return cast(type[GuardedProtocol], type(name, (GuardedProtocol,), {"wire": wire}))


def uvicorn_config(
    app: Any, host: str, port: int, wire: Wire = API, **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration of a port of ecsim: `app` on `host:port` holding `wire`'s
    limits; `options` are uvicorn's own (`ws`, `log_level`, ...). No answer carries uvicorn's
    `Server` header: AWS's API endpoints send none, and the ALB's port sends its own."""
    settings: dict[str, Any] = {
        "server_header": False,
        "http": guarded(wire),
        "timeout_keep_alive": wire.keep_alive,
        "limit_concurrency": wire.concurrency,
        "h11_max_incomplete_event_size": wire.max_head,  # should h11 be asked for instead
        "ws_max_size": 1024 * KIB,
        **options,
    }
    return uvicorn.Config(app, host=host, port=port, **settings)
