"""ecsim's own verbs are declared once (model/verbs/catalog.py), and every face reads that
declaration: the Python API (`w.chaos`, `w.traffic`), ecsim's JSON API and its OpenAPI
document, the page's commands and the scenario files. A limit changed in one place changes
on every face; every face has the same limits and defaults."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from importlib import resources
from typing import Any

import httpx
import jsonschema
import pytest
from starlette.applications import Starlette

from ecsim.awsapi.native import ENDPOINTS, PREFIX, native_routes, openapi
from ecsim.live.runtime import LiveWorld
from ecsim.model.errors import AwsError, InvalidParameterException, ValidationError
from ecsim.model.verbs import catalog
from ecsim.model.verbs.chaos import Chaos
from ecsim.model.verbs.spec import NUMERIC, Param, ParameterError, Verb, check
from ecsim.model.verbs.traffic import Traffic
from ecsim.model.world import World
from ecsim.scenario import ScenarioError, load_text, operations
from ecsim.scenario.validate import generated, schema
from ecsim.web import commands
from tests.support.scenarios import demo_scenario

SCENARIO = demo_scenario(
    "limits",
    """traffic:
  - rate: 10
timeline:
  - at: 1m
    do: chaos.stress_cpu
    with: {task: "${task:home-service}", percent: 100}
