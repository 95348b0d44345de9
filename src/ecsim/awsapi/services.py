"""The AWS services ecsim answers for, and how each is told apart on the shared `POST /`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ecsim.awsapi.errors import InvalidAction, UnknownOperationException
from ecsim.awsapi.limits import shown
from ecsim.awsapi.protocol.shapes import OperationModel, ServiceModel, service_model, snake
from ecsim.model.autoscaling.api import ApplicationAutoScalingApi
from ecsim.model.cloudwatch.api import CloudWatch
from ecsim.model.ec2.api import Ec2Api
from ecsim.model.ecs.api import EcsApi
from ecsim.model.elbv2.api import Elbv2Api
from ecsim.model.errors import AwsError
from ecsim.model.world import World


@dataclass(frozen=True)
class AwsService:
    """One AWS service: its botocore model and the model's facade that serves it."""

    name: str  # botocore's name: ecs, elbv2, ec2
    signing_name: str  # the service in a SigV4 credential scope
    facade: str  # the World attribute serving it: w.ecs, w.elbv2, w.ec2
    facade_type: type  # its class
    server_error: str  # the code of an unexpected failure (HTTP 500)
    unsupported_error: str  # the code for an operation AWS has and ecsim does not model

    @cached_property
    def model(self) -> ServiceModel:
        return service_model(self.name)

    @property
    def protocol(self) -> str:
        """The protocol the installed botocore speaks to it: its first one that ecsim reads
        (CloudWatch lists smithy-rpc-v2-cbor, json, query; botocore prefers json)."""
        protocols = self.model.metadata.get("protocols") or [self.model.protocol]
        for protocol in ("json", "query", "ec2"):
            if protocol in protocols:
                return protocol
        return str(self.model.protocol)

    @property
    def json_version(self) -> str:
        return str(self.model.metadata.get("jsonVersion", "1.1"))

    @property
    def query_compatible(self) -> bool:
        """JSON errors also carry `x-amzn-query-error: <query code>;Sender` (CloudWatch)."""
        return "awsQueryCompatible" in self.model.metadata

    @property
    def version(self) -> str:
        return str(self.model.api_version)

    @property
    def target_prefix(self) -> str:
        return str(self.model.metadata.get("targetPrefix", ""))

    @property
    def namespace(self) -> str:
        ns = str(self.model.metadata.get("xmlNamespace", ""))
        return ns if ns.endswith("/") else ns + "/"

    def operation(self, name: str) -> OperationModel:
        """botocore's model of operation `name`; an AWS error if the service has none."""
        if name not in self.model.operation_names:
            if self.protocol == "json":
                raise UnknownOperationException(
                    f"Operation {shown(name)} is not an operation of {self.model.service_id}."
                )
            raise InvalidAction(
                f"The action {shown(name)} is not valid for this web service "
                f"(API version {self.version})."
            )
        return self.model.operation_model(name)

    def method(self, world: World, operation: str) -> Any:
        """The facade method serving `operation`; an AWS error if ecsim does not model it."""
        method = getattr(getattr(world, self.facade), snake(operation), None)
        if method is None or not callable(method):
            raise AwsError(
                f"ecsim does not model the {self.model.service_id} operation {operation}.",
                code=self.unsupported_error,
            )
        return method

    def text_check(self, member: str) -> Callable[[str], None] | None:
        """The facade's own check of the text of parameter `member`, if it has one
        (`TEXT_CHECKS`: it raises the service's error for text AWS refuses)."""
        checks: dict[str, Callable[[str], None]] = getattr(self.facade_type, "TEXT_CHECKS", {})
        return checks.get(member)

    def modelled(self) -> list[str]:
        """The operations ecsim serves."""
        return [
            op
            for op in self.model.operation_names
            if callable(getattr(self.facade_type, snake(op), None))
        ]


ECS = AwsService("ecs", "ecs", "ecs", EcsApi, "ServerException", "UnsupportedFeatureException")
ELBV2 = AwsService(
    "elbv2", "elasticloadbalancing", "elbv2", Elbv2Api, "InternalFailure", "InvalidAction"
)
EC2 = AwsService("ec2", "ec2", "ec2", Ec2Api, "InternalError", "UnsupportedOperation")
CLOUDWATCH = AwsService(
    "cloudwatch", "monitoring", "cloudwatch", CloudWatch, "InternalServiceError", "InvalidAction"
)
APPLICATION_AUTOSCALING = AwsService(
    "application-autoscaling",
    "application-autoscaling",
    "application_autoscaling",
    ApplicationAutoScalingApi,
    "InternalServiceException",
    "ValidationException",
)
SERVICES = (ECS, ELBV2, EC2, CLOUDWATCH, APPLICATION_AUTOSCALING)
# CloudWatch: JSON 1.0 with query-compatible errors
JSON_SERVICES = (ECS, CLOUDWATCH, APPLICATION_AUTOSCALING)
QUERY_SERVICES = (ELBV2, EC2, CLOUDWATCH)  # CloudWatch: what older botocores send


def by_target_prefix(prefix: str) -> AwsService | None:
    for service in JSON_SERVICES:
        if service.target_prefix == prefix:
            return service
    return None


def by_version(version: str | None) -> AwsService | None:
    for service in QUERY_SERVICES:
        if service.version == version:
            return service
    return None


def by_signing_name(authorization: str | None) -> AwsService | None:
    """The service named in a SigV4 `Authorization` header's credential scope."""
    if not authorization or "Credential=" not in authorization:
        return None
    scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    if len(scope) < 4:
        return None
    for service in SERVICES:
        if service.signing_name == scope[3]:
            return service
    return None
