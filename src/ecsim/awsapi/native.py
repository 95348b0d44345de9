"""ecsim's own JSON API, for what AWS has no API for: chaos, traffic and time control.

Every endpoint lives under `/ecsim/api/` and is described once, in `ENDPOINTS`: the same
record routes the request, validates its JSON body or query string (JSON Schema) and writes
the OpenAPI document served at `/ecsim/openapi.json`. Each one ends in the same call a scenario
step or a button in the page makes (`w.chaos`, `w.traffic`, the live world's clock), run on
the live world's event loop between two slices.

Errors are JSON `{"code": ..., "message": ...}`: the model's AWS codes with their statuses,
`ValidationError` (400) for a bad body, `InternalError` (500) for a bug, logged.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ecsim import __version__
from ecsim.live.runtime import LiveWorld
from ecsim.model.errors import AwsError
from ecsim.model.verbs import faults
from ecsim.model.verbs.chaos import Chaos

log = logging.getLogger("ecsim.awsapi.native")

PREFIX = "/ecsim/api"
OPENAPI_PATH = "/ecsim/openapi.json"
EVENTS_LIMIT = 1000

Handler = Callable[[LiveWorld, dict[str, Any]], Any]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: where it is, what it takes, what it does."""

    method: str
    path: str  # below PREFIX
    operation_id: str
    summary: str
    handler: Handler
    tag: str
    properties: dict[str, Any] = field(default_factory=dict)  # of the body or query
    required: tuple[str, ...] = ()
    answer: str = "Ok"  # the schema of the answer, in SCHEMAS
    description: str = ""

    @property
    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": self.properties,
            "required": list(self.required),
            "additionalProperties": False,
        }


# --- handlers -----------------------------------------------------------------------------


def _ok(live: LiveWorld) -> dict[str, Any]:
    return {"ok": True, "now": live.world.now}


def _status(live: LiveWorld, _: dict[str, Any]) -> Any:
    return live.status()


def _pause(live: LiveWorld, _: dict[str, Any]) -> Any:
    live.pause()
    return live.status()


def _resume(live: LiveWorld, _: dict[str, Any]) -> Any:
    live.resume()
    return live.status()


def _speed(live: LiveWorld, args: dict[str, Any]) -> Any:
    live.set_speed(float(args["speed"]))
    return live.status()


def _advance(live: LiveWorld, args: dict[str, Any]) -> Any:
    live.advance(float(args["seconds"]))
    return live.status()


def _reset(live: LiveWorld, args: dict[str, Any]) -> Any:
    live.reset(seed=args.get("seed"))
    return live.status()


def _chaos(verb: str, *names: str) -> Handler:
    def handler(live: LiveWorld, args: dict[str, Any]) -> Any:
        getattr(live.world.chaos, verb)(**{n: args[n] for n in names if n in args})
        return _ok(live)

    handler.__name__ = verb
    return handler


def _fault(verb: str, *names: str) -> Handler:
    """A FIS task fault: the call of `w.chaos`, answered with the fault's end (the duration
    given, or the model's default)."""
    default = inspect.signature(getattr(Chaos, verb)).parameters["duration"].default

    def handler(live: LiveWorld, args: dict[str, Any]) -> Any:
        w = live.world
        task = w.chaos.task(args["task"])
        params = {n: args[n] for n in names if n in args}
        getattr(w.chaos, verb)(task.arn, **params)
        return {
            **_ok(live),
            "task": task.arn,
            "action": FIS_ACTIONS[verb],
            "endsAt": w.now + float(args.get("duration", default)),
        }

    handler.__name__ = verb
    return handler


def _get_rate(live: LiveWorld, args: dict[str, Any]) -> Any:
    lb = args.get("loadBalancer")
    return {"rps": live.world.traffic.rate(lb), "loadBalancer": lb, "now": live.world.now}


def _set_rate(live: LiveWorld, args: dict[str, Any]) -> Any:
    live.world.traffic.set_rate(
        args["rps"], args.get("loadBalancer"), args.get("paths"), args.get("port")
    )
    return _ok(live)


