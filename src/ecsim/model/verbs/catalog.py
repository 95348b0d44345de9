"""Every one of ecsim's own verbs, declared once: its parameters, their limits and defaults.

The Python API (`w.chaos`, `w.traffic`), the live world's clock, ecsim's JSON API and its
OpenAPI document, the page's commands and the scenario loader all read these declarations
(model/verbs/spec.py); none of them restates a limit or a default.

The FIS task faults follow AWS FIS's actions (`aws:ecs:task-cpu-stress`, ...): a fault lasts at
most 12 hours (an experiment's limit); percent, delay and loss keep FIS's defaults (100 %,
200 ms, 7 %). Choice: 0 is refused (a fault that does nothing), and so is a packet loss of
100 % (that is a blackhole: `blackhole_port`).

The client rate is capped at `MAX_RATE` requests/s per load balancer, on every face. Choice:
the data plane simulates every request one by one, so its cost grows with the rate; 20,000
requests/s is the page's old cap, twice the highest rate the benchmarks (10,000/s) and far above
the scenarios' (hundreds/s), and low enough that a mistyped rate cannot freeze the live server.
"""

from __future__ import annotations

from ecsim.model.errors import ValidationError
from ecsim.model.verbs import faults
from ecsim.model.verbs.spec import Param, Verb

MAX_RATE = 20_000.0  # requests/s per load balancer (see above)
MAX_FAULT_DURATION = 12 * 3600.0  # AWS FIS: an experiment runs at most 12 hours
MAX_SPEED = 3600.0  # simulated seconds per wall second
MAX_ADVANCE = 24 * 3600.0  # simulated seconds one step may run at once

# --- chaos: tasks --------------------------------------------------------------------------

TASK = Param("task", "task", "Task ID, ARN or IP address.", required=True)

KILL_TASK = Verb(
    "chaos",
    "kill_task",
    "The task's essential container exits: code 1 (crash) or 137, OutOfMemoryError (oom).",
    (
        TASK,
        Param(
            "reason",
            "choice",
            "crash: exit code 1; oom: exit code 137, OutOfMemoryError.",
            default="crash",
            choices=("crash", "oom"),
        ),
    ),
    fault=True,
)
INTERRUPT_SPOT = Verb(
    "chaos",
    "interrupt_spot",
    "Fargate Spot takes the task's capacity back: the two-minute warning (TerminationNotice), "
    "SIGTERM, deregistration, and the task gone two minutes later; a service replaces it.",
    (TASK,),
    fault=True,
)
SET_APP_HEALTH = Verb(
    "chaos",
    "set_app_health",
    "The task's app starts (true) or stops (false) passing its health checks.",
    (TASK, Param("healthy", "bool", "Whether the app passes its health checks.", required=True)),
    fault=True,
)

# --- chaos: AWS FIS task faults ------------------------------------------------------------

DURATION = Param(
    "duration",
    "duration",
    "Simulated seconds the fault lasts (FIS's duration); it ends by itself.",
    default=300.0,
    lo=0,
    lo_open=True,
    hi=MAX_FAULT_DURATION,
    unit="s",
    note="FIS's limit: 12 hours",
)

