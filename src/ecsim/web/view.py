"""What the page shows, read from the world through its public describe calls (and, for the
AWS FIS faults a task is under, which AWS has no describe call for, `w.chaos`'s task; for the
datapoints of a target tracking policy, which AWS shows in CloudWatch, the scaler's policy).

The view is split in sections (`loadBalancers`, `targetGroups`, `services`, `tasks`, `azs`,
`traffic`); the hub sends a section again only when its JSON changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ecsim.model.ecs.task import Task
from ecsim.model.errors import AwsError
from ecsim.model.events import Event, TaskFaultChanged
from ecsim.model.verbs import faults
from ecsim.model.world import World
from ecsim.scenario.wording import fault_durations, fault_text, scaling_text

STOPPED_SHOWN_FOR = 90.0  # simulated seconds a STOPPED task stays on the page
EVENTS_SHOWN = 40


class FaultLog:
    """A world's FIS task fault records (TaskFaultChanged), for the events panel: read once,
    then kept as the world records them (`follow`: a subscriber of the world), with the
    service group and IP of each task, looked up while the task is known."""

    def __init__(self, w: World, follow: bool = True) -> None:
        self.world = w
        self.records: list[TaskFaultChanged] = []
        self.tasks: dict[str, tuple[str, str | None]] = {}  # task ARN -> (group, IP)
        for e in w.events(kind=TaskFaultChanged):
            self.add(e)
        if follow:
            w.subscribers.append(self.add)

    def add(self, e: Event) -> None:
        if not isinstance(e, TaskFaultChanged):
            return
        self.records.append(e)
        if e.task_arn not in self.tasks:
            try:
                task = self.world.chaos.task(e.task_arn)
            except AwsError:
                return
            self.tasks[e.task_arn] = (task.group, task.ip)

    def events(self, cluster: str, service: str) -> list[dict[str, Any]]:
        """The records of the service's tasks for its events panel, worded as the CLI
        timeline does (a start says how long the fault lasted once it ended)."""
        group = f"service:{service}"
        mine = [
            e
            for e in self.records
            if e.cluster == cluster and self.tasks.get(e.task_arn, ("", None))[0] == group
        ]
        lasted = fault_durations(mine)
        return [
            {
                "id": f"fault-{e.task_id}-{e.action}-{e.time:.3f}-{'on' if e.active else 'off'}",
                "t": round(e.time, 3),
                "message": fault_text(e, lasted.get(e), self.tasks[e.task_arn][1]),
                "kind": "fault",
            }
            for e in mine
        ]


def task_faults(task: Task) -> list[dict[str, str]]:
    """The FIS faults a task is under now, as short badges."""
    out = []
    if task.cpu_stress:
        out.append({"action": faults.CPU_STRESS, "label": f"CPU stress {task.cpu_stress:g} %"})
    if task.network_delay:
        ms = task.network_delay * 1000
        out.append({"action": faults.NETWORK_LATENCY, "label": f"+{ms:g} ms latency"})
    if task.packet_loss:
        pct = task.packet_loss * 100
        out.append({"action": faults.PACKET_LOSS, "label": f"{pct:g} % packet loss"})
    for port in sorted(task.blackholed_ports):
        out.append({"action": faults.BLACKHOLE_PORT, "label": f"port {port} blackholed"})
    return out


def sim_seconds(w: World, when: Any) -> float | None:
    """Simulated seconds since the world began, from a datetime an AWS answer carries."""
    if isinstance(when, datetime):
        return round(w.clock.seconds(when), 3)
    return None


def clock_text(w: World, t: float) -> str:
    return w.clock.at(t).strftime("%H:%M:%S")


def _tail(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _ip_key(ip: Any) -> tuple[int, ...]:
    """IPs in numeric order; no IP yet sorts last."""
    if not isinstance(ip, str):
        return (999,)
    return tuple(int(x) if x.isdigit() else 999 for x in ip.split("."))


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _all_task_arns(w: World, cluster: str, desired: str) -> list[str]:
    # One page (at most 100): the model's ListTasks rejects maxResults and nextToken for now.
    arns: list[str] = w.ecs.list_tasks(cluster=cluster, desiredStatus=desired)["taskArns"]
    return arns


def load_balancers(w: World) -> list[dict[str, Any]]:
    out = []
    for lb in w.elbv2.describe_load_balancers()["LoadBalancers"]:
        listeners = []
        for li in w.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            tgs: list[dict[str, Any]] = []
            for action in li.get("DefaultActions", []):
                if action.get("Type") == "forward":
                    fc = action.get("ForwardConfig", {}).get("TargetGroups")
                    if fc:
                        tgs += [
                            {"arn": g["TargetGroupArn"], "weight": g.get("Weight", 1)} for g in fc
                        ]
                    elif action.get("TargetGroupArn"):
                        tgs.append({"arn": action["TargetGroupArn"], "weight": 1})
            listeners.append(
                {
                    "arn": li["ListenerArn"],
                    "port": li["Port"],
                    "protocol": li["Protocol"],
                    "targetGroups": tgs,
                }
            )
        out.append(
            {
                "name": lb["LoadBalancerName"],
                "arn": lb["LoadBalancerArn"],
                "dns": lb["DNSName"],
                "state": lb["State"]["Code"],
                "listeners": listeners,
            }
        )
    return out


def target_groups(w: World) -> list[dict[str, Any]]:
    out = []
    for tg in w.elbv2.describe_target_groups()["TargetGroups"]:
        health = w.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
        targets = [
            {
                "id": d["Target"]["Id"],
                "port": d["Target"].get("Port"),
                "az": d["Target"].get("AvailabilityZone"),
                "state": d["TargetHealth"]["State"],
                "reason": d["TargetHealth"].get("Reason"),
                "description": d["TargetHealth"].get("Description"),
            }
            for d in health["TargetHealthDescriptions"]
        ]
        targets.sort(key=lambda t: _ip_key(t["id"]))
        out.append(
            {
                "name": tg["TargetGroupName"],
                "arn": tg["TargetGroupArn"],
                "port": tg.get("Port"),
                "protocol": tg.get("Protocol"),
                "healthCheckPath": tg.get("HealthCheckPath"),
                "healthCheckIntervalSeconds": tg.get("HealthCheckIntervalSeconds"),
                "loadBalancers": [_tail(a) for a in tg.get("LoadBalancerArns", [])],
                "targets": targets,
            }
        )
    return out


def services(w: World, known: set[tuple[str, str]], log: FaultLog) -> list[dict[str, Any]]:
    """Every ACTIVE service, and the ones seen before that are DRAINING or INACTIVE now."""
    out = []
    for cluster_arn in w.ecs.list_clusters()["clusterArns"]:
        cluster = _tail(cluster_arn)
        for arn in w.ecs.list_services(cluster=cluster)["serviceArns"]:
            known.add((cluster, _tail(arn)))
    by_cluster: dict[str, list[str]] = {}
    for cluster, name in sorted(known):
        by_cluster.setdefault(cluster, []).append(name)
    for cluster, names in by_cluster.items():
        for chunk in _chunks(names, 10):
            try:
                found = w.ecs.describe_services(cluster=cluster, services=chunk)["services"]
            except AwsError:  # the cluster is gone
                for name in chunk:
                    known.discard((cluster, name))
                continue
            for s in found:
                out.append(_service(w, cluster, s, log))
    return out


def _scaling_events(w: World, cluster: str, service: str) -> list[dict[str, Any]]:
    """The service's Application Auto Scaling activities, worded as the CLI timeline does."""
    resource_id = f"service/{cluster}/{service}"
    return [
        {"id": a.activity_id, "t": round(a.time, 3), "message": scaling_text(a), "kind": "scaling"}
        for a in w.application_autoscaling.scaler.activities
        if a.resource_id == resource_id
    ]


