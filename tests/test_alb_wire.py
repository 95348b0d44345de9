"""The ALB port's own HTTP/1.1 protocol (`awsapi/alb_wire.py`) on a real socket: what a
client that is not a browser or httpx may send (pipelined requests, HEAD, HTTP/1.0,
`Connection: close`, chunked bodies, upgrades, garbage, a flood it does not read), and the
concurrency limit; every answer in order, every connection closed or kept as HTTP says."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ecsim.awsapi import ALB, AlbServer, Wire, alb_app
from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World
from tests.support.server import LiveServer, wait_for

pytestmark = pytest.mark.server(world="demo", rate=0, speed=60)


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


class Reader:
    """The answers read off one socket, with Content-Length bodies (the port writes no
    other); what is read past an answer is kept for the next."""

    def __init__(self, s: socket.socket) -> None:
        self.s = s
        self.buf = b""

    def _more(self, what: str) -> None:
        chunk = self.s.recv(65536)
        assert chunk, f"closed {what}"
        self.buf += chunk

    def answers(self, n: int, head: bool = False) -> list[tuple[int, dict[str, str], bytes]]:
        out = []
        while len(out) < n:
            while b"\r\n\r\n" not in self.buf:
                self._more(f"after {len(out)} answers")
            head_bytes, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head_bytes.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
            length = 0 if head else int(headers["content-length"])
            while len(self.buf) < length:
                self._more("inside a body")
            out.append((status, headers, self.buf[:length]))
            self.buf = self.buf[length:]
        return out


def _read_answers(
    s: socket.socket, n: int, head: bool = False
) -> list[tuple[int, dict[str, str], bytes]]:
    return Reader(s).answers(n, head)


def _closed(s: socket.socket) -> bool:
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def test_pipelined_requests_are_answered_in_their_order(server: LiveServer) -> None:
    with _connect(server.alb_url) as s:
        s.sendall(b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(20)))
        answers = _read_answers(s, 20)
    assert [json.loads(body)["path"] for _, _, body in answers] == [f"/p{i}" for i in range(20)]
    assert {status for status, _, _ in answers} == {200}


def test_head_http_10_and_connection_close(server: LiveServer) -> None:
    with _connect(server.alb_url) as s:
        s.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = Reader(s)
        [(status, headers, body)] = reader.answers(1, head=True)
        assert status == 200 and body == b"" and int(headers["content-length"]) > 0
        [(status, _, body)] = reader.answers(1)
        assert status == 200 and json.loads(body)["path"] == "/"
    for request in (
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ):
        with _connect(server.alb_url) as s:
            s.sendall(request)
            [(status, headers, _)] = _read_answers(s, 1)
            assert status == 200 and headers["connection"] == "close"
            assert _closed(s)


def test_bodies_are_read_and_dropped_and_the_connection_goes_on(server: LiveServer) -> None:
    with _connect(server.alb_url) as s:
        chunked = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunked += b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n"
        sized = b"PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"y" * 5000
        s.sendall(chunked + sized + b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = _read_answers(s, 3)
    assert [json.loads(body)["path"] for _, _, body in answers] == ["/a", "/b", "/c"]


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\x01\x02\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_what_is_not_http_gets_the_albs_400_and_a_close(server: LiveServer, garbage: bytes) -> None:
    with _connect(server.alb_url) as s:
        s.sendall(garbage)
        [(status, headers, body)] = _read_answers(s, 1)
        assert status == 400 and headers["server"] == "awselb/2.0"
        assert b"<h1>400 Bad Request</h1>" in body
        assert _closed(s)
    assert httpx.get(f"{server.alb_url}/").status_code == 200


def test_an_unknown_method_and_an_upgrade(server: LiveServer) -> None:
    r = httpx.request("PROPFIND", f"{server.alb_url}/")
    assert r.status_code == 405 and r.headers["allow"].startswith("GET, HEAD")
    with _connect(server.alb_url) as s:  # no protocol switch: answered, then closed
        s.sendall(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            b"\x81\x85garbage-frames"
        )
        [(status, _, body)] = _read_answers(s, 1)
        assert status == 200 and json.loads(body)["path"] == "/ws"
        assert _closed(s)


def test_a_client_that_floods_and_does_not_read_is_held_back(server: LiveServer) -> None:
    """200,000 pipelined requests (7 MB) sent without reading the answers (140 MB): the
    port stops reading once the answers it wrote are not read, so the client's sends block;
    the port answers others meanwhile. 2,000 pipelined and read come back in order."""
    n = 200_000
    with _connect(server.alb_url) as s:
        sent = [0]

        def flood() -> None:
            with contextlib.suppress(OSError):
                for i in range(0, n, 100):
                    s.sendall(
                        b"".join(
                            b"GET /f%d HTTP/1.1\r\nHost: x\r\n\r\n" % j for j in range(i, i + 100)
                        )
                    )
                    sent[0] += 100

        sender = threading.Thread(target=flood, daemon=True)
        sender.start()
        time.sleep(2.0)
        assert sent[0] < n  # held back
        assert httpx.get(f"{server.alb_url}/other", timeout=5).status_code == 200
        s.shutdown(socket.SHUT_RDWR)  # the blocked send fails: the flood ends
        sender.join(timeout=10)
        assert not sender.is_alive()
    with _connect(server.alb_url) as s:
        s.sendall(b"".join(b"GET /g%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(2000)))
        answers = _read_answers(s, 2000)
    assert [json.loads(b)["path"] for _, _, b in answers] == [f"/g{i}" for i in range(2000)]


@contextlib.contextmanager
def _alb_server(wire: Wire) -> Iterator[tuple[str, LiveWorld]]:
    """An ALB port of its own, held to `wire`, on the demo world (paused), in a thread."""
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=0), speed=1.0)
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        server = AlbServer(alb_app(live, None, 80), "127.0.0.1", 0, wire)
        await server.start()
        holder["url"] = f"http://127.0.0.1:{server.bound_port}"
        holder["stop"] = stop = asyncio.Event()
        holder["loop"] = asyncio.get_running_loop()
        ready.set()
        await stop.wait()
        await server.stop(0.5)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield holder["url"], live
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(timeout=10)


def test_over_the_concurrency_limit_the_answer_is_503_and_a_close() -> None:
    wire = Wire("alb-small", keep_alive=60, max_body=None, concurrency=3, page=ALB.page)
    with _alb_server(wire) as (url, _):
        socks = [_connect(url) for _ in range(2)]
        try:
            for s in socks:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert _read_answers(s, 1)[0][0] == 200
            with _connect(url) as third:  # 3 connections open: the limit
                third.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                [(status, headers, body)] = _read_answers(third, 1)
                assert (status, body) == (503, b"Service Unavailable")
                assert headers["connection"] == "close" and _closed(third)
            socks[0].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # the others go on
            assert _read_answers(socks[0], 1)[0][0] == 200
        finally:
            for s in socks:
                s.close()
        wait_for(lambda: httpx.get(url + "/", timeout=5).status_code == 200, 10)


def test_a_kept_alive_connection_idle_past_its_timeout_is_closed_silently() -> None:
    wire = Wire("alb-quick", head_timeout=1, keep_alive=1, max_body=None, page=ALB.page)
    with _alb_server(wire) as (url, _):
        with _connect(url) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_answers(s, 1)[0][0] == 200
            began = time.monotonic()
            assert _closed(s)
            assert 0.5 < time.monotonic() - began < 4
        with _connect(url) as s:  # a head begun and not finished: 408, the ALB's page
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            [(status, headers, _)] = _read_answers(s, 1)
            assert status == 408 and headers["server"] == "awselb/2.0"
            assert _closed(s)


def test_stopping_answers_what_waits_then_closes() -> None:
    """A request waiting for its answer when the port stops is answered within the grace
    time, and the connection is closed."""
    wire = Wire("alb", keep_alive=60, max_body=None, concurrency=1024, page=ALB.page)
    with _alb_server(wire) as (url, live):
        live.pause()
        s = _connect(url)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
    # the server stopped (0.5 s of grace): answered while time stood still, or closed
    with s:
        data = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                data += chunk
        assert data == b"" or data.startswith(b"HTTP/1.1 200 ")


def test_percent_escapes_are_read_as_utf8_and_the_raw_path_kept(server: LiveServer) -> None:
    """The path the rules see is percent-decoded as UTF-8 (as uvicorn decodes it for the
    ASGI port), so both ways of serving the port route a request alike."""
    with _connect(server.alb_url) as s:
        s.sendall(b"GET /caf%C3%A9/a%20b?q=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n")
        [(status, _, body)] = _read_answers(s, 1)
    assert status == 200 and json.loads(body)["path"] == "/café/a b"