STRESS_CPU = Verb(
    "chaos",
    "stress_cpu",
    "AWS FIS aws:ecs:task-cpu-stress: a stressor takes `percent` of the task's CPU for "
    "`duration` seconds (the app keeps half of what it takes, so it queues sooner).",
    (
        TASK,
        Param(
            "percent",
            "number",
            "Share of the task's CPU the stressor takes (FIS's percent).",
            default=100.0,
            lo=0,
            lo_open=True,
            hi=100,
            unit="%",
        ),
        DURATION,
    ),
    fault=True,
    action=faults.CPU_STRESS,
)
BLACKHOLE_PORT = Verb(
    "chaos",
    "blackhole_port",
    "AWS FIS aws:ecs:task-network-blackhole-port: inbound TCP to the port is dropped for "
    "`duration` seconds (the ALB's connections and health checks time out).",
    (
        TASK,
        Param(
            "port",
            "integer",
            "TCP port; default: the container's port.",
            lo=1,
            hi=65535,
            what="a TCP port",
        ),
        DURATION,
    ),
    fault=True,
    action=faults.BLACKHOLE_PORT,
)
DELAY_NETWORK = Verb(
    "chaos",
    "delay_network",
    "AWS FIS aws:ecs:task-network-latency: every answer of the task (to the ALB's requests "
    "and health checks) takes `delay` seconds more for `duration` seconds.",
    (
        TASK,
        Param(
            "delay",
            "duration",
            "Seconds added to every answer (FIS's delayMilliseconds / 1000).",
            default=0.2,
            lo=0,
            lo_open=True,
            hi=60,
            unit="s",
        ),
        DURATION,
    ),
    fault=True,
    action=faults.NETWORK_LATENCY,
)
LOSE_PACKETS = Verb(
    "chaos",
    "lose_packets",
    "AWS FIS aws:ecs:task-network-packet-loss: `percent` of the task's packets are lost for "
    "`duration` seconds; a lost answer is sent again after TCP's retransmission timeout.",
    (
        TASK,
        Param(
            "percent",
            "number",
            "Share of the task's packets lost (FIS's lossPercent).",
            default=7.0,
            lo=0,
            lo_open=True,
            hi=100,
            hi_open=True,
            unit="%",
            note="100 % is a blackhole",
        ),
        DURATION,
    ),
    fault=True,
    action=faults.PACKET_LOSS,
)
FIS_FAULTS = (STRESS_CPU, BLACKHOLE_PORT, DELAY_NETWORK, LOSE_PACKETS)

# --- chaos: the service scheduler ----------------------------------------------------------

CLUSTER = Param("cluster", "string", "Cluster name or ARN.", required=True)
SERVICE = Param("service", "string", "Service name or ARN; omitted: every service.")

CRASH_CONTROLLER = Verb(
    "chaos",
    "crash_controller",
    "The service scheduler crashes: nothing heals.",
    (CLUSTER, SERVICE),
    fault=True,
)
HANG_CONTROLLER = Verb(
    "chaos",
    "hang_controller",
    "The service scheduler hangs: alive, no progress.",
    (CLUSTER, SERVICE),
    fault=True,
)
RESTORE_CONTROLLER = Verb(
    "chaos",
    "restore_controller",
    "The service scheduler comes back and converges.",
    (CLUSTER, SERVICE),
)

# --- chaos: deployment lifecycle hooks -----------------------------------------------------

SET_HOOK_OUTCOME = Verb(
    "chaos",
    "set_hook_outcome",
    "What the service's deployment lifecycle hooks answer from now on (ecsim runs no Lambda "
    "function): SUCCEEDED, FAILED (the deployment rolls back) or TIMED_OUT (IN_PROGRESS until "
    "the hook's timeout, then its timeout action).",
    (
        CLUSTER,
        Param("service", "string", "Service name or ARN.", required=True),
        Param(
            "outcome",
            "choice",
            "The hooks' answer.",
            default="FAILED",
            choices=("SUCCEEDED", "FAILED", "TIMED_OUT"),
        ),
        Param(
            "stage",
            "choice",
            "Only the hooks of this lifecycle stage; default: every stage without its own.",
            choices=(
                "RECONCILE_SERVICE",
                "PRE_SCALE_UP",
                "POST_SCALE_UP",
                "TEST_TRAFFIC_SHIFT",
                "POST_TEST_TRAFFIC_SHIFT",
                "PRE_PRODUCTION_TRAFFIC_SHIFT",
                "PRODUCTION_TRAFFIC_SHIFT",
                "POST_PRODUCTION_TRAFFIC_SHIFT",
            ),
        ),
    ),
    fault=True,
)

# --- chaos: infrastructure -----------------------------------------------------------------

INSTANCE = Param(
    "instance",
    "string",
    "EC2 instance ID, or the ID or ARN of its container instance.",
    required=True,
)
AZ = Param("az", "string", "Availability Zone name, e.g. us-east-1a.", required=True)

FAIL_INSTANCE = Verb(
    "chaos",
    "fail_instance",
    "An EC2 instance (ID or container-instance ARN) is terminated; its tasks stop.",
    (INSTANCE,),
    fault=True,
)
DRAIN_INSTANCE = Verb(
    "chaos",
    "drain_instance",
    "The container instance of an EC2 instance (ID or container-instance ARN) is set to "
    "DRAINING (AWS FIS aws:ecs:drain-container-instances).",
    (INSTANCE,),
    fault=True,
    action="aws:ecs:drain-container-instances",
)
FAIL_AZ = Verb(
    "chaos",
    "fail_az",
    "An Availability Zone is cut off: its tasks and instances become unreachable.",
    (AZ,),
    fault=True,
)
RESTORE_AZ = Verb("chaos", "restore_az", "An Availability Zone comes back.", (AZ,))

