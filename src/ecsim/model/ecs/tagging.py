"""ECS tags: TagResource, UntagResource and ListTagsForResource, the `tags` of the create
calls, and the tags a new task gets (`propagateTags`, `enableECSManagedTags`)
(docs/behaviour.md, "Tags").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws import tags as aws_tags
from ecsim.model.aws.names import resource
from ecsim.model.aws.params import Params

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend

PROPAGATE = ("TASK_DEFINITION", "SERVICE", "NONE")  # botocore's PropagateTags
CLUSTER_NAME_TAG = "aws:ecs:clusterName"
SERVICE_NAME_TAG = "aws:ecs:serviceName"
LONG_ARN_ONLY = "Long arn format must be used for tagging operations"
NOT_FOUND = "The specified resource could not be found."


def _validation(where: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
        f"{constraint}"
    )


def read_tags(p: Params, name: str = "tags") -> dict[str, str]:
    """`tags=[{"key", "value"}]` as a mapping: at most 50, each key 1 to 128 characters and
    each value up to 256, of AWS's tag characters, keys unique and none with the prefix AWS
    keeps; refused in AWS's validation wording otherwise."""
    items = p.list(name)
    if len(items) > aws_tags.TAGS_PER_RESOURCE:
        raise p.fail(
            _validation(
                name, f"Member must have length less than or equal to {aws_tags.TAGS_PER_RESOURCE}"
            )
        )
    tags: dict[str, str] = {}
    for i, item in enumerate(items):
        tag = p.as_structure(item, f"{name}[{i}]", ("key", "value"))
        key = tag.str("key") or ""
        value = tag.str("value") or ""
        aws_tags.check_tag(p, i + 1, key, value)
        if key in tags:
            raise p.fail(f"Duplicate tag key: '{key}'. Each tag key must be unique.")
        tags[key] = value
    return tags


def read_propagate(p: Params) -> str | None:
    """`propagateTags`, one of TASK_DEFINITION, SERVICE and NONE (None: not given)."""
    value = p.str("propagateTags")
    return None if value is None else p.as_enum(value, "propagateTags", PROPAGATE)


def launch_tags(
    propagated: dict[str, str],
    own: dict[str, str],
    managed: bool,
    cluster_name: str,
    service_name: str | None = None,
) -> dict[str, str]:
    """The tags a new task starts with: those propagated from its service or task definition
    (`propagateTags`), its own (RunTask's `tags`, which win over propagated ones), and, with
    `enableECSManagedTags`, the names of its cluster and service."""
    tags = {**propagated, **own}
    if managed:
        tags[CLUSTER_NAME_TAG] = cluster_name
        if service_name is not None:
            tags[SERVICE_NAME_TAG] = service_name
    return tags


class EcsTagging:
    """The ECS tagging operations, for `EcsApi`."""

    backend: EcsBackend

    def tag_resource(self, **params: Any) -> dict[str, Any]:
        p = Params("TagResource", params, errors.InvalidParameterException)
        arn = p.req_str("resourceArn")
        tags = read_tags(p)
        if not p.has("tags"):
            raise p.fail("The tags parameter is required.")
        p.done()
        target = self._tagged(arn)
        if self.backend.tags.user_count_after(target, tags) > aws_tags.TAGS_PER_RESOURCE:
            raise errors.InvalidParameterException(
                f"The resource would have more than {aws_tags.TAGS_PER_RESOURCE} tags."
            )
        self.backend.tag_resource(target, tags)
        return {}

    def untag_resource(self, **params: Any) -> dict[str, Any]:
        p = Params("UntagResource", params, errors.InvalidParameterException)
        arn = p.req_str("resourceArn")
        keys = p.strs("tagKeys", required=True)
        p.done()
        for key in keys:
            if aws_tags.reserved(key):
                raise p.fail(aws_tags.RESERVED_MESSAGE)
        self.backend.untag_resource(self._tagged(arn), keys)
        return {}

    def list_tags_for_resource(self, **params: Any) -> dict[str, Any]:
        p = Params("ListTagsForResource", params, errors.InvalidParameterException)
        arn = p.req_str("resourceArn")
        p.done()
        return {"tags": as_list(self.backend.tags.of(self._tagged(arn)))}

    def _tagged(self, arn: str) -> str:
        """The ARN of the existing ECS resource `arn` names: a cluster, service, task, task
        definition or container instance (services and tasks in the long ARN format)."""
        if not arn.startswith("arn:aws:ecs:") or arn.count(":") < 5:
            raise errors.InvalidParameterException(f"Invalid identifier: {arn}")
        kind, _, rest = resource(arn).partition("/")
        b = self.backend
        if kind == "task-definition":
            family, _, revision = rest.partition(":")
            td = next(
                (td for td in b.task_definitions.get(family, []) if str(td.revision) == revision),
                None,
            )
            if td is None:
                raise errors.ResourceNotFoundException(NOT_FOUND)
            return td.arn
        if kind not in ("cluster", "service", "task", "container-instance"):
            raise errors.InvalidParameterException(f"Invalid identifier: {arn}")
        if kind != "cluster" and "/" not in rest:
            raise errors.InvalidParameterException(LONG_ARN_ONLY)
        cluster_name, _, name = rest.partition("/")
        cluster = b.clusters.get(cluster_name)
        if cluster is None:
            raise errors.ClusterNotFoundException("Cluster not found.")
        if kind == "cluster":
            return cluster.arn
        found: str | None
        if kind == "service":
            svc = cluster.services.get(name)
            found = svc.arn if svc is not None else None
        elif kind == "task":
            task = cluster.tasks.get(name)
            found = task.arn if task is not None else None
        else:
            found = next(
                (i.arn for i in cluster.instances.values() if i.arn.endswith("/" + name)), None
            )
        if found is None:
            raise errors.ResourceNotFoundException(NOT_FOUND)
        return found


def as_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as ECS answers them: `[{"key", "value"}]`."""
    return [{"key": k, "value": v} for k, v in tags.items()]