def _streak(hits: list[bool], most: int) -> int:
    """How many of the last datapoints in a row (at most `most`) are hits."""
    n = 0
    for hit in reversed(hits):
        if n >= most or not hit:
            break
        n += 1
    return n


def auto_scaling(w: World, cluster: str, service: str) -> dict[str, Any]:
    """The service's auto scaling for the Manager's panel: its scalable target's range, its
    target tracking policies (each with its last datapoint and how many minutes in a row its
    alarms have seen above the target and below 90 % of it), and its last scaling activity."""
    aas = w.application_autoscaling
    out: dict[str, Any] = {
        "enabled": False,
        "min": None,
        "max": None,
        "policies": [],
        "lastActivity": None,
    }
    if not aas.scaler.targets and not aas.scaler.activities:
        return out  # (no call to make)
    settings = w.settings.autoscaling
    rid = f"service/{cluster}/{service}"
    ns = {"ServiceNamespace": "ecs"}
    registered = aas.describe_scalable_targets(**ns, ResourceIds=[rid])["ScalableTargets"]
    if registered:
        out.update(enabled=True, min=registered[0]["MinCapacity"], max=registered[0]["MaxCapacity"])
        kept = aas.scaler.targets.get(rid)
        for p in aas.describe_scaling_policies(**ns, ResourceId=rid)["ScalingPolicies"]:
            config = p["TargetTrackingScalingPolicyConfiguration"]
            value = float(config["TargetValue"])
            policy = kept.policies.get(p["PolicyName"]) if kept is not None else None
            points = list(policy.datapoints) if policy is not None else []
            last = points[-1] if points else None
            low = value * settings.scale_in_threshold
            out["policies"].append(
                {
                    "name": p["PolicyName"],
                    "metric": config.get("PredefinedMetricSpecification", {}).get(
                        "PredefinedMetricType"
                    ),
                    "target": value,
                    "datapoints": len(points),
                    "datapoint": None if last is None else round(last, 1),
                    "above": _streak(
                        [v is not None and v > value for v in points],
                        settings.scale_out_datapoints,
                    ),
                    "below": _streak(
                        [v is not None and v < low for v in points],
                        settings.scale_in_datapoints,
                    ),
                    "outAfter": settings.scale_out_datapoints,
                    "inAfter": settings.scale_in_datapoints,
                }
            )
    newest = aas.describe_scaling_activities(**ns, ResourceId=rid, MaxResults=1)
    for a in newest["ScalingActivities"]:
        out["lastActivity"] = {
            "description": a["Description"],
            "cause": a["Cause"],
            "t": sim_seconds(w, a["StartTime"]),
        }
    return out


