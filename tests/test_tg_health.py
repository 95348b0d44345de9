"""Target group health settings: each one modelled or refused, never accepted and ignored
(issue 13, point 3). docs/behaviour.md, "Fail-open", "Target group attributes not modelled".

AWS's pages: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html
(routing failover on either threshold, the percentage of the registered targets, cross-zone)
and https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html
(the attributes, their values).

Through boto3 and the simulated ALB's real port, against a live server whose clock is paused
and stepped (`time/advance`), so every phase is exact; the ALB answers name their target in
`x-ecsim-target`.
"""

from __future__ import annotations

import collections
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.elbv2.tghealth import below_threshold
from ecsim.scenario import ScenarioError, load_text
from ecsim.scenario.build import build
from tests.support import advance_until, target_states, tasks, tg_arn
from tests.support.scenarios import demo_scenario
from tests.support.server import LiveServer

TARGET_GROUP_HEALTH = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html"
)
ATTRIBUTES = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "edit-target-group-attributes.html"
)
COUNT = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"
PERCENTAGE = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage"
DNS_COUNT = "target_group_health.dns_failover.minimum_healthy_targets.count"
DNS_PERCENTAGE = "target_group_health.dns_failover.minimum_healthy_targets.percentage"

pytestmark = pytest.mark.server(world="demo", rate=0, speed=60, paused=True, fresh=True)


# --- helpers ------------------------------------------------------------------------------------


def api(server: LiveServer, path: str, **body: Any) -> Any:
    r = httpx.post(f"{server.url}/ecsim/api/{path}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def group_arn(server: LiveServer) -> str:
    elbv2 = server.client("elbv2")
    return str(elbv2.describe_target_groups(Names=["home-tg"])["TargetGroups"][0]["TargetGroupArn"])


def attributes(server: LiveServer, tg: str) -> dict[str, str]:
    out = server.client("elbv2").describe_target_group_attributes(TargetGroupArn=tg)
    return {a["Key"]: a["Value"] for a in out["Attributes"]}


def modify(server: LiveServer, tg: str, **values: str) -> None:
    """ModifyTargetGroupAttributes with `{key: value}` given as keywords of `KEYS`."""
    server.client("elbv2").modify_target_group_attributes(
        TargetGroupArn=tg, Attributes=[{"Key": KEYS[k], "Value": v} for k, v in values.items()]
    )


KEYS = {"count": COUNT, "percentage": PERCENTAGE, "dns_count": DNS_COUNT, "dns_pct": DNS_PERCENTAGE}


def states(server: LiveServer, tg: str) -> dict[str, str]:
    out = server.client("elbv2").describe_target_health(TargetGroupArn=tg)
    return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in out["TargetHealthDescriptions"]}


def make_sick(server: LiveServer, tg: str, n: int) -> list[str]:
    """Stop the scheduler (nothing replaces a failing task), make `n` of the 3 tasks fail their
    health checks and step the clock until their targets are `unhealthy`; their IPs."""
    api(server, "chaos/crash-controller", cluster=CLUSTER)
    running = server.call(lambda w: tasks(w))
    sick = []
    for task in sorted(running, key=lambda t: t["taskArn"])[:n]:
        api(server, "chaos/set-app-health", task=task["taskArn"], healthy=False)
        details = task["attachments"][0]["details"]
        sick.append(next(d["value"] for d in details if d["name"] == "privateIPv4Address"))
    for _ in range(120):
        if all(states(server, tg)[ip] == "unhealthy" for ip in sick):
            break
        api(server, "time/advance", seconds=1)
    assert sorted(states(server, tg).values()) == sorted(["unhealthy"] * n + ["healthy"] * (3 - n))
    return sick


def spread(server: LiveServer, n: int = 30) -> dict[str, int]:
    """`n` requests through the ALB's real port: how many each target answered (all 200)."""
    with httpx.Client(base_url=server.alb_url, timeout=30) as client:
        answers = [client.get("/") for _ in range(n)]
    assert [r.status_code for r in answers] == [200] * n
    return dict(collections.Counter(r.headers["x-ecsim-target"].split(":")[0] for r in answers))


def refused(call: Any, code: str = "ValidationError") -> str:
    """The error message of a call AWS refuses with `code`."""
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["Error"]["Code"] == code, info.value.response["Error"]
    return str(info.value.response["Error"]["Message"])


# --- routing failover: count or percentage ------------------------------------------------------


def test_percentage_50_with_one_of_three_healthy_spreads_over_all_three(
    server: LiveServer,
) -> None:
    """50 % and 1 of 3 targets healthy: the ALB routes to all three, not all to the one
    (target-group-health.html: "If the percentage of healthy targets is below this value, send
    traffic to all targets, including unhealthy targets"; the percentage is of the registered
    targets) — https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html"""
    tg = group_arn(server)
    sick = make_sick(server, tg, 2)
    (well,) = set(states(server, tg)) - set(sick)
    assert spread(server) == {well: 30}  # the count (1) is met and the percentage is off
    modify(server, tg, percentage="50")
    assert attributes(server, tg)[PERCENTAGE] == "50"
    assert spread(server) == {well: 10, **dict.fromkeys(sick, 10)}  # round robin over all
    modify(server, tg, percentage="off")
    assert spread(server) == {well: 30}


