"""Every documented AWS text, word for word: the audit of docs/behaviour.md, "Wording audit".

For each row of the audit's tables the test checks that ecsim's column equals AWS's, then that
ecsim really answers that text, through boto3 against `ecsim serve`. Where AWS's words come
from:

- TargetHealth descriptions: the ALB user guide's "Health check reason codes",
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html#target-health-reason-codes
  (each case of `Target.NotInUse` has its own description);
- error messages: the AWS page or the public thread each row names (AWS's answer as its
  clients pasted it), e.g. https://github.com/aws/copilot-cli/issues/3833 for
  `Target groups '<arn>' not found`, https://github.com/hashicorp/terraform/issues/26407 for
  `A listener already exists on this port for this load balancer '<arn>'`, and for the texts
  this audit changed: https://github.com/hashicorp/terraform/issues/26407 (ModifyListener:
  `Listener port '<port>' is already in use`),
  https://github.com/trussworks/terraform-aws-ecs-service/issues/335 (CreateService with an
  unknown `targetGroupArn`: AWS's sentence and nothing after it),
  https://github.com/aws/aws-sdk-js/issues/2193 and https://github.com/boto/botocore/issues/3337
  (a number out of range: `Member must have value greater than or equal to 1`, one side);
  CloudWatch's, e.g. https://github.com/cloud-custodian/cloud-custodian/issues/9137
  (`Statistics.member.1.<list element> must be a value in the set [SampleCount, ...]`),
  https://github.com/cloud-custodian/cloud-custodian/pull/9897 (the datapoint limit, written
  1440 with no thousands separator),
  https://github.com/aws-solutions/quota-monitor-for-aws/issues/171 (GetMetricData's Ids);
- generated names: botocore's examples (Application Auto Scaling's PutScalingPolicy gives the
  policy and each of its two alarms a UUID of its own; its TagResource documentation gives a
  scalable target's ARN, `scalable-target/` and 36 hex digits) and
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html#ecs-resource-ids
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE, TARGET_GROUP, task_definition
from ecsim.model.elbv2.health import DESCRIPTIONS, Reason
from tests.support.server import LiveServer

pytestmark = pytest.mark.server(world="demo", rate=0, paused=True)

BEHAVIOUR = Path(__file__).resolve().parent.parent / "docs" / "behaviour.md"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PLACEHOLDER = re.compile(r"<([^<>]+)>")
# Written like placeholders, but AWS's own words (CloudWatch: `Statistics.member.1.<list element>`).
LITERAL = {"list element"}


def audit_rows() -> list[tuple[str, str, str, str]]:
    """(code, ecsim's text, AWS's text, source) of every row of the audit's tables."""
    text = BEHAVIOUR.read_text()
    body = text.split("### Wording audit\n", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("code", "---"):
            rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def templates(cell: str) -> list[str]:
    """The texts of a cell: its backticked spans, or the whole cell."""
    spans = re.findall(r"`([^`]+)`", cell)
    return spans or [cell]


def pattern(template: str) -> re.Pattern[str]:
    """A template's placeholders as what they stand for; the rest literally."""
    out, last = [], 0
    for m in PLACEHOLDER.finditer(template):
        out.append(re.escape(template[last : m.start()]))
        name = m.group(1)
        if name in LITERAL:
            out.append(re.escape(m.group(0)))
        elif name == "uuid":
            out.append(UUID)
        elif m2 := re.fullmatch(r"(\d+) hex", name):
            out.append(f"[0-9a-f]{{{m2.group(1)}}}")
        elif m2 := re.fullmatch(r"(\d+) digits", name):
            out.append(f"[0-9]{{{m2.group(1)}}}")
        elif name == "digits":
            out.append("[0-9]+")
        else:
            out.append(".+?")
        last = m.end()
    out.append(re.escape(template[last:]))
    return re.compile("".join(out))


ROWS = audit_rows()


def test_the_audit_has_its_tables() -> None:
    codes = " ".join(r[0] for r in ROWS)
    assert len(ROWS) >= 40
    for code in ("Target.NotInUse", "TargetGroupNotFound", "scaling policy ARN"):
        assert code in codes


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r[0]}: {r[2][:40]}")
def test_every_row_is_equal_and_sourced(row: tuple[str, str, str, str]) -> None:
    code, ours, theirs, source = row
    assert ours == theirs, code
    assert "https://" in source, code


# --- what ecsim answers -----------------------------------------------------------------------


