"""ecsim's own JSON API, for what AWS has no API for: chaos, traffic and time control.

Every endpoint lives under `/ecsim/api/` and is described once, in `ENDPOINTS`: the same
record routes the request, validates its JSON body or query string (JSON Schema) and writes
the OpenAPI document served at `/ecsim/openapi.json`. Each one ends in the same call a scenario
step or a button in the page makes (`w.chaos`, `w.traffic`, the live world's clock), run on
the live world's event loop between two slices.

Errors are JSON `{"code": ..., "message": ...}`: the model's AWS codes with their statuses,
`ValidationError` (400) for a bad body (JSON nested deeper than `MAX_JSON_DEPTH` included),
`RequestEntityTooLarge` (413) for a body over `MAX_NATIVE_BODY`, `InternalError` (500) for a
bug, logged. Answers are ASCII JSON, so any text echoed in them is valid.
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
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ecsim import __version__
from ecsim.awsapi.limits import MAX_NATIVE_BODY, BodyTooLargeError, loads, read_body
from ecsim.live.runtime import LiveWorld
from ecsim.model.errors import AwsError
from ecsim.model.verbs import catalog, spec
from ecsim.model.verbs.spec import Verb

log = logging.getLogger("ecsim.awsapi.native")

PREFIX = "/ecsim/api"
OPENAPI_PATH = "/ecsim/openapi.json"
EVENTS_LIMIT = 1000

# A handler answers at once, or with an awaitable (a long step that yields to the loop).
Handler = Callable[[LiveWorld, dict[str, Any]], Any]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: where it is, what it takes, what it does. What an endpoint of one of
    ecsim's own verbs takes is the verb's declaration (model/verbs/catalog.py), read each time
    the schema is asked for; the others list their properties here."""

    method: str
    path: str  # below PREFIX
    operation_id: str
    summary: str
    handler: Handler
    tag: str
    verb: Verb | None = None
    own: dict[str, Any] = field(default_factory=dict)  # the properties, without a verb
    answer: str = "Ok"  # the schema of the answer, in SCHEMAS
    description: str = ""

    @property
    def properties(self) -> dict[str, Any]:
        """The body's (or query's) properties, by their JSON names."""
        return spec.properties(self.verb, _camel) if self.verb is not None else self.own

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(_camel(n) for n in self.verb.required) if self.verb is not None else ()

    @property
    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": self.properties,
            "required": list(self.required),
            "additionalProperties": False,
        }


def _camel(name: str) -> str:
    """A verb's parameter as JSON names it: load_balancer -> loadBalancer."""
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _params(verb: Verb, args: dict[str, Any]) -> dict[str, Any]:
    """The verb's arguments given in a request, by their Python names."""
    return {p.name: args[_camel(p.name)] for p in verb.params if _camel(p.name) in args}


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
    live.set_speed(args["speed"])
    return live.status()


async def _advance(live: LiveWorld, args: dict[str, Any]) -> Any:
    """Runs in slices: the server answers other requests meanwhile (LiveWorld.advance_sliced)."""
    await live.advance_sliced(args["seconds"])
    return live.status()


def _reset(live: LiveWorld, args: dict[str, Any]) -> Any:
    live.reset(seed=args.get("seed"))
    return live.status()


def _chaos(verb: Verb) -> Handler:
    def handler(live: LiveWorld, args: dict[str, Any]) -> Any:
        getattr(live.world.chaos, verb.name)(**_params(verb, args))
        return _ok(live)

    handler.__name__ = verb.name
    return handler


def _fault(verb: Verb) -> Handler:
    """A FIS task fault: the call of `w.chaos`, answered with the fault's end (the duration
    given, or the declared default)."""

    def handler(live: LiveWorld, args: dict[str, Any]) -> Any:
        w = live.world
        params = _params(verb, args)
        task = w.chaos.task(params.pop("task"))
        getattr(w.chaos, verb.name)(task.arn, **params)
        duration = params.get("duration", verb.param("duration").default)
        return {
            **_ok(live),
            "task": task.arn,
            "action": verb.action,
            "endsAt": w.now + float(duration),
        }

    handler.__name__ = verb.name
    return handler


def _get_rate(live: LiveWorld, args: dict[str, Any]) -> Any:
    lb = args.get("loadBalancer")
    return {"rps": live.world.traffic.rate(lb), "loadBalancer": lb, "now": live.world.now}


def _set_rate(live: LiveWorld, args: dict[str, Any]) -> Any:
    live.world.traffic.set_rate(**_params(catalog.SET_RATE, args))
    return _ok(live)


def _send(live: LiveWorld, args: dict[str, Any]) -> Any:
    return live.world.traffic.send(**_params(catalog.SEND, args))


def _stats(live: LiveWorld, args: dict[str, Any]) -> Any:
    out = live.world.traffic.stats(**_params(catalog.STATS, args))
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

