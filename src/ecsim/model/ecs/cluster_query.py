"""The cluster query language of `memberOf` placement constraints, the subset ecsim models
(docs/behaviour.md, "Task placement"; ECS Developer Guide "Create expressions to define container
instances for
Amazon ECS tasks", `cluster-query-language.html`): an expression becomes a test of a container
instance."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecsim.model import errors

if TYPE_CHECKING:
    from ecsim.model.ecs.cluster import ContainerInstance

AZ = "attribute:ecs.availability-zone"
INSTANCE_TYPE = "attribute:ecs.instance-type"
SUPPORTED_QUERY = (
    "ecsim models memberOf expressions on attribute:ecs.availability-zone, "
    "attribute:ecs.instance-type (or any other attribute:<name>, which ecsim's instances "
    "lack) and ec2InstanceId, with ==, !=, in, !in / not_in, =~, !~, exists, !exists, "
    "combined with and / &&, or / ||, not / ! and parentheses"
)


def attribute(i: ContainerInstance, subject: str) -> str | None:
    """An instance's value for `attribute:<name>` or `ec2InstanceId`; None if it has none
    (ecsim's instances carry the two attributes DescribeContainerInstances shows)."""
    if subject == AZ:
        return i.az
    if subject == INSTANCE_TYPE:
        return i.instance_type
    if subject == "ec2InstanceId":
        return i.instance_id
    return None


Query = Callable[["ContainerInstance"], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>==|!=|=~|!~|>=|<=|&&|\|\||[()\[\],!<>])
      | '(?P<sq>[^']*)' | "(?P<dq>[^"]*)"
      | (?P<word>[^\s()\[\],'"=!~&|<>]+)
    )""",
    re.VERBOSE,
)
_PUNCT = frozenset("()[],!")
_UNSUPPORTED_SUBJECTS = (
    "agentConnected",
    "agentVersion",
    "registeredAt",
    "runningTasksCount",
    "task:group",
)


@dataclass(frozen=True)
class _Tok:
    text: str
    quoted: bool = False


def _tokens(expression: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(expression):
        if expression[pos:].strip() == "":
            break
        m = _TOKEN.match(expression, pos)
        if m is None or m.end() == pos:
            raise _bad(expression)
        if m.group("op") is not None:
            out.append(_Tok(m.group("op")))
        elif m.group("word") is not None:
            out.append(_Tok(m.group("word")))
        else:
            text = m.group("sq") if m.group("sq") is not None else m.group("dq")
            out.append(_Tok(text, quoted=True))
        pos = m.end()
    return out


def _bad(expression: str) -> errors.AwsError:
    return errors.InvalidParameterException(
        f"Invalid placement constraint expression: {expression!r}."
    )


def parse(expression: str) -> Query:
    """A memberOf expression as a test of a container instance.

    Raises InvalidParameterException for a malformed expression and
    UnsupportedFeatureException for subjects or operators ecsim does not model."""
    return _Parser(expression).parse()


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.toks = _tokens(expression)
        self.pos = 0

    def parse(self) -> Query:
        query = self._or()
        if self.pos != len(self.toks):
            raise _bad(self.expression)
        return query

    def _peek(self, ahead: int = 0) -> _Tok | None:
        i = self.pos + ahead
        return self.toks[i] if i < len(self.toks) else None

    def _next(self) -> _Tok:
        tok = self._peek()
        if tok is None:
            raise _bad(self.expression)
        self.pos += 1
        return tok

    def _is(self, *words: str) -> bool:
        tok = self._peek()
        return tok is not None and not tok.quoted and tok.text in words

    def _or(self) -> Query:
        parts = [self._and()]
        while self._is("or", "||"):
            self.pos += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda i: any(p(i) for p in parts)

    def _and(self) -> Query:
        parts = [self._unary()]
        while self._is("and", "&&"):
            self.pos += 1
            parts.append(self._unary())
        if len(parts) == 1:
            return parts[0]
        return lambda i: all(p(i) for p in parts)

    def _unary(self) -> Query:
        if self._is("not", "!"):
            self.pos += 1
            inner = self._unary()
            return lambda i: not inner(i)
        if self._is("("):
            self.pos += 1
            inner = self._or()
            if not self._is(")"):
                raise _bad(self.expression)
            self.pos += 1
            return inner
        return self._comparison()

    def _comparison(self) -> Query:
        subject = self._next()
        if subject.quoted or subject.text in _PUNCT:
            raise _bad(self.expression)
        name = subject.text
        if name in _UNSUPPORTED_SUBJECTS or not (
            name.startswith("attribute:") or name == "ec2InstanceId"
        ):
            if name in _UNSUPPORTED_SUBJECTS:
                raise errors.UnsupportedFeatureException(
                    f"The subject {name} is not modelled: {SUPPORTED_QUERY}."
                )
            raise _bad(self.expression)
        op = self._next()
        if op.quoted:
            raise _bad(self.expression)
        text = op.text
        if text == "!" and self._is("exists", "in"):
            text = "!" + self._next().text
        if text == "!exists":
            return lambda i: attribute(i, name) is None
        if text == "exists":
            return lambda i: attribute(i, name) is not None
        if text in ("!in", "not_in"):
            text = "!in"
        if text in (">", ">=", "<", "<="):
            raise errors.UnsupportedFeatureException(
                f"The operator {text} is not modelled: {SUPPORTED_QUERY}."
            )
        if text in ("in", "!in"):
            values = self._list()
            inside = text == "in"
            return lambda i: (attribute(i, name) in values) == inside
        if text not in ("==", "!=", "=~", "!~"):
            raise _bad(self.expression)
        arg = self._next()
        if not arg.quoted and arg.text in _PUNCT:
            raise _bad(self.expression)
        value = arg.text
        if text in ("==", "!="):
            equal = text == "=="
            return lambda i: (attribute(i, name) == value) == equal
        try:
            pattern = re.compile(value)
        except re.error:
            raise _bad(self.expression) from None
        match = text == "=~"

        def matches(i: ContainerInstance) -> bool:
            v = attribute(i, name)
            return (v is not None and pattern.fullmatch(v) is not None) == match

        return matches

    def _list(self) -> frozenset[str]:
        if not self._is("["):
            raise _bad(self.expression)
        self.pos += 1
        values: list[str] = []
        while True:
            tok = self._next()
            if tok.quoted or tok.text not in _PUNCT:
                values.append(tok.text)
            else:
                raise _bad(self.expression)
            sep = self._next()
            if sep.text == "]" and not sep.quoted:
                return frozenset(values)
            if sep.text != "," or sep.quoted:
                raise _bad(self.expression)
