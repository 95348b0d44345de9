"""EC2 task placement: strategies and constraints (reference 2.9).

Sources: ECS Developer Guide "How Amazon ECS places tasks on container instances"
(`task-placement.html`), "Use strategies to define Amazon ECS task placement"
(`task-placement-strategies.html`), "task placement constraints"
(`task-placement-constraints.html`), "Create expressions to define container instances"
(`cluster-query-language.html`); API reference of PlacementStrategy, PlacementConstraint,
TaskDefinitionPlacementConstraint, CreateService, UpdateService, RunTask (botocore
ecs/2014-11-13).

AWS's process, as the guide gives it: (1) the container instances whose CPU and memory fit
the task, (2) those that satisfy the placement constraints, (3) the placement strategy rules
in order, (4) pick one. Constraints are binding (no instance left: the task is not placed);
strategies are best effort (they only order the candidates, never leave none). Each rule here
narrows the candidates to those it ranks best; what is left after the last rule is settled by
the instances' registration order (ecsim's choice, AWS does not say).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.ecs.enums import LaunchType

if TYPE_CHECKING:
    import random

    from ecsim.model.ecs.cluster import ContainerInstance
    from ecsim.model.ecs.task import Task

MAX_STRATEGY_RULES = 5  # "a maximum of 5 strategy rules" (CreateService, RunTask)
MAX_CONSTRAINTS = 10  # "a maximum of 10 constraints for each task", definition + runtime
MAX_EXPRESSION = 2000  # PlacementConstraint.expression: "a maximum length of 2000 characters"
STRATEGY_TYPES = ("random", "spread", "binpack")
CONSTRAINT_TYPES = ("distinctInstance", "memberOf")
BINPACK_FIELDS = ("cpu", "memory")
AZ = "attribute:ecs.availability-zone"
INSTANCE_TYPE = "attribute:ecs.instance-type"

# ECS's own default for a service ("the task placement strategy is spread using the
# attribute:ecs.availability-zone"), then instances: ecsim's placement before strategies
# were modelled, used for standalone tasks too.
DEFAULT_STRATEGY: tuple[dict[str, str], ...] = (
    {"type": "spread", "field": AZ},
    {"type": "spread", "field": "instanceId"},
)

SUPPORTED_QUERY = (
    "ecsim models memberOf expressions on attribute:ecs.availability-zone, "
    "attribute:ecs.instance-type (or any other attribute:<name>, which ecsim's instances "
    "lack) and ec2InstanceId, with ==, !=, in, !in / not_in, =~, !~, exists, !exists, "
    "combined with and / &&, or / ||, not / ! and parentheses"
)


# --- validation --------------------------------------------------------------------------


def check_strategy(raw: Any) -> list[dict[str, str]]:
    """The placementStrategy of CreateService, UpdateService or RunTask, as given."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise errors.InvalidParameterException("placementStrategy must be a list.")
    if len(raw) > MAX_STRATEGY_RULES:
        raise errors.InvalidParameterException(
            f"placementStrategy can have at most {MAX_STRATEGY_RULES} items."
        )
    out = []
    for rule in raw:
        if not isinstance(rule, dict):
            raise errors.InvalidParameterException(
                "Each placementStrategy item must be a structure."
            )
        kind = rule.get("type")
        field = rule.get("field")
        if kind not in STRATEGY_TYPES:
            raise errors.InvalidParameterException(
                f"Invalid placement strategy type {kind!r}: valid values are random, spread, "
                "binpack."
            )
        if field is not None and not isinstance(field, str):
            raise errors.InvalidParameterException("placementStrategy field must be a string.")
        if kind == "binpack" and field not in BINPACK_FIELDS:
            raise errors.InvalidParameterException(
                f"Invalid field {field!r} for the binpack placement strategy: valid values are "
                "cpu and memory."
            )
        if kind == "spread" and not _spread_field(field):
            raise errors.InvalidParameterException(
                f"Invalid field {field!r} for the spread placement strategy: valid values are "
                "instanceId, host or attribute:<name>."
            )
        shape = {"type": kind}
        if field is not None:
            shape["field"] = field
        out.append(shape)
    return out


def _spread_field(field: str | None) -> bool:
    return field is not None and (
        field in ("instanceId", "host")
        or (field.startswith("attribute:") and len(field) > len("attribute:"))
    )


