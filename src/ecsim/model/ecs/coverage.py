"""What `w.ecs` does with each parameter of the ECS operations it serves (model/aws/coverage.py).

Refusals are `UnsupportedFeatureException`, ECS's code for what it does not support, as for
an operation ecsim does not model and a CODE_DEPLOY deployment controller. Capacity
providers, deployment strategies and deployment alarms are modelled; Service Connect, Cloud
Map, VPC Lattice and EBS volumes are not.
"""

from __future__ import annotations

from typing import Any

from ecsim.model import errors
from ecsim.model.aws.coverage import Coverage, Member, modelled, no_effect, one_of, refused

_CLUSTER = modelled("cluster", "the cluster the call acts in (default: `default`)")
_PAGES = modelled("nextToken maxResults", "the page of the answer")
_TAGS = modelled("tags", "kept, answered with include=TAGS and ListTagsForResource")
_INCLUDE = modelled("include", "TAGS adds the tags; the other fields are always answered")
_PLACEMENT = modelled(
    "placementConstraints placementStrategy",
    'where EC2 tasks go (docs/behaviour.md, "Task placement"); refused with FARGATE',
)
_PROPAGATE = modelled(
    "propagateTags enableECSManagedTags", 'the tasks\' tags (docs/behaviour.md, "Tags")'
)
_CAPACITY = modelled(
    "capacityProviderStrategy",
    "FARGATE and FARGATE_SPOT with base and weight: each task's capacityProviderName "
    '(docs/behaviour.md, "Fargate capacity providers"); other providers are refused',
)
_VOLUMES = refused(
    "volumeConfigurations",
    "Amazon EBS volumes configured at deployment are not modelled",
    [{"name": "data", "managedEBSVolume": {"roleArn": "arn:aws:iam::123456789012:role/ebs"}}],
)
_EXEC = modelled(
    "enableExecuteCommand", "answered by DescribeServices and DescribeTasks (nothing runs)"
)
_PLATFORM = modelled(
    "platformVersion",
    "answered (LATEST resolves to 1.4.0 on the tasks); another version is refused",
)


def _early_success_passes(value: Any) -> bool:
    return not (isinstance(value, dict) and value.get("enable"))


def _service_connect_passes(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and not value.get("enabled"))


