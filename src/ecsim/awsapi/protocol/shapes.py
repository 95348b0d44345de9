"""botocore's service models, loaded once, and the scalar conversions every protocol shares."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from functools import cache
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore import xform_name

from ecsim.model.errors import AwsError

# botocore's model classes are untyped; these aliases say what a value is.
ServiceModel = Any  # botocore.model.ServiceModel
OperationModel = Any  # botocore.model.OperationModel
Shape = Any  # botocore.model.Shape

UTC = dt.UTC
# The widest integer of AWS's models (`long`, Java's): a wider one is refused on the wire
# (no facade has to turn 10**400 into a float); narrower limits are the facades'.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@cache
def _session() -> Any:
    return botocore.session.get_session()


@cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of service `name` (`ecs`, `elbv2`, `ec2`)."""
    return _session().get_service_model(name)


def snake(operation: str) -> str:
    """boto3's method name of an operation (`DescribeTargetHealth` -> `describe_target_health`)."""
    return str(xform_name(operation))


# --- timestamps ---------------------------------------------------------------------------


def epoch_seconds(value: dt.datetime) -> float | int:
    """A datetime as epoch seconds (the JSON protocol's `unixTimestamp`)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = value.timestamp()
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def iso8601(value: dt.datetime) -> str:
    """A datetime as the query protocol writes it: `2024-01-01T12:00:00.000Z`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_timestamp(value: Any, fmt: str) -> Any:
    """A timestamp in the format `fmt` (`unixTimestamp`, `iso8601`, `rfc822`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = dt.datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, dt.datetime):
        return value
    if fmt == "unixTimestamp":
        return epoch_seconds(value)
    if fmt == "rfc822":
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return iso8601(value)


def parse_timestamp(value: Any, where: str, error: type[AwsError]) -> dt.datetime | int | float:
    """A timestamp a client sent: epoch seconds (number or digits) or ISO 8601; `error` for
    anything else. A number no datetime can hold (NaN, infinite, before year 1 or after 9999)
    is answered as the number, so the facade answers its own error about it (CloudWatch:
    `InvalidParameterValue`), as it does for a number given in Python."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return _from_epoch(number)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise error(f"Invalid timestamp for {where}: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise error(f"Invalid timestamp for {where}: {value!r}")


def _from_epoch(seconds: int | float) -> dt.datetime | int | float:
    try:
        return dt.datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, ValueError, OSError):  # NaN, infinite, out of datetime's years
        return seconds


def decode_blob(value: Any, where: str, error: type[AwsError]) -> bytes:
    if not isinstance(value, str):
        raise error(f"Invalid base64 value for {where}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"Invalid base64 value for {where}") from None


def encode_blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(bytes(value)).decode("ascii")
