"""Client tokens: the same call again, with the same token, answers what the first one did.

"An idempotent request completes no more than one time": a retry of RunTask, RunInstances or
CreateService with the token of a call that succeeded gets that call's resources back rather
than new ones; the same token with other parameters is refused (EC2:
`IdempotentParameterMismatch`). botocore fills RunTask's and RunInstances' token with a fresh
UUID when the caller gives none, so only a caller's own retry repeats one. Tokens are kept for
the world's life (AWS keeps them for hours at least; a world seldom lives longer).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ecsim.model.errors import AwsError


class ClientTokens:
    """The tokens of one service's calls: (operation, token) -> (parameters, what was made)."""

    def __init__(self, mismatch: Callable[[str], AwsError]) -> None:
        self._mismatch = mismatch
        self._made: dict[tuple[str, str], tuple[str, list[str]]] = {}

    def recall(
        self, operation: str, token: str | None, params: Mapping[str, Any]
    ) -> list[str] | None:
        """What the call with `token` made (IDs or ARNs), or None for a new token; an error
        if the token went with other parameters."""
        if token is None:
            return None
        made = self._made.get((operation, token))
        if made is None:
            return None
        if made[0] != _fingerprint(params):
            raise self._mismatch(
                f"The client token {token} was already used with other parameters for {operation}."
            )
        return list(made[1])

    def keep(
        self, operation: str, token: str | None, params: Mapping[str, Any], made: list[str]
    ) -> None:
        if token is not None:
            self._made[(operation, token)] = (_fingerprint(params), list(made))


def _fingerprint(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=repr)
