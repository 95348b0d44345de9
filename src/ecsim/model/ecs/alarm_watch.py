"""Deployment alarms: the CloudWatch alarms a deployment watches, as ECS watches them
(docs/behaviour.md, "Deployment alarms").

A part of the ECS backend. With `deploymentConfiguration.alarms` enabled, a deployment
watches its alarms from its start until it completes, its bake time included: one going
into ALARM fails it (rolloutState FAILED, the event `deployment failed: alarm detected.`)
and, with `rollback`, ECS rolls back to the last completed deployment, as the circuit
breaker does. An alarm already in ALARM when the deployment starts is ignored until it
leaves ALARM. A rolling deployment's bake time, once it would complete, is the longest
`Period x EvaluationPeriods` of its alarms (`bake_seconds`).

The alarms themselves are CloudWatch's: the backend reads their states through `watch`
(`AlarmStates`, set by the World) and learns of every change through `alarm_changed` (an
observer of the alarms). `fired` is what any deployment strategy asks at its checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ecsim.model.ecs import messages as msg
from ecsim.model.ecs.enums import RolloutState

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.service import Deployment, Service

ALARM = "ALARM"


class AlarmStates(Protocol):
    """CloudWatch's alarms as ECS reads them."""

    def state(self, name: str) -> str | None:
        """The alarm's state; None when there is no such alarm."""

    def bake_seconds(self, names: Sequence[str]) -> float:
        """How long a deployment watching these alarms bakes."""


class NoAlarms:
    """A world without CloudWatch: no alarm exists."""

    def state(self, name: str) -> str | None:
        return None

    def bake_seconds(self, names: Sequence[str]) -> float:
        return 0.0


class DeploymentAlarmWatch:
    def __init__(self, backend: EcsBackend) -> None:
        self.backend = backend
        self.watch: AlarmStates = NoAlarms()

    def started(self, svc: Service, d: Deployment) -> None:
        """Deployment `d` starts: the alarms in ALARM now are ignored until they leave it."""
        d.ignored_alarms = {
            n for n in svc.deployment_configuration.watched_alarms if self.watch.state(n) == ALARM
        }
        d.bake_until = None

    def fired(self, svc: Service, d: Deployment) -> list[str]:
        """The service's deployment alarms that fail `d` now: in ALARM, and not already in
        ALARM when `d` started (docs/behaviour.md, "Deployment alarms")."""
        return [
            n
            for n in svc.deployment_configuration.watched_alarms
            if n not in d.ignored_alarms and self.watch.state(n) == ALARM
        ]

    def baked(self, svc: Service, d: Deployment) -> bool:
        """Whether `d`, which would complete now, has baked: without deployment alarms at
        once; with them, a rolling deployment `bake_seconds` after it first would have (the
        scheduler is woken then); the other strategies bake in their BAKE_TIME stage."""
        names = svc.deployment_configuration.watched_alarms
        if not names or svc.deployment_configuration.strategy.shifts_traffic:
            return True  # blue/green, linear, canary: their own bake time (traffic_shift.py)
        now = self.backend.ctx.now
        if d.bake_until is None:
            d.bake_until = now + self.watch.bake_seconds(names)
        if now >= d.bake_until:
            return True
        self.backend.scheduler.poke(svc, d.bake_until - now)  # look again when it ends
        return False

    def alarm_changed(self, name: str, old: str, new: str) -> None:
        """An alarm changed state (an observer of CloudWatch's alarms): a deployment watching
        it fails if it went into ALARM; one ignoring it stops ignoring it once it left."""
        for cluster in list(self.backend.clusters.values()):
            for svc in cluster.active_services():
                if name not in svc.deployment_configuration.watched_alarms:
                    continue
                if new != ALARM:
                    for d in svc.deployments:
                        d.ignored_alarms.discard(name)
                    continue
                d = svc.primary
                if d.rollout_state is RolloutState.IN_PROGRESS and name not in d.ignored_alarms:
                    self.fail(svc, d, self.fired(svc, d))

    def fail(self, svc: Service, d: Deployment, names: list[str]) -> None:
        """The deployment fails for its alarms; with `rollback`, the last completed
        deployment is deployed again, as the circuit breaker's rollback does."""
        backend, scheduler = self.backend, self.backend.scheduler
        d.rollout_state = RolloutState.FAILED
        d.rollout_state_reason = msg.alarms_failed_reason(names)
        scheduler.deployment_changed(svc, d)
        scheduler.event(svc, msg.deployment_failed(svc.name, d.id, msg.ALARM_DETECTED))
        alarms = svc.deployment_configuration.alarms
        previous = svc.last_completed
        rolls_back = (
            alarms is not None and alarms.rollback and previous is not None and previous.id != d.id
        )
        backend.records.alarms_triggered(svc, d, names, rolls_back)
        if not rolls_back or previous is None:
            scheduler.poke(svc)
            return
        scheduler.event(svc, msg.rolling_back(svc.name, previous.id))
        backend.start_deployment(
            svc, previous.task_definition, deployment_id=previous.id, rollback=True
        )
