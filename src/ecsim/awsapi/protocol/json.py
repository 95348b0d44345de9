"""The AWS JSON protocol (ECS speaks version 1.1, CloudWatch 1.0): requests in, answers and errors out.

A request is `POST /` with `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON object as
body; timestamps are epoch seconds and blobs base64. The answer is the operation's output
structure as JSON; an error is `{"__type": code, "message": ...}` with HTTP 400 (the client's
fault) or 500 (ours) (docs/behaviour.md, "API protocols").
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Callable
from typing import Any

import orjson

from ecsim.awsapi.errors import SerializationException
from ecsim.awsapi.limits import TooDeepError, loads
from ecsim.awsapi.protocol.shapes import (
    INT64_MAX,
    INT64_MIN,
    Shape,
    decode_blob,
    encode_blob,
    format_timestamp,
    parse_timestamp,
)

CONTENT_TYPE = "application/x-amz-json-1.1"


def content_type(version: str = "1.1") -> str:
    """The answer's media type: JSON 1.1 (ECS) or 1.0 (CloudWatch)."""
    return f"application/x-amz-json-{version}"


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "character": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "structure": (dict,),
    "list": (list,),
    "map": (dict,),
}
_NAMES = {
    "string": "a string",
    "character": "a string",
    "integer": "an integer",
    "long": "an integer",
    "float": "a number",
    "double": "a number",
    "boolean": "a boolean",
    "structure": "an object",
    "list": "an array",
    "map": "an object",
}


# --- requests -----------------------------------------------------------------------------


def parse_request(body: bytes, shape: Shape | None) -> dict[str, Any]:
    """The keyword arguments of one call: the body's object, its values typed by `shape`."""
    if not body.strip():
        return {}
    try:
        value = loads(body)
    except TooDeepError as e:
        raise SerializationException(str(e)) from None
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise SerializationException("The request body must be a JSON object.")
    if shape is None:
        return value
    out = _read(value, shape, "")
    assert isinstance(out, dict)
    return out


def _read(value: Any, shape: Shape, where: str) -> Any:
    if value is None:
        return None
    kind = shape.type_name
    if kind == "timestamp":
        return parse_timestamp(value, where or "input", SerializationException)
    if kind == "blob":
        return decode_blob(value, where or "input", SerializationException)
    expected = _JSON_TYPES.get(kind)
    if expected is not None:
        wrong = not isinstance(value, expected) or (
            isinstance(value, bool) and kind not in ("boolean",)
        )
        if wrong:
            raise SerializationException(
                f"Invalid type for {where or 'input'}: expected {_NAMES[kind]}, "
                f"got {json.dumps(value)[:60]}"
            )
        if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN, Infinity
            raise SerializationException(
                f"Invalid value for {where or 'input'}: expected a finite number, got {value}"
            )
        if kind in ("integer", "long") and not INT64_MIN <= value <= INT64_MAX:
            raise SerializationException(
                f"Invalid value for {where or 'input'}: the integer does not fit in 64 bits"
            )
    if kind == "structure":
        members = shape.members
        return {
            k: (_read(v, members[k], _join(where, k)) if k in members else v)
            for k, v in value.items()
        }
    if kind == "list":
        return [_read(v, shape.member, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind == "map":
        return {k: _read(v, shape.value, f"{where}.{k}") for k, v in value.items()}
    return value


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


# --- answers ------------------------------------------------------------------------------


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def serialize_response(value: dict[str, Any], shape: Shape | None) -> bytes:
    """An answer's body: `value` written as `shape` says (members botocore does not know, like
    ecsim's `controllerStatus`, are kept, written plainly). orjson writes it (in a twentieth
    of the standard library's time: a DescribeServices answer is a hundred values or so);
    what orjson refuses (an integer past 64 bits, a lone surrogate, nesting past its depth)
    the standard library writes, escaped."""
    written = _write(value, shape)
    try:
        return orjson.dumps(written)
    except orjson.JSONEncodeError:
        return _ENCODER.encode(written).encode()


def _write(value: Any, shape: Shape | None) -> Any:
    if value is None:
        return None
    if shape is None:
        return _plain(value)
    return _writer(shape)(value)


Writer = Callable[[Any], Any]
# per shape (by identity; the shape is kept alive with its writer): how to write a value of
# it. Built once per shape of the service models, so an answer costs a walk of its values,
# not of its shapes too (every DescribeServices answer holds a hundred values or so).
_WRITERS: dict[int, tuple[Shape, Writer]] = {}


def _writer(shape: Shape) -> Writer:
    known = _WRITERS.get(id(shape))
    if known is not None:
        return known[1]
    kind = shape.type_name
    write: Writer
    if kind == "structure":
        members = shape.members
        of_member: dict[str, Writer] = {}
        # members a string or a number is written differently to: timestamps, blobs
        converted = {k for k, m in members.items() if m.type_name in ("timestamp", "blob")}

        def write(value: Any) -> Any:
            if not isinstance(value, dict):
                return _plain(value)
            out = {}
            for k, v in value.items():
                if v is None:
                    continue
                if type(v) in _AS_IS and k not in converted:  # as it is
                    out[k] = v
                    continue
                w = of_member.get(k)
                if w is None:
                    m = members.get(k)
                    w = of_member[k] = _plain if m is None else _writer(m)
                out[k] = w(v)
            return out

    elif kind == "list":
        member = shape.member

        def write(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                return _plain(value)
            w = _writer(member)  # not before: a shape may hold lists of itself
            return [None if v is None else w(v) for v in value]

    elif kind == "map":
        of_value = shape.value

        def write(value: Any) -> Any:
            if not isinstance(value, dict):
                return _plain(value)
            w = _writer(of_value)
            return {str(k): None if v is None else w(v) for k, v in value.items()}

    elif kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "unixTimestamp")

        def write(value: Any) -> Any:
            return format_timestamp(value, fmt)

    elif kind == "blob":
        write = encode_blob
    else:
        write = _plain
    _WRITERS[id(shape)] = (shape, write)
    return write


_AS_IS = frozenset({str, int, bool})


def _plain(value: Any) -> Any:
    """A value outside the model's shapes, as JSON can hold it (JSON has no NaN or Infinity:
    such a number is written null)."""
    if type(value) in _AS_IS:  # the most common values, as they are (not their subclasses)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime):
        return format_timestamp(value, "unixTimestamp")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return encode_blob(value)
    return value


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()
