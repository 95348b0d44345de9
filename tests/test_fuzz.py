"""Hostile and random input against a live server: every AWS operation ecsim serves (its
parameters drawn from botocore's own input shapes, with values an attacker or a careless user
would send) and every endpoint of ecsim's own API. Whatever comes in:

- ecsim never answers 5xx itself, and every answer parses (boto3 never raises anything but
  `ClientError`);
- a watchdog sees the live clock keep advancing and `/ecsim/api/status` keep answering,
  during the fuzzing and after it;
- the world still answers its describes afterwards.

Hypothesis draws the calls (derandomized, so CI sees the same ones every run).
"""

from __future__ import annotations

import datetime
import math
import string
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsim.awsapi.native import ENDPOINTS, PREFIX
from ecsim.awsapi.services import SERVICES, AwsService
from ecsim.model.demo import CLUSTER, LOAD_BALANCER, SERVICE, TARGET_GROUP
from tests.support.server import LiveServer

pytestmark = [
    pytest.mark.server(world="demo", rate=20, speed=30, fresh=True),
    # Hypothesis's explanation of a failing example touches a deprecated typing helper
    pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict:DeprecationWarning"),
]

EXAMPLES = 250  # per test: each draws one call

# --- values --------------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    " ",
    "a" * 5000,
    "\x00",
    "/\x01",
    "d\x01",
    "\x7f",
    "\ud7ff",
    "line\nbreak",
    "<x>&amp;</x>",
    "]]>",
    "${task:home-service}",
    "arn:aws:ecs:us-east-1:123456789012:service/home/home-service",
    "arn:aws:ecs:us-east-1:123456789012:",
    "arn:",
    "../../etc/passwd",
    "%s%s%n",
    "😀",
    CLUSTER,
    SERVICE,
    LOAD_BALANCER,
    TARGET_GROUP,
    "home-app:1",
    "10.0.1.5",
    "us-east-1a",
]
HOSTILE_INTS = [0, 1, -1, 2, 10, 100, 2**31 - 1, 2**31, 2**63, -(2**63), 10**12, 10**30]
HOSTILE_FLOATS = [0.0, -1.0, 1e-100, 1e308, -1e308, 1e300, -1e12, math.inf, -math.inf, 0.5]
HOSTILE_TIMES = [
    datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 1, 0, 5, tzinfo=datetime.UTC),
    datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC),
    datetime.datetime(1, 1, 1, 0, 0, 1, tzinfo=datetime.UTC),
]

text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(alphabet=string.printable, max_size=40),
    st.text(max_size=20),
)


