"""EC2 task placement: strategies and constraints (docs/behaviour.md, "Task placement").

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

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.ecs.cluster_query import AZ, attribute, parse
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

# ECS's own default for a service ("the task placement strategy is spread using the
# attribute:ecs.availability-zone"), then instances: ecsim's placement before strategies
# were modelled, used for standalone tasks too.
DEFAULT_STRATEGY: tuple[dict[str, str], ...] = (
    {"type": "spread", "field": AZ},
    {"type": "spread", "field": "instanceId"},
)


# --- validation --------------------------------------------------------------------------


def _items(raw: Any, name: str, most: int) -> list[dict[str, Any]]:
    """A list parameter of at most `most` structures (None: empty)."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise errors.InvalidParameterException(f"{name} must be a list.")
    if len(raw) > most:
        raise errors.InvalidParameterException(f"{name} can have at most {most} items.")
    for item in raw:
        if not isinstance(item, dict):
            raise errors.InvalidParameterException(f"Each {name} item must be a structure.")
    return list(raw)


def check_strategy(raw: Any) -> list[dict[str, str]]:
    """The placementStrategy of CreateService, UpdateService or RunTask, as given."""
    out = []
    for rule in _items(raw, "placementStrategy", MAX_STRATEGY_RULES):
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
    out = []
    for c in _items(raw, "placementConstraints", MAX_CONSTRAINTS):
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


def stop_order(
    tasks: Sequence[Task], strategy: Sequence[dict[str, str]] | None, rng: random.Random
) -> list[Task]:
    """The order in which a service stops these RUNNING tasks when it scales in: the
    placement strategy decides "how Amazon ECS places and terminates tasks" (ECS Developer
    Guide, task-placement-strategies). One task at a time, each rule narrowing the
    candidates: spread stops where the most of the remaining tasks share the field's value
    (keeping the values balanced); binpack stops the task whose instance has the most of the
    resource left once it is gone; random picks at random. Without a strategy: ECS's default
    for services (AZ spread, then instance). Ties: the newest task (AWS picks at random
    within an AZ; ecsim's choice keeps runs without a random strategy free of draws)."""
    rules = strategy or DEFAULT_STRATEGY
    left = list(tasks)
    freed: Counter[str] = Counter()  # resources of the tasks already chosen, per instance
    order: list[Task] = []
    while left:
        candidates = left
        for rule in rules:
            if len(candidates) == 1:
                break
            kind, field = rule["type"], rule.get("field", "")
            if kind == "random":
                candidates = [candidates[rng.randrange(len(candidates))]]
            elif kind == "binpack":
                after = {id(t): _left_after(t, field, freed) for t in candidates}
                most = max(after.values())
                candidates = [t for t in candidates if after[id(t)] == most]
            else:
                counts = Counter(_task_value(t, field) for t in left)
                most = max(counts[_task_value(t, field)] for t in candidates)
                candidates = [t for t in candidates if counts[_task_value(t, field)] == most]
        task = max(candidates, key=lambda t: t.times.get("createdAt", 0.0))
        left.remove(task)
        order.append(task)
        if task.container_instance is not None:
            for field in BINPACK_FIELDS:
                freed[f"{task.container_instance.arn} {field}"] += _uses(task, field)
    return order


def _uses(t: Task, field: str) -> int:
    td = t.task_definition
    return td.task_cpu() if field == "cpu" else td.task_memory()


def _left_after(t: Task, field: str, freed: Counter[str]) -> int:
    """What t's instance has left of `field` once t and the tasks chosen before it stop."""
    ci = t.container_instance
    if ci is None:
        return 0
    return _remaining(ci, field) + freed[f"{ci.arn} {field}"] + _uses(t, field)


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
