"""The shape of the model (docs/architecture.md), checked on the source itself:

- `World` is the composition root only: no module under `ecsim/model/` imports `world.py`;
- the data plane is flushed only by its owners (the data plane itself, the ELBv2 side's
  routing-change interface, the world's clock, and the minute ticks of Application Auto
  Scaling and of CloudWatch's alarms, which read complete metrics); nobody else settles
  requests by hand;
- the service scheduler is poked only by the ECS backend (never by a facade, a verb or
  another service);
- a facade (`*/api.py`) writes no ECS or ELBv2 state: the backends are the one writer.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from ecsim.model.aws.ids import DEFAULT_EPOCH
from ecsim.model.context import SimContext
from ecsim.model.elbv2.backend import ElbBackend
from ecsim.model.elbv2.endpoints import Endpoints
from ecsim.model.elbv2.health import ProbeResult, passed
from ecsim.model.elbv2.resources import HealthCheck, Listener, LoadBalancer, Rule, TargetGroup

MODEL = Path(__file__).resolve().parent.parent / "src" / "ecsim" / "model"
SRC = MODEL.parent

# who may call `.flush(` (the data plane's "evaluate every request up to now")
FLUSHERS = {
    "model/dataplane/engine.py",  # its own reads and the observer methods
    "model/world.py",  # the clock: `advance` ends with every request up to then settled
    "model/autoscaling/scaler.py",  # the minute's metrics are complete before they are read
    "model/cloudwatch/alarms.py",  # likewise, before the alarms evaluate the minute
}
# `.flush(` calls that are not the data plane's: (module, receiver) (a zlib compressor)
OTHER_FLUSHES = {("model/dataplane/stats.py", "packer")}
# who may announce a routing change (`Endpoints.will_change` / `.change()`)
ANNOUNCERS_OF_ROUTING = {"model/elbv2/", "model/ecs/"}
# who may poke the scheduler: the ECS backend's modules, not its facade
POKERS = "model/ecs/"
# a facade's collaborators that hold state: it may read them, never write them
BACKENDS = {"backend", "elb", "scaler", "net", "instances", "zones", "endpoints"}


def _sources() -> list[tuple[str, ast.Module]]:
    return [
        (str(p.relative_to(SRC)), ast.parse(p.read_text(), str(p)))
        for p in sorted(SRC.rglob("*.py"))
    ]


def _calls(tree: ast.Module, name: str, besides: frozenset[str] = frozenset()) -> list[int]:
    """Lines calling a method `name`, but on a variable named in `besides`."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id in besides)
    ]


def test_no_model_module_imports_the_world() -> None:
    offenders = []
    for path, tree in _sources():
        if not path.startswith("model/") or path == "model/world.py":
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "ecsim.model.world" for n in names):
                offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


def test_only_the_data_planes_owners_flush_it() -> None:
    offenders = [
        f"{path}:{line}"
        for path, tree in _sources()
        if path not in FLUSHERS
        for line in _calls(
            tree, "flush", frozenset(r for where, r in OTHER_FLUSHES if where == path)
        )
    ]
    assert offenders == []


def test_routing_changes_are_announced_only_by_backends() -> None:
    offenders = [
        f"{path}:{line}"
        for path, tree in _sources()
        if not (
            any(path.startswith(p) for p in ANNOUNCERS_OF_ROUTING) and not path.endswith("api.py")
        )
        for name in ("will_change", "change", "routing_will_change")
        for line in _calls(tree, name)
    ]
    assert offenders == []