# --- traffic -------------------------------------------------------------------------------

LOAD_BALANCER = Param(
    "load_balancer", "string", "Load balancer name, ARN or DNS name; default: the first."
)
SINCE = Param("since", "number", "Simulated seconds since the world began; default: the start.")
UNTIL = Param("until", "number", "Simulated seconds since the world began; default: now.")

SET_RATE = Verb(
    "traffic",
    "set_rate",
    "A steady client load of `rps` requests per second (Poisson arrivals).",
    (
        Param(
            "rps",
            "number",
            "Requests per second, from now on.",
            required=True,
            lo=0,
            hi=MAX_RATE,
            unit="requests/s",
        ),
        LOAD_BALANCER,
        Param("paths", "paths", "Request kinds: paths, or {path, host, weight}."),
        Param(
            "port", "integer", "Listener port; default: the first.", lo=1, hi=65535, what="a port"
        ),
    ),
    error=ValidationError,
)
RATE = Verb(
    "traffic",
    "rate",
    "The steady client load on a load balancer.",
    (LOAD_BALANCER,),
    error=ValidationError,
)
SEND = Verb(
    "traffic",
    "send",
    "One request, now, through the simulated ALB, answered with its hop-by-hop trace.",
    (
        Param("path", "path", "The request's path.", default="/"),
        Param("host", "string", "The Host header; default: none."),
        LOAD_BALANCER,
        Param(
            "port", "integer", "Listener port; default: the first.", lo=1, hi=65535, what="a port"
        ),
    ),
    error=ValidationError,
)
STATS = Verb(
    "traffic",
    "stats",
    "What the clients got over [since, until) of simulated time, counted by whole seconds: "
    "every second the window reaches into.",
    (SINCE, UNTIL, LOAD_BALANCER),
    error=ValidationError,
)

# --- time (the live world's clock) ---------------------------------------------------------

PAUSE = Verb("time", "pause", "Stop simulated time.", error=ValidationError)
RESUME = Verb("time", "resume", "Let simulated time run again.", error=ValidationError)
SPEED = Verb(
    "time",
    "speed",
    "Simulated seconds per wall second.",
    (
        Param(
            "speed",
            "number",
            "Simulated seconds per wall second.",
            required=True,
            lo=0,
            lo_open=True,
            hi=MAX_SPEED,
        ),
    ),
    error=ValidationError,
)
ADVANCE = Verb(
    "time",
    "advance",
    "Run N simulated seconds at once (paused or not).",
    (
        Param(
            "seconds",
            "duration",
            "Simulated seconds to run at once.",
            required=True,
            lo=0,
            hi=MAX_ADVANCE,
            unit="s",
        ),
    ),
    error=ValidationError,
)
RESET = Verb(
    "time",
    "reset",
    "A fresh world (same seed unless given).",
    (Param("seed", "integer", "The new world's seed; default: the same.", lo=0),),
    error=ValidationError,
)

VERBS: tuple[Verb, ...] = (
    KILL_TASK,
    INTERRUPT_SPOT,
    SET_APP_HEALTH,
    STRESS_CPU,
    BLACKHOLE_PORT,
    DELAY_NETWORK,
    LOSE_PACKETS,
    CRASH_CONTROLLER,
    HANG_CONTROLLER,
    RESTORE_CONTROLLER,
    SET_HOOK_OUTCOME,
    FAIL_INSTANCE,
    DRAIN_INSTANCE,
    FAIL_AZ,
    RESTORE_AZ,
    SET_RATE,
    RATE,
    SEND,
    STATS,
    PAUSE,
    RESUME,
    SPEED,
    ADVANCE,
    RESET,
)
_BY_DO = {v.do: v for v in VERBS}


def find(do: str) -> Verb | None:
    """The verb a scenario step names (`chaos.stress_cpu`), or None (an AWS operation)."""
    return _BY_DO.get(do)