""",
)
RATE_LINE = SCENARIO.splitlines().index("  - rate: 10") + 1
STEP_LINE = RATE_LINE + 4  # the line of the step's `with:`

# The page's name of each FIS fault verb.
PAGE_FAULTS = {verb.name: action for action, verb in commands.FAULTS.items()}


def _live() -> LiveWorld:
    return LiveWorld(lambda seed: World.demo(seed=seed), seed=0)


def _task(live: LiveWorld, i: int = 0) -> str:
    arn: str = sorted(live.world.ecs.list_tasks(cluster="home")["taskArns"])[i]
    return arn


def _endpoint(verb: Verb, method: str = "POST") -> Any:
    return next(e for e in ENDPOINTS if e.verb is verb and e.method == method)


def _openapi_schema(verb: Verb) -> dict[str, Any]:
    e = _endpoint(verb)
    op = openapi()["paths"][PREFIX + e.path]["post"]
    body: dict[str, Any] = op["requestBody"]["content"]["application/json"]["schema"]
    return body


def _post(live: LiveWorld, path: str, body: dict[str, Any]) -> httpx.Response:
    """A request to ecsim's JSON API, served in process (routes built now, from the catalog
    as it is now)."""

    async def send() -> httpx.Response:
        app = Starlette(routes=native_routes(live))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ecsim") as client:
            return await client.post(PREFIX + path, json=body)

    return asyncio.run(send())


def _scenario(do: str, args: str = "") -> str:
    """SCENARIO with a step that calls `do` on a task of the service, with `args` more."""
    more = f", {args}" if args else ""
    return SCENARIO.replace("do: chaos.stress_cpu", f"do: {do}").replace(
        'with: {task: "${task:home-service}", percent: 100}',
        f'with: {{task: "${{task:home-service}}"{more}}}',
    )


def _page_fault(live: LiveWorld, verb: Verb, **args: Any) -> commands.Outcome:
    return commands.run(
        live,
        {"cmd": "fault", "args": {"task": _task(live), "action": PAGE_FAULTS[verb.name], **args}},
    )


# --- one limit, changed in one place, changes on every face --------------------------------


def test_one_limit_changed_in_the_catalog_changes_on_every_face(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    percent = catalog.STRESS_CPU.param("percent")
    assert percent.hi == 100
    monkeypatch.setattr(percent, "hi", 50)

    # the Python API
    live = _live()
    w = live.world
    with pytest.raises(InvalidParameterException) as refused:
        w.chaos.stress_cpu(_task(live), percent=60)
    assert refused.value.message == "percent must be above 0 and at most 50 %, got 60"
    assert not w.events(kind="TaskFaultChanged")
    w.chaos.stress_cpu(_task(live), percent=50)
    assert w.chaos.task(_task(live)).cpu_stress == 50

    # ecsim's JSON API: its OpenAPI document, and the requests it takes
    assert _openapi_schema(catalog.STRESS_CPU)["properties"]["percent"]["maximum"] == 50
    r = _post(live, "/chaos/stress-cpu", {"task": _task(live, 1), "percent": 60})
    assert r.status_code == 400, r.text
    assert r.json() == {
        "code": "ValidationError",
        "message": "percent: 60 is greater than the maximum of 50",
    }
    assert _post(live, "/chaos/stress-cpu", {"task": _task(live, 1), "percent": 50}).is_success

    # the page's command
    with pytest.raises(commands.CommandError) as said:
        _page_fault(live, catalog.STRESS_CPU, percent=60)
    assert str(said.value) == "'percent' must be above 0 and at most 50 %, got 60"
    assert _page_fault(live, catalog.STRESS_CPU, percent=50).message.endswith(": 50 % CPU for 2m")

    # a scenario file: refused where it says so
    with pytest.raises(ScenarioError) as located:
        load_text(_scenario("chaos.stress_cpu", "percent: 60"), "limits.yaml")
    assert str(located.value) == (
        f"limits.yaml:{STEP_LINE}: timeline[0].with.percent: chaos.stress_cpu: percent must be "
        "above 0 and at most 50 %; got 60"
    )
    assert load_text(_scenario("chaos.stress_cpu", "percent: 50"), "limits.yaml").steps


def test_the_rate_limit_changed_in_the_catalog_changes_on_every_face(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rps = catalog.SET_RATE.param("rps")
    assert rps.hi == catalog.MAX_RATE == 20_000
    monkeypatch.setattr(rps, "hi", 500)
    live = _live()
    with pytest.raises(ValidationError) as refused:
        live.world.traffic.set_rate(600)
    assert refused.value.message == "rps must be between 0 and 500 requests/s, got 600"
    live.world.traffic.set_rate(500)
    assert _openapi_schema(catalog.SET_RATE)["properties"]["rps"]["maximum"] == 500
    assert _post(live, "/traffic/rate", {"rps": 600}).status_code == 400
    with pytest.raises(commands.CommandError) as said:
        commands.run(live, {"cmd": "rate", "args": {"rps": 600}})
    assert str(said.value) == "'rps' must be between 0 and 500 requests/s, got 600"
    # the scenario schema's `traffic: rate`, generated from the declaration
    assert schema()["$defs"]["traffic"]["properties"]["rate"]["maximum"] == 500
    with pytest.raises(ScenarioError) as located:
        load_text(SCENARIO.replace("rate: 10", "rate: 600"), "limits.yaml")
    assert str(located.value) == (
        f"limits.yaml:{RATE_LINE}: traffic[0].rate: expected a number <= 500; got 600"
    )
    step = SCENARIO.replace("do: chaos.stress_cpu", "do: traffic.set_rate").replace(
        'with: {task: "${task:home-service}", percent: 100}', "with: {rps: 600}"
    )
    with pytest.raises(ScenarioError) as located:
        load_text(step, "limits.yaml")
    assert str(located.value) == (
        f"limits.yaml:{STEP_LINE}: timeline[0].with.rps: traffic.set_rate: rps must be between 0 "
        "and 500 requests/s; got 600"
    )


# --- every face has the same limits and defaults --------------------------------------------


def _edges(p: Param) -> tuple[list[float], list[float]]:
    """Values just inside and just outside a numeric parameter's limits."""
    assert p.lo is not None and p.hi is not None
    step = 1 if p.kind == "integer" else min(0.001, (p.hi - p.lo) / 10)
    inside = [p.lo + step if p.lo_open else p.lo, p.hi - step if p.hi_open else p.hi]
    outside = [p.lo if p.lo_open else p.lo - step, p.hi if p.hi_open else p.hi + step]
    return inside, outside