def _error(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return str(e.value.response["Error"]["Message"])


def _advance(server: LiveServer, seconds: float) -> None:
    server.call(lambda w: w.advance(seconds))


def _task_ip(server: LiveServer) -> str:
    ecs = server.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    task = ecs.describe_tasks(cluster=CLUSTER, tasks=arns[:1])["tasks"][0]
    details = task["attachments"][0]["details"]
    return next(d["value"] for d in details if d["name"] == "privateIPv4Address")


@cache
def health_story(server: LiveServer) -> dict[str, list[str]]:
    """Every (reason, description) DescribeTargetHealth answered along a story that passes
    through each reason ecsim gives: a new group behind a rule of the demo's listener, with a
    task that answers 200 where 202 is expected, the same task on a port nothing listens on,
    an address nobody owns; a group no load balancer uses; a target in an AZ its load
    balancer has not enabled; a demo target deregistered."""
    elb, ec2 = server.client("elbv2"), server.client("ec2")
    seen: dict[str, list[str]] = {}

    def look(tg: str, **kw: Any) -> None:
        for d in elb.describe_target_health(TargetGroupArn=tg, **kw)["TargetHealthDescriptions"]:
            health = d["TargetHealth"]
            if "Reason" in health:
                seen.setdefault(health["Reason"], []).append(health["Description"])

    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets()["Subnets"], key=lambda s: str(s["AvailabilityZone"]))
    lb = elb.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0]
    listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    tg = elb.create_target_group(
        Name="wording-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
        Matcher={"HttpCode": "202"},
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.create_rule(
        ListenerArn=listener["ListenerArn"], Priority=7,
        Conditions=[{"Field": "path-pattern", "Values": ["/wording*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": tg}],
    )  # fmt: skip
    ip = _task_ip(server)
    nobody = subnets[1]["CidrBlock"].rsplit(".", 1)[0] + ".250"
    elb.register_targets(
        TargetGroupArn=tg,
        Targets=[{"Id": ip, "Port": 80}, {"Id": ip, "Port": 81}, {"Id": nobody, "Port": 80}],
    )
    look(tg)  # registering
    _advance(server, 4.5)
    look(tg)  # registered, first checks under way
    _advance(server, 90)
    look(tg)  # unhealthy, each for its reason
    look(tg, Targets=[{"Id": "10.0.9.9", "Port": 80}])  # never registered

    unused = elb.create_target_group(
        Name="wording-unused", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=unused, Targets=[{"Id": nobody, "Port": 80}])
    look(unused)

    two_zones = elb.create_load_balancer(
        Name="wording-lb", Subnets=[s["SubnetId"] for s in subnets[:2]]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    zoned = elb.create_target_group(
        Name="wording-zoned", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=two_zones, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": zoned}],
    )  # fmt: skip
    third = subnets[2]["CidrBlock"].rsplit(".", 1)[0] + ".250"
    elb.register_targets(TargetGroupArn=zoned, Targets=[{"Id": third, "Port": 80}])
    look(zoned)

    demo_tg = elb.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]
    elb.deregister_targets(
        TargetGroupArn=demo_tg["TargetGroupArn"], Targets=[{"Id": ip, "Port": 80}]
    )
    look(demo_tg["TargetGroupArn"])
    return seen


def _reason(code: str) -> Callable[[LiveServer], list[str]]:
    return lambda server: health_story(server).get(code, [])


def _internal_error(_: LiveServer) -> list[str]:
    # ecsim never fails a check for an internal error: the description is checked as declared
    return [DESCRIPTIONS[Reason.INTERNAL_ERROR]]


def _ecs(server: LiveServer, name: str) -> dict[str, Any]:
    """A CreateService of the demo's task definition in the demo's subnets, as keywords."""
    svc = server.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])
    return {
        "cluster": CLUSTER,
        "serviceName": name,
        "taskDefinition": svc["services"][0]["taskDefinition"],
        "desiredCount": 0,
        "launchType": "FARGATE",
        "networkConfiguration": svc["services"][0]["networkConfiguration"],
    }


def _tg(server: LiveServer, name: str = TARGET_GROUP) -> str:
    elb = server.client("elbv2")
    return str(elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"])


def _bogus_tg(server: LiveServer) -> str:
    return _tg(server).rsplit("/", 2)[0] + "/nobody/0123456789abcdef"


def _contains_tasks(server: LiveServer) -> list[str]:
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName="wording-cluster")
    kw = _ecs(server, "unused")
    ecs.run_task(
        cluster="wording-cluster", taskDefinition=kw["taskDefinition"], launchType="FARGATE",
        networkConfiguration=kw["networkConfiguration"],
    )  # fmt: skip
    return [_error(lambda: ecs.delete_cluster(cluster="wording-cluster"))]


def _not_idempotent(server: LiveServer) -> list[str]:
    ecs = server.client("ecs")
    return [_error(lambda: ecs.create_service(**{**_ecs(server, SERVICE), "desiredCount": 7}))]


def _no_network(server: LiveServer) -> list[str]:
    kw = _ecs(server, "wording-no-network")
    del kw["networkConfiguration"]
    return [_error(lambda: server.client("ecs").create_service(**kw))]


def _inactive(server: LiveServer) -> list[str]:
    """A deregistered revision given to RunTask, CreateService and UpdateService."""
    ecs = server.client("ecs")
    td = task_definition("wording-inactive")
    arn = ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"]
    ecs.deregister_task_definition(taskDefinition=arn)
    kw = {**_ecs(server, "wording-inactive"), "taskDefinition": arn}
    network = kw["networkConfiguration"]
    run = {"launchType": "FARGATE", "networkConfiguration": network}
    return [
        _error(lambda: ecs.run_task(cluster=CLUSTER, taskDefinition=arn, **run)),
        _error(lambda: ecs.create_service(**kw)),
        _error(lambda: ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)),
    ]  # fmt: skip