def _send(live: LiveWorld, args: dict[str, Any]) -> Any:
    return live.world.traffic.send(
        args.get("path", "/"), args.get("host"), args.get("loadBalancer"), args.get("port")
    )


def _stats(live: LiveWorld, args: dict[str, Any]) -> Any:
    out = live.world.traffic.stats(args.get("since"), args.get("until"), args.get("loadBalancer"))
    return {"now": live.world.now, **out}


def _events(live: LiveWorld, args: dict[str, Any]) -> Any:
    events = live.world.events(since=args.get("since"), kind=args.get("kind"))
    limit = int(args.get("limit", EVENTS_LIMIT))
    return {
        "now": live.world.now,
        "total": len(events),
        "events": [e.to_dict() for e in events[-limit:]] if limit else [],
    }


# --- the endpoints ------------------------------------------------------------------------

_TASK = {"type": "string", "description": "Task ID, ARN or IP address."}
_CLUSTER = {"type": "string", "description": "Cluster name or ARN."}
_SERVICE = {"type": "string", "description": "Service name or ARN; omitted: every service."}
_LB = {"type": "string", "description": "Load balancer name, ARN or DNS name; default: first."}
_AZ = {"type": "string", "description": "Availability Zone name, e.g. us-east-1a."}
_SECONDS = {"type": "number", "description": "Simulated seconds since the world began."}
# FIS's own limits: a fault lasts at most 12 hours (model/verbs/faults.py checks them too).
_DURATION = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 12 * 3600,
    "default": 300,
    "description": "Simulated seconds the fault lasts (FIS's duration); it ends by itself.",
}
FIS_ACTIONS = {
    "stress_cpu": faults.CPU_STRESS,
    "blackhole_port": faults.BLACKHOLE_PORT,
    "delay_network": faults.NETWORK_LATENCY,
    "lose_packets": faults.PACKET_LOSS,
}