# The members of `deploymentConfiguration` and of each `loadBalancers` item.
_DEPLOYMENT: list[Member] = [
    *modelled(
        "deploymentConfiguration.maximumPercent deploymentConfiguration.minimumHealthyPercent",
        'the rolling update\'s bounds (docs/behaviour.md, "Rolling update bounds")',
    ),
    *modelled(
        "deploymentConfiguration.deploymentCircuitBreaker",
        'the circuit breaker and its rollback (docs/behaviour.md, "Deployment circuit breaker")',
    ),
    *modelled(
        "deploymentConfiguration.strategy deploymentConfiguration.bakeTimeInMinutes "
        "deploymentConfiguration.linearConfiguration deploymentConfiguration.canaryConfiguration",
        "BLUE_GREEN, LINEAR and CANARY shift production traffic by the production rule's "
        "weights, then bake (DescribeRules, DescribeServiceDeployments lifecycleStage; "
        'docs/behaviour.md, "Blue/green, linear and canary deployments")',
    ),
    *modelled(
        "deploymentConfiguration.lifecycleHooks "
        "deploymentConfiguration.lifecycleHooks[].hookTargetArn "
        "deploymentConfiguration.lifecycleHooks[].roleArn "
        "deploymentConfiguration.lifecycleHooks[].lifecycleStages "
        "deploymentConfiguration.lifecycleHooks[].hookDetails "
        "deploymentConfiguration.lifecycleHooks[].timeoutConfiguration",
        "invoked at their stages (lifecycleHookDetails); the Lambda is not run, its answer is "
        'chaos.set_hook_outcome\'s (docs/behaviour.md, "Lifecycle hooks")',
    ),
    *refused(
        "deploymentConfiguration.lifecycleHooks[].targetType",
        "PAUSE hooks wait for ContinueServiceDeployment, which ecsim does not serve",
        {
            "lifecycleHooks": [
                {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
            ]
        },
        one_of("AWS_LAMBDA"),
        "AWS_LAMBDA",
    ),
    *modelled(
        "deploymentConfiguration.alarms",
        "CloudWatch alarms that fail a deployment, and its rollback "
        '(docs/behaviour.md, "Deployment alarms")',
    ),
    *refused(
        "deploymentConfiguration.earlySuccessCriteria",
        "a rolling deployment completes when every task is healthy; early success is not modelled",
        {"earlySuccessCriteria": {"enable": True, "healthyPercent": 50}},
        _early_success_passes,
        "enable false",
    ),
]
_LOAD_BALANCERS: list[Member] = [
    *modelled(
        "loadBalancers[].targetGroupArn loadBalancers[].containerName "
        "loadBalancers[].containerPort",
        "the tasks registered in the target group (DescribeTargetHealth)",
    ),
    *refused(
        "loadBalancers[].loadBalancerName",
        "Classic Load Balancers are not modelled; give the target group's ARN",
        [{"loadBalancerName": "classic"}],
    ),
    *modelled(
        "loadBalancers[].advancedConfiguration",
        "the alternate target group green tasks register in, and the production and test "
        "listener rules whose weights a BLUE_GREEN, LINEAR or CANARY deployment shifts "
        "(roleArn answered; no IAM is checked)",
    ),
]


def _service(create: bool) -> list[Member]:
    """The members CreateService and UpdateService share."""
    return [
        *_CLUSTER,
        *modelled(
            "taskDefinition desiredCount networkConfiguration loadBalancers "
            "deploymentConfiguration healthCheckGracePeriodSeconds availabilityZoneRebalancing",
            "the service's desired state: DescribeServices, its deployments and tasks",
        ),
        *_DEPLOYMENT,
        *_LOAD_BALANCERS,
        *_PLACEMENT,
        *_PROPAGATE,
        *_EXEC,
        *_PLATFORM,
        *modelled(
            "deploymentController",
            "ECS (the rolling update); CODE_DEPLOY and EXTERNAL are refused",
        ),
        *_CAPACITY,
        *_VOLUMES,
        *refused(
            "serviceRegistries",
            "AWS Cloud Map service discovery is not modelled",
            [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}],
        ),
        *refused(
            "serviceConnectConfiguration",
            "Service Connect is not modelled",
            {"enabled": True, "namespace": "internal"},
            _service_connect_passes,
            "enabled false",
        ),
        *refused(
            "vpcLatticeConfigurations",
            "VPC Lattice is not modelled",
            [
                {
                    "roleArn": "arn:aws:iam::123456789012:role/lattice",
                    "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-1",
                    "portName": "http",
                }
            ],
        ),
        *refused(
            "gatewayConnectors",
            "gateway ingress paths are not modelled; traffic reaches the service through its load "
            "balancers",
            [{"portName": "http"}],
        ),
        *refused(
            "monitoring",
            "the service's CloudWatch metric resolution is not modelled",
            {"metricConfigurations": []},
        ),
        *(
            [
                *modelled("serviceName", "the service's name and ARN"),
                *modelled("launchType", "FARGATE or EC2: where the tasks run"),
                *modelled("role", "answered as roleArn (no IAM is checked)"),
                *modelled(
                    "clientToken",
                    "the same token again answers the service it created (idempotency)",
                ),
                *refused(
                    "schedulingStrategy",
                    "DAEMON services are not modelled",
                    "DAEMON",
                    one_of("REPLICA"),
                    "REPLICA",
                ),
                *_TAGS,
            ]
            if create
            else [
                *modelled("service", "the service updated"),
                *modelled("forceNewDeployment", "a new deployment (DescribeServices)"),
            ]
        ),
    ]