def _service(w: World, cluster: str, s: Mapping[str, Any], log: FaultLog) -> dict[str, Any]:
    events = [
        {
            "id": e["id"],
            "t": sim_seconds(w, e["createdAt"]),
            "message": e["message"],
            "kind": "service",
        }
        for e in s.get("events", [])[:EVENTS_SHOWN]
    ]
    # Newest first, with the auto scaling activities that changed the desired count and the
    # FIS faults injected into its tasks between.
    events += _scaling_events(w, cluster, s["serviceName"])
    events += log.events(cluster, s["serviceName"])
    events.sort(key=lambda e: math.inf if e["t"] is None else -e["t"])
    events = events[:EVENTS_SHOWN]
    deployments = [
        {
            "id": d["id"],
            "status": d["status"],
            "taskDefinition": _tail(d["taskDefinition"]),
            "desired": d["desiredCount"],
            "running": d["runningCount"],
            "pending": d["pendingCount"],
            "failedTasks": d["failedTasks"],
            "rolloutState": d.get("rolloutState"),
            "rolloutStateReason": d.get("rolloutStateReason"),
        }
        for d in s.get("deployments", [])
    ]
    cb = s.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    return {
        "cluster": cluster,
        "name": s["serviceName"],
        "arn": s["serviceArn"],
        "status": s["status"],
        "controller": s.get("controllerStatus", "ACTIVE"),
        "desired": s["desiredCount"],
        "running": s["runningCount"],
        "pending": s["pendingCount"],
        "taskDefinition": _tail(s["taskDefinition"]),
        "launchType": s.get("launchType"),
        "targetGroups": [lb["targetGroupArn"] for lb in s.get("loadBalancers", [])],
        "gracePeriod": s.get("healthCheckGracePeriodSeconds"),
        "circuitBreaker": {
            "enable": cb.get("enable", False),
            "rollback": cb.get("rollback", False),
            "threshold": cb.get("threshold"),
        },
        "deployments": deployments,
        "trafficShift": traffic_shift(w, s),
        "autoScaling": auto_scaling(w, cluster, s["serviceName"]),
        "events": events,
    }


def _shares(w: World, rule_arn: str | None) -> dict[str, float] | None:
    """{target group ARN: % of the rule's traffic} of a rule's forward action (DescribeRules);
    None without a rule."""
    if not rule_arn:
        return None
    try:
        (rule,) = w.elbv2.describe_rules(RuleArns=[rule_arn])["Rules"]
    except AwsError:  # the rule is gone
        return None
    weights = [
        (g["TargetGroupArn"], int(g.get("Weight", 1)))
        for action in rule["Actions"]
        if action["Type"] == "forward"
        for g in action.get("ForwardConfig", {}).get("TargetGroups", [])
        or [{"TargetGroupArn": action["TargetGroupArn"]}]
    ]
    total = sum(n for _, n in weights)
    return {arn: round(100.0 * n / total, 1) if total else 0.0 for arn, n in weights}


