"""The code stays clean: ruff (lint and format), mypy --strict, and the layer contracts
(`ecsim.sim` and `ecsim.model` import no web, protocol, CLI or plotting library)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ecsim.model import demo

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "src", "tests"),
        ("ruff", "format", "--check", "src"),
        ("mypy", "src"),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_tool_passes(command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_are_kept() -> None:
    """The core imports no adapter library, the layers point down, and inside the model each
    package uses only those below it (pyproject.toml). In a process of its own: import-linter
    configures logging, which would disable the loggers other tests read."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, "
        "no_cache=True, no_logo=True))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the tests' own shape: helpers in tests/support, the demo written once -----------------

TESTS = ROOT / "tests"
# the demo's resources, by the API call that creates each and the parameter that names it
CREATORS = {
    "create_cluster": "clusterName",
    "register_task_definition": "family",
    "create_load_balancer": "Name",
    "create_target_group": "Name",
    "create_service": "serviceName",
}


def python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py"))


def imported_test_modules(source: str) -> list[str]:
    """The test modules (`test_*`) and conftests that `source` imports, anywhere in it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            modules = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        found += [
            f"{node.lineno}: {module}"
            for module in modules[:1]
            if any(
                p.startswith("test_") or p == "conftest"
                for m in modules
                for p in m.lstrip(".").split(".")
            )
        ]
    return found


def demo_restatements(source: str) -> list[tuple[int, str]]:
    """Where `source` creates one of the demo's resources under the demo's own name (its
    cluster, task definition family, load balancer, target group or service: a literal, a
    module constant, or a constant imported from ecsim.model.demo), or uses the demo's image."""
    names = {demo.CLUSTER, demo.FAMILY, demo.LOAD_BALANCER, demo.TARGET_GROUP, demo.SERVICE}
    image = demo.task_definition()["containerDefinitions"][0]["image"]
    tree = ast.parse(source)
    known: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            known.update((t.id, node.value.value) for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and node.module == demo.__name__:
            known.update((a.asname or a.name, getattr(demo, a.name, None)) for a in node.names)

    def value(expr: ast.expr) -> object:
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            return known.get(expr.id)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            return getattr(demo, expr.attr, None) if expr.value.id == "demo" else None
        return None

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            call = node.func.attr
            for kw in node.keywords:
                if call in CREATORS and kw.arg == CREATORS[call] and value(kw.value) in names:
                    found.append((node.lineno, f"{call}({kw.arg}={value(kw.value)!r})"))
        elif isinstance(node, ast.Constant) and node.value == image:
            found.append((node.lineno, f"the demo's image {image}"))
    return found


def test_the_checks_below_catch_what_they_look_for() -> None:
    borrowed = imported_test_modules(RESTATED_AND_BORROWED)
    assert [int(f.split(":")[0]) for f in borrowed] == [3, 4, 5, 6, 7, 8], borrowed
    restated = demo_restatements(RESTATED_AND_BORROWED)
    assert [line for line, _ in restated] == [14, 15, 16, 17, 19], restated
    # and they find the demo itself, as it is written
    found = " ".join(what for _, what in demo_restatements(Path(demo.__file__).read_text()))
    for what in ("create_cluster", "create_load_balancer", "create_target_group"):
        assert what in found, found
    assert "create_service(serviceName='home-service')" in found and "image" in found, found


def test_no_test_module_imports_another() -> None:
    """Shared helpers live in tests/support; pytest finds the fixtures in tests/conftest.py."""
    offenders = {
        str(p.relative_to(ROOT)): found
        for p in python_files(TESTS)
        if (found := imported_test_modules(p.read_text()))
    }
    assert not offenders, offenders


def test_the_demo_is_written_once() -> None:
    """Tests and benchmarks build the demo with World.demo (src/ecsim/model/demo.py), its
    calls with create_demo, variants from it (tests/support/worlds.py): no copy of it."""
    offenders = {
        str(p.relative_to(ROOT)): found
        for p in python_files(TESTS, ROOT / "benchmarks")
        if (found := demo_restatements(p.read_text()))
    }
    assert not offenders, offenders


def test_one_server_fixture_and_one_revision_helper() -> None:
    """Only tests/conftest.py defines the `server` fixture and only tests/support/server.py
    starts uvicorn; only tests/support/worlds.py registers a revision of a described task
    definition (`register_revision`)."""
    servers, revisions = [], []
    for p in python_files(TESTS):
        where = str(p.relative_to(ROOT))
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef):
                calls = {
                    n.func.attr
                    for n in ast.walk(node)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                }
                if node.name == "server" and where != "tests/conftest.py":
                    servers.append(f"{where}:{node.lineno}")
                if {"describe_task_definition", "register_task_definition"} <= calls and (
                    where != "tests/support/worlds.py"
                ):
                    revisions.append(f"{where}:{node.lineno}")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "uvicorn"
                and where != "tests/support/server.py"
            ):
                servers.append(f"{where}:{node.lineno}")
    assert not servers and not revisions, (servers, revisions)


RESTATED_AND_BORROWED = """
from ecsim.model.demo import SERVICE, TARGET_GROUP as TG
from tests.test_alb_behaviour import APP, build
from tests.conftest import service
from test_elbv2_api import make_lb
from tests import test_faults
from . import test_tasks
import tests.test_cloudwatch

NAME = "home-alb"


def build_seed(ecs, elb, vpc):
    ecs.create_cluster(clusterName="home")
    elb.create_load_balancer(Name=NAME, Subnets=[])
    elb.create_target_group(Name=TG, Protocol="HTTP", Port=80, VpcId=vpc)
    ecs.create_service(cluster="home", serviceName=SERVICE, taskDefinition="x")
    ecs.register_task_definition(
        family="other", containerDefinitions=[{"image": "public.ecr.aws/nginx/nginx:latest"}]
    )
"""
