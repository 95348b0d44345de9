"""The page's commands. Each one ends in a call of the model's own API (`w.ecs`, `w.chaos`,
`w.traffic`, `w.application_autoscaling`) or of the live runtime's time controls, run on the
event loop between slices."""

from __future__ import annotations

import asyncio
import copy
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ecsim.live.runtime import LiveWorld
from ecsim.model.autoscaling.target_tracking import (
    Policy,
    TargetTrackingError,
    policy_name,
    service_target,
    track,
)
from ecsim.model.errors import AwsError
from ecsim.model.events import TaskFaultChanged
from ecsim.model.verbs import catalog
from ecsim.model.verbs.spec import ParameterError, Verb, check
from ecsim.model.world import World
from ecsim.scenario.refs import RefError
from ecsim.scenario.wording import fault_text
from ecsim.web import explain as explainer
from ecsim.web import tours as guide
from ecsim.web import view
from ecsim.web.tours import LiveScenario, Session, TourRun, demo_world

log = logging.getLogger("ecsim.web.commands")

# Application profiles of the revisions the page can deploy (dockerLabels, README's table).
REVISIONS: dict[str, tuple[dict[str, str], str]] = {
    "good": ({}, "a good revision"),
    "bad-health": (
        {"ecsim.health": "failing"},
        "a bad revision whose app fails its health checks (503)",
    ),
    "bad-start": (
        {"ecsim.start": "crash"},
        "a bad revision whose container exits with code 1 while starting",
    ),
    "slow": (
        {"ecsim.latency.median": "400ms"},
        "a slow revision (median answer 400 ms)",
    ),
    "errors": (
        {"ecsim.error-rate": "0.05"},
        "a bad revision whose app answers 5 % of requests with HTTP 500 (its health checks pass)",
    ),
}
APP_LABELS = ("ecsim.health", "ecsim.start", "ecsim.crash-after", "ecsim.hang", "ecsim.error-rate")

# The AWS FIS task faults the page injects, by the name its buttons send; their parameters,
# limits and defaults are the verbs' (model/verbs/catalog.py), but for the duration: the page
# asks for 2 minutes unless the command says.
FAULTS: dict[str, Verb] = {
    "cpu-stress": catalog.STRESS_CPU,
    "network-latency": catalog.DELAY_NETWORK,
    "packet-loss": catalog.LOSE_PACKETS,
    "blackhole-port": catalog.BLACKHOLE_PORT,
}
FAULT_DURATION = 120.0  # simulated seconds, unless the command says
STEP = 1.0  # simulated seconds the step button runs, unless the command says

# Service auto scaling from the Manager's controls: target tracking on the service's CPU.
CPU_METRIC = "ECSServiceAverageCPUUtilization"
CPU_POLICY = "cpu-target-tracking"  # unless the service has a CPU policy already


class CommandError(Exception):
    """A command the page sent that cannot be run; the message is shown as is."""


class InternalCommandError(CommandError):
    """A command failed on a bug of ecsim's (logged with its traceback); the page is told no
    more than that."""


@dataclass
class Outcome:
    message: str
    data: Any = None
    broadcast: bool = True  # tell every browser what was done