def traffic_shift(w: World, s: Mapping[str, Any]) -> dict[str, Any] | None:
    """A blue/green, linear or canary service's two target groups and the share of its
    production and test listener rules each gets now, as DescribeRules shows them during a
    shift (docs/behaviour.md, "Blue/green, linear and canary deployments"); None for a
    service without `advancedConfiguration`."""
    for lb in s.get("loadBalancers", []):
        config = lb.get("advancedConfiguration")
        if not config:
            continue
        groups = [lb["targetGroupArn"], config["alternateTargetGroupArn"]]
        production = _shares(w, config.get("productionListenerRule")) or {}
        test = _shares(w, config.get("testListenerRule"))
        names = {g: _tail_name(g) for g in groups}
        label = " · ".join(
            f"{names[g]} {production.get(g, 0.0):g} %" for g in groups if g in production
        )
        return {
            "targetGroups": groups,
            "production": {g: production.get(g, 0.0) for g in groups},
            "test": None if test is None else {g: test.get(g, 0.0) for g in groups},
            "label": label,
        }
    return None


def _tail_name(tg_arn: str) -> str:
    """`home-tg` of a target group ARN (`...:targetgroup/home-tg/<id>`)."""
    parts = tg_arn.rsplit("/", 2)
    return parts[-2] if len(parts) == 3 else tg_arn


def tasks(w: World, health: Mapping[str, str]) -> list[dict[str, Any]]:
    """Tasks meant to run, and those that stopped lately (so a dead task is seen dying)."""
    out = []
    now = w.now
    for cluster_arn in w.ecs.list_clusters()["clusterArns"]:
        cluster = _tail(cluster_arn)
        arns = _all_task_arns(w, cluster, "RUNNING") + _all_task_arns(w, cluster, "STOPPED")
        for chunk in _chunks(arns, 100):
            for t in w.ecs.describe_tasks(cluster=cluster, tasks=chunk)["tasks"]:
                stopped_at = sim_seconds(w, t.get("stoppedAt"))
                if stopped_at is not None and now - stopped_at > STOPPED_SHOWN_FOR:
                    continue
                ip = next(
                    (
                        d["value"]
                        for a in t.get("attachments", [])
                        for d in a.get("details", [])
                        if d["name"] == "privateIPv4Address"
                    ),
                    None,
                )
                container = (t.get("containers") or [{}])[0]
                try:
                    under = task_faults(w.chaos.task(t["taskArn"]))
                except AwsError:
                    under = []
                out.append(
                    {
                        "id": _tail(t["taskArn"]),
                        "arn": t["taskArn"],
                        "cluster": cluster,
                        "group": t.get("group", ""),
                        "service": t["group"][len("service:") :]
                        if t.get("group", "").startswith("service:")
                        else None,
                        "ip": ip,
                        "az": t.get("availabilityZone"),
                        "lastStatus": t["lastStatus"],
                        "desiredStatus": t["desiredStatus"],
                        "taskDefinition": _tail(t["taskDefinitionArn"]),
                        "startedAt": sim_seconds(w, t.get("startedAt")),
                        "stoppedAt": stopped_at,
                        "stopCode": t.get("stopCode"),
                        "stoppedReason": t.get("stoppedReason"),
                        "exitCode": container.get("exitCode"),
                        "containerReason": container.get("reason"),
                        "targetHealth": health.get(ip) if ip else None,
                        "connectivity": t.get("connectivity"),
                        "faults": under,
                    }
                )
    out.sort(key=lambda t: (t["lastStatus"] == "STOPPED", _ip_key(t["ip"]), str(t["id"])))
    return out


def traffic_rate(w: World) -> float:
    return sum(
        w.traffic.rate(lb["LoadBalancerArn"])
        for lb in w.elbv2.describe_load_balancers()["LoadBalancers"]
    )


def azs(w: World) -> list[dict[str, Any]]:
    return [
        {"name": z["ZoneName"], "state": z["State"]}
        for z in w.ec2.describe_availability_zones()["AvailabilityZones"]
    ]


def build(w: World, known: set[tuple[str, str]], log: FaultLog | None = None) -> dict[str, Any]:
    """Every section of the view (`log`: the world's fault records, kept by the caller
    between two builds; read afresh if not given)."""
    tgs = target_groups(w)
    health = {t["id"]: t["state"] for tg in tgs for t in tg["targets"]}
    return {
        "loadBalancers": load_balancers(w),
        "targetGroups": tgs,
        "services": services(w, known, log if log is not None else FaultLog(w, follow=False)),
        "tasks": tasks(w, health),
        "azs": azs(w),
        "traffic": {"rate": traffic_rate(w)},
    }