FAULT_PARAMS = [
    pytest.param(verb, p, id=f"{verb.name}.{p.name}")
    for verb in catalog.FIS_FAULTS
    for p in verb.params
    if p.kind in NUMERIC
]


@pytest.mark.parametrize(("verb", "param"), FAULT_PARAMS)
def test_each_fault_parameter_has_the_same_limits_on_every_face(verb: Verb, param: Param) -> None:
    native = jsonschema.Draft202012Validator(_endpoint(verb).schema)
    assert _openapi_schema(verb)["properties"][param.name] == param.schema()
    inside, outside = _edges(param)
    for value in inside + outside:
        ok = value in inside
        live = _live()
        w = live.world
        # the Python API
        try:
            getattr(w.chaos, verb.name)(_task(live), **{param.name: value})
        except InvalidParameterException as e:
            assert not ok, (value, e)
            assert e.message.startswith(f"{param.name} must be {param.must()}")
        else:
            assert ok, value
        # the JSON API's request schema
        assert native.is_valid({"task": "t", param.name: value}) is ok, value
        # the page
        try:
            _page_fault(live, verb, **{param.name: value})
        except commands.CommandError as e:
            assert not ok, (value, e)
            assert str(e) == f"'{param.name}' must be {param.must()}, got {value!r}"
        else:
            assert ok, value
        # a scenario step
        text = _scenario(verb.do, f"{param.name}: {value}")
        try:
            load_text(text, "limits.yaml")
        except ScenarioError as e:
            assert not ok, (value, e)
            assert e.line == STEP_LINE and e.field == f"timeline[0].with.{param.name}"
        else:
            assert ok, value


@pytest.mark.parametrize("verb", catalog.FIS_FAULTS, ids=lambda v: v.name)
def test_each_fault_parameter_has_the_same_default_on_every_face(verb: Verb) -> None:
    # the Python API: a parameter left out takes the declared default
    live = _live()
    w = live.world
    getattr(w.chaos, verb.name)(_task(live))
    (started,) = w.events(kind="TaskFaultChanged")
    assert started.duration == verb.param("duration").default == 300
    # the JSON API documents the same defaults, and answers with the declared duration
    documented = _openapi_schema(verb)["properties"]
    for p in verb.params:
        assert documented[p.name].get("default") == p.default
    r = _post(live, f"/chaos/{verb.name.replace('_', '-')}", {"task": _task(live, 1)})
    assert r.json()["endsAt"] == pytest.approx(w.now + 300)
    # the page: the same defaults, but for the duration it asks for (2 minutes)
    page = _live()
    _page_fault(page, verb)
    (from_page,) = page.world.events(kind="TaskFaultChanged")
    assert from_page.duration == commands.FAULT_DURATION == 120
    assert from_page.detail == started.detail
    # a scenario step without the parameters calls the Python API without them
    (step,) = load_text(_scenario(verb.do), "f.yaml").steps[1:]
    assert step.args == {"task": "${task:home-service}"}


def test_the_model_defaults_are_the_ones_it_always_had() -> None:
    """Golden scenario outputs depend on them."""
    defaults = {v.name: v.defaults() for v in catalog.FIS_FAULTS}
    assert defaults == {
        "stress_cpu": {"percent": 100.0, "duration": 300.0},
        "blackhole_port": {"port": None, "duration": 300.0},
        "delay_network": {"delay": 0.2, "duration": 300.0},
        "lose_packets": {"percent": 7.0, "duration": 300.0},
    }
    assert catalog.DURATION.hi == 12 * 3600  # AWS FIS: at most 12 hours


# --- the declarations match the code ------------------------------------------------------