def _no_port(server: LiveServer) -> list[str]:
    lbs = [{"targetGroupArn": _tg(server), "containerName": "app", "containerPort": 81}]
    kw = {**_ecs(server, "wording-port"), "loadBalancers": lbs}
    return [_error(lambda: server.client("ecs").create_service(**kw))]


def _orphan_tg(server: LiveServer) -> list[str]:
    elb = server.client("elbv2")
    vpc = server.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    tg = elb.create_target_group(
        Name="wording-orphan", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    lbs = [{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}]
    kw = {**_ecs(server, "wording-orphan"), "loadBalancers": lbs}
    return [_error(lambda: server.client("ecs").create_service(**kw))]


def _fargate(server: LiveServer, **size: str) -> list[str]:
    td = {**task_definition("wording-app"), "requiresCompatibilities": ["FARGATE"], **size}
    for key in ("cpu", "memory"):
        if td.get(key) == "":
            del td[key]
    return [_error(lambda: server.client("ecs").register_task_definition(**td))]


def _not_running(server: LiveServer) -> list[str]:
    ec2, elb = server.client("ec2"), server.client("elbv2")
    subnet = ec2.describe_subnets()["Subnets"][0]
    made = ec2.run_instances(
        ImageId="ami-12345678", InstanceType="t3.small", MinCount=1, MaxCount=1,
        SubnetId=subnet["SubnetId"],
    )["Instances"][0]["InstanceId"]  # fmt: skip
    # just launched, still `pending` (the clock is paused)
    tg = elb.create_target_group(
        Name="wording-instances", Protocol="HTTP", Port=80, VpcId=subnet["VpcId"]
    )["TargetGroups"][0]["TargetGroupArn"]
    return [_error(lambda: elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": made}]))]


def _no_scalable_target(server: LiveServer) -> list[str]:
    aas = server.client("application-autoscaling")
    return [
        _error(
            lambda: aas.put_scaling_policy(
                PolicyName="p",
                ServiceNamespace="ecs",
                ResourceId="service/home/nobody",
                ScalableDimension="ecs:service:DesiredCount",
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={"TargetValue": 50.0},
            )
        )
    ]


@cache
def _policy(server: LiveServer) -> dict[str, Any]:
    aas = server.client("application-autoscaling")
    key = {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{CLUSTER}/{SERVICE}",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    aas.register_scalable_target(**key, MinCapacity=1, MaxCapacity=4)
    metric = {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
    return dict(
        aas.put_scaling_policy(
            PolicyName="wording-cpu",
            **key,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 50.0,
                "PredefinedMetricSpecification": metric,
            },
        )
    )


def _alarms(server: LiveServer) -> list[str]:
    """Both alarm names, then the policy's UUID and theirs must be three different UUIDs."""
    put = _policy(server)
    names = [a["AlarmName"] for a in put["Alarms"]]
    uuids = {put["PolicyARN"].split(":")[6], *("-".join(n.split("-")[-5:]) for n in names)}
    assert len(uuids) == 3, put
    return names


@cache
def _activity(server: LiveServer) -> dict[str, Any]:
    """The activity RegisterScalableTarget starts when the minimum is above the desired
    count (a service of its own, so that the other rows' service keeps its count)."""
    ecs, aas = server.client("ecs"), server.client("application-autoscaling")
    ecs.create_service(**{**_ecs(server, "wording-scaled"), "desiredCount": 1})
    rid = f"service/{CLUSTER}/wording-scaled"
    key = {"ServiceNamespace": "ecs", "ResourceId": rid}
    aas.register_scalable_target(
        **key, ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=3
    )
    return dict(aas.describe_scaling_activities(**key)["ScalingActivities"][0])


def _scalable_target(server: LiveServer) -> str:
    _activity(server)
    aas = server.client("application-autoscaling")
    targets = aas.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/wording-scaled"]
    )["ScalableTargets"]
    return str(targets[0]["ScalableTargetARN"])


def _ecs_arns(server: LiveServer) -> dict[str, str]:
    ecs = server.client("ecs")
    svc = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return {
        "cluster": svc["clusterArn"],
        "service": svc["serviceArn"],
        "task": ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"][0],
        "taskdef": svc["taskDefinition"],
        "deployment": svc["deployments"][0]["id"],
    }


def _elb_names(server: LiveServer) -> dict[str, str]:
    elb = server.client("elbv2")
    lb = elb.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0]
    listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    rule = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"][0]
    return {
        "lb": lb["LoadBalancerArn"],
        "dns": lb["DNSName"],
        "tg": _tg(server),
        "listener": listener["ListenerArn"],
        "rule": rule["RuleArn"],
    }


def _ec2_ids(server: LiveServer) -> list[str]:
    ec2 = server.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]
    ecs = server.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    details = ecs.describe_tasks(cluster=CLUSTER, tasks=arns[:1])["tasks"][0]["attachments"][0]
    eni = next(d["value"] for d in details["details"] if d["name"] == "networkInterfaceId")
    return [subnet["SubnetId"], subnet["VpcId"], eni]


def _bogus(prefix: str) -> str:
    return f"{prefix}-0123456789abcdef0"


@cache
def _joined(server: LiveServer) -> dict[str, str]:
    """A cluster with one EC2 container instance: the instance booted (the clock advanced)
    and joined through its user data."""
    ec2, ecs = server.client("ec2"), server.client("ecs")
    ecs.create_cluster(clusterName="wording-ec2")
    instance = ec2.run_instances(
        ImageId="ami-12345678", InstanceType="m5.large", MinCount=1, MaxCount=1,
        UserData="#!/bin/bash\necho ECS_CLUSTER=wording-ec2 >> /etc/ecs/ecs.config\n",
    )["Instances"][0]["InstanceId"]  # fmt: skip
    _advance(server, 120)
    arns = ecs.list_container_instances(cluster="wording-ec2")["containerInstanceArns"]
    return {"instance": instance, "container_instance": arns[0]}


def _contains_instances(server: LiveServer) -> list[str]:
    _joined(server)
    return [_error(lambda: server.client("ecs").delete_cluster(cluster="wording-ec2"))]


def _unknown_tg(server: LiveServer) -> list[str]:
    lbs = [{"targetGroupArn": _bogus_tg(server), "containerName": "app", "containerPort": 80}]
    kw = {**_ecs(server, "wording-unknown-tg"), "loadBalancers": lbs}
    return [_error(lambda: server.client("ecs").create_service(**kw))]


def _fixed_503() -> list[dict[str, Any]]:
    return [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}]


