"""ECS service event messages, in AWS's own formats (docs/behaviour.md, "Service events")."""

from __future__ import annotations


def _tasks(ids: list[str]) -> str:
    return " ".join(f"(task {i})" for i in ids)


def started(service: str, ids: list[str], replaced_unhealthy: int = 0) -> str:
    text = f"(service {service}) has started {len(ids)} tasks: {_tasks(ids)}."
    if replaced_unhealthy:
        text += f" Amazon ECS replaced {replaced_unhealthy} tasks due to an unhealthy status."
    return text


def stopped(service: str, ids: list[str]) -> str:
    return f"(service {service}) has stopped {len(ids)} running tasks: {_tasks(ids)}."


def registered(service: str, n: int, tg_arn: str) -> str:
    return f"(service {service}) registered {n} targets in (target-group {tg_arn})"


def deregistered(service: str, n: int, tg_arn: str) -> str:
    return f"(service {service}) deregistered {n} targets in (target-group {tg_arn})"


def draining(service: str, deployment_id: str, n: int) -> str:
    return (
        f"(service {service}, taskSet {deployment_id}) has begun draining connections on {n} tasks."
    )


def steady_state(service: str) -> str:
    return f"(service {service}) has reached a steady state."


def deployment_completed(service: str, deployment_id: str) -> str:
    return f"(service {service}) (deployment {deployment_id}) deployment completed."


def deployment_failed(service: str, deployment_id: str, why: str) -> str:
    return f"(service {service}) (deployment {deployment_id}) deployment failed: {why}."


def rolling_back(service: str, deployment_id: str) -> str:
    return f"(service {service}) rolling back to deployment {deployment_id}."


def unhealthy_target(service: str, task_id: str, port: int, tg_arn: str, reason: str) -> str:
    return (
        f"(service {service}) (task {task_id}) (port {port}) is unhealthy in "
        f"(target-group {tg_arn}) due to (reason {reason})."
    )


def failed_container_checks(service: str, task_id: str) -> str:
    return f"(service {service}) (task {task_id}) failed container health checks."


CONTAINER_FAILED_REASON = "Task failed container health checks"


def unable_to_place(service: str, reason: str) -> str:
    return f"(service {service}) was unable to place a task. Reason: {reason}."


def no_free_address(subnet_id: str, public_ip: bool) -> str:
    """The `stoppedReason` of a task whose subnet has no free address left for its network
    interface (stop code `TaskFailedToStart`), and the reason of the service's placement
    event when none of its subnets has one (docs/behaviour.md, "Subnet address exhaustion")."""
    public = " with public IP assignment enabled" if public_ip else ""
    return (
        f"Unexpected EC2 error while attempting to Create Network Interface{public} in subnet "
        f"'{subnet_id}': InsufficientFreeAddressesInSubnet"
    )


def no_instance_fits(service: str, detail: str) -> str:
    return (
        f"(service {service}) was unable to place a task because no container instance met "
        f"all of its requirements. {detail} For more information, see the Troubleshooting "
        "section of the Amazon ECS Developer Guide."
    )


def start_impaired(service: str) -> str:
    return f"(service {service}) is unable to consistently start tasks successfully."


def deployment_blocked(service: str) -> str:
    return (
        f"(service {service}) was unable to stop or start tasks during a deployment because "
        "of the service deployment configuration. Update the minimumHealthyPercent or "
        "maximumPercent value and try again."
    )


def scaling_reason(deployment_id: str) -> str:
    """Task `stoppedReason` for scale-in and rollout stops."""
    return f"Scaling activity initiated by (deployment {deployment_id})"


def elb_failed_reason(tg_arn: str) -> str:
    """Task `stoppedReason` when the scheduler replaces a task that failed ELB health checks."""
    return f"Task failed ELB health checks in (target-group {tg_arn})"


def drained_reason(service: str) -> str:
    """Task `stoppedReason` when the scheduler moves a task off a DRAINING container instance.

    Public EventBridge filters match `*container instance is in DRAINING state*` (OBS); the
    `Service <name>: ` before it is ecsim's choice
    (docs/behaviour.md, "Container instance draining")."""
    return f"Service {service}: container instance is in DRAINING state"


def _az_counts(counts: list[tuple[str, int]], every: bool) -> str:
    """`2 tasks in us-east-1a, 1 in us-east-1b, and 0 in us-east-1c` (`tasks` after each
    number when `every`), as the rebalancing events list them."""
    parts = [
        f"{n} tasks in {az}" if i == 0 or every else f"{n} in {az}"
        for i, (az, n) in enumerate(counts)
    ]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def not_az_balanced(service: str, counts: list[tuple[str, int]]) -> str:
    return (
        f"service ({service}) is not AZ balanced with {_az_counts(counts, False)}. "
        "AZ Rebalancing in progress."
    )


def az_balanced(service: str, counts: list[tuple[str, int]]) -> str:
    return f"service ({service}) is AZ balanced with {_az_counts(counts, True)}."


def rebalance_started(service: str, az: str, ids: list[str]) -> str:
    return f"{service} has started {len(ids)} tasks in {az} to AZ Rebalance: {_tasks(ids)}."


def rebalance_stopped(service: str, az: str, ids: list[str]) -> str:
    return (
        f"{service} has stopped {len(ids)} running tasks in {az} due to AZ rebalancing: "
        f"{_tasks(ids)}."
    )


# Blue/green, linear and canary deployments: AWS documents no wording for these events or
# reasons; ecsim's own (docs/behaviour.md, "Blue/green, linear and canary deployments").


def lifecycle_stage(service: str, deployment_id: str, stage: str) -> str:
    return f"(service {service}) (deployment {deployment_id}) entered lifecycle stage {stage}."


def hook_failed(stage: str) -> str:
    return f"Lifecycle hook failed at stage {stage}."


def hook_timed_out(stage: str) -> str:
    return f"Lifecycle hook timed out at stage {stage}."


# Deployment alarms (docs/behaviour.md, "Deployment alarms"): the service event reuses the
# circuit breaker's "deployment failed: <why>."; the rolloutStateReason is ecsim's own (AWS
# documents none).
ALARM_DETECTED = "alarm detected"


def alarms_failed_reason(names: list[str]) -> str:
    return f"ECS deployment alarms detected: {', '.join(names)} in ALARM state."
