"""Stateful property test: random sequences of API calls, chaos and traffic on the demo world.

A Hypothesis `RuleBasedStateMachine` drives `ecsim.World.demo(seed, record_requests=True)` with
random steps (advance time, change the client rate, kill / stop tasks, break the app's health,
crash / hang / restore the service scheduler, scale, force a new deployment, deploy a revision
whose health check fails (or a passing one), cut off / restore an Availability Zone, send one
traced request) and checks after every step:

1. Every request gets exactly one answer: after a flush, ``arrived == answered + in_flight``;
   with ``record_requests`` every answered request is in the log exactly once (``(lb, index)``
   unique; index -1 marks single ``send()`` requests and is left out of the uniqueness check),
   answered no earlier than it arrived and no later than now, with a status in
   {0, 200, 500, 502, 503, 504}.
2. DescribeServices' ``runningCount`` equals the number of the service's tasks whose
   ``lastStatus`` is RUNNING (ListTasks for desiredStatus RUNNING and STOPPED, all pages, then
   DescribeTasks in chunks of 100); per deployment, ``runningCount`` equals the RUNNING tasks
   started by that deployment (``startedBy`` is the deployment ID), and the deployments'
   counts add up to the service's.
3. No new request goes to a draining or unused target. The rule, taken from the data plane
   (a request arriving at ``t`` is evaluated by the flush at the first control-plane change
   *after* ``t``; every change that makes a target leave the routable states flushes first):
   the state of target ``(tg, ip, port)`` at time ``t`` is the ``state`` of the **last**
   ``TargetHealthChanged`` event for that target, in emission order, whose ``time <= t``. So
   a change at exactly ``t`` applies to requests arriving at ``t`` or later. A request of the
   client stream whose ``slot`` is not None must find its target in a state other than
   ``draining`` or ``unused`` (and the target must have had an event: registered at all).
   A single ``send()`` arrives at an API-call instant, where several changes can share one
   timestamp; it is placed by sequence instead of by time: its target's state is the state
   after every event emitted before the call (checked right in the ``send`` step).
4. Simulated time never goes back: ``w.now`` is non-decreasing; event times are
   non-decreasing and never in the future (``<= w.now`` when seen), except that
   ``RequestsCompleted`` records carry the end of their bucket: they are non-decreasing among
   themselves and ``<= w.now``; every other event emitted during a step has a time ``>=`` the
   clock at the start of that step. And time makes progress: no more than
   ``MAX_CALLBACKS_PER_INSTANT`` kernel callbacks run at one simulated instant (a guard
   around ``w.kernel.step``), so a callback that keeps rescheduling itself "now" fails the
   test instead of hanging it.
5. ``desiredCount >= 0``, and the scheduler's launch bound, stated exactly as the code in
   ``ecs/scheduler.py`` (``_roll``, step 1) enforces it: it launches at most
   ``room = floor(desiredCount * maximumPercent / 100) - len(live)`` tasks, where ``live`` are
   the service's tasks that are not STOPPED and whose desiredStatus is RUNNING (tasks being
   replaced included). Replaying the ``TaskStateChanged`` events, after every launch (a
   task's first event, lastStatus PROVISIONING) the number of such tasks is at most
   ``floor(desiredCount * maximumPercent / 100)`` for the desiredCount in force at that
   event. (The looser "non-stopped tasks never exceed ..." is not an invariant of the code:
   tasks already asked to stop are not counted, so scaling from 6 to 1 leaves 6 non-stopped
   tasks, 5 of them DEACTIVATING, against a bound of 2; and lowering desiredCount while the
   scheduler is down leaves the surplus running.)
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import ecsim
from ecsim.model.demo import CLUSTER, DESIRED, SERVICE
from tests.support import service_task_arns
from tests.support.worlds import register_revision

STATUSES = {0, 200, 500, 502, 503, 504}
NOT_ROUTABLE = {"draining", "unused"}
AZS = ("us-east-1a", "us-east-1b", "us-east-1c")
GROUP = f"service:{SERVICE}"
MAX_CALLBACKS_PER_INSTANT = 2_000  # a busy instant of these runs has a few dozen
MAXIMUM_PERCENT = 200  # the demo service's deploymentConfiguration; never changed here
# Hypothesis favours small and boundary values; mixing in typical values spreads the runs.
SECONDS = st.one_of(
    st.sampled_from([1.0, 2.5, 7.0, 12.0, 20.0, 31.0, 45.0, 60.0, 90.0, 120.0]),
    st.floats(min_value=1.0, max_value=120.0, allow_nan=False),
)
RATES = st.one_of(
    st.sampled_from([0, 5, 20, 50, 100, 200]),
    st.integers(min_value=0, max_value=200),
)

Slot = tuple[str, str, int]


def all_tasks(w: ecsim.World) -> list[dict[str, Any]]:
    """Every task of the demo service that ECS still describes, through the public API."""
    arns = service_task_arns(w)
    out: list[dict[str, Any]] = []
    for i in range(0, len(arns), 100):
        answer = w.ecs.describe_tasks(cluster=CLUSTER, tasks=arns[i : i + 100])
        assert not answer["failures"], answer["failures"]
        out += answer["tasks"]
    return out


def guard_progress(w: ecsim.World, limit: int = MAX_CALLBACKS_PER_INSTANT) -> None:
    """Invariant 4, progress: fail (instead of hanging) when the kernel keeps running
    callbacks without simulated time moving on."""
    kernel = w.kernel
    step = kernel.step
    count = [math.nan, 0]

    def guarded(until: float) -> bool:
        if count[0] == kernel.now:
            count[1] += 1
            assert count[1] <= limit, (
                f"simulated time stopped at t={kernel.now!r}: over {limit} kernel callbacks "
                "at that one instant"
            )
        else:
            count[0], count[1] = kernel.now, 0
        return step(until)

    kernel.step = guarded  # type: ignore[method-assign]


class WorldMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w: ecsim.World | None = None

    # --- set-up -----------------------------------------------------------------------------

    @initialize(seed=st.integers(min_value=0, max_value=2**16))
    def build(self, seed: int) -> None:
        self.w = ecsim.World.demo(seed=seed, record_requests=True)
        guard_progress(self.w)
        self.step_start = 0.0  # the clock when the current step began
        self.last_now = self.w.now
        # event folding
        self.n_events = 0
        self.last_time = -math.inf  # last event time (RequestsCompleted excluded)
        self.last_bucket_end = -math.inf  # last RequestsCompleted time
        self.health: dict[Slot, tuple[list[float], list[str]]] = {}
        # launch bound: desiredCount in force from event index i on; replayed task states
        self.desired: list[tuple[int, int]] = [(0, DESIRED)]
        self.replayed: dict[str, tuple[str, str]] = {}
        # request log
        self.n_log = 0
        self.seen: set[tuple[str, int]] = set()
        self.check_all()  # the demo's own history

    # --- helpers ----------------------------------------------------------------------------

    @property
    def world(self) -> ecsim.World:
        assert self.w is not None
        return self.w

    def pick(self, tasks: list[dict[str, Any]], i: int) -> dict[str, Any] | None:
        if not tasks:
            return None
        tasks = sorted(tasks, key=lambda t: t["taskArn"])
        return tasks[i % len(tasks)]

    def set_desired(self, n: int) -> None:
        self.desired.append((len(self.world.events()), n))

    def desired_at(self, event_index: int) -> int:
        keys = [i for i, _ in self.desired]
        return self.desired[bisect.bisect_right(keys, event_index) - 1][1]

    def state_at(self, slot: Slot, t: float) -> str | None:
        """The target's state at `t`: the last TargetHealthChanged with time <= t, if any."""
        timeline = self.health.get(slot)
        if timeline is None:
            return None
        times, states = timeline
        k = bisect.bisect_right(times, t)
        return states[k - 1] if k else None

    # --- rules ------------------------------------------------------------------------------

    # Rules are drawn with equal weight; time passing is what makes the model do anything,
    # so advancing gets three rules of its own.

    @rule(seconds=SECONDS)
    def advance(self, seconds: float) -> None:
        self.world.advance(seconds)

    @rule(seconds=SECONDS)
    def advance_more(self, seconds: float) -> None:
        self.world.advance(seconds)

    @rule(seconds=SECONDS)
    def advance_again(self, seconds: float) -> None:
        self.world.advance(seconds)

    @rule(rps=RATES)
    def set_rate(self, rps: int) -> None:
        self.world.traffic.set_rate(rps)

    @rule(i=st.integers(min_value=0, max_value=99), reason=st.sampled_from(["crash", "oom"]))
    def kill_task(self, i: int, reason: str) -> None:
        alive = [t for t in all_tasks(self.world) if t["containers"][0]["lastStatus"] == "RUNNING"]
        task = self.pick(alive, i)
        if task is not None:
            self.world.chaos.kill_task(task["taskArn"], reason=reason)

    @rule(i=st.integers(min_value=0, max_value=99), healthy=st.booleans())
    def set_app_health(self, i: int, healthy: bool) -> None:
        task = self.pick([t for t in all_tasks(self.world) if t["lastStatus"] != "STOPPED"], i)
        if task is not None:
            self.world.chaos.set_app_health(task["taskArn"], healthy)

    @rule(action=st.sampled_from(["crash", "hang", "restore"]))
    def controller(self, action: str) -> None:
        chaos = self.world.chaos
        {
            "crash": chaos.crash_controller,
            "hang": chaos.hang_controller,
            "restore": chaos.restore_controller,
        }[action](CLUSTER, SERVICE)

    @rule(n=st.integers(min_value=0, max_value=6))
    def scale(self, n: int) -> None:
        self.set_desired(n)
        self.world.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=n)

    @rule()
    def force_new_deployment(self) -> None:
        self.world.ecs.update_service(cluster=CLUSTER, service=SERVICE, forceNewDeployment=True)

    @rule()
    def deploy_failing_revision(self) -> None:
        arn = register_revision(self.world, {"ecsim.health": "failing"})
        self.world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)

    @rule()
    def deploy_passing_revision(self) -> None:
        arn = register_revision(self.world, {"ecsim.health": "passing"})
        self.world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)

    @rule(i=st.integers(min_value=0, max_value=99))
    def stop_task(self, i: int) -> None:
        task = self.pick([t for t in all_tasks(self.world) if t["desiredStatus"] == "RUNNING"], i)
        if task is not None:
            self.world.ecs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason="property test")

    @rule(az=st.sampled_from(AZS))
    def fail_az(self, az: str) -> None:
        self.world.chaos.fail_az(az)

    @rule(az=st.sampled_from(AZS))
    def restore_az(self, az: str) -> None:
        self.world.chaos.restore_az(az)

    @rule()
    def send(self) -> None:
        trace = self.world.traffic.send()
        assert trace["status"] in STATUSES, trace
        # A single request is placed in the event sequence: the state after every event
        # emitted so far (send() itself changes no target's state).
        self.fold_events()
        if trace["target"] is not None:
            ip, port = trace["target"].rsplit(":", 1)
            slot = (trace["targetGroup"], ip, int(port))
            timeline = self.health.get(slot)
            state = timeline[1][-1] if timeline else None
            assert state is not None and state not in NOT_ROUTABLE, (
                f"send() at t={self.world.now} went to {slot} whose state is {state}"
            )

    # --- invariants -------------------------------------------------------------------------

    def fold_events(self) -> None:
        """Invariants 4 and 5 over the events emitted since the last fold."""
        w = self.world
        events = w.events()
        for index in range(self.n_events, len(events)):
            e = events[index]
            assert e.time <= w.now, f"event from the future at now={w.now}: {e}"
            if e.kind == "RequestsCompleted":
                assert e.time >= self.last_bucket_end, f"bucket end went back: {e}"
                self.last_bucket_end = e.time
                continue
            assert e.time >= self.last_time, f"time went back from {self.last_time}: {e}"
            assert e.time >= self.step_start, f"event before its step ({self.step_start}): {e}"
            self.last_time = e.time
            if e.kind == "TargetHealthChanged":
                slot = (e.target_group_arn, e.target_id, e.port)
                times, states = self.health.setdefault(slot, ([], []))
                times.append(e.time)
                states.append(e.state)
            elif e.kind == "TaskStateChanged" and e.group == GROUP:
                launched = e.task_arn not in self.replayed
                self.replayed[e.task_arn] = (e.last_status, e.desired_status)
                if launched:
                    assert e.last_status == "PROVISIONING", e
                    desired = self.desired_at(index)
                    bound = math.floor(desired * MAXIMUM_PERCENT / 100 + 1e-9)
                    live = sum(
                        1
                        for last, want in self.replayed.values()
                        if last != "STOPPED" and want == "RUNNING"
                    )
                    assert live <= bound, (
                        f"launch at t={e.time} brings live tasks to {live} > {bound} "
                        f"(desiredCount {desired}): {e}"
                    )
        self.n_events = len(events)

    def check_requests(self) -> None:
        """Invariants 1 and 3 over the requests answered since the last check."""
        w = self.world
        dp = w.dataplane
        dp.flush()
        assert dp.arrived == dp.answered + dp.in_flight, (dp.arrived, dp.answered, dp.in_flight)
        assert len(dp.log) == dp.answered, (len(dp.log), dp.answered)
        log = dp.log
        for k in range(self.n_log, len(log)):
            rec = log[k]
            assert rec["status"] in STATUSES, rec
            assert rec["t"] <= rec["done"] <= w.now, (w.now, rec)
            if rec["index"] == -1:
                continue
            key = (rec["lb"], rec["index"])
            assert key not in self.seen, f"request answered twice: {rec}"
            self.seen.add(key)
            slot = rec["slot"]
            if slot is None:
                continue
            state = self.state_at(slot, rec["t"])
            assert state is not None and state not in NOT_ROUTABLE, (
                f"request arriving at t={rec['t']!r} went to {slot}, whose state then was "
                f"{state}; its events: {self.health.get(slot)}"
            )
        self.n_log = len(log)

    def check_counts(self) -> None:
        """Invariants 2 and 5 (desiredCount >= 0) through the public API."""
        w = self.world
        svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        assert svc["desiredCount"] >= 0
        tasks = all_tasks(w)
        running = [t for t in tasks if t["lastStatus"] == "RUNNING"]
        assert svc["runningCount"] == len(running), (
            svc["runningCount"],
            [(t["taskArn"], t["lastStatus"]) for t in tasks],
        )
        total = 0
        for d in svc["deployments"]:
            mine = sum(1 for t in running if t.get("startedBy") == d["id"])
            assert d["runningCount"] == mine, (d, mine)
            total += d["runningCount"]
        assert total == svc["runningCount"], (total, svc["runningCount"], svc["deployments"])

    @invariant()
    def check_all(self) -> None:
        if self.w is None:
            return
        w = self.w
        assert w.now >= self.last_now, f"the clock went back from {self.last_now} to {w.now}"
        self.last_now = w.now
        self.fold_events()
        self.check_requests()
        self.fold_events()  # check_requests flushes; flushing may seal buckets
        self.check_counts()
        self.step_start = w.now


# Deterministic (derandomize, no example database) and bounded: about 10 s when every
# invariant holds. No shrinking: Hypothesis may spend five minutes shrinking a 50-step
# failure of this machine; the unshrunk steps it prints replay the failure all the same.
WorldMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
TestWorldProperties = WorldMachine.TestCase
