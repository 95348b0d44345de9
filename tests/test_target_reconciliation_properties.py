"""Long-horizon stateful property test of the scheduler's target groups (issue 12, point 9;
docs/behaviour.md, "Target group reconciliation", "Subnet address exhaustion").

A Hypothesis `RuleBasedStateMachine` drives the demo world with its service moved to three
small subnets (a /28 in each AZ: 33 addresses, so scaling reaches their capacity quickly)
through scheduler outages lasting hours (longer than stopped tasks are kept; tasks die
meanwhile), crashes and restores of their own, killed tasks, scaling up to and past the subnets' capacity, standalone tasks competing for
the addresses, and a forced delete. Invariants:

1. Once the scheduler has been active for a few minutes (and a minute has passed since the
   last step that changed anything), every target in the service's target group belongs to
   a PROVISIONING, PENDING, ACTIVATING or RUNNING task of that service, or is draining.
2. Addresses are never over-committed by the service: no task of the service ever stops
   with `TaskFailedToStart` unless a standalone task sent to a full subnet took its address
   first; a subnet never shows a negative number of free addresses.
3. Simulated time always moves on (no error escapes a kernel callback).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import ecsim
from ecsim.model.demo import CLUSTER, FAMILY, SERVICE
from tests.support import all_tasks, service, tg_arn

ACTIVE_FOR = 180.0  # seconds the scheduler must have been active before invariant 1 applies
QUIET_FOR = 60.0  # seconds since the last change before invariant 1 applies
SMALL = [
    ("10.0.9.0/28", "us-east-1a"),
    ("10.0.9.16/28", "us-east-1b"),
    ("10.0.9.32/28", "us-east-1c"),
]
LIVE = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")


def tasks_of(w: ecsim.World, desired: str) -> list[dict[str, Any]]:
    return all_tasks(w.ecs, desired)


def ip_of(task: dict[str, Any]) -> str | None:
    for attachment in task.get("attachments", []):
        for d in attachment["details"]:
            if d["name"] == "privateIPv4Address":
                return str(d["value"])
    return None


class TargetMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w: ecsim.World | None = None
        self.subnets: list[str] = []
        self.active_since = 0.0
        self.changed_at = 0.0
        self.crashed = False
        self.deleted = False
        self.standalone = False  # standalone tasks were sent to the service's subnets

    @initialize(seed=st.integers(0, 3))
    def build(self, seed: int) -> None:
        w = self.w = ecsim.World.demo(seed=seed, rate=0)
        vpc = w.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
        self.subnets = [
            w.ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr, AvailabilityZone=az)["Subnet"][
                "SubnetId"
            ]
            for cidr, az in SMALL
        ]
        network = service(w)["networkConfiguration"]
        network["awsvpcConfiguration"]["subnets"] = self.subnets
        w.ecs.update_service(cluster=CLUSTER, service=SERVICE, networkConfiguration=network)
        w.advance(300)
        self.active_since = self.changed_at = w.now

    def changed(self) -> None:
        assert self.w is not None
        self.changed_at = self.w.now

    # --- rules -----------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([5.0, 30.0, 90.0, 300.0, 1800.0, 3700.0, 9000.0]))
    def advance(self, seconds: float) -> None:
        assert self.w is not None
        before = self.w.now
        self.w.advance(seconds)
        assert self.w.now == before + seconds

    @precondition(lambda self: not self.crashed and not self.deleted)
    @rule()
    def crash(self) -> None:
        assert self.w is not None
        self.w.chaos.crash_controller(CLUSTER, SERVICE)
        self.crashed = True
        self.changed()

    @precondition(lambda self: self.crashed)
    @rule()
    def restore(self) -> None:
        assert self.w is not None
        self.w.chaos.restore_controller(CLUSTER, SERVICE)
        self.crashed = False
        self.active_since = self.w.now
        self.changed()

    @precondition(lambda self: not self.crashed and not self.deleted)
    @rule(
        hours=st.sampled_from([0.5, 1.5, 3.0, 6.0]), kills=st.lists(st.integers(0, 40), max_size=3)
    )
    def outage(self, hours: float, kills: list[int]) -> None:
        """The scheduler is down for hours; tasks die meanwhile, an hour apart; it is back."""
        assert self.w is not None
        self.crash()
        for which in kills:
            self.kill(which)
            self.w.advance(hours * 3600 / (len(kills) + 1))
        self.w.advance(hours * 3600 / (len(kills) + 1))
        self.restore()

    @rule(which=st.integers(0, 40))
    def kill(self, which: int) -> None:
        assert self.w is not None
        running = [
            t
            for t in tasks_of(self.w, "RUNNING")
            if t["group"] == f"service:{SERVICE}" and t["lastStatus"] == "RUNNING"
        ]
        if running:
            self.w.chaos.kill_task(running[which % len(running)]["taskArn"])
            self.changed()

    @precondition(lambda self: not self.deleted)
    @rule(desired=st.integers(0, 40))
    def scale(self, desired: int) -> None:
        assert self.w is not None
        self.w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=desired)
        self.changed()

    @rule(count=st.integers(1, 10))
    def run_task(self, count: int) -> None:
        assert self.w is not None
        answer = self.w.ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=FAMILY,
            count=count,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets}},
        )
        assert answer["failures"] == [] and len(answer["tasks"]) == count
        self.standalone = True
        self.changed()

    @precondition(lambda self: not self.deleted)
    @rule()
    def delete(self) -> None:
        assert self.w is not None
        self.w.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
        self.deleted = True
        self.changed()

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def targets_belong_to_live_tasks_or_drain(self) -> None:
        w = self.w
        if w is None or self.crashed:
            return
        if w.now - self.active_since < ACTIVE_FOR or w.now - self.changed_at < QUIET_FOR:
            return
        live = {
            ip_of(t)
            for t in tasks_of(w, "RUNNING")
            if t["group"] == f"service:{SERVICE}" and t["lastStatus"] in LIVE
        }
        health = w.elbv2.describe_target_health(TargetGroupArn=tg_arn(w))
        for d in health["TargetHealthDescriptions"]:
            ip, state = d["Target"]["Id"], d["TargetHealth"]["State"]
            assert state == "draining" or ip in live, (ip, state, w.now)

    @invariant()
    def addresses_are_not_over_committed(self) -> None:
        w = self.w
        if w is None:
            return
        subnets = w.ec2.describe_subnets(SubnetIds=self.subnets)["Subnets"]
        assert all(int(s["AvailableIpAddressCount"]) >= 0 for s in subnets)
        if self.standalone:
            return  # a standalone task sent to a full subnet may take a service task's address
        failed = [
            t
            for t in tasks_of(w, "STOPPED")
            if t["group"] == f"service:{SERVICE}" and t.get("stopCode") == "TaskFailedToStart"
        ]
        assert failed == []


# Deterministic and bounded (about ten seconds): no example database, no shrinking (the
# unshrunk steps Hypothesis prints replay a failure all the same).
TargetMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
TestTargetReconciliation = TargetMachine.TestCase
