"""Names and ARNs as the facades read them (docs/behaviour.md, "ARN and ID formats").

    resource("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc")
        -> "targetgroup/web/73e2d6bc"
    resource_id(<a load balancer ARN>) -> "app/web/83ce705e"   (the CloudWatch dimension)
    tail("arn:aws:ecs:us-east-1:123456789012:service/home/web") -> "web"

A service's own rules and wording for the names and ARNs it is given are a `Names`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecsim.model.errors import AwsError


def resource(arn: str) -> str:
    """The resource of an ARN, all after its fifth colon (`targetgroup/web/73e2d6bc`)."""
    return arn.split(":", 5)[-1]


def resource_id(arn: str) -> str:
    """The resource without its type: `app/web/83ce705e` of a load balancer's ARN."""
    return resource(arn).split("/", 1)[1]


def tail(ref: str) -> str:
    """The last path element: the name or ID an ARN ends with; a plain name is itself."""
    return ref.rsplit("/", 1)[-1]


def is_arn(value: str, kind: str) -> bool:
    """Whether `value` is an ARN that names a `kind` resource (`arn:...:targetgroup/...`)."""
    return value.startswith("arn:") and f":{kind}/" in value


NameRule = tuple[Callable[[str], object], str]


@dataclass(frozen=True)
class Names:
    """How one service checks the names and ARNs it is given, and says what is wrong.

    `rules` are (test, message) pairs: a name must pass every test, in order; the message
    of the first it fails has `{name}` and the fields given to `check`. `bad_arn` is the
    message for a string that is no ARN of the kind asked for, with `{arn}` and the fields
    given to `check_arn`.
    """

    error: Callable[[str], AwsError]
    rules: tuple[NameRule, ...] = ()
    bad_arn: str = ""

    def check(self, name: str, **fields: str) -> str:
        """`name`, if it follows the rules."""
        for test, message in self.rules:
            if not test(name):
                raise self.error(message.format(name=name, **fields))
        return name

    def check_arn(self, value: str, kind: str, **fields: str) -> str:
        """`value`, if it is an ARN of a `kind` resource (`is_arn`)."""
        if not is_arn(value, kind):
            raise self.error(self.bad_arn.format(arn=value, **fields))
        return value

    def name_in(self, ref: str, kind: str) -> str:
        """The name or ID `ref` gives: `ref` itself, or the tail of an ARN whose resource is
        of type `kind` (`cluster/home` for a cluster); an ARN of anything else is refused."""
        if not ref.startswith("arn:"):
            return ref
        if ref.count(":") < 5 or not resource(ref).startswith(kind + "/"):
            raise self.error(self.bad_arn.format(arn=ref))
        return tail(resource(ref))
