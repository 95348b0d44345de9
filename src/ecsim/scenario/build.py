"""Build a scenario's world through the same calls a boto3 script would make: `w.ec2`,
`w.ecs.create_cluster`, `register_task_definition`, `w.elbv2.create_target_group`, ...,
`w.ecs.create_service`. An AWS error names the scenario line that caused it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecsim.model.autoscaling.target_tracking import (
    Policy,
    TargetTrackingError,
    service_target,
    track,
)
from ecsim.model.aws.names import resource, resource_id
from ecsim.model.durations import parse_duration
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from ecsim.scenario.errors import ScenarioError
from ecsim.scenario.spec import Scenario

DEFAULT_IMAGE = "public.ecr.aws/nginx/nginx:latest"
_APP_LABELS = {
    "startup": "ecsim.startup",
    "start": "ecsim.start",
    "crash_after": "ecsim.crash-after",
    "error_rate": "ecsim.error-rate",
    "capacity": "ecsim.capacity",
    "health": "ecsim.health",
    "health_code": "ecsim.health.code",
    "health_latency": "ecsim.health.latency",
    "shutdown": "ecsim.shutdown",
    "hang": "ecsim.hang",
}


def seconds(value: Any) -> int:
    return round(parse_duration(value))


def labels(app: dict[str, Any]) -> dict[str, str]:
    """The `ecsim.*` docker labels for an app profile."""
    out: dict[str, str] = {}
    for key, label in _APP_LABELS.items():
        if key in app:
            value = app[key]
            out[label] = str(value).lower() if isinstance(value, bool) else str(value)
    latency = app.get("latency", {})
    if "median" in latency:
        out["ecsim.latency.median"] = str(latency["median"])
    if "sigma" in latency:
        out["ecsim.latency.sigma"] = str(latency["sigma"])
    return out


class Builder:
    def __init__(self, w: World, scenario: Scenario) -> None:
        self.w = w
        self.s = scenario
        self.tg_arns: dict[str, str] = {}
        self.lb_arns: dict[str, str] = {}
        self.rule_arns: dict[str, str] = {}  # a named rule's ARN
        self.families: dict[str, dict[str, Any]] = {}

    def call(self, path: str, fn: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
        try:
            return fn(**params)
        except AwsError as e:
            raise ScenarioError(
                self.s.file,
                self.s.lines.get(path),
                path,
                f"AWS refused {fn.__name__}: {e.code}: {e.message}",
            ) from None

    # --- the default network --------------------------------------------------------------

    def subnets(self, azs: list[str] | None = None) -> list[str]:
        subnets = self.w.ec2.describe_subnets(
            Filters=[{"Name": "default-for-az", "Values": ["true"]}]
        )["Subnets"]
        return [s["SubnetId"] for s in subnets if azs is None or s["AvailabilityZone"] in azs]

    def vpc(self) -> str:
        vpcs = self.w.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
        return str(vpcs["Vpcs"][0]["VpcId"])

    def security_group(self) -> str:
        groups = self.w.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}]
        )
        return str(groups["SecurityGroups"][0]["GroupId"])

    # --- the world ------------------------------------------------------------------------

    def build(self) -> None:
        world = self.s.world
        for i, name in enumerate(world.get("clusters", [])):
            self.call(f"world.clusters[{i}]", self.w.ecs.create_cluster, clusterName=name)
        for i, td in enumerate(world.get("task_definitions", [])):
            self.task_definition(f"world.task_definitions[{i}]", td)
        for i, group in enumerate(world.get("instances", [])):
            self.instances(f"world.instances[{i}]", group)
        for i, tg in enumerate(world.get("target_groups", [])):
            self.target_group(f"world.target_groups[{i}]", tg)
        for i, lb in enumerate(world.get("load_balancers", [])):
            self.load_balancer(f"world.load_balancers[{i}]", lb)
        for i, alarm in enumerate(world.get("alarms", [])):
            self.alarm(f"world.alarms[{i}]", alarm)
        for i, svc in enumerate(world.get("services", [])):
            self.service(f"world.services[{i}]", svc)

    def alarm(self, path: str, alarm: dict[str, Any]) -> None:
        """PutMetricAlarm on an AWS/ApplicationELB metric of a load balancer (docs/behaviour.md,
        "CloudWatch alarms")."""
        lb = self.lb_arns[alarm["load_balancer"]]
        dimensions = [{"Name": "LoadBalancer", "Value": resource_id(lb)}]
        if "target_group" in alarm:
            tg = self.tg_arns[alarm["target_group"]]
            dimensions.insert(0, {"Name": "TargetGroup", "Value": resource(tg)})
        statistic = str(alarm.get("statistic", "Sum"))
        which = "ExtendedStatistic" if statistic.startswith("p") else "Statistic"
        params: dict[str, Any] = {
            "AlarmName": alarm["name"],
            "Namespace": "AWS/ApplicationELB",
            "MetricName": alarm["metric"],
            "Dimensions": dimensions,
            which: statistic,
            "Period": seconds(alarm.get("period", 60)),
            "EvaluationPeriods": alarm.get("evaluation_periods", 1),
            "Threshold": float(alarm["threshold"]),
            "ComparisonOperator": alarm.get("comparison", "GreaterThanThreshold"),
        }
        if "datapoints_to_alarm" in alarm:
            params["DatapointsToAlarm"] = alarm["datapoints_to_alarm"]
        if "treat_missing_data" in alarm:
            params["TreatMissingData"] = alarm["treat_missing_data"]
        self.call(path, self.w.cloudwatch.put_metric_alarm, **params)

    def task_definition(self, path: str, td: dict[str, Any]) -> None:
        compatibility = td.get("compatibility", "FARGATE")
        container: dict[str, Any] = {
            "name": td.get("container", "app"),
            "image": td.get("image", DEFAULT_IMAGE),
            "essential": True,
            "portMappings": [{"containerPort": td.get("port", 80), "protocol": "tcp"}],
            "dockerLabels": labels(td.get("app", {})),
        }
        if "stop_timeout" in td:
            container["stopTimeout"] = seconds(td["stop_timeout"])
        self.families[td["family"]] = td
        self.call(
            path,
            self.w.ecs.register_task_definition,
            family=td["family"],
            networkMode="awsvpc",
            requiresCompatibilities=[compatibility],
            cpu=str(td.get("cpu", 256)),
            memory=str(td.get("memory", 512)),
            containerDefinitions=[container],
        )

    def instances(self, path: str, group: dict[str, Any]) -> None:
        subnets = self.subnets(group.get("azs"))
        for n in range(group["count"]):
            self.call(
                path,
                self.w.ec2.run_instances,
                ImageId="ami-ecs-optimized",
                InstanceType=group.get("instance_type", "m5.large"),
                MinCount=1,
                MaxCount=1,
                SubnetId=subnets[n % len(subnets)],
                UserData=f"#!/bin/bash\necho ECS_CLUSTER={group['cluster']} >> /etc/ecs/ecs.config",
            )

    def target_group(self, path: str, tg: dict[str, Any]) -> None:
        hc = tg.get("health_check", {})
        params: dict[str, Any] = {
            "Name": tg["name"],
            "Protocol": tg.get("protocol", "HTTP"),
            "Port": tg.get("port", 80),
            "VpcId": self.vpc(),
            "TargetType": "ip",
            "HealthCheckPath": hc.get("path", "/"),
        }
        for key, name in (
            ("interval", "HealthCheckIntervalSeconds"),
            ("timeout", "HealthCheckTimeoutSeconds"),
        ):
            if key in hc:
                params[name] = seconds(hc[key])
        for key, name in (
            ("healthy_threshold", "HealthyThresholdCount"),
            ("unhealthy_threshold", "UnhealthyThresholdCount"),
        ):
            if key in hc:
                params[name] = hc[key]
        if "matcher" in hc:
            params["Matcher"] = {"HttpCode": str(hc["matcher"])}
        arn = self.call(path, self.w.elbv2.create_target_group, **params)["TargetGroups"][0][
            "TargetGroupArn"
        ]
        self.tg_arns[tg["name"]] = arn
        attributes: dict[str, str] = {}
        if "deregistration_delay" in tg:
            attributes["deregistration_delay.timeout_seconds"] = str(
                seconds(tg["deregistration_delay"])
            )
        if "slow_start" in tg:
            attributes["slow_start.duration_seconds"] = str(seconds(tg["slow_start"]))
        if "algorithm" in tg:
            attributes["load_balancing.algorithm.type"] = tg["algorithm"]
        if "fail_open_minimum" in tg:
            key = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"
            attributes[key] = str(tg["fail_open_minimum"])
        if "fail_open_percentage" in tg:
            key = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage"
            attributes[key] = str(tg["fail_open_percentage"])
        for key, value in tg.get("attributes", {}).items():
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if attributes:
            self.call(
                path,
                self.w.elbv2.modify_target_group_attributes,
                TargetGroupArn=arn,
                Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()],
            )

    def action(self, path: str, action: dict[str, Any]) -> dict[str, Any]:
        if "fixed_response" in action:
            fixed = action["fixed_response"]
            config = {"StatusCode": str(fixed["status"]), "ContentType": "text/plain"}
            if "body" in fixed:
                config["MessageBody"] = fixed["body"]
            return {"Type": "fixed-response", "FixedResponseConfig": config}
        forward = action["forward"]
        if isinstance(forward, str):
            return {"Type": "forward", "TargetGroupArn": self.tg_arns[forward]}
        groups = [
            {"TargetGroupArn": self.tg_arns[f["target_group"]], "Weight": f.get("weight", 1)}
            for f in forward
        ]
        return {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}

    def load_balancer(self, path: str, lb: dict[str, Any]) -> None:
        made = self.call(
            path,
            self.w.elbv2.create_load_balancer,
            Name=lb["name"],
            Subnets=self.subnets(lb.get("azs")),
            SecurityGroups=[self.security_group()],
            Scheme="internet-facing",
            Type="application",
        )
        arn = made["LoadBalancers"][0]["LoadBalancerArn"]
        self.lb_arns[lb["name"]] = arn
        if "idle_timeout" in lb:
            self.call(
                path,
                self.w.elbv2.modify_load_balancer_attributes,
                LoadBalancerArn=arn,
                Attributes=[
                    {
                        "Key": "idle_timeout.timeout_seconds",
                        "Value": str(seconds(lb["idle_timeout"])),
                    }
                ],
            )
        for i, listener in enumerate(lb["listeners"]):
            where = f"{path}.listeners[{i}]"
            made_listener = self.call(
                where,
                self.w.elbv2.create_listener,
                LoadBalancerArn=arn,
                Protocol="HTTP",
                Port=listener["port"],
                DefaultActions=[self.action(where, listener["default_action"])],
            )
            listener_arn = made_listener["Listeners"][0]["ListenerArn"]
            for j, rule in enumerate(listener.get("rules", [])):
                conditions = []
                if "path" in rule:
                    conditions.append({"Field": "path-pattern", "Values": rule["path"]})
                if "host" in rule:
                    conditions.append({"Field": "host-header", "Values": rule["host"]})
                made_rule = self.call(
                    f"{where}.rules[{j}]",
                    self.w.elbv2.create_rule,
                    ListenerArn=listener_arn,
                    Priority=rule["priority"],
                    Conditions=conditions,
                    Actions=[self.action(where, rule["action"])],
                )
                if "name" in rule:
                    self.rule_arns[rule["name"]] = made_rule["Rules"][0]["RuleArn"]

    def service(self, path: str, svc: dict[str, Any]) -> None:
        family = svc["task_definition"].split(":")[0]
        td = self.families.get(family, {})
        launch_type = svc.get("launch_type", td.get("compatibility", "FARGATE"))
        network: dict[str, Any] = {
            "subnets": self.subnets(svc.get("azs")),
            "securityGroups": [self.security_group()],
        }
        if launch_type == "FARGATE":
            network["assignPublicIp"] = "ENABLED"
        breaker = svc.get("circuit_breaker", False)
        if isinstance(breaker, bool):
            breaker = {"enable": breaker, "rollback": breaker}
        params: dict[str, Any] = {
            "cluster": svc["cluster"],
            "serviceName": svc["name"],
            "taskDefinition": svc["task_definition"],
            "desiredCount": svc["desired_count"],
            "networkConfiguration": {"awsvpcConfiguration": network},
            "deploymentConfiguration": {
                "minimumHealthyPercent": svc.get("minimum_healthy_percent", 100),
                "maximumPercent": svc.get("maximum_percent", 200),
                "deploymentCircuitBreaker": {
                    "enable": bool(breaker.get("enable", True)),
                    "rollback": bool(breaker.get("rollback", False)),
                },
            },
        }
        watched = svc.get("deployment_alarms")
        if watched is not None:  # (docs/behaviour.md, "Deployment alarms")
            if isinstance(watched, list):
                watched = {"alarms": watched}
            params["deploymentConfiguration"]["alarms"] = {
                "alarmNames": list(watched["alarms"]),
                "enable": True,
                "rollback": bool(watched.get("rollback", True)),
            }
        spec = svc.get("deployment")
        if spec is not None:
            params["deploymentConfiguration"].update(strategy(spec, svc["name"], self.arn_parts()))
        if "capacity_provider_strategy" in svc:
            # the providers a strategy names are associated with the cluster first, as
            # infrastructure code does (PutClusterCapacityProviders)
            cluster = self.w.ecs.describe_clusters(clusters=[svc["cluster"]])["clusters"][0]
            have = list(cluster.get("capacityProviders", []))
            wanted = have + [
                item["provider"]
                for item in svc["capacity_provider_strategy"]
                if item["provider"] not in have
            ]
            if wanted != have:
                self.call(
                    f"{path}.capacity_provider_strategy",
                    self.w.ecs.put_cluster_capacity_providers,
                    cluster=svc["cluster"],
                    capacityProviders=wanted,
                    defaultCapacityProviderStrategy=cluster.get(
                        "defaultCapacityProviderStrategy", []
                    ),
                )
            params["capacityProviderStrategy"] = [
                {
                    "capacityProvider": item["provider"],
                    "weight": item.get("weight", 0),
                    "base": item.get("base", 0),
                }
                for item in svc["capacity_provider_strategy"]
            ]
        if "capacity_provider_strategy" not in svc or "launch_type" in svc:
            params["launchType"] = launch_type  # both: CreateService refuses them, as AWS does
        for key, param in (
            ("placement_strategy", "placementStrategy"),
            ("placement_constraints", "placementConstraints"),
            ("availability_zone_rebalancing", "availabilityZoneRebalancing"),
        ):
            if key in svc:
                params[param] = svc[key]
        groups = svc.get("target_groups", [])
        if groups:
            params["loadBalancers"] = [
                {
                    "targetGroupArn": self.tg_arns[name],
                    "containerName": td.get("container", "app"),
                    "containerPort": td.get("port", 80),
                }
                for name in groups
            ]
            if spec is not None and "alternate_target_group" in spec:
                # blue is the service's first group (docs/scenarios.md, "Blue/green, linear
                # and canary deployments")
                params["loadBalancers"][0]["advancedConfiguration"] = self.advanced(spec)
            if "health_check_grace_period" in svc:
                params["healthCheckGracePeriodSeconds"] = seconds(svc["health_check_grace_period"])
        try:
            self.w.ecs.create_service(**params)
        except AwsError as e:
            # a refusal of the deployment's values names the deployment block's line
            where = path
            if spec is not None and any(word in e.message for word in DEPLOYMENT_WORDS):
                where = f"{path}.deployment"
            raise ScenarioError(
                self.s.file,
                self.s.lines.get(where),
                where,
                f"AWS refused create_service: {e.code}: {e.message}",
            ) from None
        if "auto_scaling" in svc:
            self.auto_scaling(f"{path}.auto_scaling", svc)

    def arn_parts(self) -> tuple[str, str]:
        """The world's region and account (for the placeholder IAM and Lambda ARNs)."""
        some = next(iter(self.tg_arns.values()), "arn:aws:ecs:us-east-1:123456789012:x")
        parts = some.split(":")
        return parts[3], parts[4]

    def advanced(self, spec: dict[str, Any]) -> dict[str, Any]:
        """loadBalancers[0].advancedConfiguration; the role is a placeholder (no IAM is
        checked)."""
        _, account = self.arn_parts()
        config = {
            "alternateTargetGroupArn": self.tg_arns[spec["alternate_target_group"]],
            "productionListenerRule": self.rule_arns[spec["production_rule"]],
            "roleArn": f"arn:aws:iam::{account}:role/ecsInfrastructureRoleForLoadBalancers",
        }
        if "test_rule" in spec:
            config["testListenerRule"] = self.rule_arns[spec["test_rule"]]
        return config

    def auto_scaling(self, path: str, svc: dict[str, Any]) -> None:
        """RegisterScalableTarget and one target tracking PutScalingPolicy per entry (the
        model's `track`, as the page's control makes them)."""
        spec = svc["auto_scaling"]
        policies = []
        for i, policy in enumerate(spec["target_tracking"]):
            where = f"{path}.target_tracking[{i}]"
            cooldowns = {
                key: round(seconds(policy[key])) if key in policy else None
                for key in ("scale_out_cooldown", "scale_in_cooldown")
            }
            policies.append(
                Policy(
                    name=policy.get("name", f"{policy['metric']}-{policy['target']:g}"),
                    metric=METRICS[policy["metric"]],
                    target=float(policy["target"]),
                    resource_label=self.resource_label(where, svc, policy)
                    if policy["metric"] == "requests_per_target"
                    else None,
                    disable_scale_in=policy.get("disable_scale_in"),
                    **cooldowns,
                )
            )
        target = service_target(svc["cluster"], svc["name"])
        try:
            track(
                self.w.application_autoscaling,
                self.w.ecs,
                target,
                spec["min"],
                spec["max"],
                policies,
            )
        except TargetTrackingError as e:
            where = path if e.policy is None else f"{path}.target_tracking[{e.policy}]"
            raise ScenarioError(
                self.s.file,
                self.s.lines.get(where),
                where,
                f"AWS refused {e.operation}: {e.error.code}: {e.error.message}",
            ) from None

    def resource_label(self, path: str, svc: dict[str, Any], policy: dict[str, Any]) -> str:
        """`app/<lb>/<id>/targetgroup/<tg>/<id>` of the policy's target group."""
        groups = svc.get("target_groups", [])
        name = policy.get("target_group", groups[0] if groups else None)
        arn = self.tg_arns.get(name) if name else None
        lbs = (
            self.w.elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0][
                "LoadBalancerArns"
            ]
            if arn
            else []
        )
        if arn is None or not lbs:
            raise ScenarioError(
                self.s.file,
                self.s.lines.get(path),
                path,
                "requests_per_target needs a target group behind a load balancer "
                f"(target_group, or the service's first); got {name!r}",
            )
        return f"{lbs[0].split(':loadbalancer/', 1)[1]}/{arn.rsplit(':', 1)[1]}"


