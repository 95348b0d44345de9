"""Fargate capacity providers: a capacity provider strategy (FARGATE and FARGATE_SPOT, each
with a base and a weight) and which provider each new task of a service goes to
(docs/behaviour.md, "Fargate capacity providers").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.params import Params

if TYPE_CHECKING:
    from ecsim.model.ecs.cluster import Cluster

FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"
PROVIDERS = (FARGATE, FARGATE_SPOT)  # the AWS-managed providers of Fargate
WEIGHT_MAX = 1000  # botocore's CapacityProviderStrategyItemWeight
BASE_MAX = 100_000  # botocore's CapacityProviderStrategyItemBase
STRATEGY_ITEMS = 20  # "A capacity provider strategy may contain a maximum of 20 capacity providers"
BOTH = (
    "Specifying both a launch type and capacity provider strategy is not supported. "
    "Remove one and try again."
)
SPOT_INTERRUPTED = "Your Spot Task was interrupted."
SPOT_WARNING = 120.0  # seconds between the termination notice and the task's end


@dataclass(frozen=True)
class StrategyItem:
    """One capacity provider of a strategy."""

    provider: str
    weight: int = 0
    base: int = 0

    def shape(self) -> dict[str, Any]:
        return {"capacityProvider": self.provider, "weight": self.weight, "base": self.base}


Strategy = tuple[StrategyItem, ...]


def read_strategy(p: Params, name: str = "capacityProviderStrategy") -> Strategy | None:
    """A capacity provider strategy (None: not given), checked as AWS checks it: known
    providers, each once, weights 0 to 1,000 with at least one above 0, bases 0 to 100,000 on
    one provider at most."""
    if not p.has(name):
        return None
    items = p.list(name)
    if not items:
        return None
    if len(items) > STRATEGY_ITEMS:
        raise p.fail(
            f"A capacity provider strategy may contain a maximum of {STRATEGY_ITEMS} capacity "
            "providers."
        )
    strategy: list[StrategyItem] = []
    for i, raw in enumerate(items):
        item = p.as_structure(raw, f"{name}[{i}]", ("capacityProvider", "weight", "base"))
        name = item.req_str("capacityProvider")
        weight = item.int("weight", lo=0, hi=WEIGHT_MAX) or 0
        base = item.int("base", lo=0, hi=BASE_MAX) or 0
        if name not in PROVIDERS:
            raise errors.InvalidParameterException(
                f"ecsim models the Fargate capacity providers only ({', '.join(PROVIDERS)}); "
                f"'{name}' is not one of them."
            )
        if any(s.provider == name for s in strategy):
            raise errors.InvalidParameterException(
                f"The capacity provider strategy contains {name} more than once."
            )
        strategy.append(StrategyItem(name, weight, base))
    if sum(1 for s in strategy if s.base > 0) > 1:
        raise errors.InvalidParameterException(
            "Only one capacity provider in a capacity provider strategy can have a base defined."
        )
    if all(s.weight == 0 for s in strategy):
        raise errors.InvalidParameterException(
            "At least one capacity provider in a capacity provider strategy must have a weight "
            "greater than zero."
        )
    return tuple(strategy)


def choose(strategy: Sequence[StrategyItem], running: Iterable[str]) -> str:
    """The provider of the next task, given the providers of the tasks already there: the
    base first, then the weights, the provider furthest below its share of the tasks beyond
    the bases (the first of the strategy on a tie)."""
    counts = {s.provider: 0 for s in strategy}
    for provider in running:
        if provider in counts:
            counts[provider] += 1
    for s in strategy:
        if counts[s.provider] < s.base:
            return s.provider
    beyond = {s.provider: max(0, counts[s.provider] - s.base) for s in strategy}
    total_weight = sum(s.weight for s in strategy)
    after = sum(beyond.values()) + 1
    best = max(
        (s for s in strategy if s.weight > 0),
        key=lambda s: s.weight * after / total_weight - beyond[s.provider],
    )
    return best.provider


def shape(strategy: Strategy) -> list[dict[str, Any]]:
    return [s.shape() for s in strategy]


def check_providers(providers: Sequence[str]) -> None:
    """CreateCluster's and PutClusterCapacityProviders' `capacityProviders`: Fargate's, once."""
    for provider in providers:
        if provider not in PROVIDERS:
            raise errors.InvalidParameterException(
                f"The specified capacity provider {provider} does not exist: ecsim has the "
                "Fargate capacity providers FARGATE and FARGATE_SPOT."
            )
    if len(set(providers)) != len(providers):
        raise errors.InvalidParameterException("capacityProviders can not contain duplicates.")


def of_cluster(
    cluster: Cluster, given: Strategy | None, launch_type: str | None
) -> Strategy | None:
    """The strategy a service or RunTask runs with: the one given (its providers associated
    with the cluster), else the cluster's default strategy when no launch type is given either,
    else none (the launch type)."""
    if given is not None:
        check_associated(given, cluster.name, cluster.capacity_providers)
        return given
    if launch_type is None and cluster.default_strategy:
        return cluster.default_strategy
    return None


def check_associated(strategy: Strategy, cluster_name: str, providers: Sequence[str]) -> None:
    """Every provider of `strategy` must be associated with the cluster
    (PutClusterCapacityProviders, or CreateCluster's `capacityProviders`)."""
    for s in strategy:
        if s.provider not in providers:
            raise errors.InvalidParameterException(
                f"The capacity provider {s.provider} is not associated with the cluster "
                f"{cluster_name}. Associate it with PutClusterCapacityProviders first."
            )
