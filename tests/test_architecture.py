"""The shape of the model (docs/architecture.md), checked on the source itself:

- `World` is the composition root only: no module under `ecsim/model/` imports `world.py`;
- the data plane is flushed only by its owners (the data plane itself, the ELBv2 side's
  routing-change interface, the world's clock, and Application Auto Scaling's minute tick,
  which reads complete metrics); nobody else settles requests by hand;
- the service scheduler is poked only by the ECS backend (never by a facade, a verb or
  another service);
- a facade (`*/api.py`) writes no ECS or ELBv2 state: the backends are the one writer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parent.parent / "src" / "ecsim" / "model"
SRC = MODEL.parent

# who may call `.flush(` (the data plane's "evaluate every request up to now")
FLUSHERS = {
    "model/dataplane/engine.py",  # its own reads and the observer methods
    "model/world.py",  # the clock: `advance` ends with every request up to then settled
    "model/autoscaling/scaler.py",  # the minute's metrics are complete before they are read
}
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


def _calls(tree: ast.Module, name: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
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
        for line in _calls(tree, "flush")
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
