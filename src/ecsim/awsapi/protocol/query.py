"""The AWS query protocols: ELBv2's (`query`) and EC2's dialect of it (`ec2`).

A request is `POST /` with a form body `Action=<Operation>&Version=<apiVersion>&...`; nested
values are flattened into dotted keys (`Targets.member.1.Id=...` for ELBv2,
`Filter.1.Value.1=...` for EC2). The answer is XML:

- query: `<OpResponse xmlns=ns><OpResult>...</OpResult><ResponseMetadata><RequestId>` and
  errors `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message>
  </Error><RequestId>..</RequestId></ErrorResponse>` (docs/behaviour.md, "API protocols");
- ec2: `<OpResponse xmlns=ns><requestId>..</requestId>...</OpResponse>` with lists of
  `<item>` and errors `<Response><Errors><Error><Code>..</Code><Message>..</Message></Error>
  </Errors><RequestID>..</RequestID></Response>`.

Both directions walk the operation's shapes exactly as botocore's `QuerySerializer` /
`EC2Serializer` and `QueryParser` / `EC2QueryParser` do, in reverse.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass
from typing import Any

from ecsim.awsapi.errors import InvalidParameterValue, QueryValidationError, UnknownParameter
from ecsim.awsapi.limits import shown, unsafe, xml_text
from ecsim.awsapi.protocol.shapes import (
    INT64_MAX,
    INT64_MIN,
    OperationModel,
    Shape,
    decode_blob,
    encode_blob,
    format_timestamp,
    parse_timestamp,
)
from ecsim.model.errors import AwsError

CONTENT_TYPE = "text/xml"
# Form keys that belong to the request's signature or envelope, never to the operation.
_ENVELOPE = ("Action", "Version")
_SIGNATURE_PREFIXES = ("X-Amz-", "AWSAccessKeyId", "Signature", "Timestamp", "Expires")
# A form key of more parts than this names nothing (the deepest input shape takes 8 parts:
# `Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight`); list indices of more digits
# than this are not read.
MAX_KEY_PARTS = 32
MAX_INDEX_DIGITS = 9


@dataclass(frozen=True)
class Dialect:
    """What differs between ELBv2's query protocol and EC2's."""

    name: str  # "query" or "ec2"
    value_error: type[AwsError]  # a value of the wrong type
    unknown_error: type[AwsError] | None  # a parameter the operation lacks (None: ignored)

    @property
    def ec2(self) -> bool:
        return self.name == "ec2"

    def unsafe_text(self, key: str, value: str, bad: str) -> AwsError:
        """The error for a string the answer's XML could not carry (`bad`, its character)."""
        if self.ec2:
            return self.value_error(
                f"Value ({shown(value)}) for parameter {key} is invalid. Character U+"
                f"{ord(bad):04X} is not supported: XML 1.0 cannot carry it."
            )
        return self.value_error(
            f"1 validation error detected: Value '{shown(value)}' at '{key}' failed to satisfy "
            f"constraint: Member must not contain the character U+{ord(bad):04X}, which XML "
            "1.0 cannot carry"
        )

    def input_name(self, shape: Shape, default: str) -> str:
        """The form key of a member (botocore `_get_serialized_name`)."""
        if self.ec2:
            if "queryName" in shape.serialization:
                return str(shape.serialization["queryName"])
            if "name" in shape.serialization:
                name = str(shape.serialization["name"])
                return name[0].upper() + name[1:]
            return default
        return str(shape.serialization.get("name", default))


QUERY = Dialect("query", QueryValidationError, None)
EC2 = Dialect("ec2", InvalidParameterValue, UnknownParameter)

_MISSING: Any = object()