def _port_in_use(server: LiveServer) -> list[str]:
    elb = server.client("elbv2")
    second = elb.create_listener(
        LoadBalancerArn=_elb_names(server)["lb"], Protocol="HTTP", Port=8081,
        DefaultActions=_fixed_503(),
    )["Listeners"][0]["ListenerArn"]  # fmt: skip
    return [_error(lambda: elb.modify_listener(ListenerArn=second, Port=80))]


def _listener_protocol(server: LiveServer) -> list[str]:
    elb = server.client("elbv2")
    return [
        _error(
            lambda: elb.create_listener(
                LoadBalancerArn=_elb_names(server)["lb"], Protocol="TCP", Port=9000,
                DefaultActions=_fixed_503(),
            )
        )
    ]  # fmt: skip


def _subnet_ids(server: LiveServer) -> list[str]:
    subnets = server.client("ec2").describe_subnets()["Subnets"]
    return [s["SubnetId"] for s in sorted(subnets, key=lambda s: str(s["AvailabilityZone"]))]


def _duplicate_lb(server: LiveServer) -> list[str]:
    """A second CreateLoadBalancer of a name, with another scheme."""
    elb = server.client("elbv2")
    kw = {"Name": "wording-twice", "Subnets": _subnet_ids(server)[:2]}
    elb.create_load_balancer(**kw)
    return [_error(lambda: elb.create_load_balancer(**kw, Scheme="internal"))]


def _duplicate_tg(server: LiveServer) -> list[str]:
    """A second CreateTargetGroup of a name, on another port."""
    elb = server.client("elbv2")
    vpc = server.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    kw = {"Name": "wording-twice", "Protocol": "HTTP", "VpcId": vpc, "TargetType": "ip"}
    elb.create_target_group(**kw, Port=80)
    return [_error(lambda: elb.create_target_group(**kw, Port=8443))]


def _priority_in_use(server: LiveServer) -> list[str]:
    elb = server.client("elbv2")
    rule = {
        "ListenerArn": _elb_names(server)["listener"],
        "Priority": 9,
        "Conditions": [{"Field": "path-pattern", "Values": ["/nine*"]}],
        "Actions": _fixed_503(),
    }
    elb.create_rule(**rule)
    return [_error(lambda: elb.create_rule(**rule))]


def _one_subnet(server: LiveServer) -> list[str]:
    elb = server.client("elbv2")
    subnets = _subnet_ids(server)[:1]
    return [_error(lambda: elb.create_load_balancer(Name="wording-one", Subnets=subnets))]


def _port_range(server: LiveServer, port: int) -> list[str]:
    """RegisterTargets with a port out of 1..65535, past botocore's own check of the
    minimum (so that the service answers)."""
    elb = server.client("elbv2", parameter_validation=False)
    targets = [{"Id": "10.0.1.9", "Port": port}]
    return [_error(lambda: elb.register_targets(TargetGroupArn=_tg(server), Targets=targets))]


def _ec2_error(server: LiveServer, operation: str, **kw: Any) -> list[str]:
    return [_error(lambda: getattr(server.client("ec2"), operation)(**kw))]


