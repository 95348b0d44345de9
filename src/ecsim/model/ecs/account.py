"""ECS account settings: ListAccountSettings, PutAccountSetting and PutAccountSettingDefault
(docs/behaviour.md, "Account settings").

The store (`AccountSettings`) is ECS backend state, written through the backend; the
operations (`EcsAccountSettings`) are a part of `EcsApi`. Each of botocore's SettingName
values is either modelled (containerInsights: new clusters get it), fixed (the long ARN
formats: ecsim has no other; GuardDuty's, which AWS manages), refused where a value would
change behaviour ecsim does not model (awsvpcTrunking), or stored and answered (the rest,
which change nothing ecsim shows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.ids import ACCOUNT
from ecsim.model.aws.params import Params
from ecsim.model.ecs.paging import pages

if TYPE_CHECKING:
    from ecsim.model.ecs.backend import EcsBackend

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ON_OFF = ("enabled", "disabled")
# botocore's SettingName: the values each takes, and the account's default
SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "serviceLongArnFormat": (ON_OFF, "enabled"),
    "taskLongArnFormat": (ON_OFF, "enabled"),
    "containerInstanceLongArnFormat": (ON_OFF, "enabled"),
    "awsvpcTrunking": (ON_OFF, "disabled"),
    "containerInsights": (("enabled", "disabled", "enhanced"), "disabled"),
    "fargateFIPSMode": (ON_OFF, "disabled"),
    "tagResourceAuthorization": (("on", "off"), "on"),
    "fargateTaskRetirementWaitPeriod": (("0", "7", "14"), "7"),
    "guardDutyActivate": (("on", "off"), "off"),
    "defaultLogDriverMode": (("blocking", "non-blocking"), "non-blocking"),
    "fargateEventWindows": (ON_OFF, "disabled"),
}
LONG_ARNS = ("serviceLongArnFormat", "taskLongArnFormat", "containerInstanceLongArnFormat")
AWS_MANAGED = ("guardDutyActivate",)  # "read-only in Amazon ECS"
# the values that would change behaviour ecsim does not model: refused by name
UNMODELLED = {
    **dict.fromkeys(LONG_ARNS, ("disabled", "ecsim always uses the long ARN format")),
    "awsvpcTrunking": (
        "enabled",
        "ecsim does not model ENI trunking (the ENI limits of container instances)",
    ),
}
ROOT_ONLY = ("fargateTaskRetirementWaitPeriod",)  # "You must use the root user"
PRINCIPAL = re.compile(rf"^arn:aws:iam::{ACCOUNT}:(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+)\Z")
# "This value can be between 1 and 10. ... returns up to 10 results"
_PAGES = pages(10)


@dataclass
class AccountSettings:
    """The account's defaults and each principal's own settings."""

    defaults: dict[str, str] = field(
        default_factory=lambda: {name: default for name, (_, default) in SETTINGS.items()}
    )
    own: dict[tuple[str, str], str] = field(default_factory=dict)  # (principal, name)

    def effective(self, name: str, principal: str = ROOT) -> str:
        """A principal's own setting, else the root user's, else the account default."""
        if (principal, name) in self.own:
            return self.own[(principal, name)]
        return self.own.get((ROOT, name), self.defaults[name])


def shape(name: str, value: str, principal: str) -> dict[str, str]:
    kind = "aws_managed" if name in AWS_MANAGED else "user"
    return {"name": name, "value": value, "principalArn": principal, "type": kind}


class EcsAccountSettings:
    """The account setting operations, for `EcsApi`."""

    backend: EcsBackend

    def list_account_settings(self, **params: Any) -> dict[str, Any]:
        p = Params("ListAccountSettings", params, errors.InvalidParameterException)
        name = _name(p, required=False)
        value = p.str("value")
        principal = _principal(p)
        effective = bool(p.bool("effectiveSettings"))
        page = _PAGES.read(p)
        p.done()
        if value is not None and name is None:
            raise errors.InvalidParameterException(
                "The value parameter requires the name parameter."
            )
        store = self.backend.account
        names = [name] if name is not None else list(SETTINGS)
        rows = []
        for n in names:
            if effective:
                rows.append(shape(n, store.effective(n, principal), principal))
            elif (principal, n) in store.own:
                rows.append(shape(n, store.own[(principal, n)], principal))
        rows = [r for r in rows if value is None or r["value"] == value]
        return page.of(rows, "settings")

    def put_account_setting(self, **params: Any) -> dict[str, Any]:
        p = Params("PutAccountSetting", params, errors.InvalidParameterException)
        name = _name(p)
        value = _value(p, name)
        principal = _principal(p)
        p.done()
        if name in ROOT_ONLY and principal != ROOT:
            raise errors.InvalidParameterException(
                f"The {name} account setting can only be set for the root user."
            )
        self.backend.put_account_setting(name, value, principal)
        return {"setting": shape(name, value, principal)}

    def put_account_setting_default(self, **params: Any) -> dict[str, Any]:
        p = Params("PutAccountSettingDefault", params, errors.InvalidParameterException)
        name = _name(p)
        value = _value(p, name)
        p.done()
        self.backend.put_account_setting(name, value, None)
        return {"setting": shape(name, value, ROOT)}


def _name(p: Params, required: bool = True) -> Any:
    name = p.str("name", required=required)
    return None if name is None else p.as_enum(name, "name", list(SETTINGS))


def _value(p: Params, name: str) -> str:
    value = p.str("value", required=True)
    allowed, _ = SETTINGS[name]
    if name in AWS_MANAGED:
        raise errors.InvalidParameterException(
            f"The {name} account setting is read-only: Amazon GuardDuty manages it."
        )
    if value not in allowed:
        raise errors.InvalidParameterException(
            f"Invalid value for the {name} account setting: valid values are {', '.join(allowed)}."
        )
    refused = UNMODELLED.get(name)
    if refused is not None and value == refused[0]:
        raise errors.InvalidParameterException(f"{name} {value} is not modelled: {refused[1]}.")
    return value


def _principal(p: Params) -> str:
    principal = p.str("principalArn")
    if principal is None:
        return ROOT
    if not PRINCIPAL.match(principal):
        raise errors.InvalidParameterException(
            "principalArn must be the ARN of a user, a role or the root user of the account."
        )
    return principal
