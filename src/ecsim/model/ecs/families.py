"""Task definition families: ListTaskDefinitionFamilies, and DeleteTaskDefinitions, which
moves INACTIVE revisions to DELETE_IN_PROGRESS (docs/behaviour.md, "Deleting task
definitions").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.names import tail
from ecsim.model.aws.params import Params
from ecsim.model.ecs.paging import pages

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.taskdef import TaskDefinition

FAMILY_STATUSES = ("ACTIVE", "INACTIVE", "ALL")  # botocore's TaskDefinitionFamilyStatus
DELETE_MOST = 10  # "You can specify up to 10 task definitions"
DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
# "This value can be between 1 and 100. ... returns up to 100 results"
_PAGES = pages(100)


class EcsFamilies:
    """Task definition families, for `EcsApi`."""

    ctx: SimContext
    backend: EcsBackend
    _td_shape: Callable[[TaskDefinition], dict[str, Any]]

    def list_task_definition_families(self, **params: Any) -> dict[str, Any]:
        p = Params("ListTaskDefinitionFamilies", params, errors.InvalidParameterException)
        prefix = p.str("familyPrefix")
        status = p.as_enum(p.str("status") or "ALL", "status", FAMILY_STATUSES)
        page = _PAGES.read(p)
        p.done()
        families = []
        for family, revisions in sorted(self.backend.task_definitions.items()):
            if prefix is not None and not family.startswith(prefix):
                continue
            active = any(td.status == "ACTIVE" for td in revisions)
            if status == "ALL" or (status == "ACTIVE") == active:
                families.append(family)
        return page.of(families, "families")

    def delete_task_definitions(self, **params: Any) -> dict[str, Any]:
        p = Params("DeleteTaskDefinitions", params, errors.InvalidParameterException)
        refs = p.strs("taskDefinitions", required=True, most=DELETE_MOST)
        p.done()
        if not refs:
            raise errors.InvalidParameterException("taskDefinitions can not be empty.")
        deleted, failures = [], []
        for ref in refs:
            td, reason = self._revision(ref)
            if td is None:
                failures.append({"arn": self._td_arn(ref), "reason": reason})
                continue
            self.backend.delete_task_definition(td)
            deleted.append(self._td_shape(td))
        return {"taskDefinitions": deleted, "failures": failures}

    def _revision(self, ref: str) -> tuple[TaskDefinition | None, str]:
        """The revision `ref` names, if it may be deleted; else why not."""
        text = tail(ref.split("task-definition/", 1)[1]) if "task-definition/" in ref else ref
        family, _, revision = text.partition(":")
        if not revision:
            return None, "The task definition revision must be specified."
        td = next(
            (
                t
                for t in self.backend.task_definitions.get(family, [])
                if str(t.revision) == revision
            ),
            None,
        )
        if td is None:
            return None, "The specified task definition does not exist."
        if td.status == "ACTIVE":
            return None, (
                "The specified task definition is still in ACTIVE status. "
                "Deregister it before deleting it."
            )
        return td, ""

    def _td_arn(self, ref: str) -> str:
        return ref if ref.startswith("arn:") else self.ctx.ids.ecs_arn(f"task-definition/{ref}")