class UnsafeTextError(Exception):
    """A string parameter with a character the query protocol's XML cannot carry (a control
    character, a surrogate, U+FFFE or U+FFFF): `error` is the dialect's answer; `member` the
    operation's top-level member it was given in, whose facade may have its own words for it
    (dispatch.py)."""

    def __init__(self, error: AwsError, member: str, value: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.member = member
        self.value = value


# --- requests -----------------------------------------------------------------------------


def parse_request(
    form: dict[str, str], operation: OperationModel, dialect: Dialect
) -> dict[str, Any]:
    """The keyword arguments of one call, read from its flattened form fields. A string the
    answer's XML could not carry is refused (`UnsafeTextError`), once every field is read."""
    shape = operation.input_shape
    reader = _Reader(form, dialect)
    params: dict[str, Any] = {}
    if shape is not None:
        value = reader.read(shape, "")
        if value is not _MISSING:
            params = value
    if dialect.unknown_error is not None:
        for key in form:
            if key in reader.used or key in _ENVELOPE or key.startswith(_SIGNATURE_PREFIXES):
                continue
            name = shown(key.split(".")[0])
            raise dialect.unknown_error(f"The parameter {name} is not recognized")
    if reader.unsafe is not None:
        key, member, text, bad = reader.unsafe
        raise UnsafeTextError(dialect.unsafe_text(key, text, bad), member, text)
    return params


class _Reader:
    def __init__(self, form: dict[str, str], dialect: Dialect) -> None:
        self.form = form
        self.dialect = dialect
        self.used: set[str] = set()
        self.member = ""  # the top-level member being read
        # the first string the XML could not carry: (form key, member, text, its character)
        self.unsafe: tuple[str, str, str, str] | None = None
        # prefix -> the parts that follow it in some key (`Filter.1` -> {"Name", "Value"}),
        # so that finding a list's indices does not scan every key (a form of N filters
        # would cost N x N)
        self.children: dict[str, set[str]] = {}
        for key in form:
            parts = key.split(".", MAX_KEY_PARTS)
            if len(parts) > MAX_KEY_PARTS:
                continue
            prefix = parts[0]
            for part in parts[1:]:
                self.children.setdefault(prefix, set()).add(part)
                prefix = f"{prefix}.{part}"

    def _take(self, key: str) -> str | None:
        value = self.form.get(key)
        if value is not None:
            self.used.add(key)
        return value

    def _indices(self, prefix: str) -> list[int]:
        """The N of every key `prefix.N...`, in order."""
        return sorted(
            {
                int(head)
                for head in self.children.get(prefix, ())
                if head.isascii() and head.isdigit() and len(head) <= MAX_INDEX_DIGITS
            }
        )

    def _has_prefix(self, prefix: str) -> bool:
        return prefix in self.children

    def read(self, shape: Shape, prefix: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, prefix)
        if kind == "list":
            return self._list(shape, prefix)
        if kind == "map":
            return self._map(shape, prefix)
        text = self._take(prefix)
        if text is None:
            return _MISSING
        return self._scalar(shape, kind, prefix, text)

    def _structure(self, shape: Shape, prefix: str) -> Any:
        if prefix and not self._has_prefix(prefix):
            if self._take(prefix) is not None:  # `Attr=` for an empty structure
                return {}
            return _MISSING
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = self.dialect.input_name(member, name)
            if not prefix:
                self.member = name
            value = self.read(member, f"{prefix}.{key}" if prefix else key)
            if value is not _MISSING:
                out[name] = value
        return out

    def _list(self, shape: Shape, prefix: str) -> Any:
        if self.dialect.ec2:
            items_prefix = prefix
        elif shape.serialization.get("flattened"):
            items_prefix = prefix
            if shape.member.serialization.get("name"):
                name = self.dialect.input_name(shape.member, "")
                items_prefix = ".".join([*prefix.split(".")[:-1], name])
        else:
            items_prefix = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        indices = self._indices(items_prefix)
        if not indices:
            if self._take(prefix) is not None:  # the query protocol's empty list: `Names=`
                return []
            return _MISSING
        out = []
        for i in indices:
            value = self.read(shape.member, f"{items_prefix}.{i}")
            out.append(None if value is _MISSING else value)
        return out

    def _map(self, shape: Shape, prefix: str) -> Any:
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = self.dialect.input_name(shape.key, "key")
        value_name = self.dialect.input_name(shape.value, "value")
        indices = self._indices(base)
        if not indices:
            return _MISSING
        out: dict[str, Any] = {}
        for i in indices:
            key = self.read(shape.key, f"{base}.{i}.{key_name}")
            value = self.read(shape.value, f"{base}.{i}.{value_name}")
            if key is not _MISSING:
                out[str(key)] = None if value is _MISSING else value
        return out

    def _scalar(self, shape: Shape, kind: str, key: str, text: str) -> Any:
        error = self.dialect.value_error
        if kind in ("string", "character"):
            bad = unsafe(text)
            if bad is not None and self.unsafe is None:
                self.unsafe = (key, self.member, text, bad.group())
            return text
        if kind in ("integer", "long"):
            try:
                integer: int | None = int(text)
            except ValueError:
                integer = None
            if integer is None or not INT64_MIN <= integer <= INT64_MAX:
                raise error(f"Value '{shown(text)}' for parameter {key} is not a valid integer")
            return integer
        if kind in ("float", "double"):
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise error(f"Value '{shown(text)}' for parameter {key} is not a valid number")
            return number
        if kind == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise error(f"Value '{shown(text)}' for parameter {key} is not a valid boolean")
            return lowered == "true"
        if kind == "timestamp":
            return parse_timestamp(text, key, error)
        if kind == "blob":
            return decode_blob(text, key, error)
        return text


# --- answers ------------------------------------------------------------------------------


def serialize_response(
    value: dict[str, Any],
    operation: OperationModel,
    namespace: str,
    request_id: str,
    dialect: Dialect,
) -> bytes:
    """The XML answer of `operation` carrying `value`."""
    name = operation.name
    shape = operation.output_shape
    body: list[str] = []
    if shape is not None:
        _write_members(body, value, shape, dialect)
    inner = "".join(body)
    if dialect.ec2:
        xml = (
            f'<{name}Response xmlns="{namespace}">'
            f"<requestId>{request_id}</requestId>{inner}</{name}Response>"
        )
    else:
        wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
        result = f"<{wrapper}>{inner}</{wrapper}>" if wrapper else inner
        xml = (
            f'<{name}Response xmlns="{namespace}">{result}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{name}Response>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()


def _write_members(out: list[str], value: Any, shape: Shape, dialect: Dialect) -> None:
    if not isinstance(value, dict):
        return
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        if member.type_name == "list" and member.serialization.get("flattened"):
            tag = member.member.serialization.get("name") or member.serialization.get("name", name)
            for element in item:
                _write_element(out, tag, element, member.member, dialect)
        else:
            _write_element(out, member.serialization.get("name", name), item, member, dialect)


def _write_element(out: list[str], tag: str, value: Any, shape: Shape, dialect: Dialect) -> None:
    if value is None:
        return
    kind = shape.type_name
    out.append(f"<{tag}>")
    if kind == "structure":
        _write_members(out, value, shape, dialect)
    elif kind == "list":
        default = "item" if dialect.ec2 else "member"
        item_tag = shape.member.serialization.get("name", default)
        for element in value:
            _write_element(out, item_tag, element, shape.member, dialect)
    elif kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        flat = shape.serialization.get("flattened")
        for k, v in value.items():
            if not flat:
                out.append("<entry>")
            _write_element(out, key_tag, k, shape.key, dialect)
            _write_element(out, value_tag, v, shape.value, dialect)
            if not flat:
                out.append("</entry>")
    else:
        out.append(xml_text(_scalar_text(value, shape)))
    out.append(f"</{tag}>")


def _scalar_text(value: Any, shape: Shape) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", "iso8601")))
    if kind == "blob":
        return encode_blob(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return str(format_timestamp(value, "iso8601"))
    if isinstance(value, float) and value == int(value) and kind in ("integer", "long"):
        return str(int(value))
    return str(value)


def error_body(
    code: str, message: str, status: int, request_id: str, namespace: str, dialect: Dialect
) -> bytes:
    code_x, message_x = xml_text(code), xml_text(message)
    if dialect.ec2:
        xml = (
            "<Response><Errors><Error>"
            f"<Code>{code_x}</Code><Message>{message_x}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        fault = "Sender" if status < 500 else "Receiver"
        xml = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault}</Type>'
            f"<Code>{code_x}</Code><Message>{message_x}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
