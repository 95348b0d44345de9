"""AWS errors raised by the model, carrying AWS's own error codes and messages.

Each error knows its code (the `__type` of the ECS JSON protocol, the `Code` of the ELBv2
query protocol), its message and its HTTP status, so an adapter can answer as AWS does and a
Python caller can catch it by class or by `code`. `response` mirrors botocore's `ClientError`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AwsError(Exception):
    """An error AWS would return. Subclasses fix the code; `AwsError(code=...)` makes any other."""

    code: ClassVar[str] = "ServiceException"
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        if status is not None:
            self.status = status  # type: ignore[misc]

    @property
    def sender_fault(self) -> bool:
        return self.status < 500

    @property
    def response(self) -> dict[str, Any]:
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _error(code: str, status: int = 400) -> type[AwsError]:
    return type(code, (AwsError,), {"code": code, "status": status, "__doc__": f"AWS `{code}`."})


# ECS (botocore ecs/2014-11-13 per-operation `errors`)
ClientException = _error("ClientException")
InvalidParameterException = _error("InvalidParameterException")
ServerException = _error("ServerException", 500)
ClusterNotFoundException = _error("ClusterNotFoundException")
ServiceNotFoundException = _error("ServiceNotFoundException")
ServiceNotActiveException = _error("ServiceNotActiveException")
ClusterContainsServicesException = _error("ClusterContainsServicesException")
ClusterContainsTasksException = _error("ClusterContainsTasksException")
ClusterContainsContainerInstancesException = _error("ClusterContainsContainerInstancesException")
PlatformTaskDefinitionIncompatibilityException = _error(
    "PlatformTaskDefinitionIncompatibilityException"
)
UnsupportedFeatureException = _error("UnsupportedFeatureException")
ResourceNotFoundException = _error("ResourceNotFoundException")
ConflictException = _error("ConflictException")
ServiceDeploymentNotFoundException = _error("ServiceDeploymentNotFoundException")

# ELBv2 (codes drop the `Exception` suffix of the shape names)
ValidationError = _error("ValidationError")
LoadBalancerNotFound = _error("LoadBalancerNotFound")
TargetGroupNotFound = _error("TargetGroupNotFound")
ListenerNotFound = _error("ListenerNotFound")
RuleNotFound = _error("RuleNotFound")
DuplicateLoadBalancerName = _error("DuplicateLoadBalancerName")
DuplicateTargetGroupName = _error("DuplicateTargetGroupName")
DuplicateListener = _error("DuplicateListener")
PriorityInUse = _error("PriorityInUse")
InvalidTarget = _error("InvalidTarget")
InvalidConfigurationRequest = _error("InvalidConfigurationRequest")
ResourceInUse = _error("ResourceInUse")
TooManyTargets = _error("TooManyTargets")
TooManyRules = _error("TooManyRules")
SubnetNotFound = _error("SubnetNotFound")
InvalidSubnet = _error("InvalidSubnet")
TargetGroupAssociationLimit = _error("TargetGroupAssociationLimit")


# CloudWatch (query-compatible codes)
InvalidParameterValue = _error("InvalidParameterValue")
MissingParameter = _error("MissingParameter")
InvalidParameterCombination = _error("InvalidParameterCombination")

# Application Auto Scaling
ValidationException = _error("ValidationException")
ObjectNotFoundException = _error("ObjectNotFoundException")
InvalidNextTokenException = _error("InvalidNextTokenException")


def ec2_error(code: str, message: str) -> AwsError:
    """EC2 codes contain dots (`InvalidVpcID.NotFound`), so they get no class of their own."""
    return AwsError(message, code=code)
