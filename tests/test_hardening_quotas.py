"""Bounded work per call (issue 12): AWS's own quotas, declared once (model/ecs/quotas.py) and
read by every face (w.ecs and boto3, the page's commands, scenario files, Application Auto
Scaling), and long steps of the live clock run in slices so the server keeps answering and
stops on SIGTERM (docs/behaviour.md, "ECS quotas")."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ecsim.live.runtime import LiveWorld
from ecsim.model.ecs import quotas
from ecsim.model.errors import AwsError
from ecsim.model.world import World
from ecsim.scenario import ScenarioError, load_text
from ecsim.web import commands
from tests.support.ports import free_port
from tests.support.scenarios import DEMO_WORLD
from tests.support.server import LiveServer

CLUSTER, SERVICE = "home", "home-service"
TARGET = {
    "ServiceNamespace": "ecs",
    "ResourceId": f"service/{CLUSTER}/{SERVICE}",
    "ScalableDimension": "ecs:service:DesiredCount",
}


@pytest.fixture(scope="module")
def world() -> World:
    """A steady demo world the refusals below leave unchanged."""
    return World.demo(seed=0)


def refused(call: Callable[[], Any], code: str, message: str) -> None:
    with pytest.raises(AwsError) as e:
        call()
    assert (e.value.code, e.value.message) == (code, message)


def task_definition(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "family": "sized",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{"name": "app", "image": "app:1"}],
    }
    return {**params, **overrides}


def desired_too_many(n: int, quota: int = quotas.TASKS_PER_SERVICE) -> str:
    return f"The desired count ({n}) exceeds the maximum number of tasks per service ({quota})."


# --- tasks per service ----------------------------------------------------------------------


@pytest.mark.parametrize("n", [10**12, 2**31, quotas.TASKS_PER_SERVICE + 1])
def test_a_desired_count_above_the_tasks_per_service_quota_is_refused(world: World, n: int) -> None:
    ecs = world.ecs
    refused(
        lambda: ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=n),
        "InvalidParameterException",
        desired_too_many(n),
    )
    td = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    network = td["networkConfiguration"]
    refused(
        lambda: ecs.create_service(
            cluster=CLUSTER,
            serviceName="other",
            taskDefinition=td["taskDefinition"],
            desiredCount=n,
            networkConfiguration=network,
        ),
        "InvalidParameterException",
        desired_too_many(n),
    )
    assert td["desiredCount"] == 3


def test_the_quota_itself_is_taken() -> None:
    w = World.demo(seed=0, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)  # nothing launches: the answer is what counts
    svc = w.ecs.update_service(
        cluster=CLUSTER, service=SERVICE, desiredCount=quotas.TASKS_PER_SERVICE
    )["service"]
    assert svc["desiredCount"] == quotas.TASKS_PER_SERVICE


def test_a_fargate_service_launches_at_most_the_launch_rate_per_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(quotas, "FARGATE_LAUNCH_RATE", 4)
    w = World.demo(seed=0, rate=0)
    start = w.now
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=13)
    w.advance(240)
    svc = w.ecs_backend.clusters[CLUSTER].services[SERVICE]
    launched = sorted(
        t.times["createdAt"] for t in svc.tasks.values() if t.times["createdAt"] > start
    )
    assert len(launched) == 10  # all of them in the end
    for first in launched:  # never more than 4 in any minute
        assert sum(1 for t in launched if first <= t < first + 60) <= 4
    assert launched[4] - launched[0] >= 60 and launched[8] - launched[4] >= 60


# --- the API's batch sizes and counts -------------------------------------------------------


def test_describe_batches_are_bounded(world: World) -> None:
    ecs = world.ecs
    names = [f"c{i}" for i in range(2_000_000)]
    began = time.perf_counter()
    refused(
        lambda: ecs.describe_clusters(clusters=names),
        "InvalidParameterException",
        "clusters can have at most 100 items.",
    )
    refused_in = time.perf_counter() - began
    assert len(ecs.describe_clusters(clusters=names[:100])["failures"]) == 100
    for call, name, most in (
        (ecs.describe_container_instances, "containerInstances", 100),
        (ecs.describe_services, "services", 10),
        (ecs.describe_tasks, "tasks", 100),
    ):
        refused(
            lambda call=call, name=name, most=most: call(  # type: ignore[misc]
                cluster=CLUSTER, **{name: names[: most + 1]}
            ),
            "InvalidParameterException",
            f"{name} can have at most {most} items.",
        )
        call(cluster=CLUSTER, **{name: names[:most]})
    print(f"DescribeClusters with 2,000,000 names refused in {refused_in * 1000:.1f} ms")


def test_run_task_takes_1_to_10_tasks(world: World) -> None:
    network = world.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0][
        "networkConfiguration"
    ]
    for count, bound in ((11, "max value: 10"), (0, "min value: 1")):
        refused(
            lambda count=count: world.ecs.run_task(  # type: ignore[misc]
                cluster=CLUSTER,
                taskDefinition="home-app",
                count=count,
                networkConfiguration=network,
            ),
            "InvalidParameterException",
            f"Invalid value for parameter count, value: {count}, valid {bound}",
        )


# --- tags -----------------------------------------------------------------------------------


def _tags(n: int) -> list[dict[str, str]]:
    return [{"key": f"k{i}", "value": "v"} for i in range(n)]


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (
            _tags(60),
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member "
            "must have length less than or equal to 50",
        ),
        (
            [{"key": "k" * 129, "value": "v"}],
            "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must have length less than or equal to 128",
        ),
        (
            [{"key": "", "value": "v"}],
            "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1",
        ),
        (
            [{"key": "k", "value": "v" * 257}],
            "1 validation error detected: Value at 'tags.1.member.value' failed to satisfy "
            "constraint: Member must have length less than or equal to 256",
        ),
        (
            [{"key": "ok", "value": "v"}, {"key": "a\nb", "value": "v"}],
            "1 validation error detected: Value at 'tags.2.member.key' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: "
            r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
        ),
    ],
    ids=["60-tags", "long-key", "empty-key", "long-value", "newline"],
)
def test_tags_within_aws_limits(world: World, tags: list[dict[str, str]], message: str) -> None:
    ecs = world.ecs
    refused(
        lambda: ecs.create_cluster(clusterName="tagged", tags=tags),
        "InvalidParameterException",
        message,
    )
    refused(
        lambda: ecs.register_task_definition(**task_definition(tags=tags)),
        "InvalidParameterException",
        message,
    )
    assert "tagged" not in ecs.backend.clusters


def test_fifty_tags_of_aws_characters_are_kept(world: World) -> None:
    tags = [*_tags(49), {"key": "Équipe ü 1_.:/=+-@", "value": ""}]
    cluster = world.ecs.create_cluster(clusterName="tagged-ok", tags=tags)["cluster"]
    assert cluster["tags"] == tags


# --- task definitions -----------------------------------------------------------------------


def test_a_task_definition_has_at_most_10_containers(world: World) -> None:
    def containers(n: int) -> list[dict[str, str]]:
        return [{"name": f"c{i}", "image": "app:1"} for i in range(n)]

    refused(
        lambda: world.ecs.register_task_definition(
            **task_definition(containerDefinitions=containers(5000))
        ),
        "ClientException",
        "Too many containers.",
    )
    td = world.ecs.register_task_definition(**task_definition(containerDefinitions=containers(10)))
    assert len(td["taskDefinition"]["containerDefinitions"]) == 10


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my app", "Container.name contains invalid characters."),
        ("app\n", "Container.name contains invalid characters."),
        ("app.v1", "Container.name contains invalid characters."),
        ("a" * 256, "Container.name can be at most 255 characters."),
    ],
    ids=["space", "newline", "dot", "256-characters"],
)
def test_container_names_are_letters_numbers_hyphens_underscores(
    world: World, name: str, message: str
) -> None:
    refused(
        lambda: world.ecs.register_task_definition(
            **task_definition(containerDefinitions=[{"name": name, "image": "app:1"}])
        ),
        "ClientException",
        message,
    )


def test_a_container_name_of_255_allowed_characters_is_taken(world: World) -> None:
    name = ("App_1-" * 43)[:255]
    td = world.ecs.register_task_definition(
        **task_definition(containerDefinitions=[{"name": name, "image": "app:1"}])
    )
    assert td["taskDefinition"]["containerDefinitions"][0]["name"] == name


FARGATE_SIZES = [
    (cpu, memory) for cpu, mems in quotas.FARGATE_TASK_SIZES.items() for memory in mems
]


def test_every_fargate_task_size_is_taken(world: World) -> None:
    assert len(FARGATE_SIZES) == 74  # AWS's table: 3 + 4 + 7 + 13 + 23 + 12 + 12
    for cpu, memory in FARGATE_SIZES:
        td = world.ecs.register_task_definition(
            **task_definition(cpu=str(cpu), memory=str(memory))
        )["taskDefinition"]
        assert (td["cpu"], td["memory"]) == (str(cpu), str(memory))


@pytest.mark.parametrize(
    ("cpu", "memory", "message"),
    [
        ("abc", "512", "Invalid 'cpu' setting for task."),
        ("256", "lots", "Invalid 'memory' setting for task."),
        ("256", str(10**12), "No Fargate configuration exists for given values."),
        ("256", "4096", "No Fargate configuration exists for given values."),
        ("300", "512", "No Fargate configuration exists for given values."),
        ("1024", "2560", "No Fargate configuration exists for given values."),
        ("1024", "9216", "No Fargate configuration exists for given values."),
        ("2048", "17408", "No Fargate configuration exists for given values."),
        ("4096", "31744", "No Fargate configuration exists for given values."),
        ("8192", "18432", "No Fargate configuration exists for given values."),
        ("8192", "62464", "No Fargate configuration exists for given values."),
        ("16384", "33792", "No Fargate configuration exists for given values."),
        ("16384", "131072", "No Fargate configuration exists for given values."),
        ("32768", "65536", "No Fargate configuration exists for given values."),
    ],
)
def test_fargate_task_sizes_outside_the_table_are_refused(
    world: World, cpu: str, memory: str, message: str
) -> None:
    refused(
        lambda: world.ecs.register_task_definition(**task_definition(cpu=cpu, memory=memory)),
        "ClientException",
        message,
    )


def test_vcpu_and_gb_are_converted_as_aws_converts_them(world: World) -> None:
    td = world.ecs.register_task_definition(**task_definition(cpu="1 vCPU", memory="2 GB"))
    assert (td["taskDefinition"]["cpu"], td["taskDefinition"]["memory"]) == ("1024", "2048")
    td = world.ecs.register_task_definition(**task_definition(cpu="0.25 vcpu", memory="1GB"))
    assert (td["taskDefinition"]["cpu"], td["taskDefinition"]["memory"]) == ("256", "1024")


def test_task_cpu_on_ec2_is_between_128_and_196608_units(world: World) -> None:
    ec2 = {"requiresCompatibilities": ["EC2"], "memory": "512"}
    for cpu in ("64", "196609", "abc"):
        refused(
            lambda cpu=cpu: world.ecs.register_task_definition(  # type: ignore[misc]
                **task_definition(cpu=cpu, **ec2)
            ),
            "ClientException",
            "Invalid 'cpu' setting for task.",
        )
    for cpu in ("128", "196608"):
        assert world.ecs.register_task_definition(**task_definition(cpu=cpu, **ec2))


# --- Application Auto Scaling ---------------------------------------------------------------


def test_auto_scaling_never_asks_for_more_than_the_quota() -> None:
    """TargetValue 1e-100 (inside AWS's range) with the largest MaxCapacity AWS takes: the
    scaler asks for the tasks per service quota, once, and the world goes on."""
    w = World.demo(seed=0, rate=20)
    aas = w.application_autoscaling
    refused(
        lambda: aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=10**12),
        "ValidationException",
        "Invalid value for parameter MaxCapacity, value: 1000000000000, valid max value: "
        "2147483647",
    )
    aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2**31 - 1)
    aas.put_scaling_policy(
        PolicyName="tiny",
        PolicyType="TargetTrackingScaling",
        **TARGET,
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 1e-100,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    )
    w.chaos.crash_controller(CLUSTER, SERVICE)  # no launches: the ask is what is tested
    w.advance(300)
    activities = aas.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
    assert [a["Description"] for a in activities] == [
        f"Setting desired count to {quotas.TASKS_PER_SERVICE}."
    ]
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["desiredCount"] == quotas.TASKS_PER_SERVICE


def test_a_minimum_capacity_above_the_quota_brings_the_service_to_the_quota() -> None:
    w = World.demo(seed=0, rate=0)
    w.chaos.crash_controller(CLUSTER, SERVICE)
    top = 2**31 - 1
    w.application_autoscaling.register_scalable_target(**TARGET, MinCapacity=top, MaxCapacity=top)
    svc = w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert svc["desiredCount"] == quotas.TASKS_PER_SERVICE


# --- one quota, every face ------------------------------------------------------------------


def test_one_quota_changed_in_one_place_changes_every_face(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quotas, "TASKS_PER_SERVICE", 7)
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=20), seed=0)
    w = live.world
    w.chaos.crash_controller(CLUSTER, SERVICE)

    # the AWS API (w.ecs is what boto3's calls end in)
    refused(
        lambda: w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=8),
        "InvalidParameterException",
        desired_too_many(8, 7),
    )
    # the page: no limit of its own, the API's answer in AWS's words
    with pytest.raises(commands.CommandError) as said:
        commands.run(live, {"cmd": "desired", "args": {"count": 8}})
    assert str(said.value) == f"InvalidParameterException: {desired_too_many(8, 7)}"
    assert commands.run(live, {"cmd": "desired", "args": {"count": "7"}}).message.endswith(
        "desiredCount 7"
    )
    # above the page's old cap of 500, up to the quota, is the API's to decide
    monkeypatch.setattr(quotas, "TASKS_PER_SERVICE", 600)
    assert commands.run(live, {"cmd": "desired", "args": {"count": 600}}).message.endswith(
        "desiredCount 600"
    )
    with pytest.raises(commands.CommandError) as said:
        commands.run(live, {"cmd": "desired", "args": {"count": 601}})
    assert str(said.value) == f"InvalidParameterException: {desired_too_many(601, 600)}"
    commands.run(live, {"cmd": "desired", "args": {"count": 3}})
    monkeypatch.setattr(quotas, "TASKS_PER_SERVICE", 7)

    # Application Auto Scaling asks for no more than the quota
    w.application_autoscaling.register_scalable_target(**TARGET, MinCapacity=9, MaxCapacity=20)
    assert (
        w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["desiredCount"]
        == 7
    )

    # a scenario file, built through the same API
    text = "name: quota\nduration: 1m\n" + DEMO_WORLD.replace(
        "desired_count: 3", "desired_count: 8"
    )
    with pytest.raises(ScenarioError) as located:
        load_text(text, "quota.yaml")
    assert str(located.value).endswith(
        f"world.services[0]: AWS refused create_service: InvalidParameterException: "
        f"{desired_too_many(8, 7)}"
    )
    assert load_text(text.replace("desired_count: 8", "desired_count: 7"), "quota.yaml")


def test_the_page_takes_a_whole_number_of_any_size_and_leaves_the_limits_to_the_api() -> None:
    live = LiveWorld(lambda seed: World.demo(seed=seed, rate=0), seed=0)
    for count in ("many", 2.5, True, None, float("inf")):
        with pytest.raises(commands.CommandError, match="'count' must be a whole number"):
            commands.run(live, {"cmd": "desired", "args": {"count": count}})
    with pytest.raises(commands.CommandError) as said:
        commands.run(live, {"cmd": "desired", "args": {"count": 10**400}})
    assert str(said.value) == f"InvalidParameterException: {desired_too_many(10**400)}"
    with pytest.raises(commands.CommandError, match="desiredCount, value: -1"):
        commands.run(live, {"cmd": "desired", "args": {"count": -1}})


def test_reset_refuses_a_negative_seed() -> None:
    live = LiveWorld(lambda seed: World(seed=seed), seed=0)
    with pytest.raises(ValueError, match="seed must be at least 0, got -1"):
        live.reset(seed=-1)
    with pytest.raises(commands.CommandError, match="'seed' must be at least 0, got -1"):
        commands.run(live, {"cmd": "reset", "args": {"seed": -1}})


# --- through boto3, against a live server ---------------------------------------------------


@pytest.mark.server(world="demo", rate=0, paused=True)
def test_boto3_gets_aws_errors_at_once(server: LiveServer) -> None:
    """Each call would hang or build millions of objects without its quota; the client's read
    timeout bounds the test if one still did."""
    bounded = {"read_timeout": 30, "connect_timeout": 5}
    ecs = server.client("ecs", **bounded)
    for n in (10**12, 2**31):
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=n)
        assert e.value.response["Error"] == {
            "Code": "InvalidParameterException",
            "Message": desired_too_many(n),
        }
    cases: list[tuple[Callable[[], Any], str, str]] = [
        (
            lambda: ecs.describe_clusters(clusters=[f"c{i}" for i in range(101)]),
            "InvalidParameterException",
            "clusters can have at most 100 items.",
        ),
        (
            lambda: ecs.describe_container_instances(
                cluster=CLUSTER, containerInstances=[f"i{i}" for i in range(101)]
            ),
            "InvalidParameterException",
            "containerInstances can have at most 100 items.",
        ),
        (
            lambda: ecs.register_task_definition(**task_definition(cpu="abc")),
            "ClientException",
            "Invalid 'cpu' setting for task.",
        ),
        (
            lambda: ecs.register_task_definition(**task_definition(memory=str(10**12))),
            "ClientException",
            "No Fargate configuration exists for given values.",
        ),
        (
            lambda: ecs.register_task_definition(
                **task_definition(containerDefinitions=[{"name": "my app", "image": "x"}])
            ),
            "ClientException",
            "Container.name contains invalid characters.",
        ),
        (
            lambda: ecs.create_cluster(clusterName="t", tags=_tags(60)),
            "InvalidParameterException",
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member "
            "must have length less than or equal to 50",
        ),
    ]
    for call, code, message in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"] == {"Code": code, "Message": message}
    r = httpx.get(f"{server.url}/ecsim/api/status", timeout=5)
    assert r.status_code == 200


# --- long steps in slices -------------------------------------------------------------------


@pytest.mark.server(world="demo", rate=1000, paused=True, fresh=True)
def test_a_long_advance_leaves_the_server_answering(server: LiveServer) -> None:
    """`time/advance` of 6 hours at 1,000 requests/s (6.7 s of work in one go before) runs in
    slices: `/ecsim/api/status` keeps answering within 100 ms while it runs."""
    api = f"{server.url}/ecsim/api"
    start = httpx.get(f"{api}/status", timeout=5).json()["now"]
    answer: dict[str, Any] = {}

    def advance() -> None:
        r = httpx.post(f"{api}/time/advance", json={"seconds": 21_600}, timeout=300)
        answer.update(r.json())

    stepping = threading.Thread(target=advance)
    stepping.start()
    latencies, seen = [], []
    with httpx.Client(timeout=5) as client:
        client.get(f"{api}/status")  # the connection is open before the step takes the loop
        while stepping.is_alive():
            began = time.perf_counter()
            now = client.get(f"{api}/status").json()["now"]
            latencies.append(time.perf_counter() - began)
            seen.append(now)
            time.sleep(0.02)
    stepping.join()
    assert answer["now"] == pytest.approx(start + 21_600)
    during = [t for t, now in zip(latencies, seen, strict=True) if start < now < start + 21_600]
    assert len(during) >= 5, (len(latencies), seen[:5])  # it was answering while it ran
    # Before, one advance held the loop for its whole length (6.7 s): a status that answers
    # within a second, all along, is the behaviour; the milliseconds it takes on a quiet
    # machine (median 16 ms, worst 27 ms) are the benchmark's, not the test's.
    assert max(during) < 1.0, sorted(during)[-5:]
    assert sorted(seen) == seen  # and time only moved forward


def test_the_pages_step_runs_in_the_background_in_slices() -> None:
    async def scenario() -> None:
        live = LiveWorld(lambda seed: World.demo(seed=seed, rate=200), seed=0)
        live.pause()
        start = live.world.now
        outcome = commands.run(live, {"cmd": "step", "args": {"seconds": 600}})
        assert outcome.message == "stepping 600 simulated s"
        assert live.world.now == start  # answered before the step ran
        queue = live.subscribe()
        while live.world.now < start + 600:
            await asyncio.wait_for(queue.get(), timeout=60)
        assert live.world.now == pytest.approx(start + 600)
        await live.stop()

    asyncio.run(scenario())


@pytest.fixture
def serve_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    command = "from ecsim.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", command, "serve", "--port", str(port), "--speed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


def test_sigterm_stops_the_server_during_a_long_advance(
    serve_process: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = serve_process
    api = f"{url}/ecsim/api"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{api}/status", timeout=5)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "ecsim serve did not start"
            time.sleep(0.1)
    httpx.post(f"{api}/time/pause", timeout=5)
    httpx.post(f"{api}/traffic/rate", json={"rps": 1000}, timeout=5)
    start = httpx.get(f"{api}/status", timeout=5).json()["now"]

    def advance() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server stopped before it answered
            httpx.post(f"{api}/time/advance", json={"seconds": 86_400}, timeout=120)

    threading.Thread(target=advance, daemon=True).start()
    while httpx.get(f"{api}/status", timeout=5).json()["now"] <= start:
        time.sleep(0.05)
    moved = httpx.get(f"{api}/status", timeout=5).json()["now"]
    assert moved < start + 86_400  # the step is under way
    proc.send_signal(signal.SIGTERM)
    began = time.monotonic()
    proc.wait(timeout=30)  # bounded: a test that fails rather than hangs
    print(f"stopped {time.monotonic() - began:.1f} s after SIGTERM, {moved - start:.0f} s in")
    assert proc.returncode is not None


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda w: w.ecs.create_cluster(clusterName="home\n"), "InvalidParameterException"),
        (
            lambda w: w.ecs.register_task_definition(
                family="app\n",
                containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}],
            ),
            "InvalidParameterException",
        ),
        (
            lambda w: w.elbv2.create_target_group(
                Name="tg\n",
                Protocol="HTTP",
                Port=80,
                VpcId=w.ec2.describe_vpcs()["Vpcs"][0]["VpcId"],
            ),
            "ValidationError",
        ),
    ],
    ids=["cluster", "family", "target-group"],
)
def test_a_name_with_a_trailing_newline_is_refused(call: Callable[[World], Any], code: str) -> None:
    """AWS's name patterns end at the name's last character: `$` alone would let a final
    newline through (a name that then breaks every answer that echoes it)."""
    w = World(seed=0)
    with pytest.raises(AwsError) as e:
        call(w)
    assert e.value.code == code
