"""`w.ecs`: the ECS API with boto3's operation names, parameters and answer shapes.

Parameters are botocore's (ecs/2014-11-13); answers are the dicts boto3 returns, with
datetimes for timestamps. Errors are `AwsError`s with ECS's codes. Describe calls report
unknown names as `failures` with reason `MISSING`, as the waiters expect
(docs/behaviour.md, "API protocols").
`describe_services` adds one field of ecsim's own: `controllerStatus`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.idempotency import ClientTokens
from ecsim.model.aws.names import Names, tail
from ecsim.model.aws.params import Params
from ecsim.model.ecs import capacity, placement, quotas, rebalancing
from ecsim.model.ecs import strategy as shifting
from ecsim.model.ecs.account import EcsAccountSettings
from ecsim.model.ecs.backend import EcsBackend, assigns_public_ip
from ecsim.model.ecs.capacity_providers import EcsCapacity
from ecsim.model.ecs.cluster import Cluster, ContainerInstance
from ecsim.model.ecs.cluster_query import parse as parse_query
from ecsim.model.ecs.container_health import ContainerHealthCheck
from ecsim.model.ecs.coverage import COVERAGE
from ecsim.model.ecs.draining import SETTABLE
from ecsim.model.ecs.enums import (
    ContainerInstanceStatus,
    DeploymentStatus,
    DesiredStatus,
    LaunchType,
    ServiceStatus,
    TaskStatus,
)
from ecsim.model.ecs.families import EcsFamilies
from ecsim.model.ecs.paging import pages
from ecsim.model.ecs.profile import ProfileError, profile_from_labels
from ecsim.model.ecs.service import (
    CircuitBreaker,
    Deployment,
    DeploymentAlarms,
    DeploymentConfiguration,
    Service,
    ServiceUpdate,
)
from ecsim.model.ecs.service_deployments import EcsServiceDeployments, alarms_config
from ecsim.model.ecs.tagging import EcsTagging, as_list, read_propagate, read_tags
from ecsim.model.ecs.task import Task
from ecsim.model.ecs.taskdef import TaskDefinition, fargate_requires, task_size

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ec2.network import Network
    from ecsim.model.elbv2.backend import ElbBackend

# DescribeClusters `include` (botocore's ClusterField)
CLUSTER_FIELDS = ("ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}\Z")
# A name, an ID or an ARN: `...:service/cluster/name` -> `name` (an ARN of another kind is
# an invalid identifier); names have up to 255 letters, numbers, hyphens and underscores.
_NAMES = Names(
    errors.InvalidParameterException,
    rules=(
        (
            NAME.match,
            "{field} can have up to 255 letters (uppercase and lowercase), numbers, hyphens, "
            "and underscores.",
        ),
    ),
    bad_arn="Invalid identifier: {arn}",
)
# ListX pagination: `maxResults` items from `nextToken` (an offset ecsim hands out).
_PAGES = pages(100)
# Fargate platform versions: LATEST is 1.4.0 (docs/behaviour.md, "API protocols").
PLATFORM_VERSIONS = ("LATEST", "1.4.0")


class EcsApi(EcsTagging, EcsServiceDeployments, EcsAccountSettings, EcsCapacity, EcsFamilies):
    """The ECS operations of one world."""

    def __init__(self, ctx: SimContext, backend: EcsBackend, elb: ElbBackend, net: Network) -> None:
        self.ctx = ctx
        self.backend = backend
        self.elb = elb
        self.net = net
        self._tokens = ClientTokens(errors.InvalidParameterException)
        # tasks RunTask started with enableExecuteCommand (a service's tasks answer their
        # service's): DescribeTasks answers it
        self._execute_command: set[str] = set()

    # --- lookups --------------------------------------------------------------------------

    def _p(self, op: str, params: dict[str, Any]) -> Params:
        """The call's parameters, what ecsim does not model refused first (coverage.py)."""
        p = Params(op, params, errors.InvalidParameterException)
        COVERAGE.screen(p)
        return p

    def _cluster(self, ref: str | None) -> Cluster:
        name = _NAMES.name_in(ref or "default", "cluster")
        cluster = self.backend.clusters.get(name)
        if cluster is None or cluster.status != "ACTIVE":
            raise errors.ClusterNotFoundException("Cluster not found.")
        return cluster

    def _service(self, cluster: Cluster, ref: str) -> Service:
        svc = cluster.services.get(_NAMES.name_in(ref, "service"))
        if svc is None:
            raise errors.ServiceNotFoundException("Service not found.")
        return svc

    def _task(self, cluster: Cluster, ref: str) -> Task | None:
        return cluster.tasks.get(_NAMES.name_in(ref, "task"))

    def _task_definition(self, ref: str) -> TaskDefinition:
        text = (
            ref.split("task-definition/", 1)[1]
            if ref.startswith("arn:") and "task-definition/" in ref
            else ref
        )
        family, _, revision = text.partition(":")
        revisions = self.backend.task_definitions.get(family, [])
        if revision:
            found = next((td for td in revisions if str(td.revision) == revision), None)
        else:
            active = [td for td in revisions if td.status == "ACTIVE"]
            found = active[-1] if active else None
        if found is None:
            raise errors.ClientException("Unable to describe task definition.")
        return found

    def _launchable(self, ref: str) -> TaskDefinition:
        """A revision new tasks and services may use: an ACTIVE one, not a deregistered one
        (docs/behaviour.md, "Deleting task definitions")."""
        td = self._task_definition(ref)
        if td.status != "ACTIVE":
            raise errors.InvalidParameterException("TaskDefinition is inactive")
        return td

    def _time(self, t: float | None) -> Any:
        return None if t is None else self.ctx.clock.at(t)

    # --- clusters -------------------------------------------------------------------------

    def create_cluster(self, **params: Any) -> dict[str, Any]:
        p = self._p("CreateCluster", params)
        name = p.str("clusterName") or "default"
        settings = p.list("settings")
        tags = read_tags(p)
        providers = p.strs("capacityProviders")
        default_strategy = capacity.read_strategy(p, "defaultCapacityProviderStrategy") or ()
        p.done()
        capacity.check_providers(providers)
        capacity.check_associated(default_strategy, name, providers)
        _NAMES.check(name, field="clusterName")
        cluster = self.backend.clusters.get(name)
        if cluster is None or cluster.status != "ACTIVE":
            cluster = Cluster(
                self.ctx.ids.ecs_arn(f"cluster/{name}"),
                name,
                self.ctx.now,
                settings=settings,
            )
            self.backend.add_cluster(cluster, tags)
            if providers:
                self.backend.put_cluster_capacity_providers(cluster, providers, default_strategy)
        return {"cluster": self._cluster_shape(cluster, tagged=True)}

    def describe_clusters(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeClusters", params)
        refs = p.strs("clusters", most=quotas.DESCRIBE_CLUSTERS) or ["default"]
        tagged = _includes_tags(p, CLUSTER_FIELDS)
        p.done()
        found, failures = [], []
        for ref in refs:
            cluster = self.backend.clusters.get(_NAMES.name_in(ref, "cluster"))
            if cluster is None:
                failures.append({"arn": self._arn_for(ref, "cluster"), "reason": "MISSING"})
            else:
                found.append(self._cluster_shape(cluster, tagged))
        return {"clusters": found, "failures": failures}

    def list_clusters(self, **params: Any) -> dict[str, Any]:
        p = self._p("ListClusters", params)
        arns = [c.arn for c in self.backend.clusters.values() if c.status == "ACTIVE"]
        page = _PAGES.read(p)
        p.done()
        return page.of(arns, "clusterArns")

    def delete_cluster(self, **params: Any) -> dict[str, Any]:
        p = self._p("DeleteCluster", params)
        cluster = self._cluster(p.req_str("cluster"))
        p.done()
        if any(s.status != ServiceStatus.INACTIVE for s in cluster.services.values()):
            raise errors.ClusterContainsServicesException(
                "The Cluster cannot be deleted while Services are active."
            )
        if any(not t.stopped for t in cluster.tasks.values()):
            raise errors.ClusterContainsTasksException(
                "The Cluster cannot be deleted while Tasks are active."
            )
        if any(i.status in SETTABLE for i in cluster.instances.values()):
            raise errors.ClusterContainsContainerInstancesException(
                "The Cluster cannot be deleted while Container Instances are active or draining."
            )
        self.backend.deactivate_cluster(cluster)
        return {"cluster": self._cluster_shape(cluster)}

    def _cluster_shape(self, c: Cluster, tagged: bool = False) -> dict[str, Any]:
        tasks = [t for t in c.tasks.values() if not t.stopped]
        return {
            "clusterArn": c.arn,
            "clusterName": c.name,
            "status": c.status,
            "registeredContainerInstancesCount": sum(
                1 for i in c.instances.values() if i.status in SETTABLE
            ),
            "runningTasksCount": sum(1 for t in tasks if t.last_status is TaskStatus.RUNNING),
            "pendingTasksCount": sum(1 for t in tasks if t.is_starting),
            "activeServicesCount": len(c.active_services()),
            "statistics": [],
            "tags": as_list(self.backend.tags.of(c.arn)) if tagged else [],
            "settings": c.settings or [{"name": "containerInsights", "value": "disabled"}],
            "capacityProviders": list(c.capacity_providers),
            "defaultCapacityProviderStrategy": capacity.shape(c.default_strategy),
        }

    def _arn_for(self, ref: str, kind: str) -> str:
        return ref if ref.startswith("arn:") else self.ctx.ids.ecs_arn(f"{kind}/{ref}")

    # --- task definitions -----------------------------------------------------------------

    def register_task_definition(self, **params: Any) -> dict[str, Any]:
        p = self._p("RegisterTaskDefinition", params)
        family = p.req_str("family")
        containers = p.list("containerDefinitions", required=True)
        network_mode = p.str("networkMode") or "bridge"
        requires = p.strs("requiresCompatibilities")
        cpu = p.str("cpu")
        memory = p.str("memory")
        extra = {k: p.raw(k) for k in ECHOED_TASK_DEFINITION_MEMBERS if p.has(k)}
        tags = read_tags(p)
        td_constraints = placement.check_constraints(
            p.raw("placementConstraints"), task_definition=True
        )
        if td_constraints:
            extra["placementConstraints"] = td_constraints
        p.done()
        _NAMES.check(family, field="family")
        if not containers:
            raise errors.ClientException("Container list cannot be empty.")
        if len(containers) > quotas.CONTAINERS_PER_TASK_DEFINITION:
            raise errors.ClientException("Too many containers.")
        names = set()
        for i, c in enumerate(containers):
            if not isinstance(c, dict) or not c.get("name"):
                raise errors.ClientException("Container.name should not be null or empty.")
            _check_container(p, c, f"containerDefinitions[{i}]")
            if not c.get("image"):
                raise errors.ClientException("Container.image should not be null or empty.")
            if c["name"] in names:
                raise errors.ClientException(f"Duplicate container name: {c['name']}")
            names.add(c["name"])
        if "FARGATE" in requires:
            if network_mode != "awsvpc":
                raise errors.ClientException("Fargate only supports network mode 'awsvpc'.")
            if not cpu or not memory:
                raise errors.ClientException(fargate_requires("cpu" if not cpu else "memory"))
        cpu, memory = task_size(cpu, memory, "FARGATE" in requires)
        for c in containers:
            ContainerHealthCheck.parse(c.get("healthCheck"))
        essential = next((c for c in containers if c.get("essential", True)), containers[0])
        try:
            profile = profile_from_labels(dict(essential.get("dockerLabels") or {}))
        except ProfileError as e:
            raise errors.ClientException(str(e)) from None
        revisions = self.backend.task_definitions.get(family, [])
        revision = revisions[-1].revision + 1 if revisions else 1
        td = TaskDefinition(
            arn=self.ctx.ids.ecs_arn(f"task-definition/{family}:{revision}"),
            family=family,
            revision=revision,
            container_definitions=[dict(c) for c in containers],
            network_mode=network_mode,
            requires_compatibilities=requires,
            cpu=cpu,
            memory=memory,
            profile=profile,
            registered_at=self.ctx.now,
            extra=extra,
        )
        self.backend.add_task_definition(td, tags)
        return {"taskDefinition": self._td_shape(td), "tags": as_list(tags)}

    def describe_task_definition(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeTaskDefinition", params)
        td = self._task_definition(p.req_str("taskDefinition"))
        tagged = _includes_tags(p)
        p.done()
        tags = as_list(self.backend.tags.of(td.arn)) if tagged else []
        return {"taskDefinition": self._td_shape(td), "tags": tags}

    def list_task_definitions(self, **params: Any) -> dict[str, Any]:
        p = self._p("ListTaskDefinitions", params)
        prefix = p.str("familyPrefix")
        status = p.str("status") or "ACTIVE"
        reverse = p.str("sort") == "DESC"
        tds = [
            td
            for revs in self.backend.task_definitions.values()
            for td in revs
            if td.status == status and (prefix is None or td.family.startswith(prefix))
        ]
        tds.sort(key=lambda td: (td.family, td.revision), reverse=reverse)
        page = _PAGES.read(p)
        p.done()
        return page.of([td.arn for td in tds], "taskDefinitionArns")

    def deregister_task_definition(self, **params: Any) -> dict[str, Any]:
        p = self._p("DeregisterTaskDefinition", params)
        ref = p.req_str("taskDefinition")
        p.done()
        if ":" not in tail(ref):
            raise errors.ClientException(
                "The specified task definition identifier is invalid. "
                "Specify a valid name or ARN and try again."
            )
        td = self._task_definition(ref)
        self.backend.deregister_task_definition(td)
        return {"taskDefinition": self._td_shape(td)}

    def _td_shape(self, td: TaskDefinition) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "taskDefinitionArn": td.arn,
            "containerDefinitions": td.container_definitions,
            "family": td.family,
            "revision": td.revision,
            "volumes": td.extra.get("volumes", []),
            "status": td.status,
            "placementConstraints": td.extra.get("placementConstraints", []),
            "compatibilities": ["EC2", "FARGATE"] if td.network_mode == "awsvpc" else ["EC2"],
            "requiresCompatibilities": td.requires_compatibilities,
            "networkMode": td.network_mode,
            "registeredAt": self._time(td.registered_at),
            "registeredBy": f"arn:aws:iam::{self.ctx.ids.account}:root",
        }
        for key, value in (
            ("cpu", td.cpu),
            ("memory", td.memory),
            *((k, td.extra.get(k)) for k in ECHOED_TASK_DEFINITION_MEMBERS if k != "volumes"),
            ("deregisteredAt", self._time(td.deregistered_at)),
            ("deleteRequestedAt", self._time(td.delete_requested_at)),
        ):
            if value is not None:
                shape[key] = value
        return shape

    # --- services -------------------------------------------------------------------------

    def create_service(self, **params: Any) -> dict[str, Any]:
        p = self._p("CreateService", params)
        cluster = self._cluster(p.str("cluster"))
        name = p.req_str("serviceName")
        td_ref = p.str("taskDefinition")
        desired = p.int("desiredCount", lo=0)
        launch_given = p.str("launchType")
        strategy_given = capacity.of_cluster(cluster, capacity.read_strategy(p), launch_given)
        launch_type = self._launch_type(launch_given, strategy_given)
        network = p.dict("networkConfiguration")
        load_balancers = p.list("loadBalancers")
        deployment = p.dict("deploymentConfiguration")
        grace = p.int("healthCheckGracePeriodSeconds", lo=0, hi=2_147_483_647)
        strategy = placement.check_strategy(p.raw("placementStrategy"))
        constraints = placement.check_constraints(p.raw("placementConstraints"))
        az_rebalancing = _az_rebalancing(p) or rebalancing.default_for(strategy)
        self._deployment_controller(p)
        tags = read_tags(p)
        propagate = read_propagate(p) or "NONE"
        managed = bool(p.bool("enableECSManagedTags"))
        echoed = _echoed_service_members(p, True, self.ctx.ids.account)
        token = p.str("clientToken")
        p.done()
        _NAMES.check(name, field="serviceName")
        existing = cluster.services.get(name)
        made = self._tokens.recall("CreateService", token, params)
        if made is not None and existing is not None and existing.arn in made:
            return {"service": self._service_shape(existing, tagged=True)}
        if existing is not None and existing.status is not ServiceStatus.INACTIVE:
            raise errors.InvalidParameterException("Creation of service was not idempotent.")
        if td_ref is None:
            raise errors.InvalidParameterException("TaskDefinition must be specified.")
        if desired is None:
            raise errors.InvalidParameterException(
                "The desired count must be specified for a REPLICA service."
            )
        _check_desired(desired)
        td = self._launchable(td_ref)
        self._check_network(td, network, launch_type)
        placement.check_for_launch(launch_type, strategy, constraints, _td_constraints(td))
        lbs = self._check_load_balancers(td, load_balancers)
        if grace is not None and not lbs:
            raise errors.InvalidParameterException(
                "Health check grace period is only valid for services configured to use load "
                "balancers"
            )
        config = self._deployment_configuration(deployment, DeploymentConfiguration())
        shifting.check_service(config.strategy, lbs)
        svc = Service(
            arn=self.ctx.ids.ecs_arn(f"service/{cluster.name}/{name}"),
            name=name,
            cluster=cluster,
            task_definition=td,
            desired_count=desired,
            launch_type=launch_type,
            network_configuration=network,
            load_balancers=lbs,
            deployment_configuration=config,
            health_check_grace_period=grace or 0,
            created_at=self.ctx.now,
            created_by=f"arn:aws:iam::{self.ctx.ids.account}:root",
            placement_strategy=strategy,
            placement_constraints=constraints,
            az_rebalancing=az_rebalancing,
            propagate_tags=propagate,
            managed_tags=managed,
            capacity_provider_strategy=strategy_given or (),
            extra=echoed,
        )
        self.backend.add_service(svc, tags)
        self._tokens.keep("CreateService", token, params, [svc.arn])
        return {"service": self._service_shape(svc, tagged=True)}

    def update_service(self, **params: Any) -> dict[str, Any]:
        p = self._p("UpdateService", params)
        cluster = self._cluster(p.str("cluster"))
        svc = self._service(cluster, p.req_str("service"))
        desired = p.int("desiredCount", lo=0)
        td_ref = p.str("taskDefinition")
        force = bool(p.bool("forceNewDeployment"))
        deployment = p.raw("deploymentConfiguration")
        network = p.raw("networkConfiguration")
        grace = p.int("healthCheckGracePeriodSeconds", lo=0, hi=2_147_483_647)
        load_balancers = p.raw("loadBalancers")
        raw_strategy = p.raw("placementStrategy")
        raw_constraints = p.raw("placementConstraints")
        strategy = placement.check_strategy(raw_strategy)
        constraints = placement.check_constraints(raw_constraints)
        az_rebalancing = _az_rebalancing(p)  # not given: unchanged; no new deployment either
        strategy_given = capacity.read_strategy(p)
        if strategy_given is not None:
            capacity.check_associated(strategy_given, cluster.name, cluster.capacity_providers)
        if strategy_given is not None and svc.launch_type is not LaunchType.FARGATE:
            raise errors.InvalidParameterException(
                "ecsim models the Fargate capacity providers only; the service runs on EC2."
            )
        self._deployment_controller(p)
        propagate = read_propagate(p)
        managed = p.bool("enableECSManagedTags")
        echoed = _echoed_service_members(p, False, self.ctx.ids.account)
        p.done()
        if desired is not None:
            _check_desired(desired)
        if svc.status is not ServiceStatus.ACTIVE:
            raise errors.ServiceNotActiveException("Service was not ACTIVE.")
        td = self._launchable(td_ref) if td_ref else svc.task_definition
        # Not given: unchanged; given (an empty list removes them): replaced (UpdateService).
        if raw_strategy is None:
            strategy = svc.placement_strategy
        if raw_constraints is None:
            constraints = svc.placement_constraints
        placement.check_for_launch(svc.launch_type, strategy, constraints, _td_constraints(td))
        placement_changed = (
            strategy != svc.placement_strategy or constraints != svc.placement_constraints
        )
        if network is not None:
            self._check_network(td, network, svc.launch_type)
        lbs = self._check_load_balancers(td, load_balancers) if load_balancers is not None else None
        config = (
            self._deployment_configuration(deployment, svc.deployment_configuration)
            if deployment is not None
            else None
        )
        shifting.check_service(
            (config or svc.deployment_configuration).strategy,
            svc.load_balancers if lbs is None else lbs,
        )
        update = ServiceUpdate(
            task_definition=td,
            force_new_deployment=force or placement_changed,
            desired_count=desired,
            network_configuration=network,
            load_balancers=lbs,
            deployment_configuration=config,
            health_check_grace_period=grace,
            placement_strategy=strategy,
            placement_constraints=constraints,
            az_rebalancing=az_rebalancing,
            propagate_tags=propagate,
            managed_tags=managed,
            capacity_provider_strategy=strategy_given,
            echoed=echoed,
        )
        self.backend.update_service(svc, update)
        return {"service": self._service_shape(svc)}

    def delete_service(self, **params: Any) -> dict[str, Any]:
        p = self._p("DeleteService", params)
        cluster = self._cluster(p.str("cluster"))
        svc = self._service(cluster, p.req_str("service"))
        force = bool(p.bool("force"))
        p.done()
        if svc.status is ServiceStatus.INACTIVE:
            raise errors.ServiceNotActiveException("Service was not ACTIVE.")
        running = any(not t.stopped for t in svc.tasks.values())
        if not force and (svc.desired_count > 0 or running) and svc.status is ServiceStatus.ACTIVE:
            raise errors.InvalidParameterException(
                "The service cannot be stopped while it is scaled above 0."
            )
        self.backend.delete_service(svc, running)
        return {"service": self._service_shape(svc)}

    def describe_services(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeServices", params)
        cluster = self._cluster(p.str("cluster"))
        refs = p.strs("services", required=True, most=quotas.DESCRIBE_SERVICES)
        tagged = _includes_tags(p)
        p.done()
        found, failures = [], []
        for ref in refs:
            svc = cluster.services.get(_NAMES.name_in(ref, "service"))
            if svc is None:
                failures.append(
                    {"arn": self._arn_for(ref, f"service/{cluster.name}"), "reason": "MISSING"}
                )
            else:
                found.append(self._service_shape(svc, tagged))
        return {"services": found, "failures": failures}

    def list_services(self, **params: Any) -> dict[str, Any]:
        p = self._p("ListServices", params)
        cluster = self._cluster(p.str("cluster"))
        launch = p.str("launchType")
        page = _PAGES.read(p, default=10)
        p.done()
        arns = [
            s.arn
            for s in cluster.services.values()
            if s.status is ServiceStatus.ACTIVE
            and (launch is None or s.launch_type.value == launch)
        ]
        return page.of(arns, "serviceArns")

    @staticmethod
    def _deployment_controller(p: Params) -> None:
        """Only ECS's own rolling update is modelled. A service AWS would deploy through
        CodeDeploy (blue/green task sets) or an external controller would behave
        differently from what ecsim would show: refused rather than simulated wrongly."""
        kind = p.dict("deploymentController").get("type", "ECS")
        if kind not in ("ECS", "CODE_DEPLOY", "EXTERNAL"):
            raise errors.InvalidParameterException(
                f"deploymentController type must be one of ECS, CODE_DEPLOY, EXTERNAL; got {kind!r}"
            )
        if kind != "ECS":
            raise errors.UnsupportedFeatureException(
                f"The {kind} deployment controller is not modelled by ecsim: services deploy "
                "with the ECS rolling update (deploymentController type ECS)."
            )

    def _launch_type(
        self, value: str | None, strategy: capacity.Strategy | None = None
    ) -> LaunchType:
        """The launch type given (FARGATE if none); with a capacity provider strategy, whose
        providers are Fargate's, FARGATE, and no launch type may be given as well."""
        if strategy is not None and value is not None:
            raise errors.InvalidParameterException(capacity.BOTH)
        if value is None:
            return LaunchType.FARGATE
        try:
            return LaunchType(value)
        except ValueError:
            raise errors.InvalidParameterException(
                f"launchType should be one of [EC2, FARGATE], got {value!r}"
            ) from None

    def _check_network(self, td: TaskDefinition, network: dict[str, Any], lt: LaunchType) -> None:
        if lt is LaunchType.FARGATE and td.network_mode != "awsvpc":
            raise errors.InvalidParameterException(
                "Task definition does not support launch_type FARGATE."
            )
        if td.network_mode != "awsvpc":
            raise errors.InvalidParameterException(
                "ecsim models the awsvpc network mode only; register the task definition with "
                "networkMode='awsvpc'."
            )
        vpc_config = network.get("awsvpcConfiguration") if isinstance(network, dict) else None
        if not vpc_config:
            raise errors.InvalidParameterException(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified."
            )
        subnets = vpc_config.get("subnets") or []
        if not subnets:
            raise errors.InvalidParameterException("subnets can not be empty.")
        for subnet_id in subnets:
            if subnet_id not in self.net.subnets:
                raise errors.InvalidParameterException(
                    f"Error retrieving subnet information for [{subnet_id}]: The subnet ID "
                    f"'{subnet_id}' does not exist (Service: AmazonEC2; Status Code: 400; "
                    "Error Code: InvalidSubnetID.NotFound)"
                )
        for group in vpc_config.get("securityGroups") or []:
            if group not in self.net.security_groups:
                raise errors.InvalidParameterException(
                    f"Error retrieving security group information for [{group}]: The security "
                    f"group '{group}' does not exist"
                )

    def _check_load_balancers(self, td: TaskDefinition, lbs: list[Any]) -> list[dict[str, Any]]:
        if len(lbs) > quotas.TARGET_GROUPS_PER_SERVICE:
            raise errors.InvalidParameterException(
                f"loadBalancers can have at most {quotas.TARGET_GROUPS_PER_SERVICE} items."
            )
        out: list[dict[str, Any]] = []
        for lb in lbs:
            if not isinstance(lb, dict) or not lb.get("targetGroupArn"):
                raise errors.InvalidParameterException(
                    "ecsim models ALB target groups: each loadBalancers item needs targetGroupArn."
                )
            tg = self.elb.target_groups.get(lb["targetGroupArn"])
            if tg is None:
                raise errors.InvalidParameterException(
                    "Unable to assume role and validate the specified targetGroupArn. Please "
                    "verify that the ECS service role being passed has the proper permissions."
                )
            if not self.elb.in_use(tg):  # (docs/behaviour.md, "Service load balancers")
                raise errors.InvalidParameterException(
                    f"The target group with targetGroupArn {tg.arn} does not have an "
                    "associated load balancer."
                )
            if tg.target_type != "ip":
                raise errors.InvalidParameterException(
                    f"The target group {tg.arn} has target type {tg.target_type}, which is "
                    "incompatible with the awsvpc network mode specified in the task definition."
                )
            name = lb.get("containerName")
            port = lb.get("containerPort")
            container = next((c for c in td.container_definitions if c.get("name") == name), None)
            if container is None:
                raise errors.InvalidParameterException(
                    f"The container {name} does not exist in the task definition."
                )
            if port is None or td.container_port(name) != int(port):
                raise errors.InvalidParameterException(
                    f"The container {name} did not have a container port {port} defined."
                )
            item = {"targetGroupArn": tg.arn, "containerName": name, "containerPort": int(port)}
            if lb.get("advancedConfiguration") is not None:
                where = f"loadBalancers[{len(out)}].advancedConfiguration"
                advanced = shifting.read_advanced(lb["advancedConfiguration"], where)
                shifting.check_advanced(self.elb, tg, advanced, where)
                item["advancedConfiguration"] = advanced.shape()
            out.append(item)
        return out

    def _deployment_configuration(
        self, raw: dict[str, Any], current: DeploymentConfiguration
    ) -> DeploymentConfiguration:
        if not isinstance(raw, dict):
            raise errors.InvalidParameterException("deploymentConfiguration must be a structure.")
        lo = raw.get("minimumHealthyPercent", current.minimum_healthy_percent)
        hi = raw.get("maximumPercent", current.maximum_percent)
        if not isinstance(lo, int) or not isinstance(hi, int) or lo < 0 or hi < 0:
            raise errors.InvalidParameterException(
                "minimumHealthyPercent and maximumPercent must be non-negative integers."
            )
        if hi < 100 and lo >= 100:
            raise errors.InvalidParameterException(
                "maximumPercent must be greater than minimumHealthyPercent."
            )
        if lo > hi:
            raise errors.InvalidParameterException(
                f"The value for minimumHealthyPercent ({lo}) must be less than or equal to "
                f"maximumPercent ({hi})."
            )
        cb = current.circuit_breaker
        raw_cb = raw.get("deploymentCircuitBreaker")
        if raw_cb is not None:
            if not isinstance(raw_cb, dict) or "enable" not in raw_cb or "rollback" not in raw_cb:
                raise errors.InvalidParameterException(
                    "deploymentCircuitBreaker requires both enable and rollback."
                )
            threshold = raw_cb.get("thresholdConfiguration") or {}
            cb = CircuitBreaker(
                enable=bool(raw_cb["enable"]),
                rollback=bool(raw_cb["rollback"]),
                reset_on_healthy_task=bool(raw_cb.get("resetOnHealthyTask", True)),
                threshold_type=str(threshold.get("type", "BOUNDED_PERCENT")),
                threshold_value=float(threshold.get("value", 50)),
            )
            if cb.threshold_type not in ("BOUNDED_PERCENT", "UNBOUNDED_PERCENT", "COUNT"):
                raise errors.InvalidParameterException(
                    "thresholdConfiguration.type must be BOUNDED_PERCENT, UNBOUNDED_PERCENT or COUNT."
                )
        alarms = current.alarms
        raw_alarms = raw.get("alarms")
        if raw_alarms is not None:
            alarms = _deployment_alarms(raw_alarms)
        return DeploymentConfiguration(
            lo, hi, cb, strategy=shifting.read(raw, current.strategy), alarms=alarms
        )

    def _service_shape(self, svc: Service, tagged: bool = False) -> dict[str, Any]:
        cfg = svc.deployment_configuration
        cb = cfg.circuit_breaker
        s = self.ctx.settings.scheduler
        shape: dict[str, Any] = {
            "serviceArn": svc.arn,
            "serviceName": svc.name,
            "clusterArn": svc.cluster.arn,
            "loadBalancers": svc.load_balancers,
            "serviceRegistries": [],
            "status": svc.status.value,
            "desiredCount": svc.desired_count,
            "runningCount": svc.running_count(),
            "pendingCount": svc.pending_count(),
            "launchType": svc.launch_type.value,
            "capacityProviderStrategy": capacity.shape(svc.capacity_provider_strategy),
            "taskDefinition": svc.task_definition.arn,
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {
                    "enable": cb.enable,
                    "rollback": cb.rollback,
                },
                "maximumPercent": cfg.maximum_percent,
                "minimumHealthyPercent": cfg.minimum_healthy_percent,
                **cfg.strategy.shape(),
            },
            "deployments": [self._deployment_shape(svc, d) for d in svc.deployments],
            "events": [
                {"id": e["id"], "createdAt": self._time(e["createdAt"]), "message": e["message"]}
                for e in svc.events
            ],
            "createdAt": self._time(svc.created_at),
            "placementConstraints": [dict(c) for c in svc.placement_constraints],
            "placementStrategy": [dict(r) for r in svc.placement_strategy],
            "networkConfiguration": svc.network_configuration,
            "schedulingStrategy": "REPLICA",
            "deploymentController": {"type": "ECS"},
            "createdBy": svc.created_by,
            "tags": as_list(self.backend.tags.of(svc.arn)) if tagged else [],
            "enableECSManagedTags": svc.managed_tags,
            "propagateTags": svc.propagate_tags,
            "enableExecuteCommand": bool(svc.extra.get("enableExecuteCommand")),
            "availabilityZoneRebalancing": svc.az_rebalancing,
            "controllerStatus": svc.effective_controller.value,
        }
        if svc.capacity_provider_strategy:  # a strategy instead of a launch type
            del shape["launchType"]
        if "roleArn" in svc.extra:
            shape["roleArn"] = svc.extra["roleArn"]
        if svc.launch_type is LaunchType.FARGATE:
            shape["platformVersion"] = svc.extra.get("platformVersion", "LATEST")
            shape["platformFamily"] = "Linux"
        if svc.load_balancers:
            shape["healthCheckGracePeriodSeconds"] = svc.health_check_grace_period
        if cb.enable:
            shape["deploymentConfiguration"]["deploymentCircuitBreaker"].update(
                {
                    "resetOnHealthyTask": cb.reset_on_healthy_task,
                    "thresholdConfiguration": {
                        "type": cb.threshold_type,
                        "value": cb.threshold_value,
                    },
                }
            )
            shape["deploymentConfiguration"]["deploymentCircuitBreaker"]["threshold"] = (
                cb.threshold(
                    svc.desired_count,
                    s.circuit_breaker_min_threshold,
                    s.circuit_breaker_max_threshold,
                )
            )
        if cfg.alarms is not None:  # (docs/behaviour.md, "Deployment alarms")
            shape["deploymentConfiguration"]["alarms"] = alarms_config(cfg.alarms)
        return shape

    def _deployment_shape(self, svc: Service, d: Deployment) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "id": d.id,
            "status": d.status.value,
            "taskDefinition": d.task_definition.arn,
            "desiredCount": d.desired_count if d.status is DeploymentStatus.PRIMARY else 0,
            "pendingCount": svc.pending_count(d),
            "runningCount": svc.running_count(d),
            "failedTasks": d.failed_tasks,
            "createdAt": self._time(d.created_at),
            "updatedAt": self._time(d.updated_at),
            "launchType": d.launch_type.value,
            "capacityProviderStrategy": capacity.shape(d.capacity_provider_strategy),
            "networkConfiguration": d.network_configuration,
            "rolloutState": d.rollout_state.value,
            "rolloutStateReason": d.rollout_state_reason,
        }
        if d.capacity_provider_strategy:
            del shape["launchType"]
        if d.launch_type is LaunchType.FARGATE:
            shape["platformVersion"] = "1.4.0"
            shape["platformFamily"] = "Linux"
        return shape

    # --- tasks ----------------------------------------------------------------------------

    def run_task(self, **params: Any) -> dict[str, Any]:
        p = self._p("RunTask", params)
        cluster = self._cluster(p.str("cluster"))
        td = self._launchable(p.req_str("taskDefinition"))
        count = p.int("count", lo=1, hi=quotas.RUN_TASK_COUNT) or 1
        launch_given = p.str("launchType")
        strategy_given = capacity.of_cluster(cluster, capacity.read_strategy(p), launch_given)
        launch_type = self._launch_type(launch_given, strategy_given)
        network = p.dict("networkConfiguration")
        started_by = p.str("startedBy")
        group = p.str("group") or f"family:{td.family}"
        overrides = p.dict("overrides")
        strategy = placement.check_strategy(p.raw("placementStrategy"))
        constraints = placement.check_constraints(p.raw("placementConstraints"))
        tags = read_tags(p)
        propagate = read_propagate(p) or "NONE"
        if propagate == "SERVICE":
            raise errors.InvalidParameterException(
                "The SERVICE option for propagateTags is only valid for tasks started by a service."
            )
        managed = bool(p.bool("enableECSManagedTags"))
        execute = bool(p.bool("enableExecuteCommand"))
        _platform_version(p)
        token = p.str("clientToken")
        p.done()
        made = self._tokens.recall("RunTask", token, params)
        if made is not None:
            again = [cluster.tasks[arn] for arn in made if arn in cluster.tasks]
            return {"tasks": [self._task_shape(t, tagged=True) for t in again], "failures": []}
        self._check_network(td, network, launch_type)
        placement.check_for_launch(launch_type, strategy, constraints, _td_constraints(td))
        tasks: list[Task] = []
        failures: list[dict[str, Any]] = []
        peers = [t for t in cluster.tasks.values() if t.group == group and not t.stopped]
        public_ip = assigns_public_ip(network)
        for _ in range(count):
            # A subnet without a free address does not refuse the call: the task is created
            # and fails to start (docs/behaviour.md, "Subnet address exhaustion").
            where = self.backend.place(
                cluster, td, launch_type, network, peers, strategy, constraints, overcommit=True
            )
            if isinstance(where, str):
                failures.append({"reason": _placement_failure_reason(where), "detail": where})
                continue
            subnet, instance = where
            task = self.backend.new_task(
                cluster, td, subnet, group, started_by, launch_type, instance, public_ip
            )
            if execute:
                self._execute_command.add(task.arn)
            provider = (  # (docs/behaviour.md, "Fargate capacity providers")
                capacity.choose(strategy_given, (t.capacity_provider or "" for t in tasks))
                if strategy_given
                else None
            )
            self.backend.run_task(task, overrides, tags, propagate, managed, provider)
            peers.append(task)
            tasks.append(task)
        self._tokens.keep("RunTask", token, params, [t.id for t in tasks])
        return {"tasks": [self._task_shape(t, tagged=True) for t in tasks], "failures": failures}

    def stop_task(self, **params: Any) -> dict[str, Any]:
        p = self._p("StopTask", params)
        cluster = self._cluster(p.str("cluster"))
        ref = p.req_str("task")
        reason = p.str("reason") or "Task stopped by user"
        p.done()
        task = self._task(cluster, ref)
        if task is None:
            raise errors.InvalidParameterException("The referenced task was not found.")
        self.backend.stop_task(task, reason)
        return {"task": self._task_shape(task)}

    def list_tasks(self, **params: Any) -> dict[str, Any]:
        p = self._p("ListTasks", params)
        cluster = self._cluster(p.str("cluster"))
        service = p.str("serviceName")
        family = p.str("family")
        started_by = p.str("startedBy")
        desired = p.str("desiredStatus") or "RUNNING"
        instance = p.str("containerInstance")
        launch = p.str("launchType")
        page = _PAGES.read(p)
        p.done()
        if desired not in DesiredStatus.__members__:
            raise errors.InvalidParameterException(
                "desiredStatus should be one of [RUNNING, PENDING, STOPPED]."
            )
        if service is not None:
            self._service(cluster, service)
        service_name = _NAMES.name_in(service, "service") if service else None
        arns = []
        for t in cluster.tasks.values():
            if t.desired_status.value != desired:
                continue
            if service_name is not None and t.group != f"service:{service_name}":
                continue
            if family is not None and t.task_definition.family != family:
                continue
            if started_by is not None and t.started_by != started_by:
                continue
            if launch is not None and t.launch_type.value != launch:
                continue
            if instance is not None and (
                t.container_instance is None
                or _NAMES.name_in(instance, "container-instance") not in t.container_instance.arn
            ):
                continue
            arns.append(t.arn)
        return page.of(arns, "taskArns")

    def describe_tasks(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeTasks", params)
        cluster = self._cluster(p.str("cluster"))
        refs = p.strs("tasks", required=True, most=quotas.DESCRIBE_TASKS)
        tagged = _includes_tags(p)
        p.done()
        found, failures = [], []
        for ref in refs:
            task = self._task(cluster, ref)
            if task is None:
                failures.append(
                    {"arn": self._arn_for(ref, f"task/{cluster.name}"), "reason": "MISSING"}
                )
            else:
                found.append(self._task_shape(task, tagged))
        return {"tasks": found, "failures": failures}

    def _task_shape(self, t: Task, tagged: bool = False) -> dict[str, Any]:
        td = t.task_definition
        details: list[dict[str, Any]] = [{"name": "subnetId", "value": t.subnet.id}]
        if t.eni_id:
            details += [
                {"name": "networkInterfaceId", "value": t.eni_id},
                {"name": "macAddress", "value": t.mac},
                {"name": "privateIPv4Address", "value": t.ip},
            ]
        attachment_id = f"{t.id[:8]}-{t.id[8:12]}-{t.id[12:16]}-{t.id[16:20]}-{t.id[20:]}"
        containers = []
        for i, c in enumerate(t.containers):
            cd = td.container_definitions[i]
            shape: dict[str, Any] = {
                "containerArn": self.ctx.ids.ecs_arn(
                    f"container/{t.cluster_name}/{t.id}/{attachment_id[:-2]}{i:02d}"
                ),
                "taskArn": t.arn,
                "name": c.name,
                "image": c.image,
                "lastStatus": c.last_status,
                "healthStatus": c.health_status.value,
                "networkInterfaces": (
                    [{"attachmentId": attachment_id, "privateIpv4Address": t.ip}] if t.ip else []
                ),
                "cpu": str(cd.get("cpu", 0)),
            }
            if c.exit_code is not None:
                shape["exitCode"] = c.exit_code
            if c.reason is not None:
                shape["reason"] = c.reason
            if cd.get("memory") is not None:
                shape["memory"] = str(cd["memory"])
            containers.append(shape)
        shape = {
            "attachments": [
                {
                    "id": attachment_id,
                    "type": "ElasticNetworkInterface",
                    "status": t.attachment_status,
                    "details": details,
                }
            ],
            "availabilityZone": t.az,
            "clusterArn": t.cluster_arn,
            "connectivity": "CONNECTED" if t.eni_id and t.reachable else "DISCONNECTED",
            "containers": containers,
            "desiredStatus": t.desired_status.value,
            "group": t.group,
            "healthStatus": t.health_status.value,
            "lastStatus": t.last_status.value,
            "launchType": t.launch_type.value,
            "overrides": t.overrides or {"containerOverrides": []},
            "taskArn": t.arn,
            "taskDefinitionArn": td.arn,
            "version": t.version,
            "tags": as_list(self.backend.tags.of(t.arn)) if tagged else [],
            "enableExecuteCommand": (
                bool(t.service.extra.get("enableExecuteCommand"))
                if t.service is not None
                else t.arn in self._execute_command
            ),
        }
        if td.cpu:
            shape["cpu"] = td.cpu
        if td.memory:
            shape["memory"] = td.memory
        if t.launch_type is LaunchType.FARGATE:
            shape["platformVersion"] = "1.4.0"
            shape["platformFamily"] = "Linux"
        if t.container_instance is not None:
            shape["containerInstanceArn"] = t.container_instance.arn
        if t.capacity_provider is not None:
            shape["capacityProviderName"] = t.capacity_provider
        for key in ("startedBy", "stopCode", "stoppedReason"):
            value = {
                "startedBy": t.started_by,
                "stopCode": t.stop_code,
                "stoppedReason": t.stopped_reason,
            }[key]
            if value is not None:
                shape[key] = value
        shape["createdAt"] = self._time(t.times.get("createdAt", t.created_at))
        for key in (
            "connectivityAt",
            "pullStartedAt",
            "pullStoppedAt",
            "startedAt",
            "stoppingAt",
            "executionStoppedAt",
            "stoppedAt",
        ):
            if key in t.times:
                shape[key] = self._time(t.times[key])
        return shape

    # --- container instances --------------------------------------------------------------

    def list_container_instances(self, **params: Any) -> dict[str, Any]:
        p = self._p("ListContainerInstances", params)
        cluster = self._cluster(p.str("cluster"))
        status = p.str("status")
        expression = p.str("filter")
        page = _PAGES.read(p)
        p.done()
        query = parse_query(expression) if expression else None
        arns = [
            i.arn
            for i in cluster.instances.values()
            if (
                i.status == status
                or (status is None and i.status is not ContainerInstanceStatus.INACTIVE)
            )
            and (query is None or query(i))
        ]
        return page.of(arns, "containerInstanceArns")

    def describe_container_instances(self, **params: Any) -> dict[str, Any]:
        p = self._p("DescribeContainerInstances", params)
        cluster = self._cluster(p.str("cluster"))
        refs = p.strs("containerInstances", required=True, most=quotas.DESCRIBE_CONTAINER_INSTANCES)
        tagged = _includes_tags(p, ("TAGS", "CONTAINER_INSTANCE_HEALTH"))
        p.done()
        found, failures = [], []
        for ref in refs:
            inst = self._container_instance(cluster, ref)
            if inst is None:
                failures.append({"arn": ref, "reason": "MISSING"})
            else:
                shape = self._instance_shape(inst)
                if tagged:
                    shape["tags"] = as_list(self.backend.tags.of(inst.arn))
                found.append(shape)
        return {"containerInstances": found, "failures": failures}

    def update_container_instances_state(self, **params: Any) -> dict[str, Any]:
        """Set container instances ACTIVE or DRAINING (`draining.py` says what follows).

        Unknown instances are `failures` with reason MISSING; an INACTIVE (terminated) one
        is a failure with reason INACTIVE (ecsim's choice: AWS only says "an error will be
        received")."""
        p = self._p("UpdateContainerInstancesState", params)
        cluster = self._cluster(p.str("cluster"))
        refs = p.strs("containerInstances", required=True)
        status = p.req_str("status")
        p.done()
        if status not in SETTABLE:
            raise errors.InvalidParameterException(
                "Container instance status should be one of [ACTIVE, DRAINING]"
            )
        if not refs:
            raise errors.InvalidParameterException("containerInstances can not be empty.")
        if len(refs) > quotas.UPDATE_CONTAINER_INSTANCES:
            raise errors.InvalidParameterException(
                f"containerInstances can have at most {quotas.UPDATE_CONTAINER_INSTANCES} items."
            )
        found, failures = [], []
        for ref in refs:
            inst = self._container_instance(cluster, ref)
            arn = inst.arn if inst else self._arn_for(ref, f"container-instance/{cluster.name}")
            if inst is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            elif inst.status not in SETTABLE:
                failures.append(
                    {
                        "arn": arn,
                        "reason": inst.status.value,
                        "detail": "Only an ACTIVE or DRAINING container instance can change "
                        "status.",
                    }
                )
            else:
                self.backend.draining.set_status(cluster, inst, ContainerInstanceStatus(status))
                found.append(self._instance_shape(inst))
        return {"containerInstances": found, "failures": failures}

    def _container_instance(self, cluster: Cluster, ref: str) -> ContainerInstance | None:
        """A container instance of the cluster by ID or ARN."""
        return next(
            (i for i in cluster.instances.values() if i.arn == ref or i.arn.endswith("/" + ref)),
            None,
        )

    def _instance_shape(self, i: ContainerInstance) -> dict[str, Any]:
        def resources(cpu: int, memory: int) -> list[dict[str, Any]]:
            return [
                {"name": "CPU", "type": "INTEGER", "integerValue": cpu},
                {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
            ]

        tasks = [
            self.backend.clusters[_NAMES.name_in(i.cluster_arn, "cluster")].tasks.get(t)
            for t in i.tasks
        ]
        return {
            "containerInstanceArn": i.arn,
            "ec2InstanceId": i.instance_id,
            "version": 1,
            "status": i.status.value,
            "agentConnected": i.agent_connected,
            "runningTasksCount": sum(1 for t in tasks if t and t.last_status is TaskStatus.RUNNING),
            "pendingTasksCount": sum(1 for t in tasks if t and t.is_starting),
            "registeredResources": resources(i.cpu, i.memory),
            "remainingResources": resources(i.cpu - i.used_cpu, i.memory - i.used_memory),
            "registeredAt": self._time(i.registered_at),
            "attributes": [
                {"name": "ecs.availability-zone", "value": i.az},
                {"name": "ecs.instance-type", "value": i.instance_type},
            ],
        }


# Members of RegisterTaskDefinition kept as given and answered by DescribeTaskDefinition.
ECHOED_TASK_DEFINITION_MEMBERS = (
    "executionRoleArn",
    "taskRoleArn",
    "volumes",
    "pidMode",
    "ipcMode",
    "ephemeralStorage",
    "enableFaultInjection",
    "runtimePlatform",
)


def _platform_version(p: Params) -> str | None:
    """`platformVersion`: the Fargate platform version ecsim models, 1.4.0 (LATEST)."""
    value = p.str("platformVersion")
    if value is not None and value not in PLATFORM_VERSIONS:
        raise errors.UnsupportedFeatureException(
            f"ecsim models the Fargate platform version 1.4.0 (LATEST); platformVersion "
            f"{value!r} is not modelled."
        )
    return value


def _echoed_service_members(p: Params, create: bool, account: str) -> dict[str, Any]:
    """The members CreateService and UpdateService keep and DescribeServices answers back
    (coverage.py): `platformVersion`, `enableExecuteCommand`, and `role` as `roleArn`.
    UpdateService changes only those it is given."""
    echoed: dict[str, Any] = {}
    version = _platform_version(p)
    if version is not None or create:
        echoed["platformVersion"] = version or "LATEST"
    execute = p.bool("enableExecuteCommand")
    if execute is not None or create:
        echoed["enableExecuteCommand"] = bool(execute)
    if create:
        role = p.str("role")
        if role:
            echoed["roleArn"] = (
                role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}"
            )
    return echoed


def _td_constraints(td: TaskDefinition) -> list[dict[str, str]]:
    return list(td.extra.get("placementConstraints") or [])


def _placement_failure_reason(why: str) -> str:
    """RunTask's `failures[].reason` for a task that could not be placed: `RESOURCE:CPU`,
    `RESOURCE:MEMORY`, or the unsatisfied constraint (`MemberOf placement constraint
    unsatisfied.`, as the console shows RunTask's reasons; OBS)."""
    constraint = re.search(r'error "(\w+ placement constraint unsatisfied)"', why)
    if constraint:
        return constraint.group(1) + "."
    if "CPU" in why:
        return "RESOURCE:CPU"
    if "memory" in why:
        return "RESOURCE:MEMORY"
    return "MISSING"


def _deployment_alarms(raw: object) -> DeploymentAlarms:
    """`deploymentConfiguration.alarms`: alarmNames, enable and rollback, all three required
    (botocore's DeploymentAlarms). Names of alarms that do not exist are taken: a service is
    often created before its alarms, which name it (docs/behaviour.md, "Deployment alarms")."""
    where = "deploymentConfiguration.alarms"
    top = Params("deploymentConfiguration", {}, errors.InvalidParameterException)
    a = top.as_structure(raw, where, ("alarmNames", "enable", "rollback"))
    names = a.as_strings(a.raw("alarmNames", required=True), f"{where}.alarmNames")
    enable, rollback = a.bool("enable"), a.bool("rollback")
    if enable is None:
        raise a.missing("enable")
    if rollback is None:
        raise a.missing("rollback")
    return DeploymentAlarms(tuple(dict.fromkeys(names)), enable, rollback)


def _az_rebalancing(p: Params) -> str | None:
    """`availabilityZoneRebalancing`: ENABLED or DISABLED (rebalancing.py)."""
    value = p.str("availabilityZoneRebalancing")
    if value is not None and value not in (rebalancing.ENABLED, rebalancing.DISABLED):
        raise errors.InvalidParameterException(
            f"availabilityZoneRebalancing must be ENABLED or DISABLED, got {value!r}."
        )
    return value


def _check_desired(desired: int) -> None:
    """A desired count within ECS's tasks per service quota: "If you attempt to exceed the
    quota for a resource, the request fails" (docs/behaviour.md, "ECS quotas")."""
    if desired > quotas.TASKS_PER_SERVICE:
        raise errors.InvalidParameterException(
            f"The desired count ({desired}) exceeds the maximum number of tasks per service "
            f"({quotas.TASKS_PER_SERVICE})."
        )


def _check_container(p: Params, c: dict[str, Any], where: str) -> None:
    """A container definition's name (AWS: up to 255 letters, numbers, hyphens and
    underscores) and its integer resources (botocore's types)."""
    name = c["name"]
    if not isinstance(name, str):
        raise p.fail(f"Invalid type for parameter {where}.name, value: {name!r}, expected a string")
    if len(name) > quotas.CONTAINER_NAME_LENGTH:
        raise errors.ClientException(
            f"Container.name can be at most {quotas.CONTAINER_NAME_LENGTH} characters."
        )
    if not quotas.CONTAINER_NAME.fullmatch(name):
        raise errors.ClientException("Container.name contains invalid characters.")
    for key in ("cpu", "memory", "memoryReservation"):
        value = c.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise p.fail(
                f"Invalid type for parameter {where}.{key}, value: {value!r}, expected an integer"
            )


def _includes_tags(p: Params, allowed: tuple[str, ...] = ("TAGS",)) -> bool:
    """Whether a Describe call's `include` asks for the tags (docs/behaviour.md, "Tags"); its
    other values are those the operation knows (`allowed`), whose fields ecsim answers
    whether asked for or not."""
    return "TAGS" in [p.as_enum(v, "include", allowed) for v in p.strs("include")]