# Words of ECS's refusals of a deploymentConfiguration or advancedConfiguration.
DEPLOYMENT_WORDS = (
    "strategy",
    "bakeTimeInMinutes",
    "linearConfiguration",
    "canaryConfiguration",
    "stepPercent",
    "canaryPercent",
    "lifecycle",
    "hook",
    "advancedConfiguration",
    "alternateTargetGroupArn",
    "ListenerRule",
)


def minutes(value: Any) -> int:
    return round(parse_duration(value) / 60)


def strategy(spec: dict[str, Any], service: str, where: tuple[str, str]) -> dict[str, Any]:
    """deploymentConfiguration's strategy members for a service's `deployment` block; a
    hook's function and role are placeholders in the world's region and account."""
    region, account = where
    out: dict[str, Any] = {"strategy": spec["strategy"]}
    if "bake" in spec:
        out["bakeTimeInMinutes"] = minutes(spec["bake"])
    for block, key, percent, bake in (
        ("linear", "linearConfiguration", "stepPercent", "stepBakeTimeInMinutes"),
        ("canary", "canaryConfiguration", "canaryPercent", "canaryBakeTimeInMinutes"),
    ):
        if block in spec:
            config: dict[str, Any] = {}
            if "percent" in spec[block]:
                config[percent] = float(spec[block]["percent"])
            if "bake" in spec[block]:
                config[bake] = minutes(spec[block]["bake"])
            out[key] = config
    hooks = []
    for n, hook in enumerate(spec.get("hooks", []), start=1):
        function = hook.get("function", f"{service}-hook-{n}")
        made: dict[str, Any] = {
            "hookTargetArn": f"arn:aws:lambda:{region}:{account}:function:{function}",
            "roleArn": f"arn:aws:iam::{account}:role/ecsLambdaHookRole",
            "lifecycleStages": list(hook["stages"]),
        }
        if "details" in hook:
            made["hookDetails"] = hook["details"]
        if "timeout" in hook or "on_timeout" in hook:
            made["timeoutConfiguration"] = {
                "timeoutInMinutes": minutes(hook.get("timeout", "1440m")),
                "action": hook.get("on_timeout", "ROLLBACK"),
            }
        hooks.append(made)
    if hooks:
        out["lifecycleHooks"] = hooks
    return out


METRICS = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "requests_per_target": "ALBRequestCountPerTarget",
}


def build(w: World, scenario: Scenario) -> None:
    """Create the scenario's world in `w`, at w's current time."""
    Builder(w, scenario).build()
