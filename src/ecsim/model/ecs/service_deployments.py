"""ECS service deployments: ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions and StopServiceDeployment, answered from the ECS backend's records
(`records.py`; docs/behaviour.md, "Service deployment records").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.params import Params
from ecsim.model.ecs import records as rec
from ecsim.model.ecs.enums import LaunchType, ServiceStatus
from ecsim.model.ecs.paging import ARNS, pages
from ecsim.model.ecs.records import ServiceDeploymentRecord, ServiceRevision
from ecsim.model.ecs.service import DeploymentAlarms

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.cluster import Cluster
    from ecsim.model.ecs.service import Service

DESCRIBE_MOST = 20  # "You can specify a maximum of 20 ARNs."
STOP_TYPES = ("ABORT", "ROLLBACK")  # botocore's StopServiceDeploymentStopType
_NAMES = ARNS
# "If this parameter isn't used, then ListServiceDeployments returns up to 20 results"
_PAGES = pages(100)
LIST_DEFAULT = 20


class EcsServiceDeployments:
    """The service deployment operations, for `EcsApi`."""

    ctx: SimContext
    backend: EcsBackend

    def list_service_deployments(self, **params: Any) -> dict[str, Any]:
        p = Params("ListServiceDeployments", params, errors.InvalidParameterException)
        service_ref = p.req_str("service")
        cluster_ref = p.str("cluster")
        statuses = [
            p.as_enum(s, f"status.{i + 1}.member", rec.STATUSES)
            for i, s in enumerate(p.strs("status"))
        ]
        window = p.structure("createdAt", ("before", "after"))
        after = self._instant(window, "after") if window else None
        before = self._instant(window, "before") if window else None
        page = _PAGES.read(p, default=LIST_DEFAULT)
        p.done()
        svc = self._deployed_service(cluster_ref, service_ref)
        found = [
            r
            for r in reversed(self.backend.records.kept())
            if r.service.arn == svc.arn
            and (not statuses or r.status in statuses)
            and (after is None or r.created_at >= after)
            and (before is None or r.created_at <= before)
        ]
        return page.of(found, "serviceDeployments", self._brief)

    def describe_service_deployments(self, **params: Any) -> dict[str, Any]:
        p = Params("DescribeServiceDeployments", params, errors.InvalidParameterException)
        arns = p.strs("serviceDeploymentArns", required=True, most=DESCRIBE_MOST)
        p.done()
        kept = {r.arn: r for r in self.backend.records.kept()}
        found, failures = [], []
        for arn in arns:
            record = kept.get(arn)
            if record is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(self._record_shape(record))
        return {"serviceDeployments": found, "failures": failures}

    def describe_service_revisions(self, **params: Any) -> dict[str, Any]:
        p = Params("DescribeServiceRevisions", params, errors.InvalidParameterException)
        arns = p.strs("serviceRevisionArns", required=True, most=DESCRIBE_MOST)
        p.done()
        found, failures = [], []
        for arn in arns:
            revision = self.backend.records.revisions.get(arn)
            if revision is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(self._revision_shape(revision))
        return {"serviceRevisions": found, "failures": failures}

    def stop_service_deployment(self, **params: Any) -> dict[str, Any]:
        p = Params("StopServiceDeployment", params, errors.InvalidParameterException)
        arn = p.req_str("serviceDeploymentArn")
        stop_type = p.as_enum(p.str("stopType") or "ROLLBACK", "stopType", STOP_TYPES)
        p.done()
        if stop_type == "ABORT":
            raise errors.InvalidParameterException(
                "stopType ABORT is not modelled by ecsim: the valid value is ROLLBACK "
                "(StopServiceDeployment)."
            )
        record = {r.arn: r for r in self.backend.records.kept()}.get(arn)
        if record is None:
            raise errors.ServiceDeploymentNotFoundException(
                f"The service deployment {arn} does not exist."
            )
        if record.status in (rec.STOP_REQUESTED, rec.ROLLBACK_REQUESTED, rec.ROLLBACK_IN_PROGRESS):
            return {"serviceDeploymentArn": record.arn}  # it carries on stopping
        if not record.ongoing:
            raise errors.ConflictException(
                f"The service deployment {arn} is {record.status} and can't be stopped."
            )
        svc = record.service
        previous = svc.last_completed
        if previous is None or previous.id == record.deployment_id:
            raise errors.ConflictException(
                f"The service deployment {arn} has no previous service revision to roll back to."
            )
        if svc.status is not ServiceStatus.ACTIVE:
            raise errors.ServiceNotActiveException("Service was not ACTIVE.")
        self.backend.stop_service_deployment(record)
        return {"serviceDeploymentArn": record.arn}

    # --- lookups --------------------------------------------------------------------------

    def _deployed_service(self, cluster_ref: str | None, service_ref: str) -> Service:
        name = _NAMES.name_in(cluster_ref or "default", "cluster")
        cluster: Cluster | None = self.backend.clusters.get(name)
        if cluster is None:
            raise errors.ClusterNotFoundException("Cluster not found.")
        svc = cluster.services.get(_NAMES.name_in(service_ref, "service"))
        if svc is None:
            raise errors.ServiceNotFoundException("Service not found.")
        return svc

    def _instant(self, window: Params, name: str) -> float | None:
        value = window.raw(name)
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise window.fail(
                f"Invalid type for parameter {window.at(name)}, value: {value!r}, "
                "expected a timestamp"
            )
        return self.ctx.clock.seconds(value)

    # --- answers --------------------------------------------------------------------------

    def _time(self, t: float | None) -> Any:
        return None if t is None else self.ctx.clock.at(t)

    def _brief(self, r: ServiceDeploymentRecord) -> dict[str, Any]:
        shape = {
            "serviceDeploymentArn": r.arn,
            "serviceArn": r.service.arn,
            "clusterArn": r.service.cluster.arn,
            "startedAt": self._time(r.created_at),
            "createdAt": self._time(r.created_at),
            "finishedAt": self._time(r.finished_at),
            "targetServiceRevisionArn": r.target,
            "status": r.status,
            "statusReason": r.status_reason,
        }
        return {k: v for k, v in shape.items() if v is not None}

    def _summary(self, r: ServiceDeploymentRecord, arn: str) -> dict[str, Any]:
        counts = self.backend.records.counts(r, arn)
        return {
            "arn": arn,
            "requestedTaskCount": counts.requested,
            "runningTaskCount": counts.running,
            "pendingTaskCount": counts.pending,
        }

    def _record_shape(self, r: ServiceDeploymentRecord) -> dict[str, Any]:
        cfg = r.configuration
        cb = cfg.circuit_breaker
        if not cb.enable:
            breaker = "DISABLED"
        elif r.breaker_triggered:
            breaker = "TRIGGERED"
        else:
            breaker = "MONITORING" if r.ongoing else "MONITORING_COMPLETE"
        shape: dict[str, Any] = {
            "serviceDeploymentArn": r.arn,
            "serviceArn": r.service.arn,
            "clusterArn": r.service.cluster.arn,
            "createdAt": self._time(r.created_at),
            "startedAt": self._time(r.created_at),
            "finishedAt": self._time(r.finished_at),
            "stoppedAt": self._time(r.stopped_at),
            "updatedAt": self._time(r.updated_at),
            "sourceServiceRevisions": [self._summary(r, a) for a in r.sources],
            "targetServiceRevision": self._summary(r, r.target),
            "status": r.status,
            "statusReason": r.status_reason,
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": cb.enable, "rollback": cb.rollback},
                "maximumPercent": cfg.maximum_percent,
                "minimumHealthyPercent": cfg.minimum_healthy_percent,
                **cfg.strategy.shape(),
            },
            "lifecycleStage": r.lifecycle_stage,
            "deploymentCircuitBreaker": {
                "status": breaker,
                "failureCount": self.backend.records.failure_count(r),
                "threshold": r.threshold,
            },
            "alarms": self._alarms_shape(r),
        }
        if r.hook_runs:
            shape["lifecycleHookDetails"] = [
                {
                    "hookId": run.hook_id,
                    "targetType": "AWS_LAMBDA",
                    "targetArn": run.hook.target_arn,
                    "status": run.status,
                    "expiresAt": self._time(run.expires_at),
                    "timeoutAction": run.hook.timeout_action,
                }
                for run in r.hook_runs
            ]
        if cfg.alarms is not None:
            shape["deploymentConfiguration"]["alarms"] = alarms_config(cfg.alarms)
        if r.rollback is not None:
            shape["rollback"] = {
                "reason": r.rollback.reason,
                "startedAt": self._time(r.rollback.started_at),
                "serviceRevisionArn": r.rollback.revision_arn,
            }
        return {k: v for k, v in shape.items() if v is not None}

    def _alarms_shape(self, r: ServiceDeploymentRecord) -> dict[str, Any]:
        """The deployment alarms' status (docs/behaviour.md, "Deployment alarms")."""
        if not r.alarm_names:
            return {"status": "DISABLED"}
        if r.triggered_alarms:
            status = "TRIGGERED"
        else:
            status = "MONITORING" if r.ongoing else "MONITORING_COMPLETE"
        shape: dict[str, Any] = {"status": status, "alarmNames": list(r.alarm_names)}
        if r.triggered_alarms:
            shape["triggeredAlarmNames"] = list(r.triggered_alarms)
        return shape

    def _revision_shape(self, rev: ServiceRevision) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "serviceRevisionArn": rev.arn,
            "serviceArn": rev.service_arn,
            "clusterArn": rev.cluster_arn,
            "taskDefinition": rev.task_definition,
            "launchType": rev.launch_type.value,
            "loadBalancers": [dict(lb) for lb in rev.load_balancers],
            "serviceRegistries": [],
            "networkConfiguration": rev.network_configuration,
            "containerImages": [
                {"containerName": name, "image": image} for name, image in rev.container_images
            ],
            "guardDutyEnabled": False,
            "createdAt": self._time(rev.created_at),
        }
        if rev.launch_type is LaunchType.FARGATE:
            shape["platformVersion"] = "1.4.0"
            shape["platformFamily"] = "Linux"
        return shape


def alarms_config(alarms: DeploymentAlarms) -> dict[str, Any]:
    """`deploymentConfiguration.alarms` as DescribeServices and the records answer it."""
    return {
        "alarmNames": list(alarms.alarm_names),
        "enable": alarms.enable,
        "rollback": alarms.rollback,
    }
