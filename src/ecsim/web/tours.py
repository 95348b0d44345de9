"""Guided tours: the seed's scenarios played on the live world one explained step at a time,
each step showing its outcome.

A step says what is about to happen and why, names the command it makes (the same commands
the buttons send), and declares the effect its text describes as a condition on the world
(`until`): the page enables "Next" only once the server has seen it hold, in the same view
the page is sent, so what a tour tells holds whatever the seed. A step may first ask the
learner to predict what will happen (`predict`); a later step's `judge` reads what did
happen and says whether the prediction was right, and why, with the world's own numbers.
What a step leaves (the Manager LOGIC CRASHED, a zone cut off) must stay so until the next
step changes it (`holds`): if another browser or the AWS API resets or changes the world
mid-tour, the tour says so instead of telling something false.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsim.model.world import World
from ecsim.scenario import ScenarioError, builtin_names, load, operations, refs
from ecsim.scenario.build import build
from ecsim.scenario.runner import Runner, occurrences
from ecsim.scenario.spec import Scenario, Step

View = Mapping[str, Any]
ZONE = "us-east-1a"  # the zone the outage tour cuts off
FF_LIMIT = 900.0  # simulated seconds a fast-forward runs at most before it gives up
OK_SHARE = 0.99  # the share of 2xx answers that counts as "requests still succeed"


class Seen:
    """What a step's conditions read: the view the page is sent, the time, and the answers
    the load balancer gave since the step's command ran (read once, when first asked)."""

    def __init__(self, w: World, view: View, since: float, service: str | None = None) -> None:
        self.view = view
        self.now = w.now
        self.since = since
        self.name = service  # the service the tour is about (the first, when not known)
        self._w = w
        self._stats: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        if self._stats is None:
            if self.now > self.since:
                self._stats = self._w.traffic.stats(since=self.since, until=self.now)
            else:
                self._stats = {"by_status": {}, "by_target": {}}
        return self._stats

    @property
    def answers(self) -> dict[str, int]:
        """Answers since the step began, by status code."""
        return dict(self._read()["by_status"])

    @property
    def served(self) -> dict[str, int]:
        """Answers since the step began, by the target IP that gave them."""
        return dict(self._read()["by_target"])

    def service(self) -> dict[str, Any] | None:
        found = self.view.get("services") or []
        if self.name is not None:
            return next((s for s in found if s["name"] == self.name), None)
        return found[0] if found else None

    def tasks(self) -> list[dict[str, Any]]:
        svc = self.service()
        name = self.name if self.name is not None else (svc["name"] if svc else None)
        return [t for t in self.view.get("tasks", []) if name and t.get("service") == name]

    def serving(self) -> list[dict[str, Any]]:
        """The service's tasks RUNNING with a healthy target."""
        return [
            t
            for t in self.tasks()
            if t["lastStatus"] == "RUNNING" and t["targetHealth"] == "healthy"
        ]

    def task(self, task_id: str | None) -> dict[str, Any] | None:
        return next((t for t in self.view.get("tasks", []) if t["id"] == task_id), None)

    def zone(self, name: str) -> str | None:
        return next((z["state"] for z in self.view.get("azs", []) if z["name"] == name), None)


# A condition: whether it holds, and what the world shows now, in a learner's words.
Condition = Callable[[Seen, "TourRun"], tuple[bool, str]]
# A guard: None while what a step left still holds; else what changed.
Guard = Callable[[Seen, "TourRun"], str | None]
# A judge: the option that happened, and why, from the world's numbers.
Judge = Callable[[Seen, "TourRun"], tuple[str, str]]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "none"


def _ok(answers: Mapping[str, int]) -> int:
    return sum(n for code, n in answers.items() if code.startswith("2"))


def _answers_text(answers: Mapping[str, int]) -> str:
    total = sum(answers.values())
    if not total:
        return "no answer yet"
    parts = ", ".join(f"{code}: {n}" for code, n in sorted(answers.items()))
    return f"{total} answers ({parts}): {_pct(_ok(answers), total)} succeeded"