def _vpc(server: LiveServer) -> dict[str, Any]:
    return dict(server.client("ec2").describe_vpcs()["Vpcs"][0])


def _security_group_twice(server: LiveServer) -> list[str]:
    ec2 = server.client("ec2")
    kw = {"GroupName": "wording-sg", "Description": "twice", "VpcId": _vpc(server)["VpcId"]}
    ec2.create_security_group(**kw)
    return [_error(lambda: ec2.create_security_group(**kw))]


def _cidr_conflict(server: LiveServer) -> list[str]:
    subnet = server.client("ec2").describe_subnets()["Subnets"][0]
    return _ec2_error(
        server, "create_subnet", VpcId=subnet["VpcId"], CidrBlock=subnet["CidrBlock"],
        AvailabilityZone=subnet["AvailabilityZone"],
    )  # fmt: skip


def _cidr_invalid(server: LiveServer) -> list[str]:
    vpc = _vpc(server)
    zone = server.client("ec2").describe_subnets()["Subnets"][0]["AvailabilityZone"]
    return _ec2_error(
        server, "create_subnet", VpcId=vpc["VpcId"], CidrBlock="192.168.0.0/24",
        AvailabilityZone=zone,
    ) + _ec2_error(server, "create_vpc", CidrBlock="10.0.0.0/8")  # fmt: skip


def _unknown_zone(server: LiveServer) -> list[str]:
    return _ec2_error(
        server, "create_subnet", VpcId=_vpc(server)["VpcId"], CidrBlock="172.31.250.0/24",
        AvailabilityZone="us-east-1z",
    )  # fmt: skip


def _ec2_more_ids(server: LiveServer) -> list[str]:
    ec2 = server.client("ec2")
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    return [_joined(server)["instance"], group]


# --- CloudWatch ---------------------------------------------------------------------------

_HOUR = (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, 1, tzinfo=dt.UTC))


def _statistics(server: LiveServer, validate: bool = True, **kw: Any) -> list[str]:
    """GetMetricStatistics of the demo's RequestCount over an hour, with `kw` changed."""
    call = {
        "Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
        "StartTime": _HOUR[0], "EndTime": _HOUR[1], "Period": 60, "Statistics": ["Sum"], **kw,
    }  # fmt: skip
    cw = server.client("cloudwatch", parameter_validation=validate)
    return [_error(lambda: cw.get_metric_statistics(**{k: v for k, v in call.items() if v}))]


def _query(qid: str = "q", **stat: Any) -> dict[str, Any]:
    metric = {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount"}
    return {"Id": qid, "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum", **stat}}


def _data(server: LiveServer, queries: list[dict[str, Any]], **kw: Any) -> list[str]:
    """GetMetricData of `queries` over an hour (or the window `kw` says)."""
    cw = server.client("cloudwatch")
    window = {"StartTime": _HOUR[0], "EndTime": _HOUR[1], **kw}
    return [_error(lambda: cw.get_metric_data(MetricDataQueries=queries, **window))]


def _cw_required(server: LiveServer) -> list[str]:
    """A parameter left out (past botocore's own check), and a dimension without its Value."""
    dims = [{"Name": "LoadBalancer"}]
    return _statistics(server, False, Namespace=None) + _statistics(server, False, Dimensions=dims)


def _one(fn: Callable[[LiveServer], str]) -> Callable[[LiveServer], list[str]]:
    return lambda server: [fn(server)]


