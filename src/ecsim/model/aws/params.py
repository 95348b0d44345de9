"""Reading the parameters of an API call, with AWS's errors for missing or mistyped ones.

Every operation of the facades (`w.ecs`, `w.elbv2`, `w.ec2`, `w.application_autoscaling`,
`w.cloudwatch`) takes the botocore parameter names as keyword arguments. `Params` hands them
out typed and, at the end, rejects any name the operation does not know, so a typo is an
error rather than a silently ignored setting.

A structure inside the parameters (`Targets[0]`, `Matcher`, ...) is read the same way:
`as_structure` checks it, refuses the members it does not know at once, and answers a
`Params` over its members, whose messages name them by their path (`Targets[0].Port`).
Values read earlier, or not read by name, are checked with the `as_*` methods, which take
the path to name in the message.

Two wordings exist for some checks, as AWS has them: botocore's own validation before a call
is sent (`int`: "Invalid value for parameter Port, value: 0, valid min value: 1") and the
service's answer (`between`, `as_enum`: "1 validation error detected: Value '0' at 'Port'
failed to satisfy constraint: Member must have value greater than or equal to 1", AWS's
Coral wording: one side of the range, the one the value is beyond). Each facade uses the one
it has always answered with.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Literal, overload

from ecsim.model.errors import AwsError


def validation(value: object, where: builtins.str, bound: builtins.str) -> builtins.str:
    """The service's (Coral's) answer to a number out of its range: `bound` is
    `greater than or equal to 1` or `less than or equal to 10`, as AWS words each side
    (docs/behaviour.md, "Wording audit")."""
    return (
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: Member must have value {bound}"
    )


class Params:
    """The parameters of one call of operation `operation`, or of one structure in them.

    `error` is the class of the errors raised; `where` is the structure's path (None for the
    call's own parameters, "input" in botocore's messages); `missing` makes the error for a
    required parameter that is not given, from its path (by default botocore's
    `Missing required parameter in input: "Name"`).
    """

    def __init__(
        self,
        operation: str,
        params: Mapping[str, Any],
        error: type[AwsError],
        *,
        where: builtins.str | None = None,
        missing: Callable[[builtins.str], AwsError] | None = None,
    ) -> None:
        self.operation = operation
        self.where = where
        self._params = builtins.dict(params)
        self._error = error
        self._missing = missing
        self._seen: builtins.set[builtins.str] = set()
        self._accepted: builtins.set[builtins.str] = set()

    def fail(self, message: builtins.str) -> AwsError:
        return self._error(message)

    def at(self, name: builtins.str) -> builtins.str:
        """The path of member `name` in messages: `Port`, or `Targets[0].Port` in a structure."""
        return name if self.where is None else f"{self.where}.{name}"

    def missing(self, name: builtins.str) -> AwsError:
        """The error for the required member `name`, not given."""
        if self._missing is not None:
            return self._missing(self.at(name))
        return self.fail(f'Missing required parameter in {self.where or "input"}: "{name}"')

    # --- members by name ------------------------------------------------------------------

    def has(self, name: builtins.str) -> builtins.bool:
        self._seen.add(name)
        return self._params.get(name) is not None

    def raw(self, name: builtins.str, required: builtins.bool = False) -> Any:
        self._seen.add(name)
        value = self._params.get(name)
        if value is None and required:
            raise self.missing(name)
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
        return self._check(value, self.at(name), kind, label)

    def _check(
        self, value: object, where: builtins.str, kind: type | tuple[type, ...], label: builtins.str
    ) -> Any:
        is_bool = isinstance(value, builtins.bool)
        if not isinstance(value, kind) or (is_bool and kind is builtins.int):
            raise self.fail(
                f"Invalid type for parameter {where}, value: {value!r}, expected {label}"
            )
        return value

    @overload
    def str(self, name: builtins.str, required: Literal[True]) -> builtins.str: ...
    @overload
    def str(self, name: builtins.str, required: builtins.bool = False) -> builtins.str | None: ...
    def str(self, name: builtins.str, required: builtins.bool = False) -> builtins.str | None:
        """A string, of any length (`req_str` for a required, non-empty one)."""
        return self._typed(name, builtins.str, "a string", required)  # type: ignore[no-any-return]

    def req_str(self, name: builtins.str) -> builtins.str:
        """A required string of at least one character (botocore's length check)."""
        value = self.str(name, required=True)
        if value == "":
            raise self.fail(
                f"Invalid length for parameter {self.at(name)}, value: 0, valid min length: 1"
            )
        return value

    def int(
        self,
        name: builtins.str,
        required: builtins.bool = False,
        lo: builtins.int | None = None,
        hi: builtins.int | None = None,
    ) -> builtins.int | None:
        """An integer, `lo` and `hi` checked as botocore does before sending the call."""
        value = self._typed(name, builtins.int, "an integer", required)
        if value is not None:
            if lo is not None and value < lo:
                raise self.fail(
                    f"Invalid value for parameter {self.at(name)}, value: {value}, "
                    f"valid min value: {lo}"
                )
            if hi is not None and value > hi:
                raise self.fail(
                    f"Invalid value for parameter {self.at(name)}, value: {value}, "
                    f"valid max value: {hi}"
                )
        return value  # type: ignore[no-any-return]

    @overload
    def between(
        self, name: builtins.str, lo: builtins.int, hi: builtins.int, required: Literal[True]
    ) -> builtins.int: ...
    @overload
    def between(
        self,
        name: builtins.str,
        lo: builtins.int,
        hi: builtins.int,
        required: builtins.bool = False,
    ) -> builtins.int | None: ...
    def between(
        self,
        name: builtins.str,
        lo: builtins.int,
        hi: builtins.int,
        required: builtins.bool = False,
    ) -> builtins.int | None:
        """An integer in lo..hi, the range checked as the service answers (`as_integer`)."""
        value = self.raw(name, required)
        return None if value is None else self.as_integer(value, self.at(name), lo, hi)

    def bool(self, name: builtins.str) -> builtins.bool | None:
        return self._typed(name, builtins.bool, "a boolean", False)  # type: ignore[no-any-return]

    def list(
        self,
        name: builtins.str,
        required: builtins.bool = False,
        most: builtins.int | None = None,
    ) -> builtins.list[Any]:
        """A list; `most` is the service's limit on its items, checked before anything else
        is read from it (so a list of millions is refused at once)."""
        value = self._typed(name, (builtins.list, tuple), "a list", required)
        if value is None:
            return []
        if most is not None and len(value) > most:
            raise self.fail(f"{self.at(name)} can have at most {most} items.")
        return builtins.list(value)

    def dict(
        self, name: builtins.str, required: builtins.bool = False
    ) -> builtins.dict[builtins.str, Any]:
        value = self._typed(name, Mapping, "a structure", required)
        return builtins.dict(value) if value is not None else {}

    def strs(
        self,
        name: builtins.str,
        required: builtins.bool = False,
        most: builtins.int | None = None,
    ) -> builtins.list[builtins.str]:
        """A list of strings (at most `most`, see `list`); a wrong element is named by the
        list's path (`as_strings` names the element's)."""
        values = self.list(name, required, most)
        for v in values:
            self._check(v, self.at(name), builtins.str, "a string")
        return values

    @overload
    def structure(
        self, name: builtins.str, known: Collection[builtins.str] | None, required: Literal[True]
    ) -> Params: ...
    @overload
    def structure(
        self,
        name: builtins.str,
        known: Collection[builtins.str] | None,
        required: builtins.bool = False,
    ) -> Params | None: ...
    def structure(
        self,
        name: builtins.str,
        known: Collection[builtins.str] | None,
        required: builtins.bool = False,
    ) -> Params | None:
        """The structure `name` (`as_structure`), or None if it is not given."""
        value = self.raw(name, required)
        return None if value is None else self.as_structure(value, self.at(name), known)

    # --- values at a path -----------------------------------------------------------------

    def as_list(self, value: object, where: builtins.str) -> builtins.list[Any]:
        return builtins.list(self._check(value, where, (builtins.list, tuple), "a list"))

    def as_strings(self, value: object, where: builtins.str) -> builtins.list[builtins.str]:
        """A list of strings; a wrong element is named by its own path (`Values[1]`)."""
        return [
            self._check(v, f"{where}[{i}]", builtins.str, "a string")
            for i, v in enumerate(self.as_list(value, where))
        ]

    def as_integer(
        self, value: object, where: builtins.str, lo: builtins.int, hi: builtins.int
    ) -> builtins.int:
        """An integer in lo..hi; out of range, the service's answer (not botocore's)."""
        number: builtins.int = self._check(value, where, builtins.int, "an integer")
        if number < lo:
            raise self.fail(validation(number, where, f"greater than or equal to {lo}"))
        if number > hi:
            raise self.fail(validation(number, where, f"less than or equal to {hi}"))
        return number

    def as_structure(
        self, value: object, where: builtins.str, known: Collection[builtins.str] | None
    ) -> Params:
        """`value` as the structure at `where`, its members read through the `Params` answered.

        A member not in `known` is an error at once, the first in the order given (None:
        any member goes). The structure's own `done` is not needed.
        """
        members: Mapping[builtins.str, Any] = self._check(value, where, Mapping, "a structure")
        if known is not None:
            for key in members:
                if key not in known:
                    raise self.fail(f'Unknown parameter in {where}: "{key}"')
        return Params(self.operation, members, self._error, where=where, missing=self._missing)

    def as_enum(
        self, value: builtins.str, where: builtins.str, allowed: Collection[builtins.str]
    ) -> builtins.str:
        """`value` if it is one of `allowed`; `where` is the service's name for the member
        (`scheme`, `actions.1.member.type`)."""
        if value not in allowed:
            raise self.fail(
                f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
        return value

    # --- the names given ------------------------------------------------------------------

    def accept(self, *names: builtins.str) -> None:
        """Names the operation knows but does not model: `done` lets them pass unread."""
        self._accepted.update(names)

    def only(self, names: Collection[builtins.str]) -> None:
        """Reject now any name outside `names` (for operations that check names first)."""
        self._refuse(builtins.set(self._params) - builtins.set(names))

    def done(self, accepted: Iterable[builtins.str] = ()) -> None:
        """Reject names the operation does not know; `accepted` are known but not modelled."""
        self.accept(*accepted)
        self._refuse(builtins.set(self._params) - self._seen - self._accepted)

    def _refuse(self, unknown: builtins.set[builtins.str]) -> None:
        if unknown:
            raise self.fail(
                f'Unknown parameter in input: "{sorted(unknown)[0]}" for operation {self.operation}'
            )