@pytest.mark.parametrize("verb", [v for v in catalog.VERBS if v.surface in ("chaos", "traffic")])
def test_each_chaos_and_traffic_verb_is_a_method_with_the_declared_parameters(verb: Verb) -> None:
    cls = {"chaos": Chaos, "traffic": Traffic}[verb.surface]
    sig = inspect.signature(getattr(cls, verb.name))
    names = [n for n in sig.parameters if n != "self"]
    assert names == list(verb.names)
    for p in verb.params:  # a default in the signature only means "not given"
        assert (sig.parameters[p.name].default is inspect.Parameter.empty) is p.required
        if not p.required:
            assert sig.parameters[p.name].default is None
    assert operations.parameters(verb.do) == list(verb.names)
    assert operations.required_parameters(verb.do) == list(verb.required)


def test_every_verb_has_an_endpoint_and_every_default_passes_its_own_check() -> None:
    assert {e.verb for e in ENDPOINTS if e.verb is not None} == set(catalog.VERBS)
    for verb in catalog.VERBS:
        given = {p.name: "x" for p in verb.params if p.required and p.kind in ("task", "string")}
        given |= {p.name: True for p in verb.params if p.required and p.kind == "bool"}
        given |= {p.name: p.lo for p in verb.params if p.required and p.kind in NUMERIC}
        if verb is catalog.SPEED:
            given["speed"] = 1
        assert check(verb, given) == {**verb.defaults(), **given}


def test_scenario_faults_and_durations_come_from_the_catalog() -> None:
    assert {v.do for v in catalog.VERBS if v.fault} <= operations.FAULTS
    assert operations.DURATIONS["chaos.delay_network"] == ("delay", "duration")
    assert {d for d in operations.DURATIONS if d.startswith("chaos.")} == {
        v.do for v in catalog.FIS_FAULTS
    }


def test_schema_json_holds_the_generated_parts() -> None:
    """Editors read schema.json itself: its copy of the generated parts is the catalog's."""
    text = resources.files("ecsim.scenario").joinpath("schema.json").read_text("utf-8")
    on_file = json.loads(text)
    for where, part in generated().items():
        node = on_file
        for key in where:
            node = node[key]
        assert node == part, where


def test_a_refused_parameter_is_the_verbs_own_aws_error_and_a_value_error() -> None:
    live = _live()
    with pytest.raises(ParameterError) as e:
        live.world.chaos.lose_packets(_task(live), percent=100)
    assert isinstance(e.value, InvalidParameterException) and isinstance(e.value, ValueError)
    assert (e.value.code, e.value.status, e.value.param) == (
        "InvalidParameterException",
        400,
        "percent",
    )
    assert e.value.message == (
        "percent must be above 0 and below 100 % (100 % is a blackhole), got 100"
    )
    with pytest.raises(ValidationError) as speed:
        live.set_speed(7200)
    assert speed.value.message == "speed must be above 0 and at most 3600, got 7200"
    with pytest.raises(AwsError) as unknown:
        check(catalog.KILL_TASK, {"task": "t", "signal": 9})
    assert unknown.value.message == "kill_task has no parameter 'signal'; expected: task, reason"


# --- the page: bugs are not the user's mistakes --------------------------------------------


@pytest.mark.parametrize("bug", [TypeError("f() got an unexpected keyword"), KeyError("arn")])
def test_a_bug_in_a_page_command_is_logged_and_reported_as_an_internal_error(
    bug: Exception, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any) -> commands.Outcome:
        raise bug

    monkeypatch.setitem(commands.COMMANDS, "send", broken)
    with (
        caplog.at_level(logging.ERROR, logger="ecsim.web.commands"),
        pytest.raises(commands.InternalCommandError) as e,
    ):
        commands.run(_live(), {"cmd": "send", "args": {}})
    assert str(e.value) == "send failed: an internal error of ecsim (the server logged it)."
    assert str(bug) not in str(e.value)
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[1] is bug