def test_only_the_ecs_backend_pokes_the_scheduler() -> None:
    offenders = [
        f"{path}:{line}"
        for path, tree in _sources()
        if not path.startswith(POKERS) or path == "model/ecs/api.py"
        for line in _calls(tree, "poke")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "facade",
    ["model/ecs/api.py", "model/elbv2/api.py", "model/ec2/api.py", "model/autoscaling/api.py"],
)
def test_facades_write_no_backend_state(facade: str) -> None:
    """No assignment to a field of a service, deployment, task, cluster, load balancer,
    listener, rule or target group, and no `del` / `.append` / `.clear` on their collections:
    the facade parses, calls the backend and shapes the answer."""
    tree = ast.parse((SRC / facade).read_text())
    state = {
        "svc",
        "service",
        "d",
        "task",
        "t",
        "cluster",
        "td",
        "lb",
        "listener",
        "rule",
        "tg",
        "target",
        "policy",
    }
    offenders = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        written = [t for t in targets if isinstance(t, ast.Attribute | ast.Subscript)]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "clear", "remove", "pop", "update", "setdefault")
        ):
            written.append(node.func.value)
        offenders += [f"{facade}:{node.lineno}" for t in written if _is_state(t, state)]
    assert offenders == []


def _is_state(expr: ast.expr, names: set[str]) -> bool:
    """`expr` reaches into a resource (`svc.x`, `tg.targets[k]`) or into a backend's
    collections (`self.backend.clusters[k]`, `self.scaler.targets`)."""
    chain: list[str] = []
    while isinstance(expr, ast.Attribute | ast.Subscript):
        if isinstance(expr, ast.Attribute):
            chain.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return False
    if expr.id in names:
        return True
    return expr.id == "self" and len(chain) >= 2 and chain[-1] in BACKENDS


# --- a component built alone ---------------------------------------------------------------


class _Recorder:
    """A `RoutingObserver` that notes what it is told, and what the group looked like then."""

    def __init__(self, tg: TargetGroup) -> None:
        self.tg = tg
        self.calls: list[tuple[str, Any]] = []

    def routing_will_change(self) -> None:
        self.calls.append(("will_change", sorted(t.state.value for t in self.tg.targets.values())))

    def endpoint_failed(self, ip: str) -> None:
        self.calls.append(("failed", ip))

    def endpoint_unreachable(self, ip: str) -> None:
        self.calls.append(("unreachable", ip))

    def target_drained(self, tg_arn: str, ip: str, port: int) -> None:
        self.calls.append(("drained", (ip, port)))


class _Answering:
    def probe(self, now: float, port: int, path: str, timeout: float, matcher: str) -> ProbeResult:
        return passed(0.005)


def test_the_elbv2_backend_is_built_alone_and_announces_each_routing_change_first() -> None:
    """No World: a context, the endpoints and the backend. The observer hears of a routing
    change before it is made (it still sees the old states), registration to drain."""
    ctx = SimContext.create(0, "us-east-1", None, DEFAULT_EPOCH)
    endpoints: Endpoints[Any] = Endpoints()
    elb = ElbBackend(ctx, endpoints)
    tg = TargetGroup("arn:tg", "tg", "HTTP", 80, "vpc-1", "ip", HealthCheck(interval=5))
    seen = _Recorder(tg)
    endpoints.observe(seen)
    lb = LoadBalancer(
        "arn:lb", "lb", "lb.example", "internet-facing", "vpc-1", [], [("az-a", "s")], [], 0.0
    )
    elb.add_target_group(tg, {})
    elb.add_load_balancer(lb, [], {}, provisioning=1.0)
    endpoints.attach("10.0.0.5", _Answering())
    rule = Rule(
        "arn:rule", "arn:listener", None, [], [{"Type": "forward", "TargetGroupArn": "arn:tg"}]
    )
    elb.add_listener(lb, Listener("arn:listener", "arn:lb", 80, "HTTP", rule))
    assert seen.calls and all(call == ("will_change", []) for call in seen.calls)

    seen.calls.clear()
    elb.register_targets(tg, [("10.0.0.5", 80, "az-a")])
    assert seen.calls[0] == ("will_change", [])  # before the target exists
    ctx.kernel.run_until(60.0)
    assert [t.state.value for t in tg.targets.values()] == ["healthy"]
    assert ("will_change", ["initial"]) in seen.calls  # told before it turned healthy

    seen.calls.clear()
    elb.deregister_targets(tg, [("10.0.0.5", 80)])
    assert seen.calls[0] == ("will_change", ["healthy"])
    ctx.kernel.run_until(60.0 + tg.deregistration_delay + 1)
    assert ("drained", ("10.0.0.5", 80)) in seen.calls
    assert tg.targets == {}
