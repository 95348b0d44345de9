"""The ALB's real port on the wire: HTTP/1.1 read straight into the simulated ALB.

`ecsim serve` listens on an ALB port with this protocol rather than an ASGI server: a load
tool (wrk, hey, k6) drives it at thousands of requests per second, and what a request costs
on top of its simulation is what the port answers at (benchmark 6). Per request it parses
the head (httptools, the parser uvicorn uses), hands the request to the port
(`AlbPort.submit`) and writes the answer in one `write` when the port gives it: no ASGI
scope, task or message per request.

It holds the limits of its `Wire` (connections.py) as the ASGI ports do: the request head
within `head_timeout` of its first byte (408, or a silent close when nothing came), the
request line, a header and all headers within the ALB's sizes (400, the ALB's page), the
body within `body_timeout` of the head, an idle kept-alive connection closed after
`keep_alive`; `concurrency` requests at once (then 503, as uvicorn answers). Answers go out in
the order of their requests on each connection (HTTP/1.1 pipelining). A connection is not
read while `PIPELINE` of its requests wait for their answers, nor while its client does not
read the answers written (the transport's high-water mark): a client that floods and never
reads holds a bounded part of the memory. Request bodies are read and dropped: the
simulated ALB does not look at them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from email.utils import formatdate
from typing import cast
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from ecsim.awsapi.alb import AlbPort, AlbRequest, Answer, request_of
from ecsim.awsapi.connections import ALB, Deadline, RefusedError, Wire

log = logging.getLogger("ecsim.awsapi.alb")

PIPELINE = 64  # requests of one connection unanswered before it is no longer read
REMEMBERED = 4096  # distinct requests (method, URL, Host) whose parse the port keeps
_BUSY = Answer(
    503,
    [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"19"),
        (b"connection", b"close"),
    ],
    b"Service Unavailable",
)  # uvicorn's answer over its concurrency limit


class AlbServer:
    """One listening ALB port: `port_app`'s requests from the connections to `host:port`."""

    def __init__(self, port_app: AlbPort, host: str, port: int, wire: Wire = ALB) -> None:
        self.port_app = port_app
        self.host = host
        self.port = port
        self.wire = wire
        self.connections: set[AlbConnection] = set()
        self.requests = _Requests()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen (an `OSError` when the port cannot be had)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: AlbConnection(self), self.host, self.port, backlog=2048
        )

    @property
    def bound_port(self) -> int:
        """The port listened on (the one the system chose, for port 0)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self, grace: float) -> None:
        """Stop listening, give the requests waiting for their answers up to `grace` wall
        seconds, then close every connection."""
        if self._server is not None:
            self._server.close()
        for c in list(self.connections):
            c.close_when_idle()
        deadline = time.monotonic() + grace
        while any(c.waiting for c in self.connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for c in list(self.connections):
            c.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)


class _Requests(dict[tuple[bytes, bytes, bytes], AlbRequest]):
    """The requests a port has read, by method, URL and Host as sent: a load tool sends the
    same few over and over, and each is parsed once (at most `REMEMBERED` kept)."""

    def read(self, key: tuple[bytes, bytes, bytes]) -> AlbRequest:
        method, target, host = key
        url = httptools.parse_url(target)
        raw_path = url.path or b""
        path = raw_path.decode("latin-1")
        if "%" in path:  # percent-escapes read as UTF-8, as uvicorn reads them
            path = unquote(path)
        query = (url.query or b"").decode("latin-1")
        request = request_of(method.decode("ascii"), path, raw_path, query, host.decode("latin-1"))
        if len(self) >= REMEMBERED:
            self.clear()
        self[key] = request
        return request


class _Slot:
    """One request of a connection, waiting for its answer's bytes."""

    __slots__ = ("conn", "data", "head", "keep_alive", "request")

    def __init__(
        self, conn: AlbConnection, request: AlbRequest, head: bool, keep_alive: bool
    ) -> None:
        self.conn: AlbConnection | None = conn
        self.request: AlbRequest | None = request  # None once handed to the port
        self.head = head  # a HEAD request: the answer without its body
        self.keep_alive = keep_alive
        self.data: bytes | None = None

    def __call__(self, answer: Answer) -> None:
        conn = self.conn
        if conn is None or self.data is not None:
            return
        self.data = _wire(answer, self.head, self.keep_alive)
        conn.answered()


