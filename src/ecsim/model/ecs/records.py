"""Service deployment records and service revisions: the history of every deployment the
model runs, as ListServiceDeployments, DescribeServiceDeployments and
DescribeServiceRevisions answer it (docs/behaviour.md, "Service deployment records").

A part of the ECS backend, its one writer: the backend tells it when a deployment starts
(`started`), completes (`completed`), trips the circuit breaker (`failed`), is stopped by
StopServiceDeployment (`rollback_requested`) or ends with its service (`service_inactive`).
A rolling back deployment is not a record of its own: its record goes ROLLBACK_IN_PROGRESS,
then ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED, as AWS shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsim.model.ecs.enums import DeploymentStatus, LaunchType

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.service import Deployment, DeploymentConfiguration, Service

# Kept 90 days from their creation ("You can see the most recent 90-day history").
RETENTION = 90 * 86_400.0
# botocore's ServiceDeploymentStatus, and the stages AWS groups them in.
PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
SUCCESSFUL = "SUCCESSFUL"
STOPPED = "STOPPED"
STOP_REQUESTED = "STOP_REQUESTED"
ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
ROLLBACK_FAILED = "ROLLBACK_FAILED"
STATUSES = (
    PENDING,
    SUCCESSFUL,
    STOPPED,
    STOP_REQUESTED,
    IN_PROGRESS,
    ROLLBACK_REQUESTED,
    ROLLBACK_IN_PROGRESS,
    ROLLBACK_SUCCESSFUL,
    ROLLBACK_FAILED,
)
ONGOING = (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS)
# statusReason and rollback.reason where AWS documents no wording (ecsim's own)
SUPERSEDED = "Stopped: a newer service deployment started."
SERVICE_DELETED = "Stopped: the service was deleted."
USER_ROLLBACK = "Rollback requested by StopServiceDeployment."
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


@dataclass(frozen=True)
class ServiceRevision:
    """What one deployment deploys: the service's task definition, launch type, network and
    load balancers at its start. Its ID is the deployment's (`ecs-svc/<digits>`), so a
    rollback, which redeploys a deployment under its own ID, redeploys its revision."""

    arn: str
    service_arn: str
    cluster_arn: str
    deployment_id: str
    task_definition: str
    container_images: tuple[tuple[str, str], ...]
    launch_type: LaunchType
    network_configuration: dict[str, Any]
    load_balancers: tuple[dict[str, Any], ...]
    created_at: float


@dataclass
class Counts:
    requested: int = 0
    running: int = 0
    pending: int = 0


@dataclass
class Rollback:
    reason: str
    started_at: float
    revision_arn: str
    deployment_id: str


@dataclass
class ServiceDeploymentRecord:
    """One service deployment, from its start to its end."""

    arn: str
    service: Service
    deployment_id: str
    created_at: float
    sources: list[str]  # revision ARNs
    target: str
    configuration: DeploymentConfiguration
    threshold: int
    status: str = IN_PROGRESS
    status_reason: str | None = None
    updated_at: float = 0.0
    finished_at: float | None = None
    stopped_at: float | None = None
    rollback: Rollback | None = None
    rollback_reason: str | None = None  # a rollback asked for, about to start
    breaker_triggered: bool = False
    failure_count: int = 0
    # the deployment alarms it watched, and those that failed it (docs/behaviour.md,
    # "Deployment alarms")
    alarm_names: tuple[str, ...] = ()
    triggered_alarms: tuple[str, ...] = ()
    # the revisions' task counts when the record ended (live counts while it runs)
    final_counts: dict[str, Counts] = field(default_factory=dict)
    # blue/green, linear and canary: the lifecycle stage reached, and the hooks invoked
    # (traffic_shift.HookRun) (docs/behaviour.md, "Blue/green, linear and canary deployments")
    lifecycle_stage: str | None = None
    hook_runs: list[Any] = field(default_factory=list)

    @property
    def ongoing(self) -> bool:
        return self.status in ONGOING


class DeploymentRecords:
    """The records and revisions of every service, by ARN (ECS backend state)."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        # A stream of its own: worlds draw the same task and deployment IDs as before.
        self._rng = ctx.streams.scalar("service-deployments")
        self.records: dict[str, ServiceDeploymentRecord] = {}
        self.revisions: dict[str, ServiceRevision] = {}
        self._current: dict[str, ServiceDeploymentRecord] = {}  # by service ARN

    # --- reading --------------------------------------------------------------------------

    def kept(self) -> list[ServiceDeploymentRecord]:
        """Every record within the retention, oldest first."""
        since = self.ctx.now - RETENTION
        return [r for r in self.records.values() if r.created_at >= since]

    def current(self, svc: Service) -> ServiceDeploymentRecord | None:
        return self._current.get(svc.arn)

    def counts(self, record: ServiceDeploymentRecord, revision_arn: str) -> Counts:
        """requested, running and pending tasks of a revision in this deployment."""
        if not record.ongoing:
            return record.final_counts.get(revision_arn, Counts())
        return _live_counts(record.service, self.revisions[revision_arn].deployment_id)

    def failure_count(self, record: ServiceDeploymentRecord) -> int:
        if record.ongoing:
            d = record.service.deployment(record.deployment_id)
            if d is not None:
                return d.failed_tasks
        return record.failure_count

    # --- writing (the ECS backend) ----------------------------------------------------------

    def started(self, svc: Service, d: Deployment, rollback: bool) -> None:
        """Deployment `d` of `svc` starts. A rollback the current record asked for moves it
        to ROLLBACK_IN_PROGRESS; any other start is a new record (IN_PROGRESS), and stops
        the record it supersedes."""
        now = self.ctx.now
        record = self._current.get(svc.arn)
        if rollback and record is not None and record.rollback_reason is not None:
            record.status = ROLLBACK_IN_PROGRESS
            record.rollback = Rollback(
                record.rollback_reason, now, self._revision(svc, d).arn, d.id
            )
            record.rollback_reason = None
            record.updated_at = now
            return
        if record is not None:
            self._end(record, STOPPED, SUPERSEDED, stopped=True)
        self._prune()
        sources = [self._revision(svc, old).arn for old in svc.deployments if old is not d]
        s = self.ctx.settings.scheduler
        threshold = svc.deployment_configuration.circuit_breaker.threshold(
            svc.desired_count, s.circuit_breaker_min_threshold, s.circuit_breaker_max_threshold
        )
        record = ServiceDeploymentRecord(
            arn=self.ctx.ids.ecs_arn(
                f"service-deployment/{svc.cluster.name}/{svc.name}/{self._token()}"
            ),
            service=svc,
            deployment_id=d.id,
            created_at=now,
            sources=list(dict.fromkeys(sources)),
            target=self._revision(svc, d).arn,
            configuration=svc.deployment_configuration,
            threshold=threshold,
            updated_at=now,
            alarm_names=svc.deployment_configuration.watched_alarms,
        )
        self.records[record.arn] = record
        self._current[svc.arn] = record

    def completed(self, svc: Service, d: Deployment) -> None:
        """The primary deployment `d` completed: its record SUCCESSFUL, or, if `d` is the
        rollback, ROLLBACK_SUCCESSFUL."""
        record = self._current.get(svc.arn)
        if record is None:
            return
        if record.status == IN_PROGRESS and d.id == record.deployment_id:
            self._end(record, SUCCESSFUL, None)
        elif record.rollback is not None and d.id == record.rollback.deployment_id:
            self._end(record, ROLLBACK_SUCCESSFUL, record.status_reason)

    def failed(self, svc: Service, d: Deployment, rolls_back: bool) -> None:
        """The circuit breaker tripped on `d`: its record waits for the rollback
        (ROLLBACK_REQUESTED) or is STOPPED; a rollback that fails is ROLLBACK_FAILED."""
        record = self._current.get(svc.arn)
        if record is None:
            return
        if record.status == IN_PROGRESS and d.id == record.deployment_id:
            record.breaker_triggered = True
            record.failure_count = d.failed_tasks
        self._failed(record, d, rolls_back)

    def alarms_triggered(
        self, svc: Service, d: Deployment, names: list[str], rolls_back: bool
    ) -> None:
        """Deployment alarms failed `d`: as `failed`, the alarms named as triggered."""
        record = self._current.get(svc.arn)
        if record is None:
            return
        record.triggered_alarms = tuple(dict.fromkeys([*record.triggered_alarms, *names]))
        self._failed(record, d, rolls_back)

    def _failed(self, record: ServiceDeploymentRecord, d: Deployment, rolls_back: bool) -> None:
        reason = d.rollout_state_reason
        if record.status == IN_PROGRESS and d.id == record.deployment_id:
            record.status_reason = reason
            if rolls_back:
                record.status = ROLLBACK_REQUESTED
                record.rollback_reason = reason
                record.updated_at = self.ctx.now
            else:
                self._end(record, STOPPED, reason, stopped=True)
        elif record.rollback is not None and d.id == record.rollback.deployment_id:
            self._end(record, ROLLBACK_FAILED, reason)

    def rollback_requested(
        self, record: ServiceDeploymentRecord, reason: str = USER_ROLLBACK
    ) -> None:
        """StopServiceDeployment (ROLLBACK), a failed lifecycle hook or a deployment alarm:
        the rollback the backend starts next is this record's."""
        record.status = ROLLBACK_REQUESTED
        record.status_reason = reason
        record.rollback_reason = reason
        record.updated_at = self.ctx.now

    def stage(self, svc: Service, stage: str) -> None:
        """The service's traffic-shifting deployment entered a lifecycle stage."""
        record = self._current.get(svc.arn)
        if record is not None and record.status == IN_PROGRESS:
            record.lifecycle_stage = stage
            record.updated_at = self.ctx.now

    def hooks(self, svc: Service, runs: list[Any]) -> None:
        """The lifecycle hooks the deployment invoked so far (their statuses live)."""
        record = self._current.get(svc.arn)
        if record is not None and record.status == IN_PROGRESS:
            record.hook_runs = runs

    def service_inactive(self, svc: Service) -> None:
        record = self._current.get(svc.arn)
        if record is not None:
            self._end(record, STOPPED, SERVICE_DELETED, stopped=True)

    # --- parts ----------------------------------------------------------------------------

    def _end(
        self,
        record: ServiceDeploymentRecord,
        status: str,
        reason: str | None,
        stopped: bool = False,
    ) -> None:
        now = self.ctx.now
        record.final_counts = {
            arn: _live_counts(record.service, self.revisions[arn].deployment_id)
            for arn in [*record.sources, record.target]
        }
        d = record.service.deployment(record.deployment_id)
        if d is not None and not record.breaker_triggered:
            record.failure_count = d.failed_tasks
        record.status = status
        record.status_reason = reason
        record.updated_at = now
        record.rollback_reason = None
        if stopped:
            record.stopped_at = now
        else:
            record.finished_at = now
        if self._current.get(record.service.arn) is record:
            del self._current[record.service.arn]

    def _revision(self, svc: Service, d: Deployment) -> ServiceRevision:
        """The revision deployment `d` deploys, made when its ID is first deployed."""
        arn = self.ctx.ids.ecs_arn(
            f"service-revision/{svc.cluster.name}/{svc.name}/{d.id.rsplit('/', 1)[-1]}"
        )
        revision = self.revisions.get(arn)
        if revision is None or revision.service_arn != svc.arn:
            revision = ServiceRevision(
                arn=arn,
                service_arn=svc.arn,
                cluster_arn=svc.cluster.arn,
                deployment_id=d.id,
                task_definition=d.task_definition.arn,
                container_images=tuple(
                    (str(c.get("name", "")), str(c.get("image", "")))
                    for c in d.task_definition.container_definitions
                ),
                launch_type=d.launch_type,
                network_configuration=d.network_configuration,
                load_balancers=tuple(dict(lb) for lb in svc.load_balancers),
                created_at=d.created_at,
            )
            self.revisions[arn] = revision
        return revision

    def _prune(self) -> None:
        """Forget the records past the retention, and the revisions no record names."""
        since = self.ctx.now - RETENTION
        old = [a for a, r in self.records.items() if r.created_at < since and not r.ongoing]
        if not old:
            return
        for arn in old:
            del self.records[arn]
        named = {a for r in self.records.values() for a in (*r.sources, r.target)}
        named |= {r.rollback.revision_arn for r in self.records.values() if r.rollback}
        for arn in [a for a in self.revisions if a not in named]:
            del self.revisions[arn]

    def _token(self) -> str:
        return "".join(self._rng.choice(_ID_CHARS) for _ in range(21))


def _live_counts(svc: Service, deployment_id: str) -> Counts:
    d = svc.deployment(deployment_id)
    if d is None:
        return Counts()
    requested = d.desired_count if d.status is DeploymentStatus.PRIMARY else 0
    return Counts(requested, svc.running_count(d), svc.pending_count(d))