def _controller(verb: str, summary: str) -> Endpoint:
    return Endpoint(
        "POST",
        f"/chaos/{verb.replace('_', '-')}",
        _camel(verb),
        summary,
        _chaos(verb, "cluster", "service"),
        "chaos",
        {"cluster": _CLUSTER, "service": _SERVICE},
        ("cluster",),
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/status",
        "getStatus",
        "The clock: now, speed, paused, seed.",
        _status,
        "time",
        answer="Status",
    ),
    Endpoint(
        "POST", "/time/pause", "pause", "Stop simulated time.", _pause, "time", answer="Status"
    ),
    Endpoint(
        "POST",
        "/time/resume",
        "resume",
        "Let simulated time run again.",
        _resume,
        "time",
        answer="Status",
    ),
    Endpoint(
        "POST",
        "/time/speed",
        "setSpeed",
        "Simulated seconds per wall second.",
        _speed,
        "time",
        {"speed": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600}},
        ("speed",),
        answer="Status",
    ),
    Endpoint(
        "POST",
        "/time/advance",
        "advance",
        "Run N simulated seconds at once (paused or not).",
        _advance,
        "time",
        {"seconds": {"type": "number", "minimum": 0, "maximum": 86400}},
        ("seconds",),
        answer="Status",
    ),
    Endpoint(
        "POST",
        "/reset",
        "reset",
        "A fresh world (same seed unless given).",
        _reset,
        "time",
        {"seed": {"type": "integer"}},
        answer="Status",
    ),
    Endpoint(
        "POST",
        "/chaos/kill-task",
        "killTask",
        "The task's essential container exits: code 1 (crash) or 137, OutOfMemoryError (oom).",
        _chaos("kill_task", "task", "reason"),
        "chaos",
        {"task": _TASK, "reason": {"type": "string", "enum": ["crash", "oom"], "default": "crash"}},
        ("task",),
    ),
    Endpoint(
        "POST",
        "/chaos/set-app-health",
        "setAppHealth",
        "The task's app starts (true) or stops (false) passing its health checks.",
        _chaos("set_app_health", "task", "healthy"),
        "chaos",
        {"task": _TASK, "healthy": {"type": "boolean"}},
        ("task", "healthy"),
    ),
    _controller("crash_controller", "The service scheduler crashes: nothing heals."),
    _controller("hang_controller", "The service scheduler hangs: alive, no progress."),
    _controller("restore_controller", "The service scheduler comes back and converges."),
    Endpoint(
        "POST",
        "/chaos/fail-instance",
        "failInstance",
        "An EC2 instance (ID or container-instance ARN) is terminated; its tasks stop.",
        _chaos("fail_instance", "instance"),
        "chaos",
        {"instance": {"type": "string"}},
        ("instance",),
    ),
    Endpoint(
        "POST",
        "/chaos/drain-instance",
        "drainInstance",
        "The container instance of an EC2 instance (ID or container-instance ARN) is set to "
        "DRAINING (AWS FIS aws:ecs:drain-container-instances).",
        _chaos("drain_instance", "instance"),
        "chaos",
        {"instance": {"type": "string"}},
        ("instance",),
    ),
    Endpoint(
        "POST",
        "/chaos/fail-az",
        "failAz",
        "An Availability Zone is cut off: its tasks and instances become unreachable.",
        _chaos("fail_az", "az"),
        "chaos",
        {"az": _AZ},
        ("az",),
    ),
    Endpoint(
        "POST",
        "/chaos/restore-az",
        "restoreAz",
        "An Availability Zone comes back.",
        _chaos("restore_az", "az"),
        "chaos",
        {"az": _AZ},
        ("az",),
    ),
    Endpoint(
        "POST",
        "/chaos/stress-cpu",
        "stressCpu",
        "AWS FIS aws:ecs:task-cpu-stress: a stressor takes `percent` of the task's CPU for "
        "`duration` seconds (the app keeps half of what it takes, so it queues sooner).",
        _fault("stress_cpu", "percent", "duration"),
        "chaos",
        {
            "task": _TASK,
            "percent": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 100,
                "default": 100,
                "description": "Share of the task's CPU the stressor takes.",
            },
            "duration": _DURATION,
        },
        ("task",),
        answer="Fault",
    ),
    Endpoint(
        "POST",
        "/chaos/blackhole-port",
        "blackholePort",
        "AWS FIS aws:ecs:task-network-blackhole-port: inbound TCP to the port is dropped for "
        "`duration` seconds (the ALB's connections and health checks time out).",
        _fault("blackhole_port", "port", "duration"),
        "chaos",
        {
            "task": _TASK,
            "port": {
                "type": "integer",
                "minimum": 1,
                "maximum": 65535,
                "description": "TCP port; default: the container's port.",
            },
            "duration": _DURATION,
        },
        ("task",),
        answer="Fault",
    ),
    Endpoint(
        "POST",
        "/chaos/delay-network",
        "delayNetwork",
        "AWS FIS aws:ecs:task-network-latency: every answer of the task (to the ALB's requests "
        "and health checks) takes `delay` seconds more for `duration` seconds.",
        _fault("delay_network", "delay", "duration"),
        "chaos",
        {
            "task": _TASK,
            "delay": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 60,
                "default": 0.2,
                "description": "Seconds added to every answer (FIS's delayMilliseconds / 1000).",
            },
            "duration": _DURATION,
        },
        ("task",),
        answer="Fault",
    ),
    Endpoint(
        "POST",
        "/chaos/lose-packets",
        "losePackets",
        "AWS FIS aws:ecs:task-network-packet-loss: `percent` of the task's packets are lost for "
        "`duration` seconds; a lost answer is sent again after TCP's retransmission timeout.",
        _fault("lose_packets", "percent", "duration"),
        "chaos",
        {
            "task": _TASK,
            "percent": {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 100,
                "default": 7,
                "description": "Share of the task's packets lost (FIS's lossPercent).",
            },
            "duration": _DURATION,
        },
        ("task",),
        answer="Fault",
    ),
    Endpoint(
        "GET",
        "/traffic/rate",
        "getRate",
        "The steady client load on a load balancer.",
        _get_rate,
        "traffic",
        {"loadBalancer": _LB},
        answer="Rate",
    ),
    Endpoint(
        "POST",
        "/traffic/rate",
        "setRate",
        "A steady client load of `rps` requests per second (Poisson arrivals).",
        _set_rate,
        "traffic",
        {
            "rps": {"type": "number", "minimum": 0},
            "loadBalancer": _LB,
            "port": {"type": "integer", "description": "Listener port; default: the first."},
            "paths": {
                "type": "array",
                "description": "Request kinds: paths, or {path, host, weight}.",
                "items": {
                    "oneOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "properties": {
                                "path": {"type": "string"},
                                "host": {"type": "string"},
                                "weight": {"type": "number", "exclusiveMinimum": 0},
                            },
                            "additionalProperties": False,
                        },
                    ]
                },
            },
        },
        ("rps",),
    ),
    Endpoint(
        "POST",
        "/traffic/send",
        "sendRequest",
        "One request, now, through the simulated ALB, answered with its hop-by-hop trace.",
        _send,
        "traffic",
        {
            "path": {"type": "string", "default": "/"},
            "host": {"type": "string"},
            "loadBalancer": _LB,
            "port": {"type": "integer"},
        },
        answer="Trace",
    ),
    Endpoint(
        "GET",
        "/traffic/stats",
        "getStats",
        "What the clients got over [since, until) of simulated time.",
        _stats,
        "traffic",
        {"since": _SECONDS, "until": _SECONDS, "loadBalancer": _LB},
        answer="Stats",
    ),
    Endpoint(
        "GET",
        "/events",
        "getEvents",
        "The world's event records (oldest first), from `since` on, of one `kind`.",
        _events,
        "events",
        {
            "since": _SECONDS,
            "kind": {"type": "string", "description": "e.g. TaskStateChanged"},
            "limit": {
                "type": "integer",
                "minimum": 0,
                "default": EVENTS_LIMIT,
                "description": "At most this many, the newest.",
            },
        },
        answer="Events",
    ),
)

