"""ELBv2 tags: AddTags, RemoveTags and DescribeTags, and the `Tags` of the create calls, on
load balancers, target groups, listeners and rules (docs/behaviour.md, "Tags")."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws import tags as aws_tags
from ecsim.model.aws.params import Params

if TYPE_CHECKING:
    from ecsim.model.elbv2.backend import ElbBackend
    from ecsim.model.elbv2.resources import Listener, LoadBalancer, Rule, TargetGroup

DESCRIBE_TAGS = 20  # DescribeTags `ResourceArns`: "up to 20 resources in a single call"
ONE_RESOURCE = "Only one resource can be tagged at a time"
TOO_MANY = "You've reached the limit on the number of tags for this resource."


def read_tags(p: Params, name: str = "Tags") -> dict[str, str]:
    """`Tags=[{"Key", "Value"}]` as a mapping: keys 1 to 128 characters, values up to 256, of
    AWS's tag characters, none with the prefix AWS keeps, each key once
    (`DuplicateTagKeys`), at most 50 (`TooManyTags`)."""
    items = p.list(name)
    pairs: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        entry = p.as_structure(item, f"{name}[{i}]", ("Key", "Value"))
        key = entry.str("Key", required=True)
        value = entry.str("Value") or ""
        aws_tags.check_tag(p, i + 1, key, value)
        pairs.append((key, value))
    counts = Counter(key for key, _ in pairs)  # once over the keys: linear in their number
    for key, _ in pairs:
        if counts[key] > 1:
            raise errors.AwsError(
                f"Tag key was specified more than once: {key}", code="DuplicateTagKeys"
            )
    if len(pairs) > aws_tags.TAGS_PER_RESOURCE:
        raise errors.AwsError(TOO_MANY, code="TooManyTags")
    return dict(pairs)


class ElbTagging:
    """The ELBv2 tagging operations, for `ElbApi`, which finds the resources."""

    elb: ElbBackend

    def _load_balancer(self, arn: str) -> LoadBalancer:
        raise NotImplementedError

    def _target_group(self, arn: str) -> TargetGroup:
        raise NotImplementedError

    def _listener(self, arn: str) -> Listener:
        raise NotImplementedError

    def _rule(self, arn: str) -> tuple[Listener, Rule]:
        raise NotImplementedError

    def add_tags(self, **kwargs: Any) -> dict[str, Any]:
        p = Params("AddTags", kwargs, errors.ValidationError)
        arns = p.strs("ResourceArns", required=True)
        if not p.has("Tags"):
            raise p.fail("Tags must be specified")
        tags = read_tags(p)
        p.done()
        if len(arns) != 1:
            raise errors.ValidationError(ONE_RESOURCE)
        arn = self._tagged(arns[0])
        if self.elb.tags.user_count_after(arn, tags) > aws_tags.TAGS_PER_RESOURCE:
            raise errors.AwsError(TOO_MANY, code="TooManyTags")
        self.elb.tag(arn, tags)
        return {}

    def remove_tags(self, **kwargs: Any) -> dict[str, Any]:
        p = Params("RemoveTags", kwargs, errors.ValidationError)
        arns = p.strs("ResourceArns", required=True)
        keys = p.strs("TagKeys", required=True)
        p.done()
        if len(arns) != 1:
            raise errors.ValidationError(ONE_RESOURCE)
        if any(aws_tags.reserved(k) for k in keys):
            raise errors.ValidationError(aws_tags.RESERVED_MESSAGE)
        self.elb.untag(self._tagged(arns[0]), keys)
        return {}

    def describe_tags(self, **kwargs: Any) -> dict[str, Any]:
        p = Params("DescribeTags", kwargs, errors.ValidationError)
        arns = p.strs("ResourceArns", required=True, most=DESCRIBE_TAGS)
        p.done()
        return {
            "TagDescriptions": [
                {
                    "ResourceArn": arn,
                    "Tags": [
                        {"Key": k, "Value": v}
                        for k, v in self.elb.tags.of(self._tagged(arn)).items()
                    ],
                }
                for arn in arns
            ]
        }

    def _tagged(self, arn: str) -> str:
        """`arn`, if it names an existing load balancer, target group, listener or rule; the
        error of the kind it names otherwise."""
        if ":listener-rule/" in arn:
            self._rule(arn)
        elif ":listener/" in arn:
            self._listener(arn)
        elif ":targetgroup/" in arn:
            self._target_group(arn)
        else:
            self._load_balancer(arn)
        return arn
