"""The operations a timeline step can call: the public methods of `w.ecs`, `w.elbv2`, `w.ec2`,
`w.application_autoscaling`, `w.chaos` and `w.traffic`, under the same names."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

from ecsim.model.autoscaling.api import ApplicationAutoScalingApi
from ecsim.model.ec2.api import Ec2Api
from ecsim.model.ecs.api import EcsApi
from ecsim.model.elbv2.api import Elbv2Api
from ecsim.model.verbs import catalog
from ecsim.model.verbs.chaos import Chaos
from ecsim.model.verbs.spec import Verb
from ecsim.model.verbs.traffic import Traffic
from ecsim.model.world import World

SURFACES: dict[str, type] = {
    "ecs": EcsApi,
    "elbv2": Elbv2Api,
    "ec2": Ec2Api,
    "application_autoscaling": ApplicationAutoScalingApi,
    "chaos": Chaos,
    "traffic": Traffic,
}
# What `summary` counts as a fault, to measure the time to recover after it: the verbs
# declared as faults (model/verbs/catalog.py), and the AWS calls that take tasks down.
FAULTS = {v.do for v in catalog.VERBS if v.fault} | {
    "ecs.update_container_instances_state",
    "ecs.stop_task",
}
# Parameters in seconds that a scenario file may write as durations (`2m`, `200ms`): the
# loader turns them into seconds.
DURATIONS = {v.do: v.durations for v in catalog.VERBS if v.durations}
# Lookups a timeline has no use for (they change nothing) are still allowed: harmless.


def names(surface: str) -> list[str]:
    cls = SURFACES[surface]
    found: dict[
        str, Any
    ] = {}  # the class's own and its mixins' (EcsApi's service deployments, tagging, ...)
    for base in reversed(cls.__mro__[:-1]):
        found.update(vars(base))
    return sorted(
        n
        for n, v in found.items()
        if not n.startswith("_") and callable(v) and not isinstance(v, property | type)
    )


class UnknownOperationError(ValueError):
    pass


def check(do: str) -> None:
    """Raise UnknownOperationError (with the closest names) if `do` is not a known operation."""
    surface, _, op = do.partition(".")
    if surface not in SURFACES:
        raise UnknownOperationError(
            f"expected an operation of {', '.join(s + '.' for s in SURFACES)}; got {do!r}"
        )
    known = names(surface)
    if op not in known:
        close = difflib.get_close_matches(op, known, n=3)
        hint = f" (did you mean {', '.join(surface + '.' + c for c in close)}?)" if close else ""
        raise UnknownOperationError(f"{surface} has no operation {op!r}{hint}")


def verb(do: str) -> Verb | None:
    """The declaration of one of ecsim's own verbs (`chaos.stress_cpu`); None for the rest."""
    return catalog.find(do)


def parameters(do: str) -> list[str] | None:
    """The parameter names of a chaos or traffic verb; None for AWS operations (**params,
    which the model itself checks by boto3 name)."""
    declared = verb(do)
    if declared is not None:
        return list(declared.names)
    surface, _, op = do.partition(".")
    func = getattr(SURFACES[surface], op)
    sig = inspect.signature(func)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return [p for p in sig.parameters if p != "self"]


def required_parameters(do: str) -> list[str]:
    declared = verb(do)
    if declared is not None:
        return list(declared.required)
    surface, _, op = do.partition(".")
    sig = inspect.signature(getattr(SURFACES[surface], op))
    return [
        n
        for n, p in sig.parameters.items()
        if n != "self" and p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


def bound(w: World, do: str) -> Callable[..., Any]:
    surface, _, op = do.partition(".")
    target = getattr(w, surface)
    method: Callable[..., Any] = getattr(target, op)
    return method
