"""The AWS vocabulary every facade shares (model/aws): one paginator, one parameter checker,
one set of name/ARN helpers, each speaking in the words of the service that uses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ecsim.model import errors
from ecsim.model.aws.names import Names, is_arn, resource, resource_id, tail
from ecsim.model.aws.pages import Pages
from ecsim.model.aws.params import Params

LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/83ce705e"
TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc"


def pages(**options: Any) -> Pages:
    """A service that pages with `Token` and `Size` (1-10) and answers `NextToken`."""
    return Pages(
        "Token",
        "NextToken",
        size="Size",
        most=10,
        error=errors.ValidationError,
        message="The token '{token}' is not valid",
        **options,
    )


@contextmanager
def raises(kind: type[errors.AwsError], message: str) -> Iterator[None]:
    """The call fails with `kind` and exactly `message`."""
    with pytest.raises(kind) as info:
        yield
    assert info.value.message == message


def params(**kwargs: Any) -> Params:
    return Params("ListThings", kwargs, errors.ValidationError)


# --- pages ---------------------------------------------------------------------------------


def test_a_page_is_its_items_and_the_offset_of_the_next() -> None:
    items = list("abcde")
    first = pages().read(params(Size=2)).of(items, "Things")
    assert first == {"Things": ["a", "b"], "NextToken": "2"}
    last = pages().read(params(Size=2, Token="4")).of(items, "Things")
    assert last == {"Things": ["e"]}
    assert pages().read(params(), default=3).of(items, "Things")["NextToken"] == "3"
    shaped = pages().read(params(Size=1, Token="1")).of(items, "Things", str.upper)
    assert shaped == {"Things": ["B"], "NextToken": "2"}


def test_a_token_ecsim_did_not_hand_out_is_refused_in_the_service_words() -> None:
    with raises(errors.ValidationError, "The token 'abc' is not valid"):
        pages().read(params(Token="abc"))
    with raises(errors.ValidationError, "The token '-1' is not valid"):
        pages().read(params(Token="-1"))
    assert pages(loose=True).read(params(Token="-1")).start == -1  # ECS reads it as int() does
    assert pages().read(params(Token="")).of(list("ab"), "Things") == {"Things": ["a", "b"]}
    # strict (ELBv2's Marker): an empty token, or one past the last item, is invalid too
    with raises(errors.ValidationError, "The token '' is not valid"):
        pages(strict=True).read(params(Token=""))
    with raises(errors.ValidationError, "The token '6' is not valid"):
        pages(strict=True).read(params(Token="6")).of(list("abcde"), "Things")
    with raises(
        errors.ValidationError, "Invalid value for parameter Size, value: 11, valid max value: 10"
    ):
        pages().read(params(Size=11))


def test_one_page_services_ignore_or_refuse_a_token() -> None:
    ec2 = Pages("NextToken", "NextToken", size="MaxResults")
    p = params(NextToken="anything", MaxResults=5)
    assert ec2.read(p).of([1, 2, 3], "Vpcs") == {"Vpcs": [1, 2, 3]}
    p.done()  # both accepted, unread
    cloudwatch = Pages(
        "NextToken",
        "NextToken",
        error=errors.InvalidParameterValue,
        message="The NextToken is not valid.",
    )
    cloudwatch.read(params(NextToken=""))
    with raises(errors.InvalidParameterValue, "The NextToken is not valid."):
        cloudwatch.read(params(NextToken="x"))


# --- params --------------------------------------------------------------------------------


def test_a_structure_is_read_like_the_input_its_members_named_by_their_path() -> None:
    p = params(Targets=[{"Id": "10.0.0.1", "Port": 0}])
    entry = p.as_structure(p.list("Targets")[0], "Targets[0]", ("Id", "Port"))
    assert entry.str("Id", required=True) == "10.0.0.1"
    with raises(
        errors.ValidationError,
        "1 validation error detected: Value '0' at 'Targets[0].Port' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1",
    ):
        entry.between("Port", 1, 65535)
    with raises(errors.ValidationError, 'Missing required parameter in Targets[0]: "Az"'):
        entry.str("Az", required=True)
    with raises(
        errors.ValidationError,
        "Invalid type for parameter Targets[0], value: 1, expected a structure",
    ):
        p.as_structure(1, "Targets[0]", ("Id",))


def test_unknown_members_fail_at_once_in_order_unknown_parameters_at_the_end_sorted() -> None:
    p = params(Matcher={"Zeta": 1, "Alpha": 2}, Zeta=1, Alpha=2)
    with raises(errors.ValidationError, 'Unknown parameter in Matcher: "Zeta"'):
        p.structure("Matcher", ("HttpCode",))
    with raises(
        errors.ValidationError, 'Unknown parameter in input: "Alpha" for operation ListThings'
    ):
        p.done()


def test_the_two_wordings_of_a_range_and_of_a_bad_list_element() -> None:
    p = params(Port=0, Ids=["a", 1])
    with raises(
        errors.ValidationError, "Invalid value for parameter Port, value: 0, valid min value: 1"
    ):
        p.int("Port", lo=1)
    with raises(
        errors.ValidationError,
        "1 validation error detected: Value '0' at 'Port' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    ):
        p.between("Port", 1, 10)
    with raises(
        errors.ValidationError, "Invalid type for parameter Ids, value: 1, expected a string"
    ):
        p.strs("Ids")
    with raises(
        errors.ValidationError, "Invalid type for parameter Ids[1], value: 1, expected a string"
    ):
        p.as_strings(p.raw("Ids"), "Ids")
    with raises(
        errors.ValidationError,
        "1 validation error detected: Value 'udp' at 'protocol' failed to satisfy "
        "constraint: Member must satisfy enum value set: [HTTP, HTTPS]",
    ):
        p.as_enum("udp", "protocol", ("HTTP", "HTTPS"))


def test_a_service_may_say_missing_in_its_own_words() -> None:
    p = Params(
        "GetMetricData",
        {"Zeta": 1},
        errors.InvalidParameterValue,
        missing=lambda path: errors.MissingParameter(f"The parameter {path} is required."),
    )
    with raises(
        errors.InvalidParameterValue,
        'Unknown parameter in input: "Zeta" for operation GetMetricData',
    ):
        p.only(("StartTime",))
    with raises(errors.MissingParameter, "The parameter StartTime is required."):
        p.raw("StartTime", required=True)


# --- names ---------------------------------------------------------------------------------


def test_arn_parts() -> None:
    assert resource(TG_ARN) == "targetgroup/web/73e2d6bc"
    assert resource_id(LB_ARN) == "app/web/83ce705e"
    assert tail(LB_ARN) == "83ce705e"
    assert tail("web") == "web"
    assert is_arn(TG_ARN, "targetgroup") and not is_arn(TG_ARN, "loadbalancer")


def test_names_follow_the_service_rules_and_words() -> None:
    names = Names(
        errors.ValidationError,
        rules=(
            (lambda name: len(name) <= 5, "{label} '{name}' is too long"),
            (lambda name: name.isalnum(), "{label} '{name}' is not alphanumeric"),
        ),
        bad_arn="'{arn}' is not a valid {label} ARN",
    )
    assert names.check("web", label="Name") == "web"
    with raises(errors.ValidationError, "Name 'web-tier' is too long"):
        names.check("web-tier", label="Name")  # the first rule it breaks
    assert names.check_arn(TG_ARN, "targetgroup", label="target group") == TG_ARN
    with raises(errors.ValidationError, "'web' is not a valid target group ARN"):
        names.check_arn("web", "targetgroup", label="target group")


def test_a_name_or_an_arn_of_the_right_kind_names_a_resource() -> None:
    names = Names(errors.InvalidParameterException, bad_arn="Invalid identifier: {arn}")
    service = "arn:aws:ecs:us-east-1:123456789012:service/home/web"
    assert names.name_in(service, "service") == "web"
    assert names.name_in("web", "service") == "web"
    with raises(errors.InvalidParameterException, f"Invalid identifier: {service}"):
        names.name_in(service, "cluster")
