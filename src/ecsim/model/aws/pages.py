"""Paging the answers of List and Describe calls: one paginator for every service.

Each service names its paging parameters its own way and has its own limits and its own
error for a token it did not hand out; a `Pages` holds one service's choices:

    ECS                       nextToken / maxResults (1-100)          InvalidParameterException
    ELBv2                     Marker / PageSize (1-400), NextMarker   ValidationError
    Application Auto Scaling  NextToken / MaxResults (1-50)           InvalidNextTokenException

The token ecsim hands out is the offset of the page's first item. An operation may also
answer everything in one page (`most` None): EC2's describe calls accept `NextToken` and
`MaxResults` and ignore them; CloudWatch refuses any token, having handed none out.

    page = PAGES.read(p)        # with the other parameters, before p.done()
    return page.of(items, "clusterArns")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ecsim.model.aws.params import Params
from ecsim.model.errors import AwsError

_T = TypeVar("_T")


@dataclass(frozen=True)
class Pages:
    """How one service pages: its parameter and answer names, limits and error."""

    token: str  # the request parameter saying where the page starts
    next_token: str  # the answer's key for the token of the next page
    size: str | None = None  # the request parameter for the page size
    most: int | None = None  # the largest page size, and the default; None: all in one page
    error: Callable[[str], AwsError] | None = None  # a bad token's error, from its message
    message: str = ""  # that message; "{token}" stands for the token
    loose: bool = False  # a token is what int() reads ("-1", " 2"); else decimal digits
    strict: bool = False  # an empty token, or one past the last item, is bad too

    def read(self, p: Params, default: int | None = None) -> Page:
        """The page asked for; a size out of range or a malformed token fails the call.

        `default` is the size when none is asked for, if not `most` (ECS ListServices: 10).
        With one page only, a token is refused (if the service has an error for it) or let
        pass unread.
        """
        if self.most is None:
            if self.error is None:
                p.accept(self.token, *([self.size] if self.size is not None else []))
            else:
                given = p.raw(self.token)
                if given:
                    raise self.bad(given)
            return Page(self, None, 0, None)
        assert self.size is not None
        size = p.int(self.size, lo=1, hi=self.most) or default or self.most
        token = p.str(self.token)
        return Page(self, size, self._offset(token), token)

    def bad(self, token: object) -> AwsError:
        assert self.error is not None
        return self.error(self.message.format(token=token))

    def _offset(self, token: str | None) -> int:
        if token is None or (token == "" and not self.strict):
            return 0
        if self.loose:
            try:
                return int(token)
            except ValueError:
                raise self.bad(token) from None
        if not (token.isascii() and token.isdigit()) or len(token) > 18:  # int() of "²" or
            raise self.bad(token)  # of 5,000 digits raises ValueError
        return int(token)


@dataclass(frozen=True)
class Page:
    """One page of an answer: `size` items (None: all) from offset `start`."""

    pages: Pages
    size: int | None
    start: int
    token: str | None  # as given

    def of(
        self, items: Sequence[_T], key: str, shape: Callable[[_T], Any] | None = None
    ) -> dict[str, Any]:
        """The answer: this page of `items` under `key` (each through `shape`), and the
        next page's token unless it is the last."""
        if self.pages.strict and self.token is not None and self.start > len(items):
            raise self.pages.bad(self.token)
        end = len(items) if self.size is None else self.start + self.size
        rows = items[self.start : end]
        out: dict[str, Any] = {key: list(rows) if shape is None else [shape(x) for x in rows]}
        if end < len(items):
            out[self.pages.next_token] = str(end)
        return out