# AWS's text (the row's template) -> what ecsim answers, through boto3.
PRODUCERS: dict[str, Callable[[LiveServer], list[str]]] = {
    "Target registration is in progress": _reason("Elb.RegistrationInProgress"),
    "Initial health checks in progress": _reason("Elb.InitialHealthChecking"),
    "Health checks failed with these codes: [<code>]": _reason("Target.ResponseCodeMismatch"),
    "Request timed out": _reason("Target.Timeout"),
    "Health checks failed": _reason("Target.FailedHealthChecks"),
    "Health checks failed due to an internal error": _internal_error,
    "Target is not registered to the target group": _reason("Target.NotRegistered"),
    "Target group is not configured to receive traffic from the load balancer": _reason(
        "Target.NotInUse"
    ),
    "Target is in an Availability Zone that is not enabled for the load balancer": _reason(
        "Target.NotInUse"
    ),
    "Target deregistration is in progress": _reason("Target.DeregistrationInProgress"),
    "Service not found.": _one(
        lambda s: _error(lambda: s.client("ecs").update_service(cluster=CLUSTER, service="nobody"))
    ),
    "Unable to describe task definition.": _one(
        lambda s: _error(lambda: s.client("ecs").describe_task_definition(taskDefinition="nobody"))
    ),
    "The Cluster cannot be deleted while Services are active.": _one(
        lambda s: _error(lambda: s.client("ecs").delete_cluster(cluster=CLUSTER))
    ),
    "The Cluster cannot be deleted while Tasks are active.": _contains_tasks,
    "Creation of service was not idempotent.": _not_idempotent,
    "TaskDefinition is inactive": _inactive,
    "Network Configuration must be provided when networkMode 'awsvpc' is specified.": (_no_network),
    "The container <name> did not have a container port <port> defined.": _no_port,
    "The target group with targetGroupArn <arn> does not have an associated load balancer.": (
        _orphan_tg
    ),
    "Fargate requires that 'cpu' be defined at the task level.": lambda s: _fargate(
        s, cpu="", memory="512"
    ),
    "No Fargate configuration exists for given values.": lambda s: _fargate(
        s, cpu="256", memory="4096"
    ),
    "One or more load balancers not found": _one(
        lambda s: _error(
            lambda: s.client("elbv2").describe_load_balancers(
                LoadBalancerArns=[_tg(s).replace(":targetgroup/", ":loadbalancer/app/")]
            )
        )
    ),
    "Load balancers '[<name>]' not found": _one(
        lambda s: _error(lambda: s.client("elbv2").describe_load_balancers(Names=["nobody"]))
    ),
    "One or more target groups not found": _one(
        lambda s: _error(lambda: s.client("elbv2").describe_target_groups(Names=["nobody"]))
    ),
    "Target groups '<arn>' not found": _one(
        lambda s: _error(
            lambda: s.client("elbv2").describe_target_health(TargetGroupArn=_bogus_tg(s))
        )
    ),
    "One or more listeners not found": _one(
        lambda s: _error(
            lambda: s.client("elbv2").describe_listeners(
                ListenerArns=[_elb_names(s)["listener"][:-16] + "0123456789abcdef"]
            )
        )
    ),
    "A listener already exists on this port for this load balancer '<arn>'": _one(
        lambda s: _error(
            lambda: s.client("elbv2").create_listener(
                LoadBalancerArn=_elb_names(s)["lb"],
                Protocol="HTTP",
                Port=80,
                DefaultActions=[
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}
                ],
            )
        )
    ),
    "The following targets are not in a running state and cannot be registered: '<id>'": (
        _not_running
    ),
    "No scalable target registered for service namespace: ecs, resource ID: <resource>, "
    "scalable dimension: ecs:service:DesiredCount": _no_scalable_target,
    "Cluster not found.": _one(
        lambda s: _error(lambda: s.client("ecs").list_services(cluster="nobody"))
    ),
    "The Cluster cannot be deleted while Container Instances are active or draining.": (
        _contains_instances
    ),
    "Unable to assume role and validate the specified targetGroupArn. Please verify that the "
    "ECS service role being passed has the proper permissions.": _unknown_tg,
    "Listener port '<port>' is already in use": _port_in_use,
    "Listener protocol '<protocol>' must be one of 'HTTP, HTTPS'": _listener_protocol,
    "A load balancer with the same name '<name>' exists, but with different settings": (
        _duplicate_lb
    ),
    "A target group with the same name '<name>' exists, but with different settings": (
        _duplicate_tg
    ),
    "Priority '<priority>' is currently in use": _priority_in_use,
    "Target group '<arn>' is currently in use by a listener or a rule": _one(
        lambda s: _error(lambda: s.client("elbv2").delete_target_group(TargetGroupArn=_tg(s)))
    ),
    "At least two subnets in two different Availability Zones must be specified": _one_subnet,
    "1 validation error detected: Value '<value>' at '<path>' failed to satisfy constraint: "
    "Member must have value greater than or equal to <min>": lambda s: _port_range(s, 0),
    "1 validation error detected: Value '<value>' at '<path>' failed to satisfy constraint: "
    "Member must have value less than or equal to <max>": lambda s: _port_range(s, 70000),
    "The vpc ID '<id>' does not exist": lambda s: _ec2_error(
        s, "describe_vpcs", VpcIds=[_bogus("vpc")]
    ),
    "The subnet ID '<id>' does not exist": lambda s: _ec2_error(
        s, "describe_subnets", SubnetIds=[_bogus("subnet")]
    ),
    "The security group '<id>' does not exist": lambda s: _ec2_error(
        s, "describe_security_groups", GroupIds=[_bogus("sg")]
    ),
    "The security group '<name>' does not exist in default VPC '<vpc>'": lambda s: _ec2_error(
        s, "describe_security_groups", GroupNames=["nobody"]
    ),
    "The security group '<name>' already exists for VPC '<vpc>'": _security_group_twice,
    "The instance ID '<id>' does not exist": lambda s: _ec2_error(
        s, "describe_instances", InstanceIds=[_bogus("i")]
    ),
    "The CIDR '<cidr>' conflicts with another subnet": _cidr_conflict,
    "The CIDR '<cidr>' is invalid.": _cidr_invalid,
    "Value (<zone>) for parameter availabilityZone is invalid. Subnets can currently only be "
    "created in the following availability zones: <zones>.": _unknown_zone,
    "Request would have succeeded, but DryRun flag is set.": lambda s: _ec2_error(
        s, "describe_vpcs", DryRun=True
    ),
    "Setting desired count to <n>.": lambda s: [_activity(s)["Description"]],
    "Successfully set desired count to <n>. Change successfully fulfilled by ecs.": lambda s: [
        _activity(s)["StatusMessage"]
    ],
    "TargetTracking-service/<cluster>/<service>-AlarmHigh-<uuid>": lambda s: _alarms(s)[:1],
    "TargetTracking-service/<cluster>/<service>-AlarmLow-<uuid>": lambda s: _alarms(s)[1:],
    "arn:aws:cloudwatch:<region>:<account>:alarm:TargetTracking-service/<cluster>/<service>"
    "-AlarmHigh-<uuid>": lambda s: [_policy(s)["Alarms"][0]["AlarmARN"]],
    "arn:aws:autoscaling:<region>:<account>:scalingPolicy:<uuid>:resource/ecs/service/<cluster>"
    "/<service>:policyName/<name>": lambda s: [_policy(s)["PolicyARN"]],
    "ecs-svc/<19 digits>": lambda s: [_ecs_arns(s)["deployment"]],
    "arn:aws:ecs:<region>:<account>:cluster/<name>": lambda s: [_ecs_arns(s)["cluster"]],
    "arn:aws:ecs:<region>:<account>:service/<cluster>/<name>": lambda s: [_ecs_arns(s)["service"]],
    "arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex>": lambda s: [_ecs_arns(s)["task"]],
    "arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>": lambda s: [
        _ecs_arns(s)["taskdef"]
    ],
    "arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<16 hex>": (
        lambda s: [_elb_names(s)["lb"]]
    ),
    "arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex>": lambda s: [
        _elb_names(s)["tg"]
    ],
    "arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<16 hex>/<16 hex>": (
        lambda s: [_elb_names(s)["listener"]]
    ),
    "arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<name>/<16 hex>/<16 hex>"
    "/<16 hex>": lambda s: [_elb_names(s)["rule"]],
    "<name>-<digits>.<region>.elb.amazonaws.com": lambda s: [_elb_names(s)["dns"]],
    "subnet-<17 hex>": _ec2_ids,
    "arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<32 hex>": lambda s: [
        _joined(s)["container_instance"]
    ],
    "arn:aws:application-autoscaling:<region>:<account>:scalable-target/<36 hex>": lambda s: [
        _scalable_target(s)
    ],
    "i-<17 hex>": _ec2_more_ids,
    "The parameter Statistics.member.<N>.<list element> must be a value in the set [SampleCount, "
    "Average, Sum, Minimum, Maximum].": lambda s: _statistics(s, Statistics=["Sum", "Median"]),
    "You have requested up to <digits> datapoints, which exceeds the limit of 1440. You may "
    "reduce the datapoints requested by increasing Period, or decreasing the time range.": (
        lambda s: _statistics(s, EndTime=_HOUR[0] + dt.timedelta(days=2))
    ),
    "The collection <name> must not have a size greater than <most>.": lambda s: (
        _statistics(s, Statistics=["Sum"] * 6) + _data(s, [_query(f"q{i}") for i in range(501)])
    ),
    "The values for parameter id in MetricDataQueries are not unique.": lambda s: _data(
        s, [_query(), _query()]
    ),
    "The value <id> for parameter MetricDataQueries.member.<N>.Id is not matching the expected "
    "pattern ^[a-z][a-zA-Z0-9_]*$.": lambda s: _data(s, [_query("5xx_errors")]),
    "The value <value> for parameter MetricDataQueries.member.<N>.MetricStat.Stat is not a valid "
    "statistic.": lambda s: _data(s, [_query(Stat="Median")]),
    "The parameter StartTime must not equal parameter EndTime.": lambda s: (
        _statistics(s, EndTime=_HOUR[0]) + _data(s, [_query()], EndTime=_HOUR[0])
    ),
    "The parameter <name> is required.": _cw_required,
}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r[0]}: {r[2][:40]}")
def test_ecsim_answers_every_row(server: LiveServer, row: tuple[str, str, str, str]) -> None:
    code, _, theirs, _ = row
    wanted = templates(theirs)
    assert wanted[0] in PRODUCERS, f"no way to make ecsim answer {code}: {wanted[0]}"
    answers = PRODUCERS[wanted[0]](server)
    assert answers, f"ecsim never answered {code}"
    if len(wanted) > 1:  # one row, several shapes: one answer each
        assert len(answers) == len(wanted)
        pairs = list(zip(wanted, answers, strict=True))
    else:  # one text: one of the answers is it (a code can have several cases)
        pairs = [(wanted[0], next((a for a in answers if pattern(wanted[0]).fullmatch(a)), ""))]
    for template, answer in pairs:
        assert pattern(template).fullmatch(answer), (code, template, answers)