OPERATIONS: dict[str, list[Member]] = {
    "CreateCluster": [
        *modelled("clusterName", "the cluster's name and ARN"),
        *_TAGS,
        *modelled("settings", "answered by DescribeClusters (containerInsights)"),
        *refused(
            "configuration",
            "execute command and managed storage configurations are not modelled",
            {"executeCommandConfiguration": {"logging": "OVERRIDE"}},
        ),
        *modelled(
            "capacityProviders defaultCapacityProviderStrategy",
            "the Fargate providers associated with the cluster and its default strategy "
            "(DescribeClusters; used by services and tasks given no launch type)",
        ),
        *refused(
            "serviceConnectDefaults",
            "Service Connect is not modelled",
            {"namespace": "internal"},
        ),
    ],
    "DescribeClusters": [*modelled("clusters", "the clusters answered"), *_INCLUDE],
    "ListClusters": _PAGES,
    "DeleteCluster": _CLUSTER,
    "RegisterTaskDefinition": [
        *modelled("family", "the family and revision"),
        *modelled(
            "containerDefinitions",
            "kept and answered; the essential container's dockerLabels give the task's "
            "profile, its healthCheck the container health checks, portMappings the targets",
        ),
        *modelled("networkMode", "awsvpc (other modes are refused where a task would run)"),
        *modelled("requiresCompatibilities cpu memory", "the task size (Fargate's table)"),
        *modelled(
            "taskRoleArn executionRoleArn volumes pidMode ipcMode ephemeralStorage "
            "enableFaultInjection runtimePlatform",
            "answered by DescribeTaskDefinition (nothing in the simulation reads them)",
        ),
        *modelled("placementConstraints", "where the tasks may go (memberOf)"),
        *_TAGS,
        *refused(
            "runtimePlatform.operatingSystemFamily",
            "Windows tasks are not modelled (they start in minutes, not seconds)",
            {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
            one_of("LINUX"),
            "LINUX",
        ),
        *modelled("runtimePlatform.cpuArchitecture", "answered by DescribeTaskDefinition"),
        *refused(
            "proxyConfiguration",
            "App Mesh proxies are not modelled",
            {"containerName": "envoy", "type": "APPMESH"},
        ),
        *refused(
            "inferenceAccelerators",
            "Elastic Inference accelerators are not modelled",
            [{"deviceName": "device1", "deviceType": "eia2.medium"}],
        ),
        *refused(
            "trustedExecutionConfiguration",
            "trusted execution (isolation and attestation) is not modelled",
            {"isolationMode": "ENCLAVE"},
        ),
    ],
    "DescribeTaskDefinition": [*modelled("taskDefinition", "the revision answered"), *_INCLUDE],
    "ListTaskDefinitions": [
        *modelled("familyPrefix status sort", "which revisions, in which order"),
        *_PAGES,
    ],
    "DeregisterTaskDefinition": modelled(
        "taskDefinition", "the revision turns INACTIVE: no new task or service may use it"
    ),
    "CreateService": _service(create=True),
    "UpdateService": _service(create=False),
    "DeleteService": [*_CLUSTER, *modelled("service force", "the service turns DRAINING")],
    "DescribeServices": [*_CLUSTER, *modelled("services", "the services answered"), *_INCLUDE],
    "ListServices": [
        *_CLUSTER,
        *_PAGES,
        *modelled("launchType", "filters the services"),
        *refused(
            "schedulingStrategy",
            "DAEMON services are not modelled",
            "DAEMON",
            one_of("REPLICA"),
            "REPLICA",
        ),
        *refused(
            "resourceManagementType",
            "services ECS manages for you (Express Mode) are not modelled",
            "ECS",
            one_of("CUSTOMER"),
            "CUSTOMER",
        ),
    ],
    "RunTask": [
        *_CLUSTER,
        *modelled(
            "taskDefinition count launchType networkConfiguration group startedBy overrides",
            "the tasks started (DescribeTasks)",
        ),
        *_PLACEMENT,
        *_TAGS,
        *_PROPAGATE,
        *_EXEC,
        *_PLATFORM,
        *modelled("clientToken", "the same token again answers the tasks it started (idempotency)"),
        *no_effect(
            "referenceId",
            "a label for the caller's own records; no answer of ECS carries it",
        ),
        *_CAPACITY,
        *_VOLUMES,
    ],
    "StopTask": [*_CLUSTER, *modelled("task reason", "the task stops (stoppedReason)")],
    "ListTasks": [
        *_CLUSTER,
        *_PAGES,
        *modelled(
            "containerInstance family startedBy serviceName desiredStatus launchType",
            "filter the tasks",
        ),
        *refused(
            "daemonName",
            "daemons are not modelled",
            "monitoring-agent",
        ),
    ],
    "DescribeTasks": [*_CLUSTER, *modelled("tasks", "the tasks answered"), *_INCLUDE],
    "ListContainerInstances": [
        *_CLUSTER,
        *_PAGES,
        *modelled("status", "filters the instances"),
        *modelled(
            "filter",
            "filters the instances (the cluster query language of memberOf)",
        ),
    ],
    "DescribeContainerInstances": [
        *_CLUSTER,
        *modelled("containerInstances", "the instances answered"),
        *_INCLUDE,
    ],
    "UpdateContainerInstancesState": [
        *_CLUSTER,
        *modelled("containerInstances status", "ACTIVE or DRAINING (the tasks move)"),
    ],
    "TagResource": modelled("resourceArn tags", "ListTagsForResource"),
    "ListServiceDeployments": [
        *_CLUSTER,
        *_PAGES,
        *modelled("service status createdAt", "the service's deployment records answered"),
    ],
    "DescribeServiceDeployments": modelled("serviceDeploymentArns", "the records answered"),
    "DescribeServiceRevisions": modelled("serviceRevisionArns", "the revisions answered"),
    "StopServiceDeployment": modelled(
        "serviceDeploymentArn stopType", "the deployment is rolled back (ROLLBACK)"
    ),
    "UpdateCluster": [
        *_CLUSTER,
        *modelled("settings", "containerInsights, answered by DescribeClusters"),
        *refused(
            "configuration",
            "execute command and managed storage configurations are not modelled",
            {"executeCommandConfiguration": {"logging": "OVERRIDE"}},
        ),
        *refused(
            "serviceConnectDefaults", "Service Connect is not modelled", {"namespace": "internal"}
        ),
    ],
    "ListTaskDefinitionFamilies": [
        *_PAGES,
        *modelled("familyPrefix status", "the families answered"),
    ],
    "DeleteTaskDefinitions": modelled(
        "taskDefinitions", "INACTIVE revisions turn DELETE_IN_PROGRESS"
    ),
    "ListAccountSettings": [
        *_PAGES,
        *modelled("name value principalArn effectiveSettings", "the settings answered"),
    ],
    "PutAccountSetting": modelled(
        "name value principalArn",
        "stored; containerInsights is the new clusters' default; values ecsim cannot show "
        "are refused",
    ),
    "PutAccountSettingDefault": modelled("name value", "as PutAccountSetting, for the account"),
    "PutClusterCapacityProviders": [
        *_CLUSTER,
        *modelled(
            "capacityProviders defaultCapacityProviderStrategy",
            "the providers strategies may use, and the default strategy",
        ),
    ],
    "DescribeCapacityProviders": [
        *_CLUSTER,
        *_PAGES,
        *modelled("capacityProviders include", "FARGATE and FARGATE_SPOT answered"),
    ],
    "UntagResource": modelled("resourceArn tagKeys", "ListTagsForResource"),
    "ListTagsForResource": modelled("resourceArn", "the tags answered"),
}

COVERAGE = Coverage("ecs", errors.UnsupportedFeatureException, OPERATIONS)
