"""EC2 tags: CreateTags, DeleteTags and DescribeTags, and the `TagSpecifications` of the
create calls, on VPCs, subnets, security groups and instances (docs/behaviour.md, "Tags")."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecsim.model.aws import tags as aws_tags
from ecsim.model.aws.pages import Pages
from ecsim.model.aws.params import Params
from ecsim.model.errors import ec2_error

if TYPE_CHECKING:
    from ecsim.model.ec2.instances import Instances
    from ecsim.model.ec2.network import Network

RESOURCES_PER_CALL = 1000  # CreateTags / DeleteTags `Resources`: "Up to 1000 resource IDs"
TAGS_PER_DELETE = 1000  # DeleteTags `Tags`: "Up to 1000 tags"
# DescribeTags: `MaxResults` "between 5 and 1000"
_PAGES = Pages("NextToken", "NextToken", size="MaxResults", most=1000)


def read_tags(p: Params, items: list[Any], where: str) -> dict[str, str]:
    """EC2 `Tags=[{"Key", "Value"}]` as a mapping, checked against AWS's limits: keys 1 to
    128 characters, values up to 256, no `aws:` key, each key once, at most 50."""
    tags: dict[str, str] = {}
    for i, item in enumerate(items):
        entry = p.as_structure(item, f"{where}[{i}]", ("Key", "Value"))
        key = entry.str("Key")
        if key is None:
            raise ec2_error(
                "MissingParameter", f'Missing required parameter in {where}[{i}]: "Key"'
            )
        value = entry.str("Value") or ""
        if not 1 <= len(key) <= aws_tags.TAG_KEY_LENGTH or not aws_tags.tag_text(key):
            raise ec2_error(
                "InvalidParameterValue",
                f"Tag key must be 1 to {aws_tags.TAG_KEY_LENGTH} characters of letters, numbers, "
                "spaces and _ . : / = + - @",
            )
        if len(value) > aws_tags.TAG_VALUE_LENGTH or not aws_tags.tag_text(value):
            raise ec2_error(
                "InvalidParameterValue",
                f"Tag value must be at most {aws_tags.TAG_VALUE_LENGTH} characters of letters, "
                "numbers, spaces and _ . : / = + - @",
            )
        if aws_tags.reserved(key):
            raise ec2_error("InvalidParameterValue", aws_tags.RESERVED_MESSAGE)
        if key in tags:
            raise ec2_error("InvalidParameterValue", f"Duplicate tag key '{key}' specified.")
        tags[key] = value
    if len(tags) > aws_tags.TAGS_PER_RESOURCE:
        raise ec2_error(
            "TagLimitExceeded", "The maximum number of Tags for a resource has been reached."
        )
    return tags


def as_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as EC2 answers them: `[{"Key", "Value"}]`."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class Ec2Tagging:
    """The EC2 tagging operations, for `Ec2Api`."""

    net: Network
    instances: Instances
    _dry_run: Callable[[Params], None]

    def _params(self, operation: str, kwargs: dict[str, Any]) -> Params:
        raise NotImplementedError

    def _filters(self, filters: list[Any]) -> list[tuple[str, list[str]]]:
        raise NotImplementedError

    def create_tags(self, **kwargs: Any) -> dict[str, Any]:
        p = self._params("CreateTags", kwargs)
        ids = self._resources(p)
        tags = read_tags(p, p.list("Tags", required=True), "Tags")
        self._dry_run(p)
        p.done()
        for rid in ids:
            if self.net.tags.user_count_after(rid, tags) > aws_tags.TAGS_PER_RESOURCE:
                raise ec2_error(
                    "TagLimitExceeded",
                    "The maximum number of Tags for a resource has been reached.",
                )
        for rid in ids:
            self.net.tag(rid, tags)
        return {}

    def delete_tags(self, **kwargs: Any) -> dict[str, Any]:
        p = self._params("DeleteTags", kwargs)
        ids = self._resources(p)
        given = p.has("Tags")
        items = p.list("Tags")
        if len(items) > TAGS_PER_DELETE:
            raise ec2_error(
                "InvalidParameterValue", f"Up to {TAGS_PER_DELETE} tags can be deleted at once."
            )
        wanted: list[tuple[str, str | None]] = []
        for i, item in enumerate(items):
            entry = p.as_structure(item, f"Tags[{i}]", ("Key", "Value"))
            key = entry.str("Key")
            if key is None:
                raise ec2_error(
                    "MissingParameter", f'Missing required parameter in Tags[{i}]: "Key"'
                )
            if aws_tags.reserved(key):
                raise ec2_error("InvalidParameterValue", aws_tags.RESERVED_MESSAGE)
            wanted.append((key, entry.str("Value")))
        self._dry_run(p)
        p.done()
        for rid in ids:
            have = self.net.tags.of(rid)
            if not given:  # "we delete all user-defined tags"
                keys = [k for k in have if not aws_tags.reserved(k)]
            else:  # a key alone: whatever its value; a key with a value: only that value
                keys = [k for k, v in wanted if k in have and (v is None or have[k] == v)]
            self.net.untag(rid, keys)
        return {}

    def describe_tags(self, **kwargs: Any) -> dict[str, Any]:
        p = self._params("DescribeTags", kwargs)
        filters = p.list("Filters")
        self._dry_run(p)
        page = _PAGES.read(p)
        p.done()
        rows = [
            {"Key": k, "ResourceId": rid, "ResourceType": kind, "Value": v}
            for rid, kind in self._taggable_ids()
            for k, v in self.net.tags.of(rid).items()
        ]
        for name, values in self._filters(filters):
            field = {
                "key": "Key",
                "value": "Value",
                "resource-id": "ResourceId",
                "resource-type": "ResourceType",
            }.get(name)
            if name.startswith("tag:"):
                rows = [r for r in rows if r["Key"] == name[4:] and r["Value"] in values]
            elif field is None:
                raise ec2_error("InvalidParameterValue", f"The filter '{name}' is invalid")
            else:
                rows = [r for r in rows if r[field] in values]
        return page.of(rows, "Tags")

    def _taggable_ids(self) -> list[tuple[str, str]]:
        """Every resource ecsim's EC2 can tag, with its `ResourceType`."""
        return (
            [(v, "vpc") for v in self.net.vpcs]
            + [(s, "subnet") for s in self.net.subnets]
            + [(g, "security-group") for g in self.net.security_groups]
            + [(i, "instance") for i in self.instances.instances]
        )

    def _resources(self, p: Params) -> list[str]:
        """`Resources`: up to 1000 IDs, each of a resource that exists."""
        ids: list[str] = p.strs("Resources", required=True)
        if len(ids) > RESOURCES_PER_CALL:
            raise ec2_error(
                "InvalidParameterValue",
                f"Up to {RESOURCES_PER_CALL} resource IDs can be tagged at once.",
            )
        for rid in ids:
            prefix = rid.split("-", 1)[0]
            if prefix == "vpc":
                self.net.vpc(rid)
            elif prefix == "subnet":
                self.net.subnet(rid)
            elif prefix == "sg":
                self.net.security_group(rid)
            elif prefix == "i":
                if rid not in self.instances.instances:
                    raise ec2_error(
                        "InvalidInstanceID.NotFound", f"The instance ID '{rid}' does not exist"
                    )
            else:
                raise ec2_error("InvalidID", f"The ID '{rid}' is not valid")
        return list(dict.fromkeys(ids))