def value(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value for a botocore shape: mostly of its type, sometimes of another."""
    kind = shape.type_name
    if depth > 4:
        return st.none()
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        return st.fixed_dictionaries(
            {},
            optional={name: value(member, depth + 1) for name, member in members.items()},
        )
    if kind == "list":
        item = value(shape.member, depth + 1)  # type: ignore[attr-defined]
        return st.one_of(st.lists(item, max_size=4), st.lists(item, min_size=150, max_size=150))
    if kind == "map":
        return st.dictionaries(text, value(shape.value, depth + 1), max_size=4)  # type: ignore[attr-defined]
    if kind == "string":
        enum = shape.enum
        return st.one_of(st.sampled_from(enum), text) if enum else text
    if kind in ("integer", "long"):
        return st.one_of(st.sampled_from(HOSTILE_INTS), st.integers(-5, 60))
    if kind in ("double", "float"):
        return st.one_of(st.sampled_from(HOSTILE_FLOATS), st.floats(allow_nan=False))
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.sampled_from(HOSTILE_TIMES)
    if kind == "blob":
        return st.binary(max_size=16)
    return st.none()


def operations() -> list[tuple[AwsService, str]]:
    return [(service, op) for service in SERVICES for op in service.modelled()]


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


# --- the watchdog ----------------------------------------------------------------------------


class Watchdog:
    """Polls `/ecsim/api/status` (wall clock, bounded) and notes the clock and the latency."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[tuple[float, float]] = []  # (latency s, simulated now)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.wait(0.2):
                t0 = time.perf_counter()
                try:
                    status = client.get(f"{self.url}{PREFIX}/status").json()
                    self.samples.append((time.perf_counter() - t0, float(status["now"])))
                except Exception as e:
                    self.failures.append(repr(e))

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def check(self, advancing: bool = True) -> None:
        """Status always answered (a hang shows as seconds, not a slow machine's
        milliseconds); `advancing`: the clock moved (the fuzz itself may pause it)."""
        assert self.failures == []
        assert len(self.samples) >= 2
        slowest = max(latency for latency, _ in self.samples)
        assert slowest < 5.0, f"status took {slowest:.2f} s"
        if advancing:
            nows = [now for _, now in self.samples]
            assert nows[-1] > nows[0], "the live clock stopped"


@pytest.fixture
def watched(server: LiveServer) -> Iterator[LiveServer]:
    with Watchdog(server.url) as dog:
        yield server
    dog.check(advancing=False)
    for path, body in (("/time/resume", {}), ("/time/speed", {"speed": 30})):
        assert httpx.post(f"{server.url}{PREFIX}{path}", json=body).status_code == 200
    with Watchdog(server.url) as after:
        time.sleep(1.0)
    after.check()
    ecs = server.client("ecs")
    assert ecs.describe_clusters(clusters=[CLUSTER])["ResponseMetadata"]["HTTPStatusCode"] == 200
    server.client("elbv2").describe_target_groups()


# --- the AWS API -----------------------------------------------------------------------------


def _call(server: LiveServer, service: AwsService, op: str, params: dict[str, Any]) -> None:
    client = server.client(
        service.name,
        parameter_validation=False,
        read_timeout=10,
        connect_timeout=5,
    )
    sent: list[bool] = []
    client.meta.events.register("before-send", lambda **_: sent.append(True))
    try:
        answer = getattr(client, snake(op))(**params)
    except ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status < 500, f"{service.name}.{op}({params!r:.300}) -> {status} {e}"
        return
    except Exception:
        if not sent:  # botocore could not even serialize the call: nothing reached ecsim
            return
        raise
    assert answer["ResponseMetadata"]["HTTPStatusCode"] < 500


@st.composite
def aws_calls(draw: Callable[..., Any]) -> tuple[AwsService, str, dict[str, Any]]:
    service, op = draw(st.sampled_from(operations()))
    shape = service.operation(op).input_shape
    params = draw(value(shape)) if shape is not None else {}
    return service, op, params


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=aws_calls())
def test_no_aws_call_gets_a_5xx_or_an_unparseable_answer(
    watched: LiveServer, call: tuple[AwsService, str, dict[str, Any]]
) -> None:
    service, op, params = call
    _call(watched, service, op, params)


# --- ecsim's own API -------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(HOSTILE_INTS),
        st.sampled_from([f for f in HOSTILE_FLOATS if math.isfinite(f)]),
        text,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)


class Raw(str):
    """A body sent as it is, not as JSON."""


RAW_DEEP = Raw("[" * 5000 + "]" * 5000)
RAW_BROKEN = Raw('{"rps": ')
RAW_HUGE_NUMBER = Raw('{"rps": 1' + "0" * 5000 + "}")


@st.composite
def native_calls(draw: Callable[..., Any]) -> tuple[str, str, Any]:
    endpoint = draw(st.sampled_from([e for e in ENDPOINTS if e.path != "/time/reset"]))
    names = [*endpoint.properties, "extra", "seconds", "rps", "task"]
    body = draw(
        st.one_of(
            st.dictionaries(st.sampled_from(names), json_values, max_size=4),
            json_values,
            st.sampled_from([RAW_DEEP, RAW_BROKEN, RAW_HUGE_NUMBER]),
        )
    )
    return endpoint.method, f"{PREFIX}{endpoint.path}", body


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=native_calls())
def test_no_native_call_gets_a_5xx_or_a_non_json_answer(
    watched: LiveServer, call: tuple[str, str, Any]
) -> None:
    method, path, body = call
    if method == "GET":
        params = body if isinstance(body, dict) else {}
        r = httpx.get(
            f"{watched.url}{path}", params={k: str(v) for k, v in params.items()}, timeout=10
        )
    elif isinstance(body, Raw):
        r = httpx.request(
            method,
            f"{watched.url}{path}",
            content=str(body),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
    else:
        r = httpx.request(method, f"{watched.url}{path}", json=body, timeout=10)
    assert r.status_code < 500, f"{method} {path} {body!r:.200} -> {r.status_code} {r.text:.200}"
    r.json()  # every answer, refusals included, is JSON
