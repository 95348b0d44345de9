"""Tags on ECS and ELBv2 resources (issue 17, point 5), through boto3 and the AWS CLI against a
live server, following AWS's pages:

- https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html
- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html
  (propagateTags, Amazon ECS managed tags)
- https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html
- https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html

docs/behaviour.md, "Tags".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecsim.model.demo import CLUSTER, SERVICE, TARGET_GROUP
from tests.support.server import LiveServer, aws_cli, wait_for

pytestmark = pytest.mark.server(world="demo", rate=0, speed=300)


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def _message(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Message"])


def _service_arn(ecs: Any) -> str:
    return str(
        ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["serviceArn"]
    )


def _tg_arn(elb: Any) -> str:
    return str(
        elb.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["TargetGroupArn"]
    )


def _as_dict(tags: list[dict[str, str]], key: str = "key", value: str = "value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags}


def test_tag_list_and_untag_a_service(server: LiveServer) -> None:
    ecs = server.client("ecs")
    arn = _service_arn(ecs)
    ecs.tag_resource(
        resourceArn=arn, tags=[{"key": "team", "value": "web"}, {"key": "env", "value": "dev"}]
    )
    ecs.tag_resource(
        resourceArn=arn, tags=[{"key": "env", "value": "prod"}]
    )  # a key takes the new value
    assert _as_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == {
        "team": "web",
        "env": "prod",
    }
    described = ecs.describe_services(cluster=CLUSTER, services=[SERVICE], include=["TAGS"])
    assert _as_dict(described["services"][0]["tags"]) == {"team": "web", "env": "prod"}
    ecs.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert _as_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == {"env": "prod"}


def test_describe_answers_tags_only_when_asked(server: LiveServer) -> None:
    ecs = server.client("ecs")
    ecs.tag_resource(resourceArn=_service_arn(ecs), tags=[{"key": "asked", "value": "no"}])
    plain = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert not plain.get("tags")
    cluster = ecs.describe_clusters(clusters=[CLUSTER], include=["TAGS"])["clusters"][0]
    assert isinstance(cluster["tags"], list)


def test_every_ecs_resource_kind_takes_tags(server: LiveServer) -> None:
    ecs = server.client("ecs")
    cluster = ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["clusterArn"]
    td = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
    task = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"][0]
    for arn in (cluster, td, task):
        ecs.tag_resource(
            resourceArn=arn, tags=[{"key": "kind", "value": arn.split(":")[5].split("/")[0]}]
        )
        assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [
            {"key": "kind", "value": arn.split(":")[5].split("/")[0]}
        ]
    family = td.split("/")[-1]
    described = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    assert described["tags"] == [{"key": "kind", "value": "task-definition"}]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=[task], include=["TAGS"])["tasks"]
    assert tasks[0]["tags"] == [{"key": "kind", "value": "task"}]


def test_service_tasks_get_propagated_and_managed_tags(server: LiveServer) -> None:
    """With propagateTags SERVICE and enableECSManagedTags, each new task carries the
    service's tags, `aws:ecs:clusterName` and `aws:ecs:serviceName` (ECS developer guide,
    "Tagging your Amazon ECS resources", managed tags)."""
    ecs = server.client("ecs")
    arn = _service_arn(ecs)
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "cost-center", "value": "42"}])
    before = set(ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"])
    updated = ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        propagateTags="SERVICE",
        enableECSManagedTags=True,
        forceNewDeployment=True,
    )["service"]
    assert updated["propagateTags"] == "SERVICE" and updated["enableECSManagedTags"] is True

    def new_tasks() -> list[str]:
        running = set(ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"])
        return sorted(running - before)

    fresh = wait_for(new_tasks)
    tags = ecs.describe_tasks(cluster=CLUSTER, tasks=fresh, include=["TAGS"])["tasks"][0]["tags"]
    service_tags = _as_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"])
    assert service_tags["cost-center"] == "42"
    assert _as_dict(tags) == {
        **service_tags,
        "aws:ecs:clusterName": CLUSTER,
        "aws:ecs:serviceName": SERVICE,
    }


def test_run_task_tags_and_task_definition_propagation(server: LiveServer) -> None:
    ecs = server.client("ecs")
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    td = svc["taskDefinition"]
    ecs.tag_resource(
        resourceArn=td, tags=[{"key": "app", "value": "home"}, {"key": "who", "value": "td"}]
    )
    run = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=td,
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
        tags=[{"key": "who", "value": "me"}],
        propagateTags="TASK_DEFINITION",
        enableECSManagedTags=True,
    )
    td_tags = _as_dict(ecs.list_tags_for_resource(resourceArn=td)["tags"])
    assert td_tags["who"] == "td"
    assert _as_dict(run["tasks"][0]["tags"]) == {
        **td_tags,
        "who": "me",
        "aws:ecs:clusterName": CLUSTER,
    }
    with pytest.raises(ClientError) as e:
        ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=td,
            launchType="FARGATE",
            networkConfiguration=svc["networkConfiguration"],
            propagateTags="SERVICE",
        )
    assert _code(e) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ([{"key": "aws:owner", "value": "x"}], "InvalidParameterException"),
        ([{"key": "AWS:owner", "value": "x"}], "InvalidParameterException"),
        ([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}], "InvalidParameterException"),
        ([{"key": "k" * 129, "value": "x"}], "InvalidParameterException"),
        ([{"key": "bad\u0000key", "value": "x"}], "InvalidParameterException"),
        ([{"key": "k", "value": "v" * 257}], "InvalidParameterException"),
    ],
    ids=["aws-prefix", "AWS-prefix", "duplicate", "long-key", "control-char", "long-value"],
)
def test_ecs_refuses_bad_tags_and_changes_nothing(
    server: LiveServer, tags: list[dict[str, str]], code: str
) -> None:
    ecs = server.client("ecs")
    arn = _service_arn(ecs)
    before = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    with pytest.raises(ClientError) as e:
        ecs.tag_resource(resourceArn=arn, tags=tags)
    assert _code(e) == code
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == before


def test_ecs_quota_counts_the_tags_a_resource_already_has(server: LiveServer) -> None:
    """At most 50 tags per resource; tags AWS sets (`aws:`) do not count."""
    ecs = server.client("ecs")
    cluster = ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["clusterArn"]
    for key in {t["key"] for t in ecs.list_tags_for_resource(resourceArn=cluster)["tags"]}:
        ecs.untag_resource(resourceArn=cluster, tagKeys=[key])
    ecs.tag_resource(resourceArn=cluster, tags=[{"key": f"k{i}", "value": ""} for i in range(50)])
    with pytest.raises(ClientError) as e:
        ecs.tag_resource(resourceArn=cluster, tags=[{"key": "one-more", "value": ""}])
    assert _code(e) == "InvalidParameterException"
    ecs.tag_resource(resourceArn=cluster, tags=[{"key": "k0", "value": "changed"}])  # no new key
    assert len(ecs.list_tags_for_resource(resourceArn=cluster)["tags"]) == 50


def test_ecs_names_what_it_cannot_tag(server: LiveServer) -> None:
    ecs = server.client("ecs")
    arn = _service_arn(ecs)
    short = arn.replace(f"service/{CLUSTER}/", "service/")
    with pytest.raises(ClientError) as e:
        ecs.tag_resource(resourceArn=short, tags=[{"key": "a", "value": "b"}])
    assert (_code(e), _message(e)) == (
        "InvalidParameterException",
        "Long arn format must be used for tagging operations",
    )
    with pytest.raises(ClientError) as e:
        ecs.list_tags_for_resource(resourceArn=arn + "-gone")
    assert _code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ecs.list_tags_for_resource(resourceArn=arn.replace(f"/{CLUSTER}/", "/no-cluster/"))
    assert _code(e) == "ClusterNotFoundException"
    with pytest.raises(ClientError) as e:
        ecs.list_tags_for_resource(resourceArn="not-an-arn")
    assert _code(e) == "InvalidParameterException"


def test_elbv2_tags_on_every_resource_kind(server: LiveServer) -> None:
    elb = server.client("elbv2")
    lb = elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    tg = _tg_arn(elb)
    listener = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]
    rule = elb.describe_rules(ListenerArn=listener)["Rules"][0]["RuleArn"]
    for arn in (lb, tg, listener, rule):
        elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "owner", "Value": "ops"}])
    elb.add_tags(
        ResourceArns=[tg], Tags=[{"Key": "owner", "Value": "web"}, {"Key": "tier", "Value": "1"}]
    )
    described = elb.describe_tags(ResourceArns=[lb, tg, listener, rule])["TagDescriptions"]
    assert [(d["ResourceArn"], _as_dict(d["Tags"], "Key", "Value")) for d in described] == [
        (lb, {"owner": "ops"}),
        (tg, {"owner": "web", "tier": "1"}),
        (listener, {"owner": "ops"}),
        (rule, {"owner": "ops"}),
    ]
    elb.remove_tags(ResourceArns=[tg], TagKeys=["owner"])
    tg_tags = elb.describe_tags(ResourceArns=[tg])["TagDescriptions"][0]["Tags"]
    assert _as_dict(tg_tags, "Key", "Value") == {"tier": "1"}


def test_elbv2_tags_given_at_creation_and_gone_with_the_resource(server: LiveServer) -> None:
    elb = server.client("elbv2")
    vpc = elb.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["VpcId"]
    tg = elb.create_target_group(
        Name="tagged-tg",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        Tags=[{"Key": "made", "Value": "at-creation"}],
    )["TargetGroups"][0]["TargetGroupArn"]
    tags = elb.describe_tags(ResourceArns=[tg])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "made", "Value": "at-creation"}]
    elb.delete_target_group(TargetGroupArn=tg)
    with pytest.raises(ClientError) as e:
        elb.describe_tags(ResourceArns=[tg])
    assert _code(e) == "TargetGroupNotFound"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}, "DuplicateTagKeys"),
        ({"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(51)]}, "TooManyTags"),
        ({"Tags": [{"Key": "aws:x", "Value": ""}]}, "ValidationError"),
        ({"Tags": [{"Key": "x" * 129, "Value": ""}]}, "ValidationError"),
        ({"Tags": [{"Key": "tab\tkey", "Value": ""}]}, "ValidationError"),
        ({"Tags": [{"Key": "k", "Value": ""}], "two": True}, "ValidationError"),
    ],
    ids=["duplicate", "51-tags", "aws-prefix", "long-key", "control-char", "two-resources"],
)
def test_elbv2_refuses_bad_tags_and_changes_nothing(
    server: LiveServer, call: dict[str, Any], code: str
) -> None:
    elb = server.client("elbv2")
    tg = _tg_arn(elb)
    lb = elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    before = elb.describe_tags(ResourceArns=[tg, lb])["TagDescriptions"]
    arns = [tg, lb] if call.get("two") else [tg]
    with pytest.raises(ClientError) as e:
        elb.add_tags(ResourceArns=arns, Tags=call["Tags"])
    assert _code(e) == code
    assert elb.describe_tags(ResourceArns=[tg, lb])["TagDescriptions"] == before


def test_elbv2_quota_counts_existing_tags_and_describe_takes_20(server: LiveServer) -> None:
    elb = server.client("elbv2")
    lb = elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    old = [t["Key"] for t in elb.describe_tags(ResourceArns=[lb])["TagDescriptions"][0]["Tags"]]
    if old:
        elb.remove_tags(ResourceArns=[lb], TagKeys=old)
    elb.add_tags(ResourceArns=[lb], Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])
    with pytest.raises(ClientError) as e:
        elb.add_tags(ResourceArns=[lb], Tags=[{"Key": "one-more", "Value": ""}])
    assert _code(e) == "TooManyTags"
    with pytest.raises(ClientError) as e:
        elb.describe_tags(ResourceArns=[lb] * 21)
    assert _code(e) == "ValidationError"


def test_the_aws_cli_tags_a_service(server: LiveServer, tmp_path: Path) -> None:
    ecs = server.client("ecs")
    arn = _service_arn(ecs)
    done = aws_cli(
        server,
        tmp_path,
        "ecs",
        "tag-resource",
        "--resource-arn",
        arn,
        "--tags",
        "key=cli,value=yes",
    )
    assert done.returncode == 0, done.stderr
    listed = aws_cli(server, tmp_path, "ecs", "list-tags-for-resource", "--resource-arn", arn)
    assert {"key": "cli", "value": "yes"} in json.loads(listed.stdout)["tags"]


def test_ec2_tags_round_trip_and_filters(server: LiveServer) -> None:
    """CreateTags, DescribeTags and DeleteTags on a VPC and a subnet
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html)."""
    ec2 = server.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ec2.create_tags(
        Resources=[vpc, subnet],
        Tags=[{"Key": "Name", "Value": "main"}, {"Key": "env", "Value": ""}],
    )
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc, subnet]}])["Tags"]
    assert sorted((r["ResourceType"], r["Key"], r["Value"]) for r in rows) == [
        ("subnet", "Name", "main"),
        ("subnet", "env", ""),
        ("vpc", "Name", "main"),
        ("vpc", "env", ""),
    ]
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["main"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc]
    # A key with another value is not deleted; a key alone is, whatever its value.
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "other"}])
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "env"}])
    left = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
    assert [(r["Key"], r["Value"]) for r in left] == [("Name", "main")]
    ec2.delete_tags(Resources=[subnet])  # no Tags: every user tag goes
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [subnet]}])["Tags"] == []


@pytest.mark.parametrize(
    ("resources", "tags", "code"),
    [
        (["vpc-0000000000000000f"], [{"Key": "a", "Value": "b"}], "InvalidVpcID.NotFound"),
        (["nonsense"], [{"Key": "a", "Value": "b"}], "InvalidID"),
        (None, [{"Key": "aws:a", "Value": "b"}], "InvalidParameterValue"),
        (None, [{"Key": "k" * 129, "Value": "b"}], "InvalidParameterValue"),
        (None, [{"Key": "k", "Value": "v\u0007"}], "InvalidParameterValue"),
        (None, [{"Key": f"k{i}", "Value": ""} for i in range(51)], "TagLimitExceeded"),
    ],
    ids=["missing-vpc", "bad-id", "aws-prefix", "long-key", "control-char", "51-tags"],
)
def test_ec2_refuses_bad_tags_and_changes_nothing(
    server: LiveServer, resources: list[str] | None, tags: list[dict[str, str]], code: str
) -> None:
    ec2 = server.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    before = ec2.describe_tags()["Tags"]
    with pytest.raises(ClientError) as e:
        ec2.create_tags(Resources=resources or [vpc], Tags=tags)
    assert _code(e) == code
    assert ec2.describe_tags()["Tags"] == before