@pytest.mark.parametrize(
    ("count", "percentage", "fails_open"),
    [
        ("1", "off", False),  # neither threshold
        ("1", "66", False),  # 2 of 3 is 66.7 %, not below 66 %
        ("1", "67", True),  # ... but below 67 %: the percentage alone is breached
        ("3", "50", True),  # the count alone is breached
        ("2", "50", False),
        ("3", "100", True),  # both
    ],
)
def test_either_threshold_breached_fails_open(
    server: LiveServer, count: str, percentage: str, fails_open: bool
) -> None:
    """One of 3 targets unhealthy: the ALB fails open when the count or the percentage is
    breached, whichever ("If you specify both types of thresholds for an action (count and
    percentage), the load balancer takes the action when either threshold is breached") —
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html"""
    tg = group_arn(server)
    (sick,) = make_sick(server, tg, 1)
    modify(server, tg, count=count, percentage=percentage)
    got = spread(server, 12)
    assert (sick in got) is fails_open
    assert sorted(got.values()) == ([4, 4, 4] if fails_open else [6, 6])


@pytest.mark.parametrize(
    ("healthy", "registered", "count", "percentage", "below"),
    [
        (4, 10, 1, 50, True),  # AWS's example: 4 of zone B's 10 is 40 %, below 50 %
        (14, 20, 1, 50, False),  # ... and 14 of 20 across both zones is 70 %
        (5, 10, 1, 50, False),  # exactly the percentage is not below it
        (1, 3, 1, 34, True),
        (1, 3, 1, 33, False),  # no rounding: 33.3 % is not below 33 %
        (2, 3, 3, None, True),
        (3, 3, 3, None, False),
        (0, 0, 1, None, True),  # no healthy target is below any count
        (999, 1000, 1, 100, True),
        (1000, 1000, 1000, 100, False),
    ],
)
def test_the_threshold_rule_is_exact(
    healthy: int, registered: int, count: int, percentage: int | None, below: bool
) -> None:
    """The rule itself, on AWS's own example (two zones of 10 targets, 6 failed in one) —
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html"""
    assert below_threshold(healthy, registered, count, percentage) is below


def test_draining_targets_are_not_counted_among_the_registered() -> None:
    """The percentage is of "the total number of targets registered with the target group":
    a target being deregistered (draining) is not one of them —
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html"""
    w = ecsim.World.demo(seed=3, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    tg = tg_arn(w)
    running = sorted(tasks(w), key=lambda t: t["taskArn"])
    w.chaos.set_app_health(running[0]["taskArn"], False)
    advance_until(w, lambda: sorted(target_states(w).values()).count("unhealthy") == 1, 90)
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[
            {"Key": PERCENTAGE, "Value": "50"},
            {"Key": "deregistration_delay.timeout_seconds", "Value": "600"},
        ],
    )
    assert w.traffic.send()["failOpen"] is False  # 2 of 3
    well = sorted(ip for ip, s in target_states(w).items() if s == "healthy")
    w.elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": well[0], "Port": 80}])
    assert sorted(target_states(w).values()) == ["draining", "healthy", "unhealthy"]
    # 1 healthy of the 2 registered is 50 %, not below it (of 3, it would be 33 %)
    trace = w.traffic.send()
    assert (trace["failOpen"], trace["target"].split(":")[0]) == (False, well[1])
    w.elbv2.modify_target_group_attributes(
        TargetGroupArn=tg, Attributes=[{"Key": PERCENTAGE, "Value": "51"}]
    )
    assert w.traffic.send()["failOpen"] is True


# --- bad values: AWS's error, nothing changes -------------------------------------------------

HOSTILE = [
    "0",
    "101",
    "-1",
    "abc",
    "1e308",
    "NaN",
    "inf",
    "-inf",
    "50.0",
    " 50",
    "50\n",
    "5\x000",
    "\x1b[2J",
    "\u0665\u0660",  # Arabic-Indic 50
    "",
    str(10**12),
    "9" * 5000,
    "OFF",
]


