"""ECS capacity providers and cluster settings: PutClusterCapacityProviders,
DescribeCapacityProviders and UpdateCluster (docs/behaviour.md, "Capacity providers",
"Cluster settings").

ecsim has AWS's two Fargate capacity providers, FARGATE and FARGATE_SPOT, which every account
has and which only need to be associated with a cluster; it has no Auto Scaling group
capacity providers (CreateCapacityProvider is not served). A cluster's providers and its
default capacity provider strategy are stored and answered: which provider a task runs on
follows the strategy (docs/behaviour.md, "Capacity providers", "Fargate capacity providers").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.names import tail
from ecsim.model.aws.params import Params
from ecsim.model.ecs import capacity
from ecsim.model.ecs.capacity import PROVIDERS
from ecsim.model.ecs.coverage import COVERAGE
from ecsim.model.ecs.paging import ARNS, pages

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ecs.backend import EcsBackend
    from ecsim.model.ecs.cluster import Cluster

DESCRIBE_MOST = 100  # "Up to 100 capacity providers can be described in an action."
INSIGHTS = ("enabled", "disabled", "enhanced")  # containerInsights values
_NAMES = ARNS
# "This value can be between 1 and 10. ... returns up to 10 results"
_PAGES = pages(10)


class EcsCapacity:
    """Capacity providers and UpdateCluster, for `EcsApi`."""

    ctx: SimContext
    backend: EcsBackend
    _cluster: Callable[[str | None], Cluster]
    _cluster_shape: Callable[..., dict[str, Any]]

    def put_cluster_capacity_providers(self, **params: Any) -> dict[str, Any]:
        p = Params("PutClusterCapacityProviders", params, errors.InvalidParameterException)
        cluster = self._cluster(p.req_str("cluster"))
        providers = p.strs("capacityProviders", required=True, most=len(PROVIDERS) + 8)
        capacity.check_providers(providers)
        strategy = capacity.read_strategy(p, "defaultCapacityProviderStrategy") or ()
        p.done()
        capacity.check_associated(strategy, cluster.name, providers)
        self.backend.put_cluster_capacity_providers(cluster, providers, strategy)
        return {"cluster": self._cluster_shape(cluster)}

    def describe_capacity_providers(self, **params: Any) -> dict[str, Any]:
        p = Params("DescribeCapacityProviders", params, errors.InvalidParameterException)
        refs = p.strs("capacityProviders", most=DESCRIBE_MOST)
        cluster_ref = p.str("cluster")
        include = p.strs("include")
        for i, value in enumerate(include):
            p.as_enum(value, f"include.{i + 1}.member", ("TAGS",))
        page = _PAGES.read(p)
        p.done()
        offered = list(PROVIDERS)
        if cluster_ref is not None:
            offered = list(self._cluster(cluster_ref).capacity_providers)
        found, failures = [], []
        for ref in refs or offered:
            name = tail(ref) if ref.startswith("arn:") else ref
            if ref.startswith("arn:") and not ref.startswith(
                self.ctx.ids.ecs_arn("capacity-provider/")
            ):
                name = ""
            if name in offered:
                found.append(name)
            else:
                failures.append({"arn": self._provider_arn(ref), "reason": "MISSING"})
        answer = page.of(found, "capacityProviders", self._provider_shape)
        answer["failures"] = failures
        return answer

    def update_cluster(self, **params: Any) -> dict[str, Any]:
        p = Params("UpdateCluster", params, errors.InvalidParameterException)
        COVERAGE.screen(p)
        cluster = self._cluster(p.req_str("cluster"))
        settings = read_settings(p)
        p.done()
        if settings:
            self.backend.update_cluster_settings(cluster, settings)
        return {"cluster": self._cluster_shape(cluster)}

    def _provider_arn(self, ref: str) -> str:
        return ref if ref.startswith("arn:") else self.ctx.ids.ecs_arn(f"capacity-provider/{ref}")

    def _provider_shape(self, name: str) -> dict[str, Any]:
        return {
            "capacityProviderArn": self._provider_arn(name),
            "name": name,
            "status": "ACTIVE",
            "tags": [],
            "type": name,
        }


def read_settings(p: Params) -> dict[str, str]:
    """Cluster `settings`: containerInsights, enabled, disabled or enhanced."""
    out: dict[str, str] = {}
    for i, raw in enumerate(p.list("settings")):
        item = p.as_structure(raw, f"settings[{i}]", ("name", "value"))
        name = item.as_enum(
            item.req_str("name"), f"settings.{i + 1}.member.name", ("containerInsights",)
        )
        value = item.req_str("value")
        if value not in INSIGHTS:
            raise errors.InvalidParameterException(
                f"Invalid value for containerInsights: {value!r}; valid values are "
                f"{', '.join(INSIGHTS)}."
            )
        out[name] = value
    return out
