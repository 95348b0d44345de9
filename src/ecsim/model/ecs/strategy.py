"""The deployment strategies of `deploymentConfiguration` (ROLLING, BLUE_GREEN, LINEAR,
CANARY), their bake times and lifecycle hooks, and `loadBalancers[].advancedConfiguration`:
what CreateService and UpdateService take, checked as AWS checks them
(docs/behaviour.md, "Blue/green, linear and canary deployments").

Values and ranges are botocore's and the API reference's (`LinearConfiguration`,
`CanaryConfiguration`, `DeploymentLifecycleHook`, `DeploymentLifecycleHookTimeoutConfiguration`,
`AdvancedConfiguration`); a bad value is `InvalidParameterException` and changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.elbv2.resources import TargetGroup, forward_targets

if TYPE_CHECKING:
    from ecsim.model.elbv2.backend import ElbBackend

ROLLING = "ROLLING"
BLUE_GREEN = "BLUE_GREEN"
LINEAR = "LINEAR"
CANARY = "CANARY"
STRATEGIES = (ROLLING, BLUE_GREEN, LINEAR, CANARY)  # botocore's DeploymentStrategy

# botocore's ServiceDeploymentLifecycleStage, in the order a deployment goes through them
RECONCILE_SERVICE = "RECONCILE_SERVICE"
PRE_SCALE_UP = "PRE_SCALE_UP"
SCALE_UP = "SCALE_UP"
POST_SCALE_UP = "POST_SCALE_UP"
TEST_TRAFFIC_SHIFT = "TEST_TRAFFIC_SHIFT"
POST_TEST_TRAFFIC_SHIFT = "POST_TEST_TRAFFIC_SHIFT"
PRODUCTION_TRAFFIC_SHIFT = "PRODUCTION_TRAFFIC_SHIFT"
POST_PRODUCTION_TRAFFIC_SHIFT = "POST_PRODUCTION_TRAFFIC_SHIFT"
BAKE_TIME = "BAKE_TIME"
CLEAN_UP = "CLEAN_UP"
STAGES = (
    RECONCILE_SERVICE,
    PRE_SCALE_UP,
    SCALE_UP,
    POST_SCALE_UP,
    TEST_TRAFFIC_SHIFT,
    POST_TEST_TRAFFIC_SHIFT,
    PRODUCTION_TRAFFIC_SHIFT,
    POST_PRODUCTION_TRAFFIC_SHIFT,
    BAKE_TIME,
    CLEAN_UP,
)
# botocore's DeploymentLifecycleHookStage: the stages a hook may run at (PRE_PRODUCTION_...
# runs as the production traffic shift begins, before its first step)
PRE_PRODUCTION_TRAFFIC_SHIFT = "PRE_PRODUCTION_TRAFFIC_SHIFT"
HOOK_STAGES = (
    RECONCILE_SERVICE,
    PRE_SCALE_UP,
    POST_SCALE_UP,
    TEST_TRAFFIC_SHIFT,
    POST_TEST_TRAFFIC_SHIFT,
    PRE_PRODUCTION_TRAFFIC_SHIFT,
    PRODUCTION_TRAFFIC_SHIFT,
    POST_PRODUCTION_TRAFFIC_SHIFT,
)
HOOK_ACTIONS = ("ROLLBACK", "CONTINUE")  # DeploymentLifecycleHookTimeoutConfiguration.action
HOOK_TIMEOUT_MINUTES = (1, 20160)  # its timeoutInMinutes range; default 1440
HOOK_TIMEOUT_DEFAULT = 1440
BAKE_MINUTES = (0, 1440)  # bakeTimeInMinutes, stepBakeTimeInMinutes, canaryBakeTimeInMinutes
STEP_PERCENT = (3.0, 100.0)  # LinearConfiguration.stepPercent: multiples of 0.1
CANARY_PERCENT = (0.1, 100.0)  # CanaryConfiguration.canaryPercent: multiples of 0.1
MAX_HOOKS = 10  # ecsim's own bound (AWS documents none)


@dataclass(frozen=True)
class LifecycleHook:
    """One `lifecycleHooks` item: a Lambda function ECS calls at its stages (the function is
    not run: its outcome is `chaos.set_hook_outcome`'s)."""

    target_arn: str
    role_arn: str
    stages: tuple[str, ...]
    details: Any = None
    timeout_minutes: int = HOOK_TIMEOUT_DEFAULT
    timeout_action: str = "ROLLBACK"
    timeout_given: bool = False

    def shape(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hookTargetArn": self.target_arn,
            "roleArn": self.role_arn,
            "lifecycleStages": list(self.stages),
        }
        if self.details is not None:
            out["hookDetails"] = self.details
        if self.timeout_given:
            out["timeoutConfiguration"] = {
                "timeoutInMinutes": self.timeout_minutes,
                "action": self.timeout_action,
            }
        return out


@dataclass(frozen=True)
class Linear:
    step_percent: float = 10.0
    step_bake_minutes: int = 6


@dataclass(frozen=True)
class Canary:
    percent: float = 5.0
    bake_minutes: int = 10


@dataclass(frozen=True)
class Strategy:
    """The strategy part of a service's deployment configuration."""

    name: str = ROLLING
    bake_minutes: int | None = None
    linear: Linear | None = None
    canary: Canary | None = None
    hooks: tuple[LifecycleHook, ...] = field(default_factory=tuple)

    @property
    def shifts_traffic(self) -> bool:
        return self.name != ROLLING

    def steps(self) -> list[float]:
        """The production traffic (percent to green) after each step of the shift."""
        if self.name == LINEAR:
            step = (self.linear or Linear()).step_percent
            out, k = [], 1
            while round(k * step, 1) < 100.0:
                out.append(round(k * step, 1))
                k += 1
            return [*out, 100.0]
        if self.name == CANARY:
            percent = (self.canary or Canary()).percent
            return [percent, 100.0] if percent < 100.0 else [100.0]
        return [100.0]

    def step_bake(self) -> float:
        """Seconds between two steps of the production shift."""
        if self.name == LINEAR:
            return 60.0 * (self.linear or Linear()).step_bake_minutes
        if self.name == CANARY:
            return 60.0 * (self.canary or Canary()).bake_minutes
        return 0.0

    def shape(self) -> dict[str, Any]:
        """The members DescribeServices answers in `deploymentConfiguration`."""
        out: dict[str, Any] = {"strategy": self.name}
        if self.bake_minutes is not None:
            out["bakeTimeInMinutes"] = self.bake_minutes
        if self.linear is not None:
            out["linearConfiguration"] = {
                "stepPercent": self.linear.step_percent,
                "stepBakeTimeInMinutes": self.linear.step_bake_minutes,
            }
        if self.canary is not None:
            out["canaryConfiguration"] = {
                "canaryPercent": self.canary.percent,
                "canaryBakeTimeInMinutes": self.canary.bake_minutes,
            }
        if self.hooks:
            out["lifecycleHooks"] = [h.shape() for h in self.hooks]
        return out


def _fail(message: str) -> errors.AwsError:
    return errors.InvalidParameterException(message)


def _int(raw: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(f"{where}.{key} must be an integer from {lo} to {hi}; got {value!r}.")
    return value


def _tenths(raw: dict[str, Any], key: str, where: str, lo: float, hi: float) -> float | None:
    """A percentage given in multiples of 0.1 within [lo, hi]."""
    value = raw.get(key)
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if (
        ok
        and lo - 1e-9 <= float(value) <= hi + 1e-9
        and abs(float(value) * 10 - round(float(value) * 10)) < 1e-6
    ):
        return round(float(value), 1)
    raise _fail(f"{where}.{key} must be a multiple of 0.1 from {lo:g} to {hi:g}; got {value!r}.")


def _struct(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{where} must be a structure.")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise _fail(f"{where} has no member {unknown[0]!r}; expected: {', '.join(keys)}.")
    return value


def _hooks(raw: Any) -> tuple[LifecycleHook, ...]:
    if not isinstance(raw, list | tuple):
        raise _fail("deploymentConfiguration.lifecycleHooks must be a list.")
    if len(raw) > MAX_HOOKS:
        raise _fail(f"deploymentConfiguration.lifecycleHooks can have at most {MAX_HOOKS} items.")
    out = []
    for i, item in enumerate(raw):
        where = f"deploymentConfiguration.lifecycleHooks[{i}]"
        hook = _struct(
            item,
            where,
            (
                "hookTargetArn",
                "roleArn",
                "lifecycleStages",
                "hookDetails",
                "targetType",
                "timeoutConfiguration",
            ),
        )
        target = hook.get("hookTargetArn")
        if not isinstance(target, str) or not target.startswith("arn:aws:lambda:"):
            raise _fail(
                f"{where}.hookTargetArn must be the ARN of a Lambda function "
                f"(arn:aws:lambda:...:function:...); got {target!r}."
            )
        role = hook.get("roleArn")
        if not isinstance(role, str) or not role.startswith("arn:aws:iam::"):
            raise _fail(f"{where}.roleArn must be the ARN of an IAM role; got {role!r}.")
        stages = hook.get("lifecycleStages")
        if not isinstance(stages, list | tuple) or not stages:
            raise _fail(f"{where}.lifecycleStages must list at least one lifecycle stage.")
        for stage in stages:
            if stage not in HOOK_STAGES:
                raise _fail(
                    f"{where}.lifecycleStages: {stage!r} is not one of {', '.join(HOOK_STAGES)}."
                )
        timeout = HOOK_TIMEOUT_DEFAULT
        action = "ROLLBACK"
        raw_timeout = hook.get("timeoutConfiguration")
        if raw_timeout is not None:
            config = _struct(
                raw_timeout, f"{where}.timeoutConfiguration", ("timeoutInMinutes", "action")
            )
            given = _int(config, "timeoutInMinutes", f"{where}.timeoutConfiguration", 1, 20160)
            timeout = HOOK_TIMEOUT_DEFAULT if given is None else given
            action = config.get("action", "ROLLBACK")
            if action not in HOOK_ACTIONS:
                raise _fail(
                    f"{where}.timeoutConfiguration.action must be ROLLBACK or CONTINUE; "
                    f"got {action!r}."
                )
        out.append(
            LifecycleHook(
                target,
                role,
                tuple(dict.fromkeys(stages)),
                hook.get("hookDetails"),
                timeout,
                str(action),
                raw_timeout is not None,
            )
        )
    return tuple(out)


def read(raw: dict[str, Any], current: Strategy) -> Strategy:
    """The strategy a `deploymentConfiguration` asks for; members not given keep `current`'s
    (the configuration of another strategy is dropped when the strategy changes)."""
    name = raw.get("strategy", current.name)
    if name not in STRATEGIES:
        raise _fail(
            f"deploymentConfiguration.strategy must be one of {', '.join(STRATEGIES)}; got {name!r}."
        )
    changed = name != current.name
    bake = _int(raw, "bakeTimeInMinutes", "deploymentConfiguration", *BAKE_MINUTES)
    if bake is None and not changed:
        bake = current.bake_minutes
    linear = current.linear if name == LINEAR else None
    canary = current.canary if name == CANARY else None
    if raw.get("linearConfiguration") is not None:
        if name != LINEAR:
            raise _fail("linearConfiguration is only valid when the deployment strategy is LINEAR.")
        config = _struct(
            raw["linearConfiguration"],
            "deploymentConfiguration.linearConfiguration",
            ("stepPercent", "stepBakeTimeInMinutes"),
        )
        where = "linearConfiguration"
        step = _tenths(config, "stepPercent", where, *STEP_PERCENT)
        step_bake = _int(config, "stepBakeTimeInMinutes", where, *BAKE_MINUTES)
        linear = Linear(
            Linear.step_percent if step is None else step,
            Linear.step_bake_minutes if step_bake is None else step_bake,
        )
    if raw.get("canaryConfiguration") is not None:
        if name != CANARY:
            raise _fail("canaryConfiguration is only valid when the deployment strategy is CANARY.")
        config = _struct(
            raw["canaryConfiguration"],
            "deploymentConfiguration.canaryConfiguration",
            ("canaryPercent", "canaryBakeTimeInMinutes"),
        )
        where = "canaryConfiguration"
        percent = _tenths(config, "canaryPercent", where, *CANARY_PERCENT)
        canary_bake = _int(config, "canaryBakeTimeInMinutes", where, *BAKE_MINUTES)
        canary = Canary(
            Canary.percent if percent is None else percent,
            Canary.bake_minutes if canary_bake is None else canary_bake,
        )
    if name == LINEAR and linear is None:
        linear = Linear()
    if name == CANARY and canary is None:
        canary = Canary()
    hooks = current.hooks if raw.get("lifecycleHooks") is None else _hooks(raw["lifecycleHooks"])
    if name == ROLLING:
        if raw.get("bakeTimeInMinutes"):  # 0 (what tools send) changes nothing
            raise _fail(
                "bakeTimeInMinutes is only valid with the BLUE_GREEN, LINEAR and CANARY strategies."
            )
        if raw.get("lifecycleHooks"):
            raise _fail(
                "lifecycleHooks are only valid with the BLUE_GREEN, LINEAR and CANARY strategies."
            )
        return Strategy()
    if name == BLUE_GREEN and bake is None:
        raise _fail("bakeTimeInMinutes must be provided with the BLUE_GREEN deployment strategy.")
    return Strategy(name, bake, linear, canary, hooks)


# --- loadBalancers[].advancedConfiguration -------------------------------------------------


@dataclass(frozen=True)
class Advanced:
    """One load balancer's `advancedConfiguration`: the alternate target group and the
    listener rules ECS shifts traffic with."""

    alternate: str
    production_rule: str
    test_rule: str | None
    role_arn: str

    def shape(self) -> dict[str, Any]:
        out = {
            "alternateTargetGroupArn": self.alternate,
            "productionListenerRule": self.production_rule,
            "roleArn": self.role_arn,
        }
        if self.test_rule is not None:
            out["testListenerRule"] = self.test_rule
        return out


ADVANCED_KEYS = ("alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn")


def read_advanced(raw: Any, where: str) -> Advanced:
    """The members of one `advancedConfiguration`, checked for form (the ELBv2 resources they
    name are checked by the facade)."""
    config = _struct(raw, where, ADVANCED_KEYS)
    alternate = config.get("alternateTargetGroupArn")
    if not isinstance(alternate, str) or not alternate:
        raise _fail(f"{where}.alternateTargetGroupArn must be provided.")
    production = config.get("productionListenerRule")
    if not isinstance(production, str) or not production:
        raise _fail(
            f"{where}.productionListenerRule must be provided for an Application Load Balancer."
        )
    test = config.get("testListenerRule")
    if test is not None and (not isinstance(test, str) or not test):
        raise _fail(f"{where}.testListenerRule must be a listener rule's ARN.")
    role = config.get("roleArn")
    if not isinstance(role, str) or not role.startswith("arn:aws:iam::"):
        raise _fail(f"{where}.roleArn must be the ARN of an IAM role; got {role!r}.")
    return Advanced(alternate, production, test, role)


def check_advanced(elb: ElbBackend, tg: TargetGroup, advanced: Advanced, where: str) -> None:
    """The ELBv2 resources an `advancedConfiguration` names, as ECS needs them: an alternate
    `ip` target group of the same load balancer, a production rule whose forward action
    sends to both groups (and nothing else), an optional test rule forwarding to them."""
    alternate = elb.target_groups.get(advanced.alternate)
    if alternate is None:
        raise _fail(
            f"{where}.alternateTargetGroupArn: target group {advanced.alternate} not found."
        )
    if alternate.arn == tg.arn:
        raise _fail(f"{where}.alternateTargetGroupArn must differ from targetGroupArn.")
    if alternate.target_type != "ip":
        raise _fail(
            f"The target group {alternate.arn} has target type {alternate.target_type}, which is "
            "incompatible with the awsvpc network mode specified in the task definition."
        )
    lb = elb.load_balancer_of(tg)
    if elb.load_balancer_of(alternate) is not lb:
        raise _fail(
            f"{where}.alternateTargetGroupArn: target group {alternate.arn} must be used by the "
            "same load balancer as the service's target group."
        )
    pair = {tg.arn, alternate.arn}
    for key, arn in (
        ("productionListenerRule", advanced.production_rule),
        ("testListenerRule", advanced.test_rule),
    ):
        if arn is None:
            continue
        rule = elb.rule(arn)
        if rule is None:
            raise _fail(f"{where}.{key}: listener rule {arn} not found.")
        if any(a.get("Type") != "forward" for a in rule.actions):
            raise _fail(
                f"{where}.{key}: listener rule {arn} must have a forward action only "
                "(blue/green deployments don't support redirect or fixed-response actions)."
            )
        groups = {g for g, _ in forward_targets(rule.actions)}
        if key == "productionListenerRule" and groups != pair:
            raise _fail(
                f"{where}.productionListenerRule: listener rule {arn} must forward to both "
                f"the target group {tg.arn} and the alternate target group {alternate.arn}."
            )
        if key == "testListenerRule" and not groups <= pair:
            raise _fail(
                f"{where}.testListenerRule: listener rule {arn} must forward only to the "
                "target group and its alternate."
            )
    if advanced.test_rule == advanced.production_rule:
        raise _fail(f"{where}.testListenerRule must differ from productionListenerRule.")


def check_service(strategy: Strategy, load_balancers: list[dict[str, Any]]) -> None:
    """A strategy that shifts traffic needs, for a service behind a load balancer, exactly one
    target group with an alternate (ecsim's bound: one traffic shift a deployment)."""
    advanced = [lb for lb in load_balancers if lb.get("advancedConfiguration")]
    if len(advanced) > 1:
        raise _fail(
            "ecsim models one load balancer with advancedConfiguration a service; got "
            f"{len(advanced)}."
        )
    alternates = [lb["advancedConfiguration"]["alternateTargetGroupArn"] for lb in advanced]
    if any(a in {lb["targetGroupArn"] for lb in load_balancers} for a in alternates):
        raise _fail("An alternate target group can't also be one of the service's target groups.")
    if strategy.shifts_traffic and load_balancers and not advanced:
        raise _fail(
            f"The {strategy.name} deployment strategy requires loadBalancers[]."
            "advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn)."
        )
