"""How every ECS operation pages its answers and names a bad ARN: one definition for the
facade and its parts (api.py and the operation groups beside it)."""

from __future__ import annotations

from ecsim.model import errors
from ecsim.model.aws.names import Names
from ecsim.model.aws.pages import Pages

# An ARN of another kind than the one asked for is an invalid identifier.
ARNS = Names(errors.InvalidParameterException, bad_arn="Invalid identifier: {arn}")


def pages(most: int) -> Pages:
    """`maxResults` items (at most `most`, the default too) from `nextToken`, an offset ecsim
    hands out; a token it did not hand out is `Invalid nextToken.`"""
    return Pages(
        "nextToken",
        "nextToken",
        size="maxResults",
        most=most,
        error=errors.InvalidParameterException,
        message="Invalid nextToken.",
        loose=True,
    )
