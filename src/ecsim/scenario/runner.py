"""Run a scenario headless: build its world, wait until it is steady (unless it starts
`immediately`), play the timeline at its simulated times, and check the expectations.

A world that cannot hold its tasks (a service reports it was unable to place a task for lack
of addresses, with nothing left starting: its subnets are full) never becomes steady: the clock starts once it
has settled as far as it can, and the run reports why it is not steady (`Result.unsteady`,
and a failed run).

Deterministic: the world's seed is the only source of randomness and nothing reads the
wall clock, so the same scenario and seed give the same result, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecsim.model.errors import AwsError
from ecsim.model.events import Event, ScalingActivity, ServiceEvent
from ecsim.model.settings import Settings
from ecsim.model.world import World
from ecsim.scenario import limits, operations, refs
from ecsim.scenario.build import build
from ecsim.scenario.conditions import Condition
from ecsim.scenario.expectations import Checker, Outcome
from ecsim.scenario.loader import calls_message
from ecsim.scenario.series import Fold, arn_name
from ecsim.scenario.spec import Scenario, Step
from ecsim.scenario.traffic_window import window

STEADY_WITHIN = 1800.0
STEADY_STEP = 5.0
PROGRESS_STEP = 10.0
# The service event when its subnets have no address left for another task
# (docs/behaviour.md, "Subnet address exhaustion").
NO_ADDRESS = ("was unable to place a task", "InsufficientFreeAddressesInSubnet")

Progress = Callable[[float, float], None]  # (scenario seconds done, scenario seconds in all)


class RunError(Exception):
    """The scenario could not run to the end (for example its world never became steady)."""


@dataclass(frozen=True)
class StepRecord:
    """A step as it ran: its scenario time, and the AWS error it met, if any."""

    time: float
    step: Step
    args: dict[str, Any]
    error: str | None = None
    unexpected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": round(self.time, 3),
            "do": self.step.do,
            "name": self.step.name,
            "error": self.error,
            "ok": not self.unexpected,
        }


@dataclass
class Result:
    scenario: Scenario
    world: World
    t0: float
    end: float
    fold: Fold
    steps: list[StepRecord] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    services: dict[str, list[str]] = field(default_factory=dict)  # service -> target groups
    unsteady: list[str] = field(default_factory=list)  # why the world did not become steady

    @property
    def passed(self) -> bool:
        return (
            all(o.passed for o in self.outcomes)
            and not any(s.unexpected for s in self.steps)
            and not self.unsteady
        )

    def events(self) -> list[Event]:
        return self.world.events(since=self.t0)

    def traffic(self, a: float, b: float, load_balancer: str | None = None) -> dict[str, Any]:
        return window(self.world, self.t0, a, b, load_balancer)


def occurrences(scenario: Scenario, duration: float) -> list[tuple[float, int, Step]]:
    timed = [(t, i, s) for i, s in enumerate(scenario.steps) for t in s.occurrences(duration)]
    return sorted(timed, key=lambda x: (x[0], x[1]))


class Runner:
    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        until: float | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.s = scenario
        self.seed = scenario.seed if seed is None else seed
        self.duration = scenario.duration if until is None else until
        if not 0 <= self.duration <= limits.MAX_DURATION:  # (False for NaN too)
            raise ValueError(
                f"until must be from 0 to {limits.span(limits.MAX_DURATION)}, got {self.duration!r}"
            )
        found = scenario.too_many_calls(self.duration)
        if found is not None:
            raise ValueError(
                f"until={until!r}: {found[0].where.field}: {calls_message(*found, self.duration)}"
            )
        self.progress = progress
        self.w = World(self.seed, settings=Settings().with_overrides(scenario.settings))
        self.fold = Fold()
        self.records: list[StepRecord] = []
        self.services: dict[str, list[str]] = {}
        self.unsteady: list[str] = []

    # --- time -----------------------------------------------------------------------------

    def advance_to(self, t: float) -> None:
        """Run to scenario time `t`, reporting progress every few simulated seconds."""
        target = self.fold.t0 + t
        while self.w.now < target - 1e-9:
            self.w.run_until(min(target, self.w.now + PROGRESS_STEP))
            if self.progress is not None:
                self.progress(self.w.now - self.fold.t0, self.duration)

    def steady(self) -> bool:
        for lb in self.w.elbv2.describe_load_balancers()["LoadBalancers"]:
            if lb["State"]["Code"] != "active":
                return False
        for svc in self.s.world.get("services", []):
            shape = self.w.ecs.describe_services(cluster=svc["cluster"], services=[svc["name"]])
            for d in shape["services"]:
                deployments = d["deployments"]
                if (
                    d["runningCount"] != d["desiredCount"]
                    or len(deployments) != 1
                    or deployments[0]["rolloutState"] != "COMPLETED"
                ):
                    return False
        return True

    def cannot_hold(self) -> list[str]:
        """Why the world cannot become steady however long it runs, once it has settled as
        far as it can: every load balancer active, and every service short of its desired
        count has nothing starting and has reported that it was unable to place a task for
        lack of addresses in its subnets (its event, in AWS's words). Empty while something
        is still on its way."""
        if any(
            lb["State"]["Code"] != "active"
            for lb in self.w.elbv2.describe_load_balancers()["LoadBalancers"]
        ):
            return []
        held = []
        for svc in self.s.world.get("services", []):
            shape = self.w.ecs.describe_services(cluster=svc["cluster"], services=[svc["name"]])
            for d in shape["services"]:
                running, desired = d["runningCount"], d["desiredCount"]
                if running >= desired and len(d["deployments"]) == 1:
                    continue
                unable = [
                    e.message
                    for e in self.w.events(kind=ServiceEvent)
                    if isinstance(e, ServiceEvent)
                    and e.service == d["serviceName"]
                    and all(part in e.message for part in NO_ADDRESS)
                ]
                if d["pendingCount"] or running >= desired or not unable:
                    return []
                held.append(f"{running} of {desired} tasks running: {unable[-1]}")
        return held

    def wait_steady(self) -> None:
        deadline = self.w.now + STEADY_WITHIN
        while not self.steady():
            held = self.cannot_hold()
            if held:
                self.unsteady = held
                return
            if self.w.now >= deadline:
                raise RunError(
                    f"{self.s.name}: the world did not become steady within "
                    f"{STEADY_WITHIN / 60:.0f} minutes (every service running its desired "
                    "count with a COMPLETED deployment, every load balancer active); "
                    "use `start: immediately` to start the clock at once"
                )
            self.w.advance(STEADY_STEP)

    # --- services' desired counts (changed by calls, read after each, and by auto scaling) -

    def record_desired(self) -> None:
        names = self.s.services()
        for cluster in self.w.ecs.list_clusters()["clusterArns"]:
            for i in range(0, len(names), 10):
                found = self.w.ecs.describe_services(cluster=cluster, services=names[i : i + 10])
                for svc in found["services"]:
                    self.fold.set_desired(self.w.now, svc["serviceName"], svc["desiredCount"])
                    groups = [arn_name(lb["targetGroupArn"]) for lb in svc["loadBalancers"]]
                    if svc["status"] != "INACTIVE":
                        self.services[svc["serviceName"]] = groups
                    self.watch_rules(svc)

    def watch_rules(self, svc: dict[str, Any]) -> None:
        """The production and test listener rules of a service that shifts traffic
        (`advancedConfiguration`), for production_weight and test_weight: their weights as
        they are when first seen, then each change ECS makes (ForwardWeightsChanged)."""
        for lb in svc["loadBalancers"]:
            config = lb.get("advancedConfiguration", {})
            for key, role in (
                ("productionListenerRule", "production"),
                ("testListenerRule", "test"),
            ):
                arn = config.get(key)
                if arn is None or arn in self.fold.rule_roles:
                    continue
                rule = self.w.elbv2.describe_rules(RuleArns=[arn])["Rules"][0]
                weights = [
                    (g["TargetGroupArn"], int(g.get("Weight", 1)))
                    for action in rule["Actions"]
                    if action["Type"] == "forward"
                    for g in action.get("ForwardConfig", {}).get("TargetGroups", [])
                    or [{"TargetGroupArn": action["TargetGroupArn"]}]
                ]
                self.fold.watch_rule(arn, role, weights)

    def on_event(self, e: Event) -> None:
        """Application Auto Scaling sets a desired count between two steps: record it when
        it happens, so the series stays in time order with the calls' counts."""
        if isinstance(e, ScalingActivity):
            self.fold.set_desired(e.time, e.resource_id.rsplit("/", 1)[-1], e.to_count)

    # --- steps ----------------------------------------------------------------------------

    def execute(self, t: float, step: Step) -> None:
        args: dict[str, Any] = {}
        error: str | None = None
        code: str | None = None
        try:
            args = refs.resolve(self.w, step.args)
            operations.bound(self.w, step.do)(**args)
        except AwsError as e:
            error, code = f"{e.code}: {e.message}", e.code
        except refs.RefError as e:
            error, code = f"cannot resolve a reference: {e}", "ReferenceError"
        unexpected = code != step.expect_error
        if step.expect_error and code is None:
            error = f"expected {step.expect_error}, but the call succeeded"
        self.records.append(StepRecord(t, step, args, error, unexpected and error is not None))
        if step.do.startswith(("ecs.", "application_autoscaling.")):
            self.record_desired()  # (RegisterScalableTarget brings it into [min, max])

    # --- the run --------------------------------------------------------------------------

    def run(self) -> Result:
        build(self.w, self.s)
        if self.s.start == "steady":
            self.wait_steady()
        self.fold.t0 = self.w.now
        self.record_desired()
        self.w.subscribers.append(self.on_event)
        plan = occurrences(self.s, self.duration)
        for t, _, step in plan:
            self.advance_to(t)
            self.execute(t, step)
        self.advance_to(self.duration)
        self.fold.fold(self.w.events())
        result = Result(
            self.s,
            self.w,
            self.fold.t0,
            self.duration,
            self.fold,
            self.records,
            services=self.services,
            unsteady=self.unsteady,
        )
        when: dict[str, list[float]] = {}
        for t, _, step in plan:
            if step.name:
                when.setdefault(step.name, []).append(t)
        checker = Checker(
            self.fold,
            self.duration,
            when,
            lambda a, b, lb: result.traffic(a, b, lb),
            lambda c: _subject(self.s, c),
        )
        result.outcomes = [checker.check(e) for e in self.s.expectations]
        return result


def _subject(s: Scenario, c: Condition) -> str:
    if c.subject is not None:
        return c.subject
    names = s.services() if c.kind == "service" else s.target_groups()
    return names[0]


def run(
    scenario: Scenario,
    *,
    seed: int | None = None,
    until: float | None = None,
    progress: Progress | None = None,
) -> Result:
    """Run `scenario` to its end (or to `until` seconds) and check its expectations."""
    return Runner(scenario, seed=seed, until=until, progress=progress).run()
