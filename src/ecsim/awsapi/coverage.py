"""Every served service's parameter declaration (model/aws/coverage.py), and the table
`docs/awsapi.md` shows of them ("What each parameter does"), written from the declarations:

    python -m ecsim.awsapi.coverage     # the table, to paste into docs/awsapi.md
"""

from __future__ import annotations

from collections.abc import Iterator

from ecsim.model.autoscaling.coverage import COVERAGE as APPLICATION_AUTOSCALING
from ecsim.model.aws.coverage import Coverage, Handling, Member
from ecsim.model.cloudwatch.coverage import COVERAGE as CLOUDWATCH
from ecsim.model.ec2.coverage import COVERAGE as EC2
from ecsim.model.ecs.coverage import COVERAGE as ECS
from ecsim.model.elbv2.coverage import COVERAGE as ELBV2
from ecsim.model.elbv2.coverage import LOAD_BALANCER_ATTRIBUTES

COVERAGES: dict[str, Coverage] = {
    c.service: c for c in (ECS, ELBV2, EC2, CLOUDWATCH, APPLICATION_AUTOSCALING)
}
TITLES = {
    "ecs": "ECS",
    "elbv2": "ELBv2",
    "ec2": "EC2",
    "cloudwatch": "CloudWatch",
    "application-autoscaling": "Application Auto Scaling",
}


def rows() -> Iterator[tuple[str, str, list[Member]]]:
    """(service, operation, members) with the same handling and note, in declaration order;
    ModifyLoadBalancerAttributes' attributes after ELBv2's operations."""
    for name, coverage in COVERAGES.items():
        for operation in sorted(coverage.operations):
            yield from _grouped(name, operation, list(coverage.members(operation).values()))
        if name == "elbv2":
            attributes = list(LOAD_BALANCER_ATTRIBUTES.values())
            yield from _grouped(name, "ModifyLoadBalancerAttributes: Attributes", attributes)


def _grouped(
    service: str, operation: str, members: list[Member]
) -> Iterator[tuple[str, str, list[Member]]]:
    group: list[Member] = []
    for member in members:
        if group and (member.handling, member.note) != (group[0].handling, group[0].note):
            yield service, operation, group
            group = []
        group.append(member)
    if group:
        yield service, operation, group


def markdown() -> str:
    """The table of docs/awsapi.md: operation, members, what ecsim does, where it shows or
    why (a refused member: what passes)."""
    lines = [
        "| service | operation | member | ecsim | where it shows, or why |",
        "|---|---|---|---|---|",
    ]
    for service, operation, members in rows():
        first = members[0]
        why = first.note
        if first.handling is Handling.REFUSED:
            why += "; passes: " + first.default
        names = ", ".join(f"`{m.path}`" for m in members)
        lines.append(
            f"| {TITLES[service]} | {operation} | {names} | {first.handling.value} | {why} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
