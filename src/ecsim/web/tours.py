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
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsim.model import demo
from ecsim.model.aws.names import resource_id
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from ecsim.scenario import ScenarioError, builtin_names, load, operations, refs
from ecsim.scenario.build import build
from ecsim.scenario.runner import Runner, occurrences
from ecsim.scenario.spec import Scenario, Step
from ecsim.web.view import sim_seconds

View = Mapping[str, Any]
ZONE = "us-east-1a"  # the zone the outage tour cuts off
FF_LIMIT = 900.0  # simulated seconds a fast-forward runs at most before it gives up
OK_SHARE = 0.99  # the share of 2xx answers that counts as "requests still succeed"

# The blue/green tour's world (`blue_green_world`): blue and green target groups behind a
# production rule and a test rule, an alarm on the ALB's 5XX answers watched by the service.
BLUE, GREEN = "home-blue", "home-green"
ALARM = "home-5xx"
TEST_HOST = "test.example.com"
BAKE_MINUTES = 5
ALARM_THRESHOLD = 5  # 5XX answers of the targets in a minute: more, 2 minutes in a row, is ALARM
ALARM_MINUTES = 2
STAMP = 0.001  # an AWS answer's time is rounded to the millisecond: what a step's call made
# (at a time with more digits) may look a hair older than the call
BG_RATE = 20.0  # requests/s the clients send (1 a second is a 500 once production is green's)


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

    def answers_between(self, since: float, until: float) -> dict[str, int]:
        """Answers by status code between two instants (the load balancer's statistics)."""
        if until <= since:
            return {}
        return dict(self._w.traffic.stats(since=since, until=until)["by_status"])

    def served_between(self, since: float, until: float) -> dict[str, int]:
        """Answers by the target IP that gave them, between two instants."""
        if until <= since:
            return {}
        return dict(self._w.traffic.stats(since=since, until=until)["by_target"])

    def events_since(self, t: float) -> list[tuple[float, str]]:
        """The service's events (DescribeServices) written at or after `t`, oldest first."""
        svc = self.service()
        if svc is None:
            return []
        try:
            (found,) = self._w.ecs.describe_services(
                cluster=svc["cluster"], services=[svc["name"]]
            )["services"]
        except (AwsError, ValueError):
            return []
        out = []
        for e in found.get("events", []):
            at = sim_seconds(self._w, e["createdAt"])
            if at is not None and at >= t - STAMP:
                out.append((at, str(e["message"])))
        return sorted(out)

    def stages(self) -> dict[str, float]:
        """The lifecycle stages entered since the step's call, with when each was entered."""
        out: dict[str, float] = {}
        for at, message in self.events_since(self.since):
            found = re.search(r"entered lifecycle stage (\w+)", message)
            if found:
                out.setdefault(found.group(1), at)
        return out

    def event_at(self, words: str) -> float | None:
        """When the first service event since the step's call saying `words` was written."""
        return next((at for at, m in self.events_since(self.since) if words in m), None)

    def record(self) -> dict[str, Any] | None:
        """The service's newest deployment record (DescribeServiceDeployments)."""
        svc = self.service()
        if svc is None:
            return None
        try:
            listed = self._w.ecs.list_service_deployments(
                cluster=svc["cluster"], service=svc["name"]
            )["serviceDeployments"]
            if not listed:
                return None
            arn = listed[0]["serviceDeploymentArn"]
            (rec,) = self._w.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
                "serviceDeployments"
            ]
        except (AwsError, ValueError):
            return None
        return dict(rec)

    def alarm(self, name: str) -> dict[str, Any] | None:
        found = self._w.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return dict(found[0]) if found else None

    def alarm_changes(self, name: str) -> list[tuple[float, str, dict[str, Any]]]:
        """The alarm's changes of state since the step's call, oldest first: (when, the new
        state, its state data: the reason and the datapoints CloudWatch read)."""
        try:
            items = self._w.cloudwatch.describe_alarm_history(
                AlarmName=name, HistoryItemType="StateUpdate"
            )["AlarmHistoryItems"]
        except AwsError:
            return []
        out = []
        for item in items:
            at = sim_seconds(self._w, item["Timestamp"])
            if at is None or at < self.since - STAMP:
                continue
            new = json.loads(item["HistoryData"])["newState"]
            out.append((at, str(new["stateValue"]), new))
        return sorted(out, key=lambda c: c[0])

    def shares(self, rule: str = "production") -> dict[str, float]:
        """{target group name: % of the rule's traffic} of the service's production (or
        test) listener rule, as the page shows them."""
        svc = self.service()
        shift = svc.get("trafficShift") if svc else None
        if not shift or not shift.get(rule):
            return {}
        names = {g["arn"]: g["name"] for g in self.view.get("targetGroups", [])}
        return {names.get(arn, arn): pct for arn, pct in shift[rule].items()}

    def targets(self, group: str) -> list[dict[str, Any]]:
        """The targets registered in a target group (by name), with their health."""
        found = next((g for g in self.view.get("targetGroups", []) if g["name"] == group), None)
        return list(found["targets"]) if found else []


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


