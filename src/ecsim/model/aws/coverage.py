"""What ecsim does with each parameter of each operation it serves: declared once.

Every member of the input shape of every served operation (botocore's model) is one of:

- MODELLED: read, and it changes the world or the answer; the note says where that shows.
- REFUSED: a value other than AWS's default would make AWS behave differently from what
  ecsim can show, so it is refused with the service's own error code, in a message naming
  the parameter (AWS's default passes: it changes nothing). The note says why.
- NO_EFFECT: AWS itself gives it no effect ecsim could show (a page size where everything
  fits in one page, a setting of something ecsim has none of); read and let pass. The note
  says why.

Each service's facade declares its table (`<service>/coverage.py`) and calls
`Coverage.screen` first thing in an operation, before any lookup: the refusals are the
table's, and so are the `docs/awsapi.md` table ("What each parameter does") and the
parameter walk (`tests/test_parameter_coverage.py`), so none of the three can drift from
the others. Nothing is accepted and ignored (issue 17, point 6).

A member is named by its path: `deploymentConfiguration.alarms` is a member of a
structure, `loadBalancers[].advancedConfiguration` one of each item of a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ecsim.model.aws.params import Params
from ecsim.model.errors import AwsError


class Handling(StrEnum):
    MODELLED = "modelled"
    REFUSED = "refused"
    NO_EFFECT = "no effect"


Passes = Callable[[Any], bool]


def absent(value: Any) -> bool:
    """AWS's default for most members: not given, or given empty (`[]`, `{}`, `""`, false)."""
    return value is None or value is False or value in ("", [], {}, ())


def one_of(*defaults: Any) -> Passes:
    """Absent, or one of `defaults` (`ROLLING`, `LATEST`)."""
    return lambda value: absent(value) or value in defaults


def off(key: str) -> Passes:
    """Absent, or a structure holding only `key`, false (`{"Enabled": false}`)."""

    def passes(value: Any) -> bool:
        return absent(value) or (
            isinstance(value, Mapping) and set(value) <= {key} and not value.get(key)
        )

    return passes


@dataclass(frozen=True)
class Member:
    """One member of an operation's input, and what ecsim does with it."""

    path: str
    handling: Handling
    note: str  # where its effect shows (MODELLED), or why it is refused / has no effect
    passes: Passes = absent  # REFUSED: the values that change nothing (AWS's defaults)
    # REFUSED: a value of the top-level member holding it that is refused (the parameter
    # walk sends it)
    example: Any = None
    default: str = "absent"  # REFUSED: the values that pass, in words (docs/awsapi.md)


def modelled(paths: str, note: str) -> list[Member]:
    """MODELLED members: `paths` is one or more paths, separated by spaces."""
    return [Member(path, Handling.MODELLED, note) for path in paths.split()]


def no_effect(paths: str, note: str) -> list[Member]:
    return [Member(path, Handling.NO_EFFECT, note) for path in paths.split()]


def refused(
    path: str, note: str, example: Any, passes: Passes = absent, default: str = "absent"
) -> list[Member]:
    """A REFUSED member: `example` is refused, what `passes` lets through (words: `default`)
    changes nothing."""
    return [Member(path, Handling.REFUSED, note, passes, example, default)]


class Coverage:
    """One service's declaration: its operations' members, and the error for a refusal."""

    def __init__(
        self,
        service: str,
        error: Callable[[str], AwsError],
        operations: Mapping[str, list[Member]],
    ) -> None:
        self.service = service  # botocore's name: ecs, elbv2, ec2, cloudwatch, ...
        self.error = error
        self.operations = {op: {m.path: m for m in members} for op, members in operations.items()}

    def members(self, operation: str) -> dict[str, Member]:
        return self.operations[operation]

    def screen(self, p: Params) -> None:
        """Refuse, before anything else is read, a REFUSED member of `p`'s operation given
        a value other than AWS's default; let the NO_EFFECT ones pass (`p.done` then sees
        them read). Values of the wrong type are left to the facade's own checks."""
        for member in self.operations[p.operation].values():
            if member.handling is Handling.MODELLED:
                continue
            head = member.path.split(".", 1)[0].removesuffix("[]")
            if member.handling is Handling.NO_EFFECT:
                if "." not in member.path:
                    p.raw(head)
                continue
            for where, value in values_at(p.raw(head), head, member.path):
                if not member.passes(value):
                    raise self.error(refusal(where, member))


def refusal(where: str, member: Member, kind: str = "parameter") -> str:
    """The message of a refusal: it names the parameter, says why and what passes."""
    passing = "" if member.default == "absent" else f" ({member.default})"
    return (
        f"ecsim does not model the {kind} {where}: {member.note}. Leave it out, or give "
        f"AWS's default{passing}."
    )


def values_at(value: Any, where: str, path: str) -> Iterator[tuple[str, Any]]:
    """The values at `path`, `value` being that of its first part (found at `where`), each
    with its own path (`loadBalancers[1].advancedConfiguration`); parts of the wrong type
    are skipped."""
    head, _, rest = path.partition(".")
    items = (
        [(f"{where}[{i}]", item) for i, item in enumerate(value)]
        if head.endswith("[]") and isinstance(value, list | tuple)
        else []
        if head.endswith("[]")
        else [(where, value)]
    )
    for at, item in items:
        if not rest:
            yield at, item
        elif isinstance(item, Mapping):
            name = rest.partition(".")[0].removesuffix("[]")
            yield from values_at(item.get(name), f"{at}.{name}", rest)
