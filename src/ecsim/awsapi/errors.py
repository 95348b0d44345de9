"""Errors of the wire itself (before the model sees a call), with AWS's codes.

The model's own errors (`ecsim.model.errors`) carry the codes of its operations; these are
the ones a protocol front end answers: a body that is not JSON, a value of the wrong type, an
operation nobody knows, one botocore knows but ecsim does not model.
"""

from __future__ import annotations

from ecsim.model.errors import AwsError


def _error(code: str, doc: str) -> type[AwsError]:
    return type(code, (AwsError,), {"code": code, "status": 400, "__doc__": doc})


SerializationException = _error(
    "SerializationException", "JSON: the body or a value in it cannot be read as its shape says."
)
UnknownOperationException = _error(
    "UnknownOperationException", "JSON: `X-Amz-Target` names no operation of the service."
)
InvalidAction = _error("InvalidAction", "Query: `Action` names no operation of the service.")
QueryValidationError = _error("ValidationError", "ELBv2: a value of the wrong type.")
InvalidParameterValue = _error("InvalidParameterValue", "EC2: a value of the wrong type.")
UnknownParameter = _error("UnknownParameter", "EC2: a parameter the operation does not have.")