def check_constraints(raw: Any, task_definition: bool = False) -> list[dict[str, str]]:
    """placementConstraints of a call, or of RegisterTaskDefinition (memberOf only there:
    TaskDefinitionPlacementConstraint.type has no distinctInstance)."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise errors.InvalidParameterException("placementConstraints must be a list.")
    if len(raw) > MAX_CONSTRAINTS:
        raise errors.InvalidParameterException(
            f"placementConstraints can have at most {MAX_CONSTRAINTS} items."
        )
    out = []
    for c in raw:
        if not isinstance(c, dict):
            raise errors.InvalidParameterException(
                "Each placementConstraints item must be a structure."
            )
        kind = c.get("type")
        expression = c.get("expression")
        if task_definition and kind == "distinctInstance":
            raise errors.ClientException(
                "The distinctInstance placement constraint is not supported in task "
                "definitions; specify it in CreateService or RunTask."
            )
        if kind not in CONSTRAINT_TYPES:
            valid = "memberOf" if task_definition else "distinctInstance, memberOf"
            raise errors.InvalidParameterException(
                f"Invalid placement constraint type {kind!r}: valid values are {valid}."
            )
        if kind == "distinctInstance":
            if expression:
                raise errors.InvalidParameterException(
                    "You can't specify an expression if the constraint type is distinctInstance."
                )
            out.append({"type": kind})
            continue
        if not isinstance(expression, str) or not expression.strip():
            raise errors.InvalidParameterException(
                "A memberOf placement constraint requires an expression."
            )
        if len(expression) > MAX_EXPRESSION:
            raise errors.InvalidParameterException(
                f"The expression can have a maximum length of {MAX_EXPRESSION} characters."
            )
        parse(expression)
        out.append({"type": kind, "expression": expression})
    return out


def check_for_launch(
    launch_type: LaunchType,
    strategy: Sequence[dict[str, str]],
    constraints: Sequence[dict[str, str]],
    td_constraints: Sequence[dict[str, str]],
) -> None:
    """Fargate has no container instances to choose: AWS refuses strategies and constraints
    there (`Placement strategies are not supported with FARGATE launch type.`, OBS). The
    limit of 10 constraints counts the task definition's too."""
    if launch_type is LaunchType.FARGATE:
        if strategy:
            raise errors.InvalidParameterException(
                "Placement strategies are not supported with FARGATE launch type."
            )
        if constraints or td_constraints:
            raise errors.InvalidParameterException(
                "Placement constraints are not supported with FARGATE launch type."
            )
    if len(constraints) + len(td_constraints) > MAX_CONSTRAINTS:
        raise errors.InvalidParameterException(
            f"A task can have at most {MAX_CONSTRAINTS} placement constraints, counting the "
            "task definition's."
        )


# --- choosing an instance ----------------------------------------------------------------


def select(
    candidates: list[ContainerInstance],
    peers: Sequence[Task],
    strategy: Sequence[dict[str, str]] | None,
    constraints: Sequence[dict[str, str]],
    rng: random.Random,
) -> ContainerInstance | str:
    """The instance for the next task of a group, among `candidates` (ACTIVE, connected, with
    room, in registration order), or why none satisfies the constraints. `peers` are the
    group's tasks that count (not stopped)."""
    for c in constraints:
        if c["type"] == "distinctInstance":
            taken = {t.container_instance.arn for t in peers if t.container_instance is not None}
            kept = [i for i in candidates if i.arn not in taken]
            name = "DistinctInstance"
        else:
            query = parse(c["expression"])
            kept = [i for i in candidates if query(i)]
            name = "MemberOf"
        if not kept:
            return (
                f"The closest matching (container-instance {candidates[0].id}) encountered "
                f'error "{name} placement constraint unsatisfied".'
            )
        candidates = kept
    rules = DEFAULT_STRATEGY if strategy is None else strategy
    for rule in rules:
        if len(candidates) == 1:
            break
        kind = rule["type"]
        if kind == "random":
            candidates = [candidates[rng.randrange(len(candidates))]]
        elif kind == "binpack":
            left = {i.arn: _remaining(i, rule["field"]) for i in candidates}
            least = min(left.values())
            candidates = [i for i in candidates if left[i.arn] == least]
        else:
            field = rule["field"]
            counts = Counter(_task_value(t, field) for t in peers)
            fewest = min(counts[_instance_value(i, field)] for i in candidates)
            candidates = [i for i in candidates if counts[_instance_value(i, field)] == fewest]
    return candidates[0]


def _remaining(i: ContainerInstance, field: str) -> int:
    return i.cpu - i.used_cpu if field == "cpu" else i.memory - i.used_memory


def _instance_value(i: ContainerInstance, field: str) -> str | None:
    if field in ("instanceId", "host"):
        return i.arn
    return attribute(i, field)


def _task_value(t: Task, field: str) -> str | None:
    if field == AZ:
        return t.az  # where the task is, whatever happened to its instance since
    if t.container_instance is None:
        return None
    return _instance_value(t.container_instance, field)


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


# --- the cluster query language (memberOf expressions) -----------------------------------

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