def _not_xml(value: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r" for c in value)


def test_hostile_percentages_are_refused_and_change_nothing(server: LiveServer) -> None:
    """`off` or an integer from 1 to 100, else ValidationError, and ModifyTargetGroupAttributes
    changes nothing (the other attribute of the same call neither) —
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html"""
    tg = group_arn(server)
    before = attributes(server, tg)
    for bad in HOSTILE:
        message = refused(lambda bad=bad: modify(server, tg, count="2", percentage=bad))
        if _not_xml(bad):  # the wire refuses what XML cannot carry, before the model sees it
            assert "Attributes.member.2.Value" in message and "XML 1.0 cannot carry" in message
        else:
            assert PERCENTAGE in message and "between '1-100' inclusive or 'off'" in message, bad
        assert attributes(server, tg) == before, bad
    for bad in ["0", "1001", "-1", "abc", "1e308", "NaN", "inf", "\x00", str(10**12), "off"]:
        message = refused(lambda bad=bad: modify(server, tg, count=bad))
        assert "XML 1.0 cannot carry" in message if _not_xml(bad) else COUNT in message, bad
        assert attributes(server, tg) == before, bad
    for good in ["1", "100", "off"]:
        modify(server, tg, percentage=good)
        assert attributes(server, tg)[PERCENTAGE] == good


# --- what ecsim does not model: refused by name -----------------------------------------------


def test_dns_failover_other_than_its_default_is_refused_by_name(server: LiveServer) -> None:
    """DNS failover takes a zone's load balancer node out of DNS; ecsim's clients reach the load
    balancer without DNS, and with cross-zone load balancing on every zone fails together, when
    DNS keeps them all ("if all load balancer zones are considered unhealthy, the load balancer
    sends traffic to all zones"): a count of 1 or `off` routes as ecsim does, any other value is
    refused by name, after AWS's own range check —
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health.html"""
    tg = group_arn(server)
    for key, value in [("dns_count", "2"), ("dns_count", "1000"), ("dns_pct", "50")]:
        before = attributes(server, tg)
        message = refused(lambda key=key, value=value: modify(server, tg, **{key: value}))
        assert message.startswith("ecsim does not model DNS failover") and KEYS[key] in message
        assert attributes(server, tg) == before
    for key, value in [("dns_count", "0"), ("dns_count", "abc"), ("dns_pct", "101")]:
        message = refused(lambda key=key, value=value: modify(server, tg, **{key: value}))
        assert "inclusive or 'off'" in message  # AWS's range message first
    for key, value in [("dns_count", "off"), ("dns_count", "1"), ("dns_pct", "off")]:
        modify(server, tg, **{key: value})
        assert attributes(server, tg)[KEYS[key]] == value


@pytest.mark.parametrize(
    ("extra", "key", "value", "what"),
    [
        ([], "stickiness.enabled", "true", "target stickiness"),
        (
            [("load_balancing.algorithm.type", "weighted_random")],
            "load_balancing.algorithm.anomaly_mitigation",
            "on",
            "anomaly mitigation",
        ),
        (
            [],
            "load_balancing.cross_zone.enabled",
            "false",
            "target groups without cross-zone load balancing",
        ),
    ],
)
def test_other_attributes_ecsim_would_ignore_are_refused_by_name(
    server: LiveServer, extra: list[tuple[str, str]], key: str, value: str, what: str
) -> None:
    """Values AWS acts on that ecsim does not model — stickiness, anomaly mitigation, cross-zone
    load balancing off for the target group — are refused naming the attribute, and nothing
    changes — https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html"""
    tg = group_arn(server)
    before = attributes(server, tg)
    pairs = [*extra, (key, value)]
    message = refused(
        lambda: server.client("elbv2").modify_target_group_attributes(
            TargetGroupArn=tg, Attributes=[{"Key": k, "Value": v} for k, v in pairs]
        )
    )
    assert message == (
        f"ecsim does not model {what}: '{key}' value '{value}' must be "
        + " or ".join(f"'{v}'" for v in sorted(ACCEPTED[key]))
    )
    assert attributes(server, tg) == before


ACCEPTED = {
    "stickiness.enabled": {"false"},
    "load_balancing.algorithm.anomaly_mitigation": {"off"},
    "load_balancing.cross_zone.enabled": {"true", "use_load_balancer_configuration"},
}


# --- the scenario file ----------------------------------------------------------------------


def test_a_scenario_sets_the_percentage_and_refuses_a_bad_one() -> None:
    """`fail_open_percentage` next to `fail_open_minimum` is the attribute
    `...minimum_healthy_targets.percentage`, 1 to 100 —
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html"""
    text = demo_scenario("pct", "")
    good = text.replace("- name: home-tg\n", "- name: home-tg\n      fail_open_percentage: 50\n")
    w = ecsim.World(seed=0)
    build(w, load_text(good, "pct.yaml"))
    attrs = w.elbv2.describe_target_group_attributes(TargetGroupArn=tg_arn(w))["Attributes"]
    assert {"Key": PERCENTAGE, "Value": "50"} in attrs
    for bad in ["0", "101", "-1", "abc", "1e308", ".nan", "off"]:
        with pytest.raises(ScenarioError, match="fail_open_percentage"):
            load_text(good.replace(": 50\n", f": {bad}\n"), "pct.yaml")
