"""Tags: the key-value labels every ECS, ELBv2 and EC2 resource can carry, kept by ARN
(docs/behaviour.md, "Tags").

One `TagStore` per service, owned by its backend, so a resource's tags have one writer.
AWS's rules are the same across the three services (at most 50 user tags per resource, keys
1 to 128 characters, values up to 256, the `aws:` prefix reserved for AWS and not counted);
each facade says them in its own service's error codes and wording.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecsim.model.aws.params import Params

TAGS_PER_RESOURCE = 50  # "Maximum number of tags per resource - 50"
TAG_KEY_LENGTH = 128  # "Maximum key length - 128 Unicode characters in UTF-8"
TAG_VALUE_LENGTH = 256  # "Maximum value length - 256 Unicode characters in UTF-8"
TAG_SYMBOLS = "_.:/=+-@"  # besides letters, numbers and spaces (Unicode L, N and Z)
TAG_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"  # botocore's TagKey and TagValue pattern
RESERVED_PREFIX = "aws:"  # in any case: "aws:, AWS:, or any upper or lowercase combination"
# EC2's words for a key with that prefix; ECS and ELBv2 say the same in ecsim
RESERVED_MESSAGE = "Tag keys starting with 'aws:' are reserved for internal use"


def tag_text(text: str) -> bool:
    """Whether `text` is made only of the characters AWS allows in a tag."""
    return all(
        ch.isalnum() or ch in TAG_SYMBOLS or unicodedata.category(ch).startswith("Z") for ch in text
    )


def check_tag(p: Params, i: int, key: str, value: str) -> None:
    """Refuse tag `i` (from 1) of a call when its key or value breaks AWS's constraints: the
    lengths and the characters, in AWS's validation wording (`tags.N.member.key`), then the
    `aws:` prefix."""
    for field, text, lo, hi in (
        ("key", key, 1, TAG_KEY_LENGTH),
        ("value", value, 0, TAG_VALUE_LENGTH),
    ):
        if not lo <= len(text) <= hi:
            bound = (
                f"greater than or equal to {lo}"
                if len(text) < lo
                else f"less than or equal to {hi}"
            )
            broken = f"Member must have length {bound}"
        elif not tag_text(text):
            broken = f"Member must satisfy regular expression pattern: {TAG_PATTERN}"
        else:
            continue
        raise p.fail(
            f"1 validation error detected: Value at 'tags.{i}.member.{field}' failed to "
            f"satisfy constraint: {broken}"
        )
    if reserved(key):
        raise p.fail(RESERVED_MESSAGE)


def reserved(key: str) -> bool:
    """Whether `key` has the prefix AWS keeps for its own tags."""
    return key[: len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX


class TagStore:
    """The tags of one service's resources, by ARN, in the order their keys were first set."""

    def __init__(self) -> None:
        self._by_arn: dict[str, dict[str, str]] = {}

    def of(self, arn: str) -> dict[str, str]:
        """The tags of `arn` (a copy; empty when it has none)."""
        return dict(self._by_arn.get(arn, {}))

    def user_count_after(self, arn: str, tags: Mapping[str, str]) -> int:
        """How many tags that count against the quota `arn` would have with `tags` added."""
        keys = set(self._by_arn.get(arn, {})) | set(tags)
        return sum(1 for k in keys if not reserved(k))

    def set(self, arn: str, tags: Mapping[str, str]) -> None:
        """Add `tags` to `arn`; a key it already has takes the new value."""
        if tags:
            self._by_arn.setdefault(arn, {}).update(tags)

    def remove(self, arn: str, keys: Iterable[str]) -> None:
        """Remove `keys` from `arn`'s tags; a key it does not have is no error."""
        current = self._by_arn.get(arn)
        if current is None:
            return
        for key in keys:
            current.pop(key, None)
        if not current:
            del self._by_arn[arn]

    def drop(self, arn: str) -> None:
        """`arn` was deleted: "the tags that are associated with that resource are deleted"."""
        self._by_arn.pop(arn, None)
