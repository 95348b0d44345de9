"""What an ARN, an ID or a name is, who manages it, and how to look it up: the seed's opening
answer ("1-home-instance" is a task or an instance, not a service), made general. Used by
`ecsim explain` and by the page's explainer; it reads the text alone, no world."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>\d*):(?P<resource>.+)$"
)
TASK_ID = re.compile(r"^[0-9a-f]{32}$")
DEPLOYMENT_ID = re.compile(r"^ecs-svc/\d{16,20}$")
INSTANCE_ID = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ENI_ID = re.compile(r"^eni-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$")
TASK_DEFINITION = re.compile(r"^(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>\d+)$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TRACKING_ALARM = re.compile(
    r"^TargetTracking-(?P<resource>service/[^/]+/[^/]+)-Alarm(?P<side>High|Low)-[0-9a-f-]{36}$"
)
AUTO_SCALING = (
    "Application Auto Scaling: its target tracking policy sets the service's desired count "
    "through ECS; the ECS service scheduler then starts or stops the tasks"
)

TASK_MANAGER = (
    "a service's tasks are started, replaced and stopped by the ECS service scheduler; "
    "a task started by RunTask is managed by whoever started it. The tasks run on "
    "Fargate or on an EC2 container instance"
)


@dataclass
class Explanation:
    text: str
    what: str
    sure: str  # certain, likely, possible
    why: str
    managed_by: str
    lookup: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = [
            self.text,
            f"  what:        {self.what}",
            f"  how sure:    {self.sure}, because {self.why}",
            f"  managed by:  {self.managed_by}",
        ]
        out += [f"  note:        {note}" for note in self.notes]
        if self.lookup:
            out.append("  look it up:")
            out += [f"    {cmd}" for cmd in self.lookup]
        return "\n".join(out)


def explain(text: str) -> str:
    return "\n\n".join(e.render() for e in explanations(text.strip()))


def explanations(text: str) -> list[Explanation]:
    m = ARN.match(text)
    if m:
        return [_arn(text, m)]
    if DEPLOYMENT_ID.match(text):
        return [
            Explanation(
                text,
                "an ECS service deployment ID",
                "certain",
                "the ecs-svc/<digits> form of the deployments of a service",
                "the ECS service scheduler: UpdateService starts a deployment, the circuit "
                "breaker may fail it and roll back to a COMPLETED one",
                [
                    "aws ecs describe-services --cluster <cluster> --services <service> "
                    "--query 'services[0].deployments'",
                    f"aws ecs list-tasks --cluster <cluster> --started-by {text}",
                ],
                ["a service task's startedBy field holds the ID of the deployment that started it"],
            )
        ]
    if TASK_ID.match(text):
        return [
            Explanation(
                text,
                "an ECS task ID",
                "likely",
                "32 hexadecimal digits: the last part of a task ARN (a container instance "
                "ID has the same form)",
                TASK_MANAGER,
                [
                    f"aws ecs describe-tasks --cluster <cluster> --tasks {text}",
                    f"aws ecs describe-container-instances --cluster <cluster> "
                    f"--container-instances {text}   # if it is not a task",
                ],
            )
        ]
    if INSTANCE_ID.match(text):
        return [
            Explanation(
                text,
                "an EC2 instance ID",
                "certain",
                "i- followed by 8 or 17 hexadecimal digits",
                "EC2 (you, an Auto Scaling group or an ECS capacity provider); its ECS agent "
                "registers it as a container instance of the cluster in ECS_CLUSTER",
                [
                    f"aws ec2 describe-instances --instance-ids {text}",
                    "aws ecs list-container-instances --cluster <cluster> "
                    f"--filter 'ec2InstanceId == {text}'",
                ],
            )
        ]
    if ENI_ID.match(text):
        return [
            Explanation(
                text,
                "an elastic network interface (ENI) ID",
                "certain",
                "eni- followed by hexadecimal digits",
                "with awsvpc networking, ECS creates one ENI per task (PROVISIONING) and "
                "deletes it after the task stops (DEPROVISIONING); its private IP is the "
                "target the ALB routes to",
                [
                    f"aws ec2 describe-network-interfaces --network-interface-ids {text}",
                    "aws ecs describe-tasks --cluster <cluster> --tasks <task>  "
                    "# attachments[].details: networkInterfaceId",
                ],
            )
        ]
    if SUBNET_ID.match(text):
        return [
            Explanation(
                text,
                "a VPC subnet ID",
                "certain",
                "subnet- followed by hexadecimal digits",
                "VPC (you); ECS places awsvpc tasks in the service's subnets, one AZ each",
                [f"aws ec2 describe-subnets --subnet-ids {text}"],
            )
        ]
    if IPV4.match(text):
        ip = text.split(":")[0]
        return [
            Explanation(
                text,
                "an IP address: with target type ip, a target in a target group",
                "likely",
                "the ALB routes to IP:port targets; with awsvpc each task has its own private IP",
                "the target group holds it (registered by the ECS service); the task behind "
                "it is managed by the ECS service scheduler",
                [
                    "aws elbv2 describe-target-health --target-group-arn <target-group-arn>",
                    f"aws ec2 describe-network-interfaces --filters "
                    f"Name=addresses.private-ip-address,Values={ip}",
                ],
            )
        ]
    m = TASK_DEFINITION.match(text)
    if m:
        family = m.group("family")
        return [
            Explanation(
                text,
                f"an ECS task definition revision (family {family}, revision {m.group('revision')})",
                "likely",
                "family:revision is how ECS names a task definition",
                "you: RegisterTaskDefinition makes each revision; a service runs the one its "
                "PRIMARY deployment names",
                [f"aws ecs describe-task-definition --task-definition {text}"],
            )
        ]
    m = TRACKING_ALARM.match(text)
    if m:
        resource, side = m.group("resource"), m.group("side")
        when = (
            "the last 3 one-minute datapoints above the target: scale out"
            if side == "High"
            else "the last 15 one-minute datapoints below 90 % of the target: scale in"
        )
        return [
            Explanation(
                text,
                f"a CloudWatch alarm of a target tracking policy ({resource}, {when})",
                "certain",
                "TargetTracking-<resource>-AlarmHigh/AlarmLow-<uuid> is how Application Auto "
                "Scaling names the alarms it creates",
                AUTO_SCALING,
                [
                    "aws application-autoscaling describe-scaling-policies "
                    f"--service-namespace ecs --resource-id {resource}",
                    "aws application-autoscaling describe-scaling-activities "
                    f"--service-namespace ecs --resource-id {resource}",
                ],
                ["do not edit or delete it: the policy owns it"],
            )
        ]
    if NAME.match(text):
        return [_name(text)]
    return [
        Explanation(
            text,
            "not an ECS, ELB or EC2 identifier ecsim recognises",
            "possible",
            "it is no ARN, no ID of a known form and not a valid resource name",
            "unknown",
            ["aws resourcegroupstaggingapi get-resources   # search your resources"],
        )
    ]


def _arn(text: str, m: re.Match[str]) -> Explanation:
    service, resource, region = m.group("service"), m.group("resource"), m.group("region")
    kind, _, rest = resource.partition("/")
    parts = rest.split("/") if rest else []
    r = f" --region {region}" if region else ""
    if service == "ecs":
        if kind == "cluster":
            return Explanation(
                text,
                f"an ECS cluster ARN (cluster {rest})",
                "certain",
                "arn:aws:ecs:...:cluster/<name>",
                "you: a cluster is a namespace for services, tasks and container instances",
                [f"aws ecs describe-clusters --clusters {rest}{r}"],
            )
        if kind == "service":
            cluster, name = (parts[0], parts[1]) if len(parts) == 2 else ("<cluster>", parts[0])
            return Explanation(
                text,
                f"an ECS service ARN (service {name} in cluster {cluster})",
                "certain",
                "arn:aws:ecs:...:service/<cluster>/<name>",
                "the ECS service scheduler: it keeps desiredCount tasks running, registers "
                "them in the service's target groups and replaces unhealthy ones. It is not "
                "on the request path: the ALB routes to the tasks",
                [
                    f"aws ecs describe-services --cluster {cluster} --services {name}{r}",
                    f"aws ecs list-tasks --cluster {cluster} --service-name {name}{r}",
                ],
            )
        if kind == "task":
            cluster, task = (parts[0], parts[1]) if len(parts) == 2 else ("<cluster>", parts[0])
            return Explanation(
                text,
                f"an ECS task ARN (task {task} in cluster {cluster})",
                "certain",
                "arn:aws:ecs:...:task/<cluster>/<id>",
                TASK_MANAGER,
                [f"aws ecs describe-tasks --cluster {cluster} --tasks {task}{r}"],
                ["a stopped task stays describable for at least an hour, then it is MISSING"],
            )
        if kind == "task-definition":
            return Explanation(
                text,
                f"an ECS task definition ARN ({rest})",
                "certain",
                "arn:aws:ecs:...:task-definition/<family>:<revision>",
                "you: each RegisterTaskDefinition call makes a new revision",
                [f"aws ecs describe-task-definition --task-definition {rest}{r}"],
            )
        if kind == "container-instance":
            cluster, ci = (parts[0], parts[1]) if len(parts) == 2 else ("<cluster>", parts[0])
            return Explanation(
                text,
                f"an ECS container instance ARN ({ci} in cluster {cluster})",
                "certain",
                "arn:aws:ecs:...:container-instance/<cluster>/<id>",
                "the ECS agent on an EC2 instance registered it; EC2 runs the instance",
                [
                    f"aws ecs describe-container-instances --cluster {cluster} "
                    f"--container-instances {ci}{r}"
                ],
            )
    if service == "elasticloadbalancing":
        if kind == "loadbalancer" and len(parts) >= 2:
            return Explanation(
                text,
                f"an Application Load Balancer ARN ({parts[1]})"
                if parts[0] == "app"
                else f"a load balancer ARN ({parts[-2]})",
                "certain",
                "arn:aws:elasticloadbalancing:...:loadbalancer/app/<name>/<id>",
                "Elastic Load Balancing: it takes client requests on its listeners and routes "
                "them to healthy targets; it does not start or stop tasks",
                [
                    f"aws elbv2 describe-load-balancers --load-balancer-arns {text}",
                    f"aws elbv2 describe-listeners --load-balancer-arn {text}",
                ],
            )
        if kind == "listener" and len(parts) >= 4:
            return Explanation(
                text,
                f"an ALB listener ARN (a listener of load balancer {parts[1]})",
                "certain",
                "arn:aws:elasticloadbalancing:...:listener/app/<lb-name>/<lb-id>/<id>",
                "Elastic Load Balancing: the listener's rules pick a target group per request",
                [
                    f"aws elbv2 describe-listeners --listener-arns {text}",
                    f"aws elbv2 describe-rules --listener-arn {text}",
                ],
            )
        if kind == "listener-rule" and len(parts) >= 5:
            return Explanation(
                text,
                f"an ALB listener rule ARN (load balancer {parts[1]})",
                "certain",
                "arn:aws:elasticloadbalancing:...:listener-rule/app/<lb>/<lb-id>/<listener-id>/<id>",
                "you: rules match path or host and forward to target groups",
                [f"aws elbv2 describe-rules --rule-arns {text}"],
            )
        if kind == "targetgroup" and parts:
            return Explanation(
                text,
                f"a target group ARN (target group {parts[0]})",
                "certain",
                "arn:aws:elasticloadbalancing:...:targetgroup/<name>/<id>",
                "Elastic Load Balancing keeps the registry and health-checks each target; the "
                "ECS service registers and deregisters its tasks' IPs in it",
                [f"aws elbv2 describe-target-health --target-group-arn {text}"],
            )
    if service == "ec2" and kind == "instance":
        return Explanation(
            text,
            f"an EC2 instance ARN ({rest})",
            "certain",
            "arn:aws:ec2:...:instance/<id>",
            "EC2; with the EC2 launch type its ECS agent joins a cluster",
            [f"aws ec2 describe-instances --instance-ids {rest}{r}"],
        )
    if service == "ec2" and kind == "network-interface":
        return Explanation(
            text,
            f"an elastic network interface ARN ({rest})",
            "certain",
            "arn:aws:ec2:...:network-interface/<id>",
            "ECS creates one per awsvpc task and deletes it after the task stops",
            [f"aws ec2 describe-network-interfaces --network-interface-ids {rest}{r}"],
        )
    if service == "application-autoscaling" and kind == "scalable-target":
        return Explanation(
            text,
            "an Application Auto Scaling scalable target ARN",
            "certain",
            "arn:aws:application-autoscaling:...:scalable-target/<id>",
            AUTO_SCALING,
            [f"aws application-autoscaling describe-scalable-targets --service-namespace ecs{r}"],
        )
    if service == "autoscaling" and resource.startswith("scalingPolicy:"):
        target = resource.split(":resource/ecs/", 1)[-1].split(":policyName/")
        return Explanation(
            text,
            f"a scaling policy ARN (policy {target[-1]} of {target[0]})"
            if len(target) == 2
            else "a scaling policy ARN",
            "certain",
            "arn:aws:autoscaling:...:scalingPolicy:<uuid>:resource/<namespace>/<resource>:"
            "policyName/<name>",
            AUTO_SCALING,
            [f"aws application-autoscaling describe-scaling-policies --service-namespace ecs{r}"],
        )
    if service == "cloudwatch" and TRACKING_ALARM.match(resource.removeprefix("alarm:")):
        return replace(explanations(resource.removeprefix("alarm:"))[0], text=text)
    return Explanation(
        text,
        f"an ARN of {service} ({kind or resource})",
        "certain",
        "it has the arn:partition:service:region:account:resource form",
        "not ECS, Elastic Load Balancing or EC2, so outside what ecsim models",
        [],
    )


_SERVICE_WORDS = ("service", "svc", "api", "web", "frontend", "backend")
_INSTANCE_WORDS = ("instance", "node", "host", "worker", "ec2", "box", "vm")


def _name(text: str) -> Explanation:
    lower = text.lower()
    words = re.split(r"[-_.]", lower)
    numbered = bool(re.match(r"^\d+[-_]", lower) or re.search(r"[-_]\d+$", lower))
    lookup_service = f"aws ecs describe-services --cluster <cluster> --services {text}"
    lookup_instance = f"aws ec2 describe-instances --filters Name=tag:Name,Values={text}"
    lookup_task = (
        "aws ecs list-tasks --cluster <cluster>   # then describe-tasks; match the group/tags"
    )
    if numbered or any(w in _INSTANCE_WORDS for w in words):
        why = []
        if numbered:
            why.append("it carries a number, like one running copy among several")
        if any(w in _INSTANCE_WORDS for w in words):
            why.append("it says instance/node/host/worker, words for a machine or a worker")
        return Explanation(
            text,
            "almost certainly a task or an EC2 instance (a worker), NOT a service",
            "likely",
            "; ".join(why)
            + ". Services have static names like home-service; the running copies (tasks) "
            "get IDs, and EC2 instances often get numbered Name tags",
            TASK_MANAGER + "; an EC2 instance by EC2 (or an Auto Scaling group)",
            [lookup_instance, lookup_task, lookup_service + "   # to rule it out"],
        )
    if any(w in _SERVICE_WORDS for w in words) and not numbered:
        return Explanation(
            text,
            "probably an ECS service name",
            "likely" if "service" in words or "svc" in words else "possible",
            "a static name that says service/api/web; services are named once and keep "
            "their name while their tasks come and go",
            "the ECS service scheduler (you create it; it manages its tasks)",
            [lookup_service, f"aws ecs list-tasks --cluster <cluster> --service-name {text}"],
        )
    guesses = [
        (("cluster",), "an ECS cluster name", f"aws ecs describe-clusters --clusters {text}"),
        (
            ("alb", "lb", "elb", "loadbalancer"),
            "a load balancer name",
            f"aws elbv2 describe-load-balancers --names {text}",
        ),
        (
            ("tg", "targets", "targetgroup", "target"),
            "a target group name",
            f"aws elbv2 describe-target-groups --names {text}",
        ),
        (
            ("task", "td", "taskdef", "app"),
            "a task definition family",
            f"aws ecs describe-task-definition --task-definition {text}",
        ),
    ]
    for keys, what, command in guesses:
        if any(k in words for k in keys):
            return Explanation(
                text,
                f"probably {what}",
                "possible",
                f"the name contains {', '.join(k for k in keys if k in words)!r}; a name alone "
                "proves nothing",
                "see the lookup",
                [command],
            )
    return Explanation(
        text,
        "a plain name: a service, cluster, task definition family, load balancer or target "
        "group could all be called that",
        "possible",
        "it has no ID, no number and no telling word; only a lookup can say",
        "depends on what it is",
        [
            lookup_service,
            f"aws ecs describe-clusters --clusters {text}",
            f"aws elbv2 describe-load-balancers --names {text}",
            f"aws elbv2 describe-target-groups --names {text}",
        ],
    )
