"""What one request may cost on ecsim's ports: bodies, JSON nesting, text the XML can carry.

The numbers are documented in docs/awsapi.md, "Limits". The connection limits (request head
sizes, timeouts, concurrency) are in `connections.py`, which configures uvicorn.

- `read_body`: a request's body, refused (`BodyTooLargeError`) past a limit, before it is read
  whole when `Content-Length` says so.
- `loads`: JSON, refused (`TooDeepError`) when nested deeper than `MAX_JSON_DEPTH`; never a
  RecursionError.
- `xml_text`, `shown`: text as XML 1.0 can carry it, and user input as a message can echo it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

# AWS's documented request limit of the APIs served on `POST /`: "Each PutMetricData request
# is limited to 1 MB in size for HTTP POST requests" (CloudWatch; botocore's model). AWS
# answers a larger one 413 `RequestEntityTooLarge`, "Request size N exceeded L bytes".
MAX_AWS_BODY = 1024 * 1024
# ecsim's own API: its bodies are a few small members (the page's commands: 64 KiB too).
MAX_NATIVE_BODY = 64 * 1024
# JSON nesting: ECS's deepest input shape is 9 levels, Application Auto Scaling's 11.
MAX_JSON_DEPTH = 64


class BodyTooLargeError(Exception):
    """A body longer than its limit: `size` bytes (declared, or read so far)."""

    code = "RequestEntityTooLarge"
    status = 413

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"Request size {size} exceeded {limit} bytes")

    @property
    def message(self) -> str:
        return str(self)


class TooDeepError(ValueError):
    """JSON nested deeper than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The JSON body is nested deeper than {limit} levels.")


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body; `BodyTooLargeError` past `limit` bytes (at once when `Content-Length`
    says so, else as soon as the chunks read pass it). A client gone raises starlette's
    `ClientDisconnect`."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared[:30]) > limit:
        raise BodyTooLargeError(int(declared[:30]), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def loads(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, but `TooDeepError` for arrays and objects nested deeper than `max_depth`
    (`ValueError` for JSON that is not valid, as json's own)."""
    try:
        value = json.loads(data)
    except RecursionError:  # deeper than the interpreter's stack: far past any limit
        raise TooDeepError(max_depth) from None
    if _deeper(value, max_depth):
        raise TooDeepError(max_depth)
    return value


def _deeper(value: Any, limit: int) -> bool:
    """Whether `value` nests arrays and objects more than `limit` deep (walked without
    recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


# --- text ---------------------------------------------------------------------------------

# What XML 1.0 cannot carry at all, even as a character reference: the C0 controls but tab,
# newline and carriage return, the surrogates, U+FFFE and U+FFFF ("Char", XML 1.0 section 2.2).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def xml_text(text: str) -> str:
    """`text` escaped as XML character data: `& < >` as entities, carriage return as `&#13;`
    (a parser would read a bare one as a newline), and what XML 1.0 cannot carry as U+FFFD."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", "&#13;")
    return NOT_XML.sub(REPLACEMENT, text)


def unsafe(text: str) -> re.Match[str] | None:
    """The first character of `text` that XML 1.0 cannot carry, if any."""
    return NOT_XML.search(text)


def shown(text: str, limit: int = 100) -> str:
    """User input as a message may echo it: control characters, surrogates and other
    characters that are not printable written as Python escapes (`\\x01`), at most `limit`
    characters (then `...`)."""
    out = "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text[:limit])
    return out + ("..." if len(text) > limit else "")