def _str(args: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise CommandError(f"'{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def _num(args: Mapping[str, Any], key: str, lo: float, hi: float, integer: bool = False) -> float:
    value = args.get(key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise CommandError(f"'{key}' must be a number, got {args.get(key)!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CommandError(f"'{key}' must be a number, got {args.get(key)!r}")
    if integer and value != int(value):
        raise CommandError(f"'{key}' must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise CommandError(f"'{key}' must be between {lo:g} and {hi:g}, got {value:g}")
    return float(value)


def _whole(args: Mapping[str, Any], key: str) -> int:
    """A whole number the page sent (2, 2.0 or "2"), of any size: its limits are the model's."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise CommandError(f"'{key}' must be a whole number, got {args.get(key)!r}") from None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CommandError(f"'{key}' must be a whole number, got {args.get(key)!r}")
    return value


def _number(args: Mapping[str, Any], key: str) -> Any:
    """A number the page sent, perhaps as text ("2.5" -> 2.5); anything else as it came, for
    the verb's specification to refuse."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise CommandError(f"'{key}' must be a number, got {value!r}") from None
    return value


def focus_service(w: World, args: Mapping[str, Any]) -> tuple[str, str]:
    """The (cluster, service) a command is about: given, or the first service there is."""
    if "service" in args:
        service = _str(args, "service")
        cluster = str(args.get("cluster") or "")
        if not cluster:
            for c in w.ecs.list_clusters()["clusterArns"]:
                names = [
                    a.rsplit("/", 1)[-1] for a in w.ecs.list_services(cluster=c)["serviceArns"]
                ]
                if service in names:
                    cluster = c.rsplit("/", 1)[-1]
                    break
            else:
                raise CommandError(f"There is no active service named {service!r}.")
        return cluster, service
    for c in w.ecs.list_clusters()["clusterArns"]:
        arns = w.ecs.list_services(cluster=c)["serviceArns"]
        if arns:
            return c.rsplit("/", 1)[-1], arns[0].rsplit("/", 1)[-1]
    raise CommandError(
        "There is no active service (it was deleted: reset the world to get it back)."
    )


def _task_label(w: World, ref: str) -> str:
    t = w.chaos.task(ref)
    return f"task {t.id[:8]}… ({t.ip})" if t.ip else f"task {t.id[:8]}…"


# --- the commands --------------------------------------------------------------------------


def send(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    path = check(catalog.SEND, {"path": args.get("path") or None})["path"]
    trace = live.world.traffic.send(path)
    where = trace.get("target") or "the load balancer"
    msg = f"GET {path} → {trace['status']} from {where} in {trace['latencyMs']} ms"
    return Outcome(msg, trace, broadcast=False)


def rate(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    rps = check(catalog.SET_RATE, {"rps": _number(args, "rps")})["rps"]
    live.world.traffic.set_rate(rps)
    return Outcome(f"client traffic set to {rps:g} requests/s")


def _any_task(w: World) -> str:
    """The first running task of the focus service (`@task` in tours)."""
    cluster, service = focus_service(w, {})
    arns = w.ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    for t in w.ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []:
        if t["lastStatus"] == "RUNNING":
            return str(t["taskArn"])
    raise CommandError(f"{service} has no running task.")


def kill(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    w = live.world
    task = _str(args, "task")
    if task == "@task":
        task = _any_task(w)
    how = str(args.get("how", "crash"))
    label = _task_label(w, task)
    if how in ("crash", "oom"):
        w.chaos.kill_task(task, reason=how)
        what = "crashed (exit code 1)" if how == "crash" else "was OOM-killed (exit code 137)"
        return Outcome(f"{label} {what}")
    if how == "health":
        w.chaos.set_app_health(task, False)
        return Outcome(f"{label}: its app now fails health checks")
    if how == "heal":
        w.chaos.set_app_health(task, True)
        return Outcome(f"{label}: its app passes health checks again")
    if how == "stop":
        cluster = w.chaos.task(task).cluster_name
        w.ecs.stop_task(cluster=cluster, task=task, reason="Task stopped by user (ecsim page)")
        return Outcome(f"StopTask {label}")
    raise CommandError(f"'how' must be crash, oom, health, heal or stop; got {how!r}")


def fault(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    """An AWS FIS task fault on one task, for `duration` seconds (2 minutes unless given):
    `cpu-stress` (`percent`), `network-latency` (`delay` in seconds), `packet-loss`
    (`percent`) or `blackhole-port` (`port`), with the verbs' defaults and limits."""
    w = live.world
    task = _str(args, "task")
    if task == "@task":
        task = _any_task(w)
    action = str(args.get("action"))
    if action not in FAULTS:
        raise CommandError(f"'action' must be {', '.join(FAULTS)}; got {action!r}")
    verb = FAULTS[action]
    given = {
        p.name: _number(args, p.name) for p in verb.params if p.name in args and p.name != "task"
    }
    given.setdefault("duration", FAULT_DURATION)
    t = w.chaos.task(task)
    params = check(verb, {"task": t.arn, **given})
    getattr(w.chaos, verb.name)(**params)
    duration = params["duration"]
    started = w.events(since=w.now, kind=TaskFaultChanged)[-1]
    assert isinstance(started, TaskFaultChanged)
    return Outcome(fault_text(started, duration, t.ip))


# The Manager's controls: the verb, what it makes of an ACTIVE service's scheduler, and what
# the scheduler is then (a control that finds it so already says that, and changes nothing).
SCHEDULER: dict[str, tuple[str, str, str]] = {
    "crash": ("crash_controller", "CRASHED", "crashed: LOGIC CRASHED, nothing heals"),
    "hang": ("hang_controller", "STUCK", "is STUCK: alive but makes no progress"),
    "restore": ("restore_controller", "ACTIVE", "restored: it converges again"),
}
ALREADY = {
    "CRASHED": "had crashed already: nothing changed",
    "STUCK": "was STUCK already: nothing changed",
    "ACTIVE": "was active already: nothing to restore",
}


def scheduler(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    """Crash, hang or restore the scheduler of an ACTIVE service. A service being deleted or
    deleted has no scheduler to act on: the page says so rather than claim an effect; a
    scheduler already in the state asked for is left as it is, and the page says that."""
    action = str(args.get("action"))
    if action not in SCHEDULER:
        raise CommandError(f"'action' must be crash, hang or restore; got {action!r}")
    w = live.world
    cluster, service = focus_service(w, args)
    found = w.ecs.describe_services(cluster=cluster, services=[service])["services"]
    if not found:
        raise CommandError(f"There is no service named {service!r} in cluster {cluster!r}.")
    svc = found[0]
    if svc["status"] != "ACTIVE":
        what = "is being deleted" if svc["status"] == "DRAINING" else "was deleted"
        raise CommandError(
            f"{service} {what} ({svc['status']}): it has no scheduler left to {action}; "
            "reset the world to get it back."
        )
    verb, becomes, text = SCHEDULER[action]
    if svc.get("controllerStatus", "ACTIVE") == becomes:
        return Outcome(f"the scheduler of {service} {ALREADY[becomes]}", broadcast=False)
    getattr(w.chaos, verb)(cluster, service)
    return Outcome(f"the scheduler of {service} {text}")


def delete_service(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    cluster, service = focus_service(live.world, args)
    live.world.ecs.delete_service(cluster=cluster, service=service, force=True)
    return Outcome(f"DeleteService {service} (force): it stops all its tasks")


def desired(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    """UpdateService with the count the page sent: a whole number, else the page says so;
    below 0 or above ECS's tasks per service quota, the model refuses it in AWS's words (the
    page has no limit of its own: model/ecs/quotas.py)."""
    cluster, service = focus_service(live.world, args)
    count = _whole(args, "count")
    live.world.ecs.update_service(cluster=cluster, service=service, desiredCount=count)
    return Outcome(f"UpdateService {service}: desiredCount {count}")


def _aws_value(args: Mapping[str, Any], key: str) -> Any:
    """A number from the page as the model gets it ("2" -> 2, 2.0 -> 2, "50.5" -> 50.5);
    anything else as it came, for the model to reject in AWS's words."""
    if args.get(key) is None:
        raise CommandError(f"'{key}' is required")
    value = args[key]
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        value = number
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CommandError(f"'{key}' must be a finite number, got {value!r}")
        if value == int(value):
            return int(value)
    return value


def autoscaling(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    """Service auto scaling of the service shown, with Application Auto Scaling's calls:
    `enable` registers the service as a scalable target from `min` to `max` tasks with a
    target tracking policy on its average CPU at `target` %; `disable` deregisters it (its
    policies go with it)."""
    w = live.world
    action = str(args.get("action"))
    if action not in ("enable", "disable"):
        raise CommandError(f"'action' must be enable or disable; got {action!r}")
    cluster, service = focus_service(w, args)
    aas = w.application_autoscaling
    target = service_target(cluster, service)
    if action == "disable":
        aas.deregister_scalable_target(**target)
        return Outcome(f"DeregisterScalableTarget {service}: auto scaling is off")
    lo, hi, value = (_aws_value(args, k) for k in ("min", "max", "target"))
    name = policy_name(aas, target, CPU_METRIC, CPU_POLICY)
    try:  # all or nothing: a bad input changes nothing
        track(aas, w.ecs, target, lo, hi, [Policy(name, CPU_METRIC, value)])
    except TargetTrackingError as e:
        raise e.error from None
    return Outcome(
        f"RegisterScalableTarget {service} (min {lo}, max {hi}) and PutScalingPolicy {name}: "
        f"target tracking of its average CPU at {value:g} %"
    )


def deploy(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    kind = str(args.get("kind", "good"))
    if kind not in REVISIONS:
        raise CommandError(f"'kind' must be one of {', '.join(REVISIONS)}; got {kind!r}")
    labels, what = REVISIONS[kind]
    w = live.world
    cluster, service = focus_service(w, args)
    svc = w.ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    td = w.ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    containers = copy.deepcopy(td["containerDefinitions"])
    for c in containers:
        if c.get("essential", True):
            docker = {k: v for k, v in c.get("dockerLabels", {}).items() if k not in APP_LABELS}
            if kind != "slow":
                docker.pop("ecsim.latency.median", None)
                docker["ecsim.latency.median"] = "20ms"
            docker.update(labels)
            c["dockerLabels"] = docker
            break
    params: dict[str, Any] = {"family": td["family"], "containerDefinitions": containers}
    for key in ("networkMode", "requiresCompatibilities", "cpu", "memory"):
        if key in td:
            params[key] = td[key]
    new = w.ecs.register_task_definition(**params)["taskDefinition"]
    arn = new["taskDefinitionArn"]
    w.ecs.update_service(cluster=cluster, service=service, taskDefinition=arn)
    return Outcome(f"UpdateService {service}: {arn.rsplit('/', 1)[-1]}, {what}")


def az(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    name = _str(args, "az")
    action = str(args.get("action"))
    if action == "fail":
        live.world.chaos.fail_az(name)
        return Outcome(f"Availability Zone {name} is cut off")
    if action == "restore":
        live.world.chaos.restore_az(name)
        return Outcome(f"Availability Zone {name} is back")
    raise CommandError(f"'action' must be fail or restore; got {action!r}")


def pause(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    live.pause()
    return Outcome("paused")


def resume(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    live.resume()
    return Outcome("playing")


def step(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    given = _number(args, "seconds") if "seconds" in args else STEP
    seconds = check(catalog.ADVANCE, {"seconds": given})["seconds"]
    live.step(seconds)  # in slices, the page's batches following (LiveWorld.step)
    return Outcome(f"stepping {seconds:g} simulated s", broadcast=False)


def speed(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    value = check(catalog.SPEED, {"speed": _number(args, "speed")})["speed"]
    live.set_speed(value)
    return Outcome(f"speed {value:g}x")


def reset(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    """A fresh world of the seed's architecture (`model/demo.py`: its settings, its client
    rate), whatever world was loaded before: a scenario is left (its own restart is the
    `scenario` command, the page's "Restart this scenario"). The seed is the server's unless
    `seed` is given; `world` names another architecture a tour starts from (tours.WORLDS:
    `blue-green`)."""
    given = check(catalog.RESET, {"seed": _number(args, "seed")})["seed"]
    world = str(args.get("world") or "seed")
    if world not in guide.WORLDS:
        raise CommandError(f"'world' must be one of {', '.join(guide.WORLDS)}; got {world!r}")
    _seed_world(live, session, given, guide.WORLDS[world])
    what = "the seed's architecture" if world == "seed" else f"the {world} architecture"
    return Outcome(f"the world was reset: {what} (seed {live.seed})")


def _seed_world(
    live: LiveWorld,
    session: Session,
    seed: int | None = None,
    factory: Callable[[int], World] = demo_world,
) -> None:
    session.scenario = None
    live.reset(seed=session.seed if seed is None else seed, factory=factory)


def explain(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    text = str(args.get("text", "")).strip()
    if not text:
        raise CommandError("Type a name or an ARN to explain.")
    if len(text) > 2048:
        raise CommandError("That is too long to be a name or an ARN (2048 characters at most).")
    return Outcome("explained", explainer.explain(live.world, text), broadcast=False)


def scenario(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    name = str(args.get("name") or "")
    if name in ("", "seed"):
        _seed_world(live, session)
        return Outcome("the seed's architecture, steady")
    try:
        played = LiveScenario(name)
    except ValueError as e:
        raise CommandError(str(e)) from None
    session.scenario = played
    live.reset(seed=played.scenario.seed, factory=played.factory)
    return Outcome(f"scenario {name}: {played.scenario.summary}")


def scenario_next(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    played = session.scenario
    if played is None:
        raise CommandError("No scenario is being played: pick one first.")
    if played.index >= len(played.plan):
        raise CommandError(f"Scenario {played.name} has no more steps.")
    t, step = played.plan[played.index]
    wait = played.t0 + t - live.world.now
    if wait > 0:
        live.advance(wait)
    played.index += 1
    try:
        LiveScenario.call(live.world, step)
    except AwsError as e:
        if step.expect_error != e.code:
            raise
    return Outcome(f"{_mmss(t)} {step.label}: {step.do}")


# --- guided tours: each step's call, then its effect awaited (web/tours.py) ------------------

FF_PIECE = 2.0  # simulated seconds a fast-forward runs between two looks at the effect
# marks of a step's call, dropped when the next call is made (the victim, the revision stay)
STEP_MARKS = ("stopped_at", "replacement", "failed", "failed_at", "rollback_at")


def _refresh(live: LiveWorld, session: Session) -> None:
    """Evaluate the tour on the view as the page is sent it (the hub's; without a hub, a
    view read for the purpose)."""
    if session.refresh is not None:
        session.refresh()
    elif session.tour is not None:
        run = session.tour
        run.observe(live.world, view.build(live.world, run.known))


def _enter(live: LiveWorld, session: Session, run: TourRun, index: int) -> None:
    """Show step `index`: ask its prediction first, if it has one; else make its call."""
    run.index = index
    run.seq += 1
    run.verdict = run.note = None
    run.detail = ""
    if run.step.predict is not None:
        run.phase = "predict"
    else:
        _call(live, session, run)


def _call(live: LiveWorld, session: Session, run: TourRun) -> None:
    """Make the step's call, marking first what its conditions compare with: the service's
    tasks before it (a replacement is a task not among them), the task it kills, the tasks
    in the zone it cuts off, the revision it deploys over."""
    step = run.step
    w = live.world
    run.phase = "waiting"
    run.moved = None
    if step.command is None:
        run.guards = step.holds
        return
    cmd, given = step.command
    args = dict(given)
    for key in STEP_MARKS:
        run.marks.pop(key, None)
    tasks = view.tasks(w, {})
    run.marks["baseline"] = [t["id"] for t in tasks]
    if cmd != "reset":
        run.marks["service"] = focus_service(w, {})[1]
    try:
        if args.get("task") == "@task":
            args["task"] = _any_task(w)
            victim = w.chaos.task(args["task"])
            run.marks.update(victim=victim.id, victim_ip=victim.ip)
        if cmd == "az" and args.get("action") == "fail":
            cut = [t for t in tasks if t["az"] == args["az"] and t["lastStatus"] != "STOPPED"]
            run.marks.update(zone_tasks=[t["id"] for t in cut], zone_ips=[t["ip"] for t in cut])
        if cmd == "deploy":
            cluster, service = focus_service(w, {})
            svc = w.ecs.describe_services(cluster=cluster, services=[service])["services"][0]
            run.marks["revision"] = str(svc["taskDefinition"]).rsplit("/", 1)[-1]
        outcome = COMMANDS[cmd](live, session, args)
    except (CommandError, AwsError) as e:
        run.phase = "moved"
        run.moved = f"the step's call failed: {e}"
        raise
    if cmd == "send":
        run.trace = outcome.data
    run.world = live.world  # (a reset's fresh world is the tour's own)
    run.t0 = live.world.now
    run.guards = step.holds


async def _ahead(live: LiveWorld, session: Session, run: TourRun) -> bool:
    """Run simulated time until the step's effect is seen (at most `guide.FF_LIMIT` s, and
    not past a change of the world under the tour); whether it was."""
    start = live.world.now
    while session.tour is run and run.phase == "waiting" and live.world is run.world:
        if live.world.now - start >= guide.FF_LIMIT:
            run.note = (
                f"{guide.FF_LIMIT / 60:g} simulated minutes went by and the effect was not "
                f"seen; the world now: {run.detail}"
            )
            break
        await live.advance_sliced(FF_PIECE)
        _refresh(live, session)
    return run.phase == "done"


async def _fast_forward(live: LiveWorld, session: Session, run: TourRun) -> None:
    try:
        await _ahead(live, session, run)
    finally:
        run.busy = None
        _refresh(live, session)


async def _rebuild(live: LiveWorld, session: Session, run: TourRun) -> None:
    """Play the tour again up to the step shown, each step's effect fast-forwarded to (the
    learner's predictions are not asked again), and show the step afresh."""
    target = run.index
    run.quiet = True
    try:
        for i in range(target):
            run.index = i
            _call(live, session, run)
            _refresh(live, session)
            if not await _ahead(live, session, run):
                if run.phase != "moved":
                    run.phase = "moved"
                    run.moved = f"the world could not be rebuilt: step {i + 1} did not happen"
                return
        run.quiet = False
        _enter(live, session, run, target)
    finally:
        run.quiet = False
        run.busy = None
        _refresh(live, session)


def _background(live: LiveWorld, session: Session, run: TourRun, work: str) -> None:
    """Run `work` (fast-forward or rebuild) on the event loop, the command answered at once;
    without a loop (a script, a unit test), run it to its end now."""
    run.busy = work
    job = (
        _fast_forward(live, session, run)
        if work == "fast-forward"
        else _rebuild(live, session, run)
    )
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(job)
        return
    task = loop.create_task(job, name=f"ecsim-tour-{work}")
    session.jobs.add(task)
    task.add_done_callback(session.jobs.discard)


def tour(live: LiveWorld, session: Session, args: Mapping[str, Any]) -> Outcome:
    """A guided tour on the world: `start` (`name`), `answer` (`choice`: the learner's
    prediction, then the step's call), `next` (once the step's effect was seen),
    `fast-forward` (simulated time until it is), `restart`, `rebuild` (the world again up to
    the step shown, after it changed under the tour) and `end`."""
    action = str(args.get("action"))
    run = session.tour
    if action in ("start", "restart"):
        name = _str(args, "name") if action == "start" else (run.tour.name if run else "")
        try:
            chosen = guide.find(name)
        except KeyError:
            names = ", ".join(t.name for t in guide.TOURS)
            raise CommandError(f"Unknown tour {name!r}; the tours are: {names}.") from None
        session.tour = run = TourRun(chosen, live.world)
        _enter(live, session, run, 0)
        return Outcome(f"tour: {chosen.title}")
    if run is None:
        raise CommandError("No tour is being played: pick one and press Start.")
    if action == "end":
        session.tour = None
        return Outcome(f"tour ended: {run.tour.title}", broadcast=False)
    if run.busy:
        raise CommandError(f"The tour is busy ({run.busy}); wait for it to finish.")
    if action == "rebuild":
        if run.phase != "moved":
            raise CommandError("The world is as the tour left it: nothing to rebuild.")
        _background(live, session, run, "rebuild")
        return Outcome(f"rebuilding step {run.index + 1} of the tour", broadcast=False)
    if run.phase == "moved":
        raise CommandError(f"The world changed under the tour ({run.moved}): restart or rebuild.")
    if action == "answer":
        predict = run.step.predict
        if run.phase != "predict" or predict is None:
            raise CommandError("This step asks no prediction now.")
        choice = str(args.get("choice"))
        if choice not in dict(predict.options):
            raise CommandError(f"'choice' must be one of {', '.join(dict(predict.options))}")
        run.prediction = {
            "question": predict.question,
            "options": [list(o) for o in predict.options],
            "choice": choice,
        }
        _call(live, session, run)
        return Outcome(f"predicted: {dict(predict.options)[choice]}", broadcast=False)
    if action == "next":
        if run.phase != "done":
            raise CommandError(f"Not yet: waiting for {run.step.effect} ({run.detail}).")
        if run.last:
            session.tour = None
            return Outcome(f"Tour finished: {run.tour.title}", broadcast=False)
        _enter(live, session, run, run.index + 1)
        return Outcome(f"{run.tour.title}: step {run.index + 1}", broadcast=False)
    if action == "fast-forward":
        if run.phase != "waiting":
            raise CommandError("Nothing to wait for in this step now.")
        if run.step.retry:
            _call(live, session, run)
            return Outcome("sent again", broadcast=False)
        _background(live, session, run, "fast-forward")
        return Outcome(f"fast-forward until {run.step.effect}", broadcast=False)
    raise CommandError(
        "'action' must be start, answer, next, fast-forward, restart, rebuild or end; "
        f"got {action!r}"
    )


def _mmss(t: float) -> str:
    return f"{int(t // 60)}m{int(t % 60):02d}s"


COMMANDS: dict[str, Callable[[LiveWorld, Session, Mapping[str, Any]], Outcome]] = {
    "send": send,
    "rate": rate,
    "kill": kill,
    "fault": fault,
    "scheduler": scheduler,
    "delete_service": delete_service,
    "desired": desired,
    "deploy": deploy,
    "autoscaling": autoscaling,
    "az": az,
    "pause": pause,
    "resume": resume,
    "step": step,
    "speed": speed,
    "reset": reset,
    "explain": explain,
    "scenario": scenario,
    "scenario_next": scenario_next,
    "tour": tour,
}


def run(live: LiveWorld, message: Any, session: Session | None = None) -> Outcome:
    """Run one command message `{"cmd": name, "args": {...}}`; raise CommandError when bad."""
    if not isinstance(message, dict):
        raise CommandError('A command is a JSON object like {"cmd": "send", "args": {}}.')
    cmd = message.get("cmd")
    args = message.get("args", {})
    if args is None:
        args = {}
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        raise CommandError(
            f"Unknown command {cmd!r}; the commands are: {', '.join(sorted(COMMANDS))}."
        )
    if not isinstance(args, dict):
        raise CommandError(f"'args' of {cmd} must be a JSON object, got {type(args).__name__}")
    try:
        return COMMANDS[cmd](live, session or Session(seed=live.seed), args)
    except CommandError:
        raise
    except ParameterError as e:  # a verb's declared limits, in the page's words
        raise CommandError(f"'{e.param}' must be {e.must}, got {e.value!r}") from None
    except AwsError as e:  # the model's own answer, in AWS's words
        raise CommandError(f"{e.code}: {e.message}") from None
    except RefError as e:  # a tour step's reference that finds nothing now
        raise CommandError(f"{cmd}: {e}") from None
    except Exception:  # a bug: logged, not dressed up as the user's mistake
        log.exception("page command %s failed on %r", cmd, args)
        raise InternalCommandError(
            f"{cmd} failed: an internal error of ecsim (the server logged it)."
        ) from None