# --- the blue/green tour: its world is `blue_green_world` -----------------------------------


def _mmss(t: float) -> str:
    return f"{int(t // 60)}m{int(t % 60):02d}s"


def _split(shares: Mapping[str, float]) -> str:
    return " · ".join(f"{g} {shares.get(g, 0.0):g} %" for g in (BLUE, GREEN)) or "no rule"


def _green(seen: Seen, run: TourRun) -> list[dict[str, Any]]:
    """The service's tasks of the revision deployed over (green)."""
    old = run.marks.get("revision")
    return [t for t in seen.tasks() if old and t["taskDefinition"] != old]


def blue_serving(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """Every task RUNNING and healthy in home-blue, both rules forwarding all to blue, the
    alarm OK."""
    ok, text = steady(seen, run)
    prod, test = seen.shares("production"), seen.shares("test")
    alarm = seen.alarm(ALARM)
    state = alarm["StateValue"] if alarm else "missing"
    in_blue = {t["id"] for t in seen.targets(BLUE) if t["state"] == "healthy"}
    ok = (
        ok
        and prod.get(BLUE) == 100
        and test.get(BLUE) == 100
        and state == "OK"
        and all(t["ip"] in in_blue for t in seen.serving())
    )
    return ok, f"{text} in {BLUE}; production {_split(prod)}; alarm {ALARM} {state}"


def green_up(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """SCALE_UP entered, and green's tasks RUNNING and registered in home-green with no
    production request reaching them (none before the production shift, if it came)."""
    stages = seen.stages()
    green = [t for t in _green(seen, run) if t["lastStatus"] == "RUNNING"]
    svc = seen.service()
    want = svc["desired"] if svc else demo.DESIRED
    in_green = {t["id"]: t["state"] for t in seen.targets(GREEN)}
    registered = [t for t in green if t["ip"] in in_green]
    if registered:
        run.marks["green_ips"] = [t["ip"] for t in registered]
    shifted = stages.get("PRODUCTION_TRAFFIC_SHIFT")
    reached = seen.served_between(run.t0, seen.now if shifted is None else shifted)
    hits = sum(reached.get(str(t["ip"]), 0) for t in green)
    ok = "SCALE_UP" in stages and len(registered) >= want and hits == 0
    health = ", ".join(f"{t['ip']} {in_green[t['ip']]}" for t in registered)
    where = f"; in {GREEN}: {health}" if health else ""
    when = "so far" if shifted is None else f"before the production shift at {_mmss(shifted)}"
    return ok, (
        f"{len(green)} of {want} green tasks RUNNING{where}; production requests they "
        f"answered {when}: {hits}"
    )


def test_shifted(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """Every green task healthy (POST_SCALE_UP), then the test rule moved to home-green
    (TEST_TRAFFIC_SHIFT): the stages' service events, in that order."""
    stages = seen.stages()
    order = [s for s in ("POST_SCALE_UP", "TEST_TRAFFIC_SHIFT") if s in stages]
    said = ", ".join(f"{s} at {_mmss(stages[s])}" for s in order) or "no stage yet"
    if "TEST_TRAFFIC_SHIFT" in stages:
        run.marks.setdefault("test_at", stages["TEST_TRAFFIC_SHIFT"])
    ok = len(order) == 2 and stages["POST_SCALE_UP"] <= stages["TEST_TRAFFIC_SHIFT"]
    return ok, f"{said}; the test rule now: {_split(seen.shares('test'))}"


def production_shifted(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """The production rule moved to home-green (PRODUCTION_TRAFFIC_SHIFT, after the test
    shift), BAKE_TIME entered, and green answered 500s since."""
    stages = seen.stages()
    at = stages.get("PRODUCTION_TRAFFIC_SHIFT")
    if at is None:
        return False, f"production: {_split(seen.shares('production'))}"
    run.marks["shift_at"] = at
    until = seen.event_at("rolling back to deployment") or seen.now
    answers = seen.answers_between(at, until)
    n500 = answers.get("500", 0)
    test_at = run.marks.get("test_at", at)
    after_test = test_at <= at < test_at + 1.0  # (in the same second, as step 3 says)
    ok = "BAKE_TIME" in stages and n500 > 0 and after_test
    return ok, (
        f"PRODUCTION_TRAFFIC_SHIFT at {_mmss(at)}; production now: "
        f"{_split(seen.shares('production'))}; since the shift: {_answers_text(answers)}"
    )


def alarm_in_bake(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """home-5xx went into ALARM during BAKE_TIME, and the deployment's record names it."""
    stages = seen.stages()
    fired = next((c for c in seen.alarm_changes(ALARM) if c[1] == "ALARM"), None)
    rec = seen.record() or {}
    triggered = (rec.get("alarms") or {}).get("triggeredAlarmNames") or []
    bake = stages.get("BAKE_TIME")
    if fired is None:
        alarm = seen.alarm(ALARM)
        state = alarm["StateValue"] if alarm else "missing"
        into = f", {seen.now - bake:.0f} s into the bake" if bake is not None else ""
        return False, f"alarm {ALARM} {state}{into}"
    at, _, data = fired
    points = (data.get("stateReasonData") or {}).get("recentDatapoints") or []
    run.marks.update(alarm_at=at, alarm_values=[float(v) for v in points])
    run.marks["alarm_reason"] = str(data.get("stateReason", ""))
    ok = (
        bake is not None
        and bake <= at < bake + 60 * BAKE_MINUTES
        and rec.get("lifecycleStage") == "BAKE_TIME"
        and ALARM in triggered
    )
    return ok, (
        f"{ALARM} ALARM at {_mmss(at)}"
        + (f", {at - bake:.0f} s into the bake" if bake is not None else "")
        + f": {data.get('stateReason', '')} Record: {rec.get('status')}, "
        f"{rec.get('statusReason') or ''}"
    )


def bg_rolled_back(seen: Seen, run: TourRun) -> tuple[bool, str]:
    """Production and test on home-blue again, green's tasks stopped and out of home-green,
    blue's 3 serving, the record ROLLBACK_SUCCESSFUL."""
    back = seen.event_at("rolling back to deployment")
    if back is not None:
        run.marks.setdefault("rollback_at", back)
    prod, test = seen.shares("production"), seen.shares("test")
    left = [t for t in _green(seen, run) if t["lastStatus"] != "STOPPED"]
    rec = seen.record() or {}
    status = rec.get("status", "no record")
    ok = (
        back is not None
        and prod.get(BLUE) == 100
        and test.get(BLUE) == 100
        and not left
        and not seen.targets(GREEN)
        and status == "ROLLBACK_SUCCESSFUL"
        and steady(seen, run)[0]
    )
    return ok, (
        f"production {_split(prod)}; {len(left)} green tasks not yet STOPPED, "
        f"{len(seen.targets(GREEN))} targets in {GREEN}; record {status}"
    )


def bg_outcome(seen: Seen, run: TourRun) -> tuple[str, str]:
    """Kept, rolled back at once, or rolled back with blue to start again: read from the
    record, the service's tasks and the answers."""
    rec = seen.record() or {}
    if rec.get("status") != "ROLLBACK_SUCCESSFUL":
        return "keep", f"The deployment was not rolled back: its record is {rec.get('status')}."
    old = run.marks.get("revision")
    restarted = [t for t in _new_tasks(seen, run) if t["taskDefinition"] == old]
    shift = float(run.marks.get("shift_at", run.t0))
    back = float(run.marks.get("rollback_at", seen.now))
    alarm = float(run.marks.get("alarm_at", back))
    during = seen.answers_between(shift, back)
    total, n500 = sum(during.values()), during.get("500", 0)
    after = seen.answers_between(back, seen.now)
    values = run.marks.get("alarm_values") or []
    counted = " then ".join(f"{v:g}" for v in values)
    counted = f"{counted} 5XX answers in those minutes, " if counted else ""
    why = (
        f"Production was on {GREEN} for {back - shift:.0f} s: {total} answers, {n500} of them "
        f"500 ({_pct(n500, total)}), though its tasks had passed their health checks. At "
        f"{_mmss(alarm)}, {alarm - shift:.0f} s into the {BAKE_MINUTES}-minute bake, "
        f"CloudWatch put {ALARM} into ALARM ({counted}more than {ALARM_THRESHOLD} in each "
        f"of {ALARM_MINUTES} minutes); ECS "
        f"failed the deployment and, at {_mmss(back)}, gave production back to {BLUE}. "
    )
    if restarted:
        return "late", why + (
            f"{len(restarted)} tasks of {old} had to start again. Since the rollback: "
            f"{_answers_text(after)}."
        )
    return "rollback", why + (
        f"Blue's tasks had run all along, out of production: no task started, the weights "
        f"moved back and green's tasks were drained and stopped; the record ended "
        f"ROLLBACK_SUCCESSFUL. Since the rollback: {_answers_text(after)}."
    )


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
    spot: str = "tasks"  # the diagram's node that matters: client, alb, tg, svc, tasks, victim
    # (the task killed, or the tasks of the zone cut off), green (the new revision's tasks)
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
    Tour(
        "blue-green-alarm",
        "Blue/green, rolled back by an alarm",
        (
            TourStep(
                "A fresh world: blue serves",
                f"home-service deploys BLUE_GREEN with a {BAKE_MINUTES}-minute bake. The ALB's "
                f"production rule (/*) and test rule (Host: {TEST_HOST}) forward by weight: "
                f"{BLUE} 100, {GREEN} 0. Blue is home-app:1, its 3 tasks in {BLUE}. The "
                f"CloudWatch alarm {ALARM} sums the targets' 5XX answers "
                f"(HTTPCode_Target_5XX_Count) each minute: more than {ALARM_THRESHOLD}, "
                f"{ALARM_MINUTES} minutes in a row, is ALARM. The service watches it during "
                "deployments, with rollback on.",
                f"blue's tasks healthy in {BLUE}, both rules 100 % blue, {ALARM} OK",
                blue_serving,
                ("reset", {"world": "blue-green"}),
                spot="tg",
            ),
            TourStep(
                "Deploy a bad green revision",
                "UpdateService with home-app:2, whose app answers 5 % of requests with HTTP "
                "500 but passes its health checks. Green's 3 tasks start beside blue's "
                f"(SCALE_UP, whatever maximumPercent says) and register in {GREEN}, the group "
                "the production rule gives 0 %: no client request reaches them yet.",
                f"green's tasks RUNNING in {GREEN}, no production request to them before the shift",
                green_up,
                ("deploy", {"kind": "errors"}),
                spot="green",
                holds=(manager("ACTIVE"), traffic_on),
                predict=Predict(
                    "Green will answer 5 % of requests with 500, yet pass its health checks. "
                    "Will ECS keep it?",
                    (
                        ("keep", "Yes: its health checks pass, so the deployment completes"),
                        ("late", "No, but clients get 500s until blue's tasks start again"),
                        ("rollback", "No: the alarm fails it, production goes back to blue"),
                    ),
                ),
            ),
            TourStep(
                "Test traffic shifted",
                "Once every green task is healthy (POST_SCALE_UP), ECS points the test rule "
                f"at {GREEN} (TEST_TRAFFIC_SHIFT): requests for {TEST_HOST} reach green, "
                "production is still blue's. That is where a team tests green; a lifecycle "
                "hook would make ECS wait for such a test. This service has none, so ECS "
                "moves production on in the same second.",
                f"the test rule moved to {GREEN} (TEST_TRAFFIC_SHIFT) after POST_SCALE_UP",
                test_shifted,
                spot="alb",
                holds=(manager("ACTIVE"), traffic_on),
            ),
            TourStep(
                "Production shifted",
                f"BLUE_GREEN moves the production rule's weights from {BLUE} 100 / {GREEN} 0 "
                f"to 0 / 100 at once (PRODUCTION_TRAFFIC_SHIFT); the target group shows both. "
                f"Then BAKE_TIME: {BAKE_MINUTES} minutes during which blue's tasks keep "
                "running, out of production. Clients now reach green: about 1 request in 20 "
                "gets a 500.",
                f"production moved to {GREEN}, BAKE_TIME entered, and green's first 500s",
                production_shifted,
                spot="tg",
                holds=(manager("ACTIVE"), traffic_on),
            ),
            TourStep(
                "The alarm goes off during the bake",
                f"At the end of each minute CloudWatch sums that minute's 5XX answers: more "
                f"than {ALARM_THRESHOLD} in each of the last {ALARM_MINUTES} minutes puts "
                f"{ALARM} into ALARM. ECS watches the alarm until "
                "the deployment completes; the bake keeps it unfinished, so ALARM fails it "
                "(deployment failed: alarm detected.).",
                f"{ALARM} in ALARM during BAKE_TIME, the deployment's record naming it",
                alarm_in_bake,
                spot="svc",
                holds=(manager("ACTIVE"), traffic_on),
            ),
            TourStep(
                "ECS rolls back",
                f"With rollback on, ECS gives production and test traffic back to {BLUE} at "
                "once (rolling back to deployment ...): blue never stopped, so nothing has "
                f"to start. Green's tasks are deregistered from {GREEN}, drain 30 s and stop; "
                "the deployment's record ends ROLLBACK_SUCCESSFUL.",
                f"both rules on {BLUE}, green stopped, the record ROLLBACK_SUCCESSFUL",
                bg_rolled_back,
                spot="tg",
                holds=(manager("ACTIVE"), traffic_on),
                judge=bg_outcome,
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
        if node == "green":  # the blue/green tour's new tasks
            ips += [str(ip) for ip in self.marks.get("green_ips", ())]
            node = "tasks"
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


def blue_green_world(seed: int) -> World:
    """The blue/green tour's world, built through the public API as a boto3 script would:
    the demo's app and network; target groups home-blue and home-green (health checks every
    10 s, healthy after 5 in a row as AWS's default, 30 s of deregistration delay); listener
    80 with a test rule (Host: test.example.com) and a production rule (/*), each forwarding
    home-blue 100 / home-green 0; the CloudWatch alarm home-5xx (HTTPCode_Target_5XX_Count of
    the load balancer, Sum over a minute greater than 5 for 2 minutes in a row, no data not
    breaching); home-service
    with a BLUE_GREEN strategy baking 5 minutes, its deployment alarms on with rollback. It
    returns steady: blue's 3 tasks healthy, the alarm OK, clients sending 20 requests/s
    (docs/behaviour.md, "Blue/green, linear and canary deployments", "Deployment alarms")."""
    w = World(seed)
    ecs, elbv2 = w.ecs, w.elbv2
    subnets, sg, vpc = demo.default_network(w.ec2)
    ecs.create_cluster(clusterName=demo.CLUSTER)
    td = ecs.register_task_definition(**demo.task_definition())["taskDefinition"]
    lb = elbv2.create_load_balancer(
        Name=demo.LOAD_BALANCER,
        Subnets=subnets,
        SecurityGroups=[sg],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {}
    for name in (BLUE, GREEN):
        arn = elbv2.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=80,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath="/",
            HealthCheckIntervalSeconds=10,
            HealthyThresholdCount=5,
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
        )
        groups[name] = arn
    listener = elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"},
            }
        ],
    )["Listeners"][0]["ListenerArn"]
    forward = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": groups[BLUE], "Weight": 100},
                {"TargetGroupArn": groups[GREEN], "Weight": 0},
            ]
        },
    }
    rules = {}
    for name, priority, condition in (
        ("test", 5, {"Field": "host-header", "Values": [TEST_HOST]}),
        ("production", 10, {"Field": "path-pattern", "Values": ["/*"]}),
    ):
        rules[name] = elbv2.create_rule(
            ListenerArn=listener, Priority=priority, Conditions=[condition], Actions=[forward]
        )["Rules"][0]["RuleArn"]
    w.cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[{"Name": "LoadBalancer", "Value": resource_id(lb)}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=ALARM_MINUTES,
        Threshold=float(ALARM_THRESHOLD),
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    account = lb.split(":")[4]
    ecs.create_service(
        cluster=demo.CLUSTER,
        serviceName=demo.SERVICE,
        taskDefinition=td["taskDefinitionArn"],
        desiredCount=demo.DESIRED,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [sg],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[
            {
                "targetGroupArn": groups[BLUE],
                "containerName": "app",
                "containerPort": 80,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": groups[GREEN],
                    "productionListenerRule": rules["production"],
                    "testListenerRule": rules["test"],
                    "roleArn": f"arn:aws:iam::{account}:role/ecsInfrastructureRoleForLoadBalancers",
                },
            }
        ],
        healthCheckGracePeriodSeconds=30,
        deploymentConfiguration={
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": BAKE_MINUTES,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "alarms": {"alarmNames": [ALARM], "enable": True, "rollback": True},
        },
    )
    demo.wait_steady(w, demo.CLUSTER, demo.SERVICE, lb)
    w.traffic.set_rate(BG_RATE, demo.LOAD_BALANCER)
    deadline = w.now + 180
    while w.now < deadline:  # the alarm's first evaluation, at the end of a minute
        found = w.cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
        if found and found[0]["StateValue"] == "OK":
            break
        w.advance(5)
    return w


# The worlds a tour's first step may start from (the `reset` command's `world`).
WORLDS: dict[str, Callable[[int], World]] = {
    "seed": demo_world,
    "blue-green": blue_green_world,
}


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