SCHEMAS: dict[str, Any] = {
    "Ok": {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "now": _SECONDS},
        "required": ["ok", "now"],
    },
    "Fault": {
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "now": _SECONDS,
            "task": {"type": "string", "description": "The task's ARN."},
            "action": {
                "type": "string",
                "description": "The FIS action, e.g. aws:ecs:task-cpu-stress.",
            },
            "endsAt": {**_SECONDS, "description": "When the fault ends by itself."},
        },
        "required": ["ok", "now", "task", "action", "endsAt"],
    },
    "Status": {
        "type": "object",
        "properties": {
            "now": _SECONDS,
            "speed": {"type": "number"},
            "paused": {"type": "boolean"},
            "seed": {"type": "integer"},
            "sliceMs": {"type": "number", "description": "Wall ms per slice, recent mean."},
        },
        "required": ["now", "speed", "paused", "seed"],
    },
    "Rate": {
        "type": "object",
        "properties": {
            "rps": {"type": "number"},
            "loadBalancer": {"type": ["string", "null"]},
            "now": _SECONDS,
        },
    },
    "Trace": {
        "type": "object",
        "description": "One request followed hop by hop.",
        "properties": {
            "time": _SECONDS,
            "loadBalancer": {"type": "string"},
            "listener": {"type": ["string", "null"]},
            "rule": {"type": ["string", "null"]},
            "targetGroup": {"type": ["string", "null"]},
            "target": {"type": ["string", "null"], "description": "ip:port"},
            "status": {"type": "integer", "description": "0: the connection failed"},
            "latencyMs": {"type": "number"},
            "answeredBy": {"type": "string", "enum": ["target", "elb"]},
            "reason": {"type": ["string", "null"]},
        },
    },
    "Stats": {
        "type": "object",
        "properties": {
            "now": _SECONDS,
            "requests": {"type": "integer"},
            "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_target": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_source": {"type": "object", "additionalProperties": {"type": "integer"}},
            "latency_ms": {"type": "object"},
        },
    },
    "Events": {
        "type": "object",
        "properties": {
            "now": _SECONDS,
            "total": {"type": "integer"},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "time": _SECONDS},
                    "required": ["type", "time"],
                },
            },
        },
    },
    "Error": {
        "type": "object",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "required": ["code", "message"],
    },
}


