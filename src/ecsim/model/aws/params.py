"""Reading the parameters of an API call, with AWS's errors for missing or mistyped ones.

Every operation of `w.ecs`, `w.elbv2` and `w.ec2` takes the botocore parameter names as
keyword arguments. `Params` hands them out typed and, at the end, rejects any name the
operation does not know, so a typo is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from ecsim.model.errors import AwsError


class Params:
    """The parameters of one call of operation `operation`."""

    def __init__(self, operation: str, params: Mapping[str, Any], error: type[AwsError]) -> None:
        self.operation = operation
        self._params = builtins.dict(params)
        self._error = error
        self._seen: builtins.set[builtins.str] = set()
        self._accepted: builtins.set[builtins.str] = set()

    def fail(self, message: builtins.str) -> AwsError:
        return self._error(message)

    def has(self, name: builtins.str) -> builtins.bool:
        self._seen.add(name)
        return self._params.get(name) is not None

    def raw(self, name: builtins.str, required: builtins.bool = False) -> Any:
        self._seen.add(name)
        value = self._params.get(name)
        if value is None and required:
            raise self.fail(f'Missing required parameter in input: "{name}"')
        return value

    def _typed(
        self,
        name: builtins.str,
        kind: type | tuple[type, ...],
        label: builtins.str,
        required: builtins.bool,
    ) -> Any:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, builtins.bool) and kind is builtins.int:
            raise self.fail(
                f"Invalid type for parameter {name}, value: {value!r}, expected {label}"
            )
        if not isinstance(value, kind):
            raise self.fail(
                f"Invalid type for parameter {name}, value: {value!r}, expected {label}"
            )
        return value

    def str(self, name: builtins.str, required: builtins.bool = False) -> builtins.str | None:
        value = self._typed(name, builtins.str, "a string", required)
        if required and value == "":
            raise self.fail(f"Invalid length for parameter {name}, value: 0, valid min length: 1")
        return value  # type: ignore[no-any-return]

    def req_str(self, name: builtins.str) -> builtins.str:
        value = self.str(name, required=True)
        assert value is not None
        return value

    def int(
        self,
        name: builtins.str,
        required: builtins.bool = False,
        lo: builtins.int | None = None,
        hi: builtins.int | None = None,
    ) -> builtins.int | None:
        value = self._typed(name, builtins.int, "an integer", required)
        if value is not None:
            if lo is not None and value < lo:
                raise self.fail(
                    f"Invalid value for parameter {name}, value: {value}, valid min value: {lo}"
                )
            if hi is not None and value > hi:
                raise self.fail(
                    f"Invalid value for parameter {name}, value: {value}, valid max value: {hi}"
                )
        return value  # type: ignore[no-any-return]

    def bool(self, name: builtins.str) -> builtins.bool | None:
        return self._typed(name, builtins.bool, "a boolean", False)  # type: ignore[no-any-return]

    def list(self, name: builtins.str, required: builtins.bool = False) -> builtins.list[Any]:
        value = self._typed(name, (builtins.list, tuple), "a list", required)
        return builtins.list(value) if value is not None else []

    def dict(
        self, name: builtins.str, required: builtins.bool = False
    ) -> builtins.dict[builtins.str, Any]:
        value = self._typed(name, Mapping, "a structure", required)
        return builtins.dict(value) if value is not None else {}

    def strs(
        self, name: builtins.str, required: builtins.bool = False
    ) -> builtins.list[builtins.str]:
        values = self.list(name, required)
        for v in values:
            if not isinstance(v, builtins.str):
                raise self.fail(
                    f"Invalid type for parameter {name}, value: {v!r}, expected a string"
                )
        return values

    def done(self, accepted: Iterable[builtins.str] = ()) -> None:
        """Reject names the operation does not know; `accepted` are known but not modelled."""
        self._accepted.update(accepted)
        unknown = sorted(builtins.set(self._params) - self._seen - self._accepted)
        if unknown:
            raise self.fail(
                f'Unknown parameter in input: "{unknown[0]}" for operation {self.operation}'
            )
