"""Guided tours: the seed's scenarios played on the live world one explained step at a time.

Each step says what is about to happen and why, and names the command the page runs when the
learner presses "Next" (the same commands the buttons send). `@task` stands for the first
running task of the service.
"""

from __future__ import annotations

from typing import Any

from ecsim.model.world import World
from ecsim.scenario import ScenarioError, builtin_names, load, operations, refs
from ecsim.scenario.build import build
from ecsim.scenario.runner import Runner, occurrences
from ecsim.scenario.spec import Scenario, Step

TourStep = dict[str, Any]


def _step(title: str, text: str, cmd: str | None = None, **args: Any) -> TourStep:
    step: TourStep = {"title": title, "text": text}
    if cmd is not None:
        step["command"] = {"cmd": cmd, "args": args}
    return step


TOURS: list[dict[str, Any]] = [
    {
        "name": "traffic-flow",
        "title": "Traffic flow: who routes a request",
        "steps": [
            _step(
                "A fresh world",
                "Client → ALB (listener :80) → target group → 3 tasks of home-service. "
                "The reset brings the seed's architecture back, steady.",
                "reset",
            ),
            _step(
                "Send one request",
                "The ALB matches the listener's rule, picks one IP from the target group "
                "(round robin over the healthy targets) and forwards the request straight to "
                "that task. The service is not on the path.",
                "send",
                path="/api",
            ),
            _step(
                "More traffic",
                "50 requests/s: watch the counts per task grow evenly. The target group is "
                "only a registry of IP:port pairs and their health.",
                "rate",
                rps=50,
            ),
        ],
    },
    {
        "name": "auto-healing",
        "title": "Auto-healing: the service replaces a dead task",
        "steps": [
            _step("A fresh world", "Three healthy tasks, the scheduler ACTIVE.", "reset"),
            _step(
                "A task runs out of memory",
                "Its container is OOM-killed (exit code 137). The ALB sees the target fail "
                "its health checks and stops sending to it; requests that hit it before "
                "that get a 502.",
                "kill",
                task="@task",
                how="oom",
            ),
            _step(
                "The Manager heals",
                "Within seconds the scheduler notices: it deregisters the dead target, "
                "starts a replacement (PROVISIONING → PENDING → ACTIVATING → RUNNING) and "
                "registers its new IP. Watch the service events: 'has started 1 tasks'.",
            ),
        ],
    },
    {
        "name": "service-crash",
        "title": "The service crash scenario (and the catch)",
        "steps": [
            _step("A fresh world", "Three healthy tasks, traffic flowing.", "reset"),
            _step(
                "The Manager crashes",
                "The service scheduler's logic fails: LOGIC CRASHED. Nothing on the "
                "request path changes: the ALB talks to the tasks through the target group, "
                "so every request still succeeds.",
                "scheduler",
                action="crash",
            ),
            _step(
                "The catch: a task dies",
                "A task crashes. The ALB marks its target unhealthy and routes around it, "
                "but no replacement starts: the brain is gone, so the body cannot heal.",
                "kill",
                task="@task",
                how="crash",
            ),
            _step(
                "Restore the Manager",
                "The scheduler comes back, deregisters the dead target, starts a new task "
                "and converges to the desired count.",
                "scheduler",
                action="restore",
            ),
        ],
    },
    {
        "name": "delete-service",
        "title": "Deleting the service deletes its tasks",
        "steps": [
            _step("A fresh world", "Three healthy tasks, traffic flowing.", "reset"),
            _step(
                "DeleteService (force)",
                "Unlike a crash, a delete is an order: the service deregisters every task, "
                "waits for draining, then stops them all. When the target group is empty "
                "the ALB answers 503 itself.",
                "delete_service",
            ),
        ],
    },
    {
        "name": "bad-deploy",
        "title": "A bad deploy and the circuit breaker",
        "steps": [
            _step("A fresh world", "Three healthy tasks of home-app:1.", "reset"),
            _step(
                "Deploy a revision that fails health checks",
                "A new deployment starts new tasks next to the old ones (maximumPercent "
                "200). Their targets fail health checks (503), the scheduler replaces them, "
                "and failedTasks grows.",
                "deploy",
                kind="bad-health",
            ),
            _step(
                "The circuit breaker trips",
                "At the threshold the deployment goes FAILED and, with rollback, ECS "
                "starts a deployment back to the last completed revision. The old tasks "
                "served traffic all along.",
            ),
        ],
    },
    {
        "name": "az-outage",
        "title": "An Availability Zone fails",
        "steps": [
            _step("A fresh world", "One task in each of us-east-1a, b and c.", "reset"),
            _step(
                "us-east-1a is cut off",
                "Its task becomes unreachable: requests to it time out (504) until health "
                "checks mark it unhealthy; the scheduler starts a replacement in another AZ.",
                "az",
                az="us-east-1a",
                action="fail",
            ),
            _step(
                "us-east-1a comes back",
                "The survivor is reachable again; the scheduler converges to 3.",
                "az",
                az="us-east-1a",
                action="restore",
            ),
        ],
    },
]


def tours() -> list[dict[str, Any]]:
    return TOURS


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
    """What the page's commands share beyond the world: the scenario being played, and the
    seed of the seed's world (the one a reset rebuilds: the server's `--seed`, or 0 when it
    started from a scenario, whose seed is the scenario's)."""

    def __init__(self, scenario: LiveScenario | None = None, seed: int = 0) -> None:
        self.scenario = scenario
        self.seed = seed