_SECONDS = {"type": "number", "description": "Simulated seconds since the world began."}


def _endpoint(
    verb: Verb,
    handler: Handler,
    method: str = "POST",
    path: str = "",
    operation_id: str = "",
    answer: str = "Ok",
) -> Endpoint:
    """The endpoint of one of ecsim's own verbs: `POST /<surface>/<verb-name>` unless said."""
    return Endpoint(
        method,
        path or f"/{verb.surface}/{verb.name.replace('_', '-')}",
        operation_id or _camel(verb.name),
        verb.summary,
        handler,
        verb.surface,
        verb,
        answer=answer,
    )


_CHAOS = (
    catalog.KILL_TASK,
    catalog.INTERRUPT_SPOT,
    catalog.SET_APP_HEALTH,
    catalog.CRASH_CONTROLLER,
    catalog.HANG_CONTROLLER,
    catalog.RESTORE_CONTROLLER,
    catalog.SET_HOOK_OUTCOME,
    catalog.FAIL_INSTANCE,
    catalog.DRAIN_INSTANCE,
    catalog.FAIL_AZ,
    catalog.RESTORE_AZ,
)

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
    _endpoint(catalog.PAUSE, _pause, answer="Status"),
    _endpoint(catalog.RESUME, _resume, answer="Status"),
    _endpoint(catalog.SPEED, _speed, operation_id="setSpeed", answer="Status"),
    _endpoint(catalog.ADVANCE, _advance, answer="Status"),
    _endpoint(catalog.RESET, _reset, path="/reset", answer="Status"),
    *(_endpoint(v, _chaos(v)) for v in _CHAOS),
    *(_endpoint(v, _fault(v), answer="Fault") for v in catalog.FIS_FAULTS),
    _endpoint(
        catalog.RATE, _get_rate, "GET", "/traffic/rate", operation_id="getRate", answer="Rate"
    ),
    _endpoint(catalog.SET_RATE, _set_rate, path="/traffic/rate"),
    _endpoint(catalog.SEND, _send, operation_id="sendRequest", answer="Trace"),
    _endpoint(catalog.STATS, _stats, "GET", operation_id="getStats", answer="Stats"),
    Endpoint(
        "GET",
        "/events",
        "getEvents",
        "The world's event records (oldest first), from `since` on, of one `kind`.",
        _events,
        "events",
        own={
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
            "running": {"type": "boolean", "description": "Whether the clock's task is alive."},
            "error": {
                "type": ["object", "null"],
                "description": "The last internal error that escaped the simulation since "
                "the last reset (logged with its traceback; the clock goes on), or null.",
                "properties": {
                    "message": {"type": "string"},
                    "at": {**_SECONDS, "description": "Simulated time of the error."},
                    "count": {"type": "integer", "description": "Errors since the reset."},
                },
            },
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
            "settled": {
                "type": "boolean",
                "description": "false: the answer due if nothing changes before simulated time "
                "reaches it; the statistics count the answer it gets then",
            },
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


class _Json(JSONResponse):
    """JSON in ASCII: text the request echoes (a lone surrogate included) is always valid."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


_FAILED = "ecsim failed; the failure is in the server's log."


def _error(code: str, message: str, status: int) -> JSONResponse:
    return _Json({"code": code, "message": message}, status)


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
                body = await read_body(request, MAX_NATIVE_BODY)
                args = loads(body) if body.strip() else {}
                if not isinstance(args, dict):
                    raise ValueError("the body must be a JSON object")
        except BodyTooLargeError as e:
            return _error(e.code, e.message, e.status)
        except ClientDisconnect:  # nobody is left to answer
            return Response(status_code=400)
        except (ValueError, UnicodeDecodeError) as e:
            return _error("ValidationError", str(e), 400)
        problem = jsonschema.exceptions.best_match(validator.iter_errors(args))
        if problem is not None:
            where = ".".join(str(p) for p in problem.absolute_path) or "body"
            return _error("ValidationError", f"{where}: {problem.message}", 400)
        try:
            answer = endpoint.handler(live, args)
            if inspect.isawaitable(answer):
                answer = await answer
        except AwsError as e:
            return _error(e.code, e.message, e.status)
        except ValueError as e:
            return _error("ValidationError", str(e), 400)
        except Exception:
            log.exception("ecsim API %s %s failed", endpoint.method, endpoint.path)
            return _error("InternalError", _FAILED, 500)
        finally:
            live.publish()
        if endpoint.method != "GET":
            for notice in live.notices:
                notice(f"ecsim's API ({endpoint.method} {PREFIX}{endpoint.path}) changed the world")
        try:
            return _Json(answer)
        except (ValueError, TypeError):  # not JSON (a NaN, an object): a bug
            log.exception("ecsim API %s %s answered badly", endpoint.method, endpoint.path)
            return _error("InternalError", _FAILED, 500)

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