# --- serving ------------------------------------------------------------------------------


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status)


def _query_args(endpoint: Endpoint, request: Request) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, value in request.query_params.items():
        kind = endpoint.properties.get(name, {}).get("type")
        if kind in ("number", "integer"):
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{name} must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            args[name] = int(number) if kind == "integer" and number == int(number) else number
        else:
            args[name] = value
    return args


def _serve(live: LiveWorld, endpoint: Endpoint) -> Callable[[Request], Any]:
    validator = jsonschema.Draft202012Validator(endpoint.schema)

    async def serve(request: Request) -> Response:
        try:
            if endpoint.method == "GET":
                args = _query_args(endpoint, request)
            else:
                body = await request.body()
                args = json.loads(body) if body.strip() else {}
                if not isinstance(args, dict):
                    raise ValueError("the body must be a JSON object")
        except ValueError as e:
            return _error("ValidationError", str(e), 400)
        problem = jsonschema.exceptions.best_match(validator.iter_errors(args))
        if problem is not None:
            where = ".".join(str(p) for p in problem.absolute_path) or "body"
            return _error("ValidationError", f"{where}: {problem.message}", 400)
        try:
            answer = endpoint.handler(live, args)
        except AwsError as e:
            return _error(e.code, e.message, e.status)
        except ValueError as e:
            return _error("ValidationError", str(e), 400)
        except Exception:
            log.exception("ecsim API %s %s failed", endpoint.method, endpoint.path)
            return _error("InternalError", "ecsim failed; the failure is in the server's log.", 500)
        finally:
            live.publish()
        return JSONResponse(answer)

    serve.__name__ = endpoint.operation_id
    return serve


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of `ENDPOINTS`."""
    paths: dict[str, Any] = {}
    for e in ENDPOINTS:
        op: dict[str, Any] = {
            "operationId": e.operation_id,
            "summary": e.summary,
            "tags": [e.tag],
            "responses": {
                "200": {"description": "OK", "content": _json_ref(e.answer)},
                "400": {"description": "Bad request", "content": _json_ref("Error")},
                "500": {"description": "ecsim failed", "content": _json_ref("Error")},
            },
        }
        if e.method == "GET":
            op["parameters"] = [
                {"name": name, "in": "query", "required": name in e.required, "schema": schema}
                for name, schema in e.properties.items()
            ]
        elif e.properties:
            op["requestBody"] = {
                "required": bool(e.required),
                "content": {"application/json": {"schema": e.schema}},
            }
        paths.setdefault(PREFIX + e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ecsim API",
            "version": __version__,
            "description": (
                "What AWS has no API for: chaos, traffic and time control over the live "
                "simulated world. The AWS APIs themselves (ECS JSON 1.1, ELBv2 and EC2 query) "
                "answer on `POST /` of the same port: point boto3 or the AWS CLI at it with "
                "`--endpoint-url`."
            ),
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }


def _json_ref(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def native_routes(live: LiveWorld) -> list[BaseRoute]:
    document = openapi()

    async def serve_openapi(_: Request) -> Response:
        return JSONResponse(document)

    out: list[BaseRoute] = [Route(OPENAPI_PATH, serve_openapi, methods=["GET"], name="openapi")]
    out.extend(
        Route(PREFIX + e.path, _serve(live, e), methods=[e.method], name=e.operation_id)
        for e in ENDPOINTS
    )
    return out
