"""Availability Zone rebalancing of a service's tasks
(docs/behaviour.md, "Availability Zone rebalancing").

With `availabilityZoneRebalancing` ENABLED (CreateService's default; UpdateService keeps the
service's value), ECS watches a service once it is steady. When its RUNNING tasks are not
spread evenly over the Availability Zones it can place in (choice: more than one task apart,
as the default placement would never leave them), it says so, starts a task in the AZ with
the fewest, waits for it to be healthy, then stops one in the AZ with the most, until they
are even, and says that too [ECSDG:service-rebalancing, track-service-rebalancing].

Where `maximumPercent` leaves no room to start first, a task is stopped first, within
`minimumHealthyPercent`, and the scheduler's replacement goes to the AZ with the fewest.
Services whose first placement strategy is not a spread over Availability Zones (binpack,
random, spread by instance) are not rebalanced: AWS defaults them to DISABLED.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ecsim.model.ecs.cluster_query import parse
from ecsim.model.ecs.enums import ContainerInstanceStatus, LaunchType

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.service import Service
    from ecsim.model.ecs.task import Task

ENABLED, DISABLED = "ENABLED", "DISABLED"
AZ_ATTRIBUTE = "attribute:ecs.availability-zone"


def compatible(svc: Service) -> bool:
    """Whether the service's placement spreads over Availability Zones first."""
    if not svc.placement_strategy:
        return True
    first = svc.placement_strategy[0]
    return first.get("type") == "spread" and first.get("field") == AZ_ATTRIBUTE


def default_for(strategy: list[dict[str, str]]) -> str:
    """CreateService's default: ENABLED, DISABLED for services it cannot rebalance."""
    first = strategy[0] if strategy else None
    if first is None or (first.get("type") == "spread" and first.get("field") == AZ_ATTRIBUTE):
        return ENABLED
    return DISABLED


def zones(backend: EcsBackend, svc: Service, with_room: bool = False) -> list[str]:
    """The Availability Zones the service can run a task in now, in order: its subnets' with
    free addresses (Fargate), or those of the ACTIVE, connected instances that its memberOf
    constraints allow (EC2); `with_room`: only those where its task fits now (an address no
    task placed there has claimed, docs/behaviour.md, "Subnet address exhaustion")."""
    up = backend.net.azs
    if svc.launch_type is LaunchType.FARGATE:
        azs = [
            s.az
            for s in backend.subnets_of(svc.network_configuration)
            if (backend.free_addresses(s) if with_room else s.available) > 0
        ]
    else:
        td = svc.primary.task_definition
        given = list(td.extra.get("placementConstraints") or []) + list(svc.placement_constraints)
        queries = [parse(c["expression"]) for c in given if c.get("type") == "memberOf"]
        azs = [
            i.az
            for i in svc.cluster.instances.values()
            if i.status is ContainerInstanceStatus.ACTIVE
            and i.agent_connected
            and all(query(i) for query in queries)
            and (not with_room or i.fits(td.task_cpu(), td.task_memory()))
        ]
    return sorted({az for az in azs if up[az].up})


def can_even_out(counts: list[tuple[str, int]], room: list[str]) -> bool:
    """Whether a task can start in a zone with the fewest: else a step would not help."""
    fewest = min(n for _, n in counts)
    return any(n == fewest and az in room for az, n in counts)


def spread(tasks: list[Task], azs: list[str]) -> list[tuple[str, int]]:
    """How many of the tasks run in each AZ (every AZ listed, empty ones too)."""
    per_az = Counter(t.az for t in tasks)
    return [(az, per_az[az]) for az in azs]


def balanced(counts: list[tuple[str, int]]) -> bool:
    values = [n for _, n in counts]
    return not values or max(values) - min(values) <= 1