# --- every message ecsim raises is in the audit ---------------------------------------------

SRC = Path(__file__).resolve().parent.parent / "src" / "ecsim" / "model"

# The facades' raise sites: the error calls of the ECS, ELBv2, EC2, Application Auto Scaling
# and CloudWatch (metrics) faces and of the shared parameter checks. ECS's `dockerLabels`
# profile errors are ecsim's own settings, not AWS's.
FACADES = [
    "ecs/api.py", "ecs/backend.py", "ecs/cluster_query.py", "ecs/container_health.py",
    "ecs/placement.py", "ecs/tagging.py", "ecs/taskdef.py",
    "elbv2/api.py", "elbv2/backend.py", "elbv2/tagging.py",
    "ec2/api.py", "ec2/network.py", "autoscaling/api.py", "cloudwatch/api.py", "aws/params.py",
]  # fmt: skip

_NOT_ERRORS = {"ValueError", "TypeError", "KeyError", "RuntimeError", "AssertionError"}
# Error classes named for codes that end neither in Exception nor in Error (CloudWatch's), and
# the callables a facade raises them through (`_window`'s `error`).
_ERROR_NAMES = {
    "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "error",
}  # fmt: skip


def _is_error_call(node: ast.Call) -> bool:
    name = ast.unparse(node.func)
    last = name.rsplit(".", 1)[-1]
    return name not in _NOT_ERRORS and (
        name in ("ec2_error", "AwsError", "errors.AwsError")
        or last == "fail"
        or (name.startswith("errors.") and last[:1].isupper())
        or last.endswith(("Exception", "Error"))
        or last in _ERROR_NAMES
    )