class AlbConnection(asyncio.Protocol):
    """One client connection of an ALB port (see the module)."""

    def __init__(self, server: AlbServer) -> None:
        self.server = server
        self.wire = server.wire
        self.port = server.port_app
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.deadline = Deadline(self.loop, self._expired)
        self.queue: deque[_Slot] = deque()  # requests not answered yet, in their order
        self.submitted = 0  # of those, the first ones, handed to the port
        self.answering = False
        self.paused = False  # not read: too many requests wait for their answers
        self.blocked = False  # not read: the client does not read its answers
        self.closing = False  # close once every request read is answered
        self.reading_head = True  # between two requests' heads, or inside one
        self.head_bytes = 0  # bytes received while reading the head
        self.url = b""
        self.host = b""
        self.line = 0
        self.headers = 0
        self.refusal: tuple[int, str] | None = None

    @property
    def waiting(self) -> int:
        """Requests read and not answered yet."""
        return len(self.queue)

    # --- the connection -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.server.connections.add(self)
        self.deadline.arm(self.wire.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline.drop()
        self.server.connections.discard(self)
        for slot in self.queue:  # their answers have nowhere to go
            slot.conn = None
        self.queue.clear()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if self.reading_head:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except RefusedError:
            self._refuse(*(self.refusal or (400, "Invalid HTTP request received.")))
            return
        except httptools.HttpParserUpgrade:  # no protocol switch: answer, then close
            self.close_when_idle()
            return
        except httptools.HttpParserError:
            self._refuse(400, "Invalid HTTP request received.")
            return
        if self.reading_head and self.head_bytes > self.wire.max_head:
            self._refuse(
                self.wire.header_status,
                f"the request head is longer than {self.wire.max_head} bytes",
            )

    def pause_writing(self) -> None:
        """The client reads its answers slower than they come: read no more requests."""
        self.blocked = True
        if self.transport is not None and not self.paused:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.blocked = False
        if self.transport is not None and not self.paused:
            self.transport.resume_reading()

    def close_when_idle(self) -> None:
        """Read no more requests; close once those read are answered."""
        self.closing = True
        if self.transport is not None and not self.queue:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # --- the parser's callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        self.reading_head = True
        self.url = self.host = b""
        self.line = self.headers = 0
        self.deadline.arm(self.wire.head_timeout)

    def on_url(self, url: bytes) -> None:
        self.line += len(url)
        if self.line > self.wire.max_line:
            self._stop(
                self.wire.line_status, f"the request line is longer than {self.wire.max_line} bytes"
            )
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + 4  # ": " and CRLF
        self.headers += size
        why = self.wire.header_refusal(name, size, self.headers)
        if why is not None:
            self._stop(self.wire.header_status, why)
        if len(name) == 4 and name.lower() == b"host":
            self.host = value

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.head_bytes = 0
        self.deadline.arm(self.wire.body_timeout)
        parser = self.parser
        method = parser.get_method()
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        key = (method, self.url, self.host)
        request = self.server.requests.get(key)
        if request is None:
            request = self.server.requests.read(key)
        slot = _Slot(self, request, method == b"HEAD", keep_alive and not parser.should_upgrade())
        self.queue.append(slot)
        if len(self.queue) >= PIPELINE and not self.paused and self.transport is not None:
            if not self.blocked:
                self.transport.pause_reading()
            self.paused = True
        if self.submitted < PIPELINE:  # else it waits for an answer of this connection
            self._submit(slot)

    def _submit(self, slot: _Slot) -> None:
        """Hand a request to the port (or answer it 503 over the concurrency limit)."""
        request, slot.request = slot.request, None
        self.submitted += 1
        limit = self.wire.concurrency
        if limit is not None and (
            len(self.server.connections) >= limit or self.port.waiting >= limit
        ):
            slot.keep_alive = False
            slot(_BUSY)
        elif request is not None:
            self.port.submit(request, slot)

    def on_message_complete(self) -> None:
        self.reading_head = True
        if self.queue:
            self.deadline.disarm()  # the request is in: the port's time is not the client's
        else:
            self._idle()

    # --- answers --------------------------------------------------------------------------

    def answered(self) -> None:
        """A request's answer is ready: write those that are next in order, and hand the
        port the requests that waited for room."""
        if self.answering:  # an answer given while handing requests on: the loop sees it
            return
        self.answering = True
        try:
            while self._write_ready():
                queue = self.queue
                if self.submitted >= min(PIPELINE, len(queue)):
                    break
                while self.submitted < min(PIPELINE, len(queue)):
                    self._submit(queue[self.submitted])
        finally:
            self.answering = False

    def _write_ready(self) -> bool:
        """Write the answers next in order; whether the connection goes on."""
        queue, out = self.queue, []
        keep_alive = True
        while queue and queue[0].data is not None:
            slot = queue.popleft()
            out.append(cast(bytes, slot.data))
            slot.conn = None
            self.submitted -= 1
            if not slot.keep_alive:
                keep_alive = False
                break
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        if not out:
            return True
        transport.write(out[0] if len(out) == 1 else b"".join(out))
        if not keep_alive or (self.closing and not queue):
            transport.close()
            return False
        if self.paused and len(queue) < PIPELINE // 2:
            self.paused = False
            if not self.blocked:
                transport.resume_reading()
        if not queue:
            self._idle()
        return True

    def _idle(self) -> None:
        """Every request read is answered: a kept-alive connection waits for the next."""
        if self.reading_head and not self.head_bytes:
            self.deadline.arm(self.wire.keep_alive)

    # --- limits ---------------------------------------------------------------------------

    def _expired(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.reading_head:
            if self.queue:  # a head after requests not answered yet: wait for them
                self.deadline.arm(self.wire.head_timeout)
            elif self.head_bytes:
                self._refuse(
                    408, f"the request head did not arrive within {self.wire.head_timeout:g} s"
                )
            else:
                transport.close()
        elif len(self.queue) > 1:  # the body of a request after others not answered yet
            self.deadline.arm(self.wire.body_timeout)
        elif not self.queue:  # answered without the body
            transport.close()
        else:
            self._refuse(
                408, f"the request body did not arrive within {self.wire.body_timeout:g} s"
            )

    def _stop(self, status: int, reason: str) -> None:
        """Refuse the request from inside a parser callback: the parser stops, and
        `data_received` answers this instead."""
        self.refusal = (status, reason)
        raise RefusedError(reason)

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` (the wire's page) and close; answers still due on this
        connection are dropped."""
        self.deadline.drop()
        self.closing = True
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        for slot in self.queue:
            slot.conn = None
        self.queue.clear()
        body, headers = self.wire.page(status, reason)
        length = (b"content-length", str(len(body)).encode())
        transport.write(_wire(Answer(status, [*headers, length, (b"connection", b"close")], body)))
        transport.close()


def _wire(answer: Answer, head: bool = False, keep_alive: bool = True) -> bytes:
    """An answer's bytes: status line, headers (`date` first, as uvicorn writes it; the
    answer's own carry its `content-length`), body."""
    out = [STATUS_LINE[answer.status], _date()]
    for name, value in answer.headers:
        out += (name, b": ", value, b"\r\n")
    if not keep_alive and not any(name == b"connection" for name, _ in answer.headers):
        out.append(b"connection: close\r\n")
    out.append(b"\r\n")
    if not head:
        out.append(answer.body)
    return b"".join(out)


_dated: tuple[int, bytes] = (0, b"")


def _date() -> bytes:
    """The `date` header line of this second (HTTP's date format)."""
    global _dated
    now = int(time.time())
    if _dated[0] != now:
        _dated = (now, b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n")
    return _dated[1]