def _new_tasks(seen: Seen, run: TourRun) -> list[dict[str, Any]]:
    """The service's tasks that were not there when the step's command ran."""
    before = set(run.marks.get("baseline", ()))
    return [t for t in seen.tasks() if t["id"] not in before]


# --- conditions ----------------------------------------------------------------------------


def steady(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """The service ACTIVE, its scheduler too, and every task it wants RUNNING and healthy,
    with no other task starting or stopping."""
    svc = seen.service()
    if svc is None:
        return False, "no service yet"
    serving = seen.serving()
    busy = [t for t in seen.tasks() if t["lastStatus"] != "STOPPED" and t not in serving]
    ok = (
        svc["status"] == "ACTIVE"
        and svc["controller"] == "ACTIVE"
        and svc["desired"] > 0
        and len(serving) == svc["desired"]
        and not busy
    )
    more = f", {len(busy)} starting or stopping" if busy else ""
    return ok, f"{len(serving)} of {svc['desired']} tasks RUNNING and healthy{more}"


def one_per_zone(seen: Seen, run: TourRun) -> tuple[bool, str]:
    ok, text = steady(seen, run)
    zones = sorted({str(t["az"]) for t in seen.serving()})
    short = ", ".join(z.removeprefix("us-east-1") for z in zones)
    return ok and len(zones) == len(seen.serving()), f"{text}, in zones {short or 'none'}"


def traced(seen: Seen, run: TourRun) -> tuple[bool, str]:
    tr = run.trace
    if tr is None:
        return False, "no request sent yet"
    text = f"GET {tr.get('path')} → {tr.get('status')} from {tr.get('target') or 'the ALB'}"
    ok = tr.get("answeredBy") == "target" and str(tr.get("status")).startswith("2")
    return ok, text + ("" if ok else ": not answered by a task; send it again")


def spread(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """Every task serving has answered at least 25 requests since the rate went up."""
    served = seen.served
    ips = [str(t["ip"]) for t in seen.serving()]
    counts = ", ".join(f"{ip}: {served.get(ip, 0)}" for ip in ips)
    return bool(ips) and all(served.get(ip, 0) >= 25 for ip in ips), f"answers by task: {counts}"


def victim_stopped(seen: Seen, run: TourRun) -> tuple[bool, str]:
    t = seen.task(run.marks.get("victim"))
    if t is None:
        return False, "the task is not in sight"
    label = t["ip"] or t["id"][:8]
    if t["lastStatus"] != "STOPPED":
        return False, f"task {label} {t['lastStatus']}, its target {t['targetHealth'] or 'gone'}"
    run.marks.setdefault("stopped_at", seen.now)
    code = f" (exit code {t['exitCode']})" if t.get("exitCode") is not None else ""
    return True, f"task {label} STOPPED{code}"


def replaced(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """A task started since the step began is RUNNING and healthy, and the service serves
    with as many tasks as it wants."""
    svc = seen.service()
    fresh = _new_tasks(seen, run)
    ready = [t for t in fresh if t in seen.serving()]
    if not fresh:
        return False, "no new task yet"
    state = ", ".join(f"{t['ip'] or t['id'][:8]} {t['lastStatus']}" for t in fresh)
    ok = bool(ready) and svc is not None and len(seen.serving()) == svc["desired"]
    if ready:
        run.marks.setdefault("replacement", ready[0]["ip"])
    return ok, f"new task {state}; {len(seen.serving())} of {svc and svc['desired']} healthy"


def crashed_and_serving(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """The scheduler LOGIC CRASHED, and 20 s and 50 answers since."""
    svc = seen.service()
    if svc is None or svc["controller"] != "CRASHED":
        return False, "the scheduler is not CRASHED yet"
    answers = seen.answers
    ok = seen.now - run.t0 >= 20 and sum(answers.values()) >= 50
    return ok, f"LOGIC CRASHED; since the crash: {_answers_text(answers)}"


def dead_for_a_minute(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """The task killed is STOPPED, its target no longer healthy, and a minute has passed."""
    ok, text = victim_stopped(seen, run)
    if not ok:
        return False, text
    t = seen.task(run.marks.get("victim"))
    health = (t or {}).get("targetHealth") or "deregistered"
    waited = seen.now - run.marks["stopped_at"]
    svc = seen.service()
    running = f"running {svc['running']} of desired {svc['desired']}" if svc else ""
    done = waited >= 60 and health != "healthy"
    return done, f"{text} {waited:.0f} s ago, its target {health}; {running}"


def rolled_back(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """The new deployment FAILED, a rollback to the revision before was started, and it
    completed, every task the service wants RUNNING and healthy."""
    svc = seen.service()
    if svc is None:
        return False, "no service"
    for d in svc["deployments"]:
        if d["failedTasks"]:
            run.marks["failed"] = max(run.marks.get("failed", 0), d["failedTasks"])
        if d["rolloutState"] == "FAILED":
            run.marks.setdefault("failed_at", seen.now)
    texts = [e["message"] for e in svc["events"] if (e["t"] or 0) >= run.t0 - 1]
    if any("rolling back to deployment" in m for m in texts):
        run.marks.setdefault("rollback_at", seen.now)
    primary = next((d for d in svc["deployments"] if d["status"] == "PRIMARY"), None)
    rows = " · ".join(
        f"{d['status']} {d['taskDefinition']} {d['rolloutState'] or ''} (failed {d['failedTasks']})"
        for d in svc["deployments"]
    )
    ok = (
        "rollback_at" in run.marks
        and primary is not None
        and primary["taskDefinition"] == run.marks.get("revision")
        and primary["rolloutState"] == "COMPLETED"
        and steady(seen, run)[0]
    )
    return ok, rows


def failing_deploy(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """The new revision's deployment has counted a failed task."""
    svc = seen.service()
    if svc is None:
        return False, "no service"
    new = [d for d in svc["deployments"] if d["taskDefinition"] != run.marks.get("revision")]
    failed = max((d["failedTasks"] for d in new), default=0)
    rolled = rolled_back(seen, run)[1]
    return failed > 0 or "rollback_at" in run.marks, rolled or "no deployment"


def deleted(seen: Seen, run: TourRun) -> tuple[bool, str]:
    svc = seen.service()
    left = [t for t in seen.tasks() if t["lastStatus"] != "STOPPED"]
    answers = seen.answers
    status = svc["status"] if svc else "gone"
    ok = status != "ACTIVE" and not left and answers.get("503", 0) > 0
    return ok, f"service {status}, {len(left)} tasks not yet STOPPED; {_answers_text(answers)}"


def zone_cut(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """A 504 seen, the cut-off task's target unhealthy (or gone), and a replacement in
    another zone RUNNING and healthy."""
    answers = seen.answers
    cut = [seen.task(i) for i in run.marks.get("zone_tasks", ())]
    marked = all(t is None or t["targetHealth"] != "healthy" for t in cut)
    fresh = [t for t in _new_tasks(seen, run) if t["az"] != ZONE and t in seen.serving()]
    ok = answers.get("504", 0) > 0 and marked and bool(fresh)
    where = (
        f"replacement {fresh[0]['ip']} in {fresh[0]['az']} healthy"
        if fresh
        else "no replacement serving yet"
    )
    return ok, f"{answers.get('504', 0)} answers were 504 so far; {where}"


def zone_back(seen: Seen, run: TourRun) -> tuple[bool, str]:
    ok, text = one_per_zone(seen, run)
    state = seen.zone(ZONE)
    return ok and state == "available", f"{ZONE} {state}; {text}"


# --- guards: what a step left must stay so until the next step ------------------------------


def manager(state: str) -> Guard:
    def guard(seen: Seen, run: TourRun) -> str | None:
        svc = seen.service()
        if svc is None or svc["status"] != "ACTIVE":
            return "the service is gone (someone deleted it, or the world changed)"
        if svc["controller"] != state:
            now = "Active" if svc["controller"] == "ACTIVE" else svc["controller"]
            return f"the Manager is {now} now, not {state}: someone changed it"
        return None

    return guard


def traffic_on(seen: Seen, run: TourRun) -> str | None:
    rate = float(seen.view.get("traffic", {}).get("rate", 0))
    return None if rate > 0 else "the client sends no requests now (someone set the rate to 0)"


def zone_is(state: str) -> Guard:
    def guard(seen: Seen, run: TourRun) -> str | None:
        now = seen.zone(ZONE)
        if (now == "available") == (state == "available"):
            return None
        return f"{ZONE} is {now} now: someone {'restored' if now == 'available' else 'failed'} it"

    return guard


# --- judges: what happened, read from the world ----------------------------------------------


def who_routes(seen: Seen, run: TourRun) -> tuple[str, str]:
    served = seen.served
    total = sum(served.values())
    top = max(served.values(), default=0)
    shares = ", ".join(f"{ip} {_pct(n, total)}" for ip, n in sorted(served.items()))
    svc = seen.service()
    name = svc["name"] if svc else "the service"
    happened = "first" if total and top / total >= 0.8 else "alb"
    return happened, (
        f"Since the rate went up, {total} answers came straight from {len(served)} task IPs "
        f"({shares}): the ALB picked a healthy target for each. {name} is on no request's "
        "path: it only starts and stops tasks."
    )


def heals(seen: Seen, run: TourRun) -> tuple[str, str]:
    new = run.marks.get("replacement")
    if new:
        return "service", (
            f"The service saw {run.marks.get('victim_ip')} stop, started task {new} on its own "
            "and registered it in the target group; no one else acted."
        )
    return "nobody", "No task was started to replace it."


def requests_fail(seen: Seen, run: TourRun) -> tuple[str, str]:
    answers = seen.answers
    total = sum(answers.values())
    ok = _ok(answers)
    if total and ok / total >= OK_SHARE:
        return "no", (
            f"Since the crash, {ok} of {total} answers succeeded ({_pct(ok, total)}): the ALB "
            "sends requests to the targets in the target group; the scheduler is not on the "
            "request path."
        )
    return "yes", f"Since the crash, only {ok} of {total} answers succeeded ({_pct(ok, total)})."


def comes_back(seen: Seen, run: TourRun) -> tuple[str, str]:
    fresh = _new_tasks(seen, run)
    svc = seen.service()
    answers = seen.answers
    if fresh:
        return "yes", f"A task was started: {', '.join(str(t['ip']) for t in fresh)}."
    waited = seen.now - run.marks.get("stopped_at", seen.now)
    bad = answers.get("502", 0)
    return "no", (
        f"{waited:.0f} s after task {run.marks.get('victim_ip')} stopped, no task has started: "
        f"running {svc['running'] if svc else 0} of desired {svc['desired'] if svc else 0}. "
        "A LOGIC CRASHED scheduler does not heal. The ALB stopped sending to the dead target "
        f"once its health checks failed ({bad} requests got a 502 before that)."
    )


def delete_answers(seen: Seen, run: TourRun) -> tuple[str, str]:
    answers = seen.answers
    total = sum(answers.values())
    n503 = answers.get("503", 0)
    why = (
        f"Since DeleteService: {_answers_text(answers)}. The service deregistered every "
        "target at once; a draining target gets no new request, so the ALB, with no target to "
        "send to, answered 503 itself while the tasks drained and stopped."
    )
    if total and n503 / total >= 0.9:
        return "503", why
    return ("200" if _ok(answers) / max(total, 1) >= 0.5 else "503"), why


def deploy_outcome(seen: Seen, run: TourRun) -> tuple[str, str]:
    answers = seen.answers
    total = sum(answers.values())
    ok = _ok(answers)
    failed = run.marks.get("failed", 0)
    why = (
        f"Since the deploy: {ok} of {total} answers succeeded ({_pct(ok, total)}). The new "
        f"tasks never passed a health check ({failed} counted as failed), so the ALB never "
        f"routed to them; the circuit breaker failed the deployment and ECS rolled back to "
        f"{run.marks.get('revision')}, whose tasks served all along."
    )
    if total and ok / total >= OK_SHARE:
        return "rollback", why
    return "errors", why


def zone_answers(seen: Seen, run: TourRun) -> tuple[str, str]:
    answers = seen.answers
    total = sum(answers.values())
    n504 = answers.get("504", 0)
    ok = _ok(answers)
    why = (
        f"Since the cut: {_answers_text(answers)}. The requests sent to the task in {ZONE} "
        "timed out (504) until its target failed enough health checks; then the ALB sent "
        "every request to the healthy targets in the other zones."
    )
    if n504 == 0:
        return "nothing", why
    if total and ok / total < 0.1:
        return "all", why
    return "some", why


# --- the tours -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Predict:
    question: str
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    effect: str  # the effect the text describes, as the page says it is waited for
    until: Condition
    command: tuple[str, Mapping[str, Any]] | None = None
    spot: str = "tasks"  # the diagram's node that matters: client, alb, tg, svc, tasks
    holds: tuple[Guard, ...] = ()
    predict: Predict | None = None
    judge: Judge | None = None
    retry: bool = False  # fast-forward makes the call again (a request) instead of waiting


@dataclass(frozen=True)
class Tour:
    name: str
    title: str
    steps: tuple[TourStep, ...]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "steps": [
                {"title": s.title, "effect": s.effect, "call": s.command is not None}
                for s in self.steps
            ],
        }


def _fresh(text: str, until: Condition = steady, effect: str = "") -> TourStep:
    return TourStep(
        "A fresh world",
        text,
        effect or "every task of the service RUNNING and healthy",
        until,
        ("reset", {}),
        spot="tasks",
    )


TOURS: tuple[Tour, ...] = (
    Tour(
        "traffic-flow",
        "Traffic flow: who routes a request",
        (
            _fresh(
                "Client → ALB (listener :80) → target group → the tasks of home-service. "
                "The reset brings the seed's architecture back."
            ),
            TourStep(
                "Send one request",
                "The ALB matches the listener's rule, picks one IP from the target group "
                "among the healthy targets and forwards the request straight to that task. "
                "The service is not on the path.",
                "the request answered by a task",
                traced,
                ("send", {"path": "/api"}),
                spot="alb",
                retry=True,
            ),
            TourStep(
                "More traffic",
                "50 requests/s: watch the counts per task grow. The target group is only a "
                "registry of IP:port pairs and their health.",
                "every healthy task has answered 25 requests",
                spread,
                ("rate", {"rps": 50}),
                spot="tg",
                holds=(traffic_on,),
                predict=Predict(
                    "50 requests/s reach the service's healthy tasks. Who decides which task "
                    "gets each request?",
                    (
                        ("alb", "The ALB: it spreads them over the healthy targets"),
                        ("service", "The ECS service: it forwards each one to a task"),
                        ("first", "Nobody: they all go to the first task"),
                    ),
                ),
                judge=who_routes,
            ),
        ),
    ),
    Tour(
        "auto-healing",
        "Auto-healing: the service replaces a dead task",
        (
            _fresh("The tasks healthy, the scheduler ACTIVE."),
            TourStep(
                "A task runs out of memory",
                "Its container is OOM-killed (exit code 137) and the task stops. Requests "
                "that reach it before its target is taken out of the group get a 502.",
                "the task STOPPED",
                victim_stopped,
                ("kill", {"task": "@task", "how": "oom"}),
                spot="victim",
                holds=(manager("ACTIVE"),),
                predict=Predict(
                    "A task is OOM-killed. What happens next?",
                    (
                        ("service", "The service starts a replacement by itself"),
                        ("nobody", "Nothing, until someone starts a new task"),
                        ("alb", "The ALB restarts the container"),
                    ),
                ),
            ),
            TourStep(
                "The Manager heals",
                "The scheduler notices: it deregisters the dead target, starts a replacement "
                "(PROVISIONING → PENDING → ACTIVATING → RUNNING) and registers its new IP. "
                "Watch the service events: 'has started 1 tasks'.",
                "a replacement task RUNNING and healthy",
                replaced,
                spot="svc",
                holds=(manager("ACTIVE"),),
                judge=heals,
            ),
        ),
    ),
    Tour(
        "service-crash",
        "The service crash scenario (and the catch)",
        (
            _fresh("The tasks healthy, traffic flowing."),
            TourStep(
                "The Manager crashes",
                "The service scheduler's logic fails: LOGIC CRASHED. Nothing on the request "
                "path changes: the ALB talks to the tasks through the target group.",
                "the Manager LOGIC CRASHED, and 50 answers since",
                crashed_and_serving,
                ("scheduler", {"action": "crash"}),
                spot="svc",
                holds=(manager("CRASHED"), traffic_on),
                predict=Predict(
                    "The Manager crashed: will requests fail?",
                    (
                        ("yes", "Yes: requests start failing"),
                        ("no", "No: requests still succeed"),
                    ),
                ),
                judge=requests_fail,
            ),
            TourStep(
                "The catch: a task dies",
                "A task crashes. The ALB's health checks mark its target unhealthy and it "
                "routes around it. Does anything bring the task back?",
                "the task STOPPED, and a minute since",
                dead_for_a_minute,
                ("kill", {"task": "@task", "how": "crash"}),
                spot="victim",
                holds=(manager("CRASHED"),),
                predict=Predict(
                    "A task died with the Manager down: will it come back?",
                    (
                        ("yes", "Yes: a replacement starts"),
                        ("no", "No: it stays dead while the Manager is down"),
                    ),
                ),
                judge=comes_back,
            ),
            TourStep(
                "Restore the Manager",
                "The scheduler comes back, deregisters the dead target, starts a new task "
                "and converges to the desired count.",
                "a replacement task RUNNING and healthy",
                replaced,
                ("scheduler", {"action": "restore"}),
                spot="svc",
                holds=(manager("ACTIVE"),),
            ),
        ),
    ),
    Tour(
        "delete-service",
        "Deleting the service deletes its tasks",
        (
            _fresh("The tasks healthy, traffic flowing."),
            TourStep(
                "DeleteService (force)",
                "Unlike a crash, a delete is an order: the service deregisters every task, "
                "waits for draining, then stops them all.",
                "every task STOPPED, and a 503 answered",
                deleted,
                ("delete_service", {}),
                spot="tg",
                holds=(traffic_on,),
                predict=Predict(
                    "DeleteService (force) with traffic flowing: what do clients get?",
                    (
                        ("200", "200s: the tasks serve until they stop"),
                        ("503", "503 from the ALB at once: the targets drain"),
                        ("nothing", "Nothing changes: tasks outlive their service"),
                    ),
                ),
                judge=delete_answers,
            ),
        ),
    ),
    Tour(
        "bad-deploy",
        "A bad deploy and the circuit breaker",
        (
            _fresh("The tasks of home-app:1 healthy."),
            TourStep(
                "Deploy a revision that fails health checks",
                "A new deployment starts new tasks next to the old ones (maximumPercent "
                "200). Their targets fail health checks (503), the scheduler replaces them, "
                "and failedTasks grows.",
                "a task of the new revision counted as failed",
                failing_deploy,
                ("deploy", {"kind": "bad-health"}),
                spot="svc",
                holds=(manager("ACTIVE"),),
                predict=Predict(
                    "A new revision fails its health checks. What will clients see?",
                    (
                        ("errors", "Errors: the new tasks get traffic"),
                        ("rollback", "No errors: the old tasks serve until ECS rolls back"),
                        ("outage", "An outage: ECS stops the old tasks first"),
                    ),
                ),
            ),
            TourStep(
                "The circuit breaker trips",
                "At the threshold the deployment goes FAILED and, with rollback, ECS "
                "starts a deployment back to the last completed revision.",
                "the deployment FAILED and rolled back, the old revision COMPLETED",
                rolled_back,
                spot="svc",
                holds=(manager("ACTIVE"),),
                judge=deploy_outcome,
            ),
        ),
    ),
    Tour(
        "az-outage",
        "An Availability Zone fails",
        (
            _fresh(
                "One task in each of us-east-1a, b and c.",
                one_per_zone,
                "one healthy task in each zone",
            ),
            TourStep(
                f"{ZONE} is cut off",
                "Its task becomes unreachable: requests to it time out (504) until health "
                "checks mark it unhealthy; the scheduler starts a replacement in another zone.",
                "a 504 seen, and a replacement in another zone healthy",
                zone_cut,
                ("az", {"az": ZONE, "action": "fail"}),
                spot="victim",
                holds=(zone_is("impaired"), traffic_on),
                predict=Predict(
                    f"{ZONE} is cut off. What do clients see?",
                    (
                        ("nothing", "Nothing: the ALB only uses healthy zones"),
                        ("some", "Some requests time out (504) until health checks catch up"),
                        ("all", "Every request fails until the zone is back"),
                    ),
                ),
                judge=zone_answers,
            ),
            TourStep(
                f"{ZONE} comes back",
                "The zone is available again. The scheduler spreads the service's tasks "
                "over its zones again: back to one healthy task in each.",
                f"{ZONE} available, one healthy task in each zone",
                zone_back,
                ("az", {"az": ZONE, "action": "restore"}),
                spot="tasks",
                holds=(zone_is("available"),),
            ),
        ),
    ),
)


def tours() -> list[dict[str, Any]]:
    return [t.describe() for t in TOURS]


def find(name: str) -> Tour:
    for t in TOURS:
        if t.name == name:
            return t
    raise KeyError(name)


# --- a tour being played ---------------------------------------------------------------------


@dataclass
class TourRun:
    """A tour on the live world: the step shown, its phase, and what the world showed.

    Phases: `predict` (the step waits for the learner's answer before its call), `waiting`
    (the call is made, the effect not seen yet), `done` (seen: "Next" is enabled), `moved`
    (the world changed under the tour: it offers to restart or rebuild the step)."""

    tour: Tour
    world: World
    index: int = 0
    phase: str = "waiting"
    t0: float = 0.0  # when the step's call was made
    marks: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    trace: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    moved: str | None = None
    busy: str | None = None  # "fast-forward", "rebuild"
    note: str | None = None  # the last fast-forward's outcome, when it gave up
    guards: tuple[Guard, ...] = ()
    seq: int = 0  # bumped at each step, so a page knows a new step from an old one
    quiet: bool = False  # while rebuilding: no judging
    known: set[tuple[str, str]] = field(default_factory=set)  # (views read without a hub)

    @property
    def step(self) -> TourStep:
        return self.tour.steps[self.index]

    @property
    def last(self) -> bool:
        return self.index == len(self.tour.steps) - 1

    def observe(self, w: World, view: View) -> None:
        """Evaluate the step on the world as the page is sent it: the world replaced, what
        the last step left changed, the effect seen."""
        if self.phase == "moved":
            return
        if w is not self.world:
            self._move(
                "the world was reset or replaced (by another browser, the AWS API or a scenario)"
            )
            return
        seen = Seen(w, view, self.t0, self.marks.get("service"))
        for guard in self.guards:
            why = guard(seen, self)
            if why is not None:
                self._move(why)
                return
        if self.phase != "waiting":
            return
        met, self.detail = self.step.until(seen, self)
        if not met:
            return
        self.phase = "done"
        self.note = None
        judge = self.step.judge
        if judge is not None and self.prediction is not None and not self.quiet:
            happened, why = judge(seen, self)
            asked = self.prediction
            labels = dict(asked["options"])
            self.verdict = {
                "question": asked["question"],
                "choice": asked["choice"],
                "choiceLabel": labels.get(asked["choice"], asked["choice"]),
                "happened": happened,
                "happenedLabel": labels.get(happened, happened),
                "right": asked["choice"] == happened,
                "why": why,
                "at": seen.now,
            }
            self.prediction = None

    def _move(self, why: str) -> None:
        self.phase = "moved"
        self.moved = why
        self.busy = None

    def spot(self) -> dict[str, Any]:
        """The diagram's node the step is about, and the tasks in it that matter (by IP)."""
        node = self.step.spot
        ips: list[str] = []
        if node == "victim":
            ips += [
                ip for ip in (self.marks.get("victim_ip"), *self.marks.get("zone_ips", ())) if ip
            ]
            node = "tasks"
        if self.marks.get("replacement"):
            ips.append(str(self.marks["replacement"]))
        return {"node": node, "ips": ips}

    def describe(self) -> dict[str, Any]:
        step = self.step
        return {
            "name": self.tour.name,
            "title": self.tour.title,
            "index": self.index,
            "count": len(self.tour.steps),
            "seq": self.seq,
            "phase": self.phase,
            "step": {
                "title": step.title,
                "text": step.text,
                "effect": step.effect,
                "retry": step.retry,
                "predict": None
                if step.predict is None
                else {"question": step.predict.question, "options": step.predict.options},
            },
            "detail": self.detail,
            "since": self.t0,
            "trace": self.trace if step.command and step.command[0] == "send" else None,
            "prediction": self.prediction,
            "verdict": self.verdict,
            "moved": self.moved,
            "busy": self.busy,
            "note": self.note,
            "spot": self.spot(),
        }


# --- the scenario layer's built-in scenarios, played live ----------------------------------

MAX_STEPS = 40  # occurrences of repeated steps shown in a tour


def scenario_names() -> list[dict[str, str]]:
    """The built-in scenarios: name and one-line summary."""
    out = []
    for name in builtin_names():
        try:
            out.append({"name": name, "summary": load(name).summary})
        except ScenarioError:
            continue
    return out


def demo_world(seed: int) -> World:
    return World.demo(seed=seed)


class LiveScenario:
    """A built-in scenario on the live world: its world as the factory, its timeline as a
    guided tour (each "Next" runs the world to the step's time and makes the step's call)."""

    def __init__(self, name: str) -> None:
        if name not in builtin_names():
            raise ValueError(
                f"Unknown scenario {name!r}; the built-in scenarios are: "
                f"{', '.join(builtin_names())}."
            )
        self.scenario: Scenario = load(name)
        self.plan: list[tuple[float, Step]] = [
            (t, step) for t, _, step in occurrences(self.scenario, self.scenario.duration)
        ][:MAX_STEPS]
        self.t0 = 0.0
        self.index = 0

    @property
    def name(self) -> str:
        return self.scenario.name

    def factory(self, seed: int) -> World:
        """Build the scenario's world (steady, if the file says so) and make its calls at 0."""
        runner = Runner(self.scenario, seed=seed)
        build(runner.w, self.scenario)
        if self.scenario.start == "steady":
            runner.wait_steady()
        self.t0 = runner.w.now
        self.index = 0
        while self.index < len(self.plan) and self.plan[self.index][0] <= 0:
            self.call(runner.w, self.plan[self.index][1])
            self.index += 1
        return runner.w

    @staticmethod
    def call(w: World, step: Step) -> None:
        operations.bound(w, step.do)(**refs.resolve(w, step.args))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.scenario.summary,
            "explanation": self.scenario.explanation,
            "duration": self.scenario.duration,
            "t0": self.t0,
            "index": self.index,
            "steps": [
                {
                    "t": t,
                    "label": step.label,
                    "do": step.do,
                    "args": step.args,
                    "note": step.note or "",
                }
                for t, step in self.plan
            ],
        }


class Session:
    """What the page's commands share beyond the world: the scenario or guided tour being
    played, and the seed of the seed's world (the one a reset rebuilds: the server's `--seed`, or 0 when it
    started from a scenario, whose seed is the scenario's)."""

    def __init__(self, scenario: LiveScenario | None = None, seed: int = 0) -> None:
        self.scenario = scenario
        self.seed = seed
        self.tour: TourRun | None = None  # the guided tour being played on this world
        # re-read the view and evaluate the tour, as the page is sent it (the hub's)
        self.refresh: Callable[[], None] | None = None
        self.jobs: set[asyncio.Task[None]] = set()  # the tour's fast-forwards and rebuilds