def _template(node: ast.expr) -> str | None:
    """A message argument as a template: its literal text, each `{...}` as `<...>`; None
    when it is not written at the raise site (a name or a call: a `messages.py` text)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            else:
                assert isinstance(v, ast.FormattedValue)
                parts.append("<" + ast.unparse(v.value) + ">")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        return None if left is None else left + (right if right is not None else "<...>")
    return None


def raised_messages() -> dict[str, str]:
    """Every message written at a facade's raise site, as a template -> its file:line."""
    found: dict[str, str] = {}
    for rel in FACADES:
        tree = ast.parse((SRC / rel).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_error_call(node) and node.args:
                message = node.args[-1] if ast.unparse(node.func) == "ec2_error" else node.args[0]
                text = _template(message)
                if text is not None and not text.startswith("<"):
                    found.setdefault(text, f"{rel}:{node.lineno}")
    return found


def _shape(template: str) -> str:
    """A template with its placeholders, whatever their names, as `<>`."""
    return re.sub(r"<[^<>]*>", "<>", template)


def own_wording() -> list[str]:
    """The backticked texts of the audit's list of ecsim's own wording."""
    body = BEHAVIOUR.read_text().split("### Wording audit\n", 1)[1].split("\n### ", 1)[0]
    listed = body.split("Messages for which no AWS page", 1)[1]
    return re.findall(r"`([^`]+)`", listed)


def test_every_message_ecsim_raises_is_a_row_or_listed_as_ecsims_own() -> None:
    audited = {_shape(t) for row in ROWS for t in templates(row[2])}
    audited |= {_shape(t) for t in own_wording()}
    missing = {
        text: where for text, where in raised_messages().items() if _shape(text) not in audited
    }
    assert not missing, "\n".join(f"{w}: {t}" for t, w in sorted(missing.items(), key=str))


def test_cloudwatch_answers_each_refusal_with_aws_code(server: LiveServer) -> None:
    """The codes beside the CloudWatch rows: GetMetricData refuses with ValidationError where
    GetMetricStatistics says InvalidParameterValue (StartTime equal to EndTime:
    https://github.com/influxdata/telegraf/issues/2022,
    https://github.com/prometheus-community/yet-another-cloudwatch-exporter/issues/729; two
    queries with one Id: https://github.com/aws-solutions/quota-monitor-for-aws/issues/171)."""
    cw = server.client("cloudwatch")
    start = _HOUR[0]
    base = {
        "Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount", "StartTime": start,
        "Period": 60,
    }  # fmt: skip
    calls: list[tuple[Callable[[], Any], str]] = [
        (lambda: cw.get_metric_statistics(**base, EndTime=start, Statistics=["Sum"]),
         "InvalidParameterValue"),
        (lambda: cw.get_metric_statistics(**base, EndTime=_HOUR[1], Statistics=["Median"]),
         "InvalidParameterValue"),
        (lambda: cw.get_metric_data(MetricDataQueries=[_query()], StartTime=start, EndTime=start),
         "ValidationError"),
        (lambda: cw.get_metric_data(
            MetricDataQueries=[_query(), _query()], StartTime=start, EndTime=_HOUR[1]),
         "ValidationError"),
        (lambda: cw.get_metric_data(
            MetricDataQueries=[_query("Q")], StartTime=start, EndTime=_HOUR[1]),
         "ValidationError"),
        (lambda: cw.get_metric_data(
            MetricDataQueries=[_query(f"q{i}") for i in range(501)], StartTime=start,
            EndTime=_HOUR[1]),
         "ValidationError"),
    ]  # fmt: skip
    for call, code in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == code, e.value.response["Error"]
