"""`POST /`: one AWS call, from the wire to the model's facade and back.

The request says which service it is for: `X-Amz-Target` (ECS, JSON 1.1; CloudWatch,
JSON 1.0), or the form's `Version` (ELBv2 2015-12-01, EC2 2016-11-15, CloudWatch 2010-08-01),
or else the service in the signature's credential scope. Any credentials and region are
accepted; signatures are not checked.

The call runs synchronously on the live world's event loop, between two slices of simulated
time, so it sees and changes a consistent world. An `AwsError` becomes AWS's error answer; any
other exception is logged and becomes the service's HTTP 500 (`ServerException`,
`InternalFailure`, `InternalError`), and the server and the world carry on.

A body over `MAX_AWS_BODY` is refused before it is read (413 `RequestEntityTooLarge`, in the
error shape of the service the request names); so is JSON nested deeper than the limit
(`SerializationException`) and, in the query protocols, a string the XML answer could not
carry (docs/awsapi.md, "Limits").
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ecsim.awsapi.errors import InvalidAction, UnknownOperationException
from ecsim.awsapi.limits import MAX_AWS_BODY, BodyTooLargeError, read_body, shown
from ecsim.awsapi.protocol import json as json_protocol
from ecsim.awsapi.protocol import query as query_protocol
from ecsim.awsapi.services import (
    ECS,
    AwsService,
    by_signing_name,
    by_target_prefix,
    by_version,
)
from ecsim.live.runtime import LiveWorld
from ecsim.model.errors import AwsError

log = logging.getLogger("ecsim.awsapi")


class Dispatcher:
    """The ASGI endpoint of the AWS API over one live world."""

    def __init__(self, live: LiveWorld) -> None:
        self.live = live
        self.calls = 0  # answered calls, errors included
        self.failures = 0  # unexpected exceptions turned into HTTP 500

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target")
        authorization = request.headers.get("authorization")
        query = request.scope["query_string"].decode("utf-8", "replace")
        form = dict(parse_qsl(query, keep_blank_values=True))
        try:
            try:
                body = await read_body(request, MAX_AWS_BODY)
            except BodyTooLargeError as e:
                error = AwsError(e.message, code=e.code, status=e.status)
                return self._refuse_unread(error, target, form, authorization, request_id)
            except ClientDisconnect:  # nobody is left to answer
                return Response(status_code=400)
            if target is not None:
                return self.json_call(target, body, request_id)
            form.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return self.query_call(form, authorization, request_id)
        finally:
            self.calls += 1

    def _refuse_unread(
        self,
        error: AwsError,
        target: str | None,
        form: dict[str, str],
        authorization: str | None,
        request_id: str,
    ) -> Response:
        """`error` for a request whose body was not read, in the error shape of the service
        it names: by `X-Amz-Target`, else by the URL's `Version` or the signature's service
        (else ELBv2's shape)."""
        if target is not None:
            return self._json_error(self._json_service(target), error, request_id)
        service = by_version(form.get("Version")) or by_signing_name(authorization)
        if service is None:
            return self._query_error(error, request_id, "", query_protocol.QUERY)
        dialect = query_protocol.EC2 if service.protocol == "ec2" else query_protocol.QUERY
        return self._query_error(error, request_id, service.namespace, dialect)

    # --- ECS (JSON 1.1) and CloudWatch (JSON 1.0) ------------------------------------------

    def json_call(self, target: str, body: bytes, request_id: str) -> Response:
        prefix, _, name = target.partition(".")
        service = self._json_service(target)
        try:
            if prefix != service.target_prefix or not name:
                raise UnknownOperationException(f"Unknown target: {shown(target)}")
            operation = service.operation(name)
            method = service.method(self.live.world, name)
            params = json_protocol.parse_request(body, operation.input_shape)
            result = self._run(service, name, method, params)
            payload = json_protocol.serialize_response(result, operation.output_shape)
        except AwsError as e:
            return self._json_error(service, e, request_id)
        except Exception:  # a bug in the protocol layer itself
            return self._json_error(service, self._unexpected(service, name), request_id)
        return Response(
            payload,
            200,
            headers={"x-amzn-RequestId": request_id},
            media_type=json_protocol.content_type(service.json_version),
        )

    @staticmethod
    def _json_service(target: str) -> AwsService:
        return by_target_prefix(target.partition(".")[0]) or ECS

    def _json_error(self, service: AwsService, error: AwsError, request_id: str) -> Response:
        headers = {"x-amzn-RequestId": request_id}
        if service.query_compatible:
            fault = "Sender" if error.status < 500 else "Receiver"
            headers["x-amzn-query-error"] = f"{error.code};{fault}"
        return Response(
            json_protocol.error_body(error.code, error.message),
            error.status,
            headers=headers,
            media_type=json_protocol.content_type(service.json_version),
        )

    # --- ELBv2 and EC2: query ---------------------------------------------------------------

    def query_call(
        self, form: dict[str, str], authorization: str | None, request_id: str
    ) -> Response:
        service = by_version(form.get("Version")) or by_signing_name(authorization)
        name = form.get("Action", "")
        if service is None or service is ECS:
            error = (
                AwsError("The request must contain the parameter Action.", code="MissingAction")
                if not name
                else InvalidAction(
                    f"Could not find operation {shown(name)} for version "
                    f"{shown(form.get('Version') or 'None')}"
                )
            )
            return self._query_error(error, request_id, "", query_protocol.QUERY)
        dialect = query_protocol.EC2 if service.protocol == "ec2" else query_protocol.QUERY
        try:
            if not name:
                raise AwsError(
                    "The request must contain the parameter Action.", code="MissingAction"
                )
            operation = service.operation(name)
            method = service.method(self.live.world, name)
            params = self._query_params(service, form, operation, dialect)
            result = self._run(service, name, method, params)
            payload = query_protocol.serialize_response(
                result, operation, service.namespace, request_id, dialect
            )
        except AwsError as e:
            return self._query_error(e, request_id, service.namespace, dialect)
        except Exception:  # a bug in the protocol layer itself
            error = self._unexpected(service, name)
            return self._query_error(error, request_id, service.namespace, dialect)
        return Response(
            payload,
            200,
            headers={"x-amzn-RequestId": request_id},
            media_type=query_protocol.CONTENT_TYPE,
        )

    @staticmethod
    def _query_params(
        service: AwsService,
        form: dict[str, str],
        operation: Any,
        dialect: query_protocol.Dialect,
    ) -> dict[str, Any]:
        """The call's parameters; a string the XML answer could not carry is refused with the
        facade's own words for that parameter where it has them (a health check path, a
        security group's description), else with the dialect's."""
        try:
            return query_protocol.parse_request(form, operation, dialect)
        except query_protocol.UnsafeTextError as e:
            check = service.text_check(e.member)
            if check is not None:
                check(e.value)
            raise e.error from None

    def _query_error(
        self, error: AwsError, request_id: str, namespace: str, dialect: query_protocol.Dialect
    ) -> Response:
        payload = query_protocol.error_body(
            error.code, error.message, error.status, request_id, namespace, dialect
        )
        return Response(
            payload,
            error.status,
            headers={"x-amzn-RequestId": request_id},
            media_type=query_protocol.CONTENT_TYPE,
        )

    # --- the call -----------------------------------------------------------------------------

    def _run(self, service: AwsService, name: str, method: Any, params: dict[str, Any]) -> Any:
        try:
            result = method(**params)
        except AwsError:
            raise
        except Exception:
            raise self._unexpected(service, name) from None
        finally:
            self.live.publish()
        if self.live.notices and not name.startswith(READS):
            text = f"an AWS API call ({service.name} {name}) changed {_about(params)}"
            for notice in self.live.notices:
                notice(text)
        return result if isinstance(result, dict) else {}

    def _unexpected(self, service: AwsService, name: str) -> AwsError:
        """Log the exception being handled; the HTTP 500 error to answer instead."""
        self.failures += 1
        log.exception("%s %s failed unexpectedly; answered HTTP 500", service.name, name)
        return AwsError(
            f"ecsim failed to serve {name}; the failure is in the server's log.",
            code=service.server_error,
            status=500,
        )


READS = ("Describe", "List", "Get")  # operations that change nothing
ABOUT = ("service", "serviceName", "Name", "LoadBalancerArn", "TargetGroupArn", "cluster")


def _about(params: dict[str, Any]) -> str:
    """What a call was about, as the page names it: the service, load balancer or target
    group it names (an ELBv2 ARN ends in NAME/ID, an ECS one in NAME), else "the world"."""
    for key in ABOUT:
        value = params.get(key)
        if isinstance(value, str) and value:
            parts = value.split("/")
            elbv2 = ":targetgroup/" in value or ":loadbalancer/" in value
            return parts[-2] if elbv2 and len(parts) >= 3 else parts[-1]
    return "the world"
