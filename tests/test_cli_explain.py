"""`ecsim explain`: every kind of ARN and ID, and plain names with how sure it is."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ecsim.cli.main import main
from ecsim.model.aws.explain import explanations

A = "arn:aws:ecs:us-east-1:123456789012"
E = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
UUID = "5d845387-1cd4-4183-b5d5-de988ca2df4e"


@pytest.mark.parametrize(
    ("text", "what", "lookup"),
    [
        (
            f"{A}:cluster/home",
            "an ECS cluster ARN (cluster home)",
            "aws ecs describe-clusters --clusters home",
        ),
        (
            f"{A}:service/home/home-service",
            "an ECS service ARN (service home-service in cluster home)",
            "aws ecs describe-services --cluster home --services home-service",
        ),
        (
            f"{A}:task/home/2bf4e11bc76e3db6c28b26ff10be77be",
            "an ECS task ARN (task 2bf4e11bc76e3db6c28b26ff10be77be in cluster home)",
            "aws ecs describe-tasks --cluster home --tasks 2bf4e11bc76e3db6c28b26ff10be77be",
        ),
        (
            f"{A}:task-definition/home-app:3",
            "an ECS task definition ARN (home-app:3)",
            "aws ecs describe-task-definition --task-definition home-app:3",
        ),
        (
            f"{A}:container-instance/home/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "an ECS container instance ARN (0f1e2d3c4b5a69788796a5b4c3d2e1f0 in cluster home)",
            "aws ecs describe-container-instances --cluster home",
        ),
        (
            f"{E}:loadbalancer/app/home-alb/83ce705e0a8f5a67",
            "an Application Load Balancer ARN (home-alb)",
            "aws elbv2 describe-load-balancers --load-balancer-arns",
        ),
        (
            f"{E}:listener/app/home-alb/83ce705e0a8f5a67/1234567890abcdef",
            "an ALB listener ARN (a listener of load balancer home-alb)",
            "aws elbv2 describe-rules --listener-arn",
        ),
        (
            f"{E}:targetgroup/home-tg/6aa83aefe1048d34",
            "a target group ARN (target group home-tg)",
            "aws elbv2 describe-target-health --target-group-arn",
        ),
        ("2bf4e11bc76e3db6c28b26ff10be77be", "an ECS task ID", "aws ecs describe-tasks"),
        ("ecs-svc/6425854754209057718", "an ECS service deployment ID", "--started-by ecs-svc/"),
        ("i-0abc123def4567890", "an EC2 instance ID", "aws ec2 describe-instances --instance-ids"),
        (
            "eni-0abc123def4567890",
            "an elastic network interface (ENI) ID",
            "describe-network-interfaces",
        ),
        (
            "10.0.1.5",
            "an IP address: with target type ip, a target in a target group",
            "describe-target-health",
        ),
        (
            "home-app:2",
            "an ECS task definition revision (family home-app, revision 2)",
            "describe-task-definition",
        ),
        (
            f"TargetTracking-service/home/home-service-AlarmHigh-{UUID}",
            "a CloudWatch alarm of a target tracking policy (service/home/home-service, the "
            "last 3 one-minute datapoints above the target: scale out)",
            "describe-scaling-policies --service-namespace ecs --resource-id service/home/",
        ),
        (
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-service/home/"
            f"home-service-AlarmLow-{UUID}",
            "a CloudWatch alarm of a target tracking policy (service/home/home-service, the "
            "last 15 one-minute datapoints below 90 % of the target: scale in)",
            "describe-scaling-activities --service-namespace ecs",
        ),
        (
            f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:{UUID}:resource/ecs/"
            "service/home/home-service:policyName/cpu50",
            "a scaling policy ARN (policy cpu50 of service/home/home-service)",
            "describe-scaling-policies",
        ),
        (
            "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/"
            "a9ec666b221e9519321eadc23228b37b",
            "an Application Auto Scaling scalable target ARN",
            "describe-scalable-targets",
        ),
    ],
)
def test_identifiers(text: str, what: str, lookup: str) -> None:
    (e,) = explanations(text)
    assert e.what == what
    assert any(lookup in cmd for cmd in e.lookup)
    assert e.managed_by


def test_the_seeds_question_a_numbered_instance_is_not_a_service() -> None:
    (e,) = explanations("1-home-instance")
    assert e.what == "almost certainly a task or an EC2 instance (a worker), NOT a service"
    assert e.sure == "likely"
    assert "static names like home-service" in e.why


@pytest.mark.parametrize(
    ("text", "what", "sure"),
    [
        ("home-service", "probably an ECS service name", "likely"),
        ("home-alb", "probably a load balancer name", "possible"),
        ("home-tg", "probably a target group name", "possible"),
        ("prod-cluster", "probably an ECS cluster name", "possible"),
        (
            "worker-7",
            "almost certainly a task or an EC2 instance (a worker), NOT a service",
            "likely",
        ),
    ],
)
def test_plain_names_say_how_sure(text: str, what: str, sure: str) -> None:
    (e,) = explanations(text)
    assert (e.what, e.sure) == (what, sure)


def test_a_name_with_no_clue_is_only_possible() -> None:
    (e,) = explanations("zebra")
    assert e.sure == "possible" and "only a lookup can say" in e.why
    assert len(e.lookup) == 4


def test_the_command() -> None:
    result = CliRunner().invoke(main, ["explain", "1-home-instance"])
    assert result.exit_code == 0
    assert "NOT a service" in result.output and "look it up:" in result.output
