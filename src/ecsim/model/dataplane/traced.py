"""What the kinds of traced requests resolve to, kept from one batch to the next.

Traced requests (`DataPlane.trace_many`: the ALB's real port, `Traffic.send`) come in small
batches, one per turn of the port's event loop, and most of them ask the same few paths.
Routing changes only at control-plane events, and each is announced to the data plane
before it happens (`routing_will_change`, elbv2/endpoints.py), which moves the data plane's
`routing_epoch` on. Until then a request kind resolves to the same rule and pools, so its
resolution, the trace its requests start from and its pools' target names are kept.

Slow start is the one part of a pool that depends on time: a pool keeps the windows of the
targets in slow start when it was resolved, and a window that has ended since weighs a
target fully (`DataPlane._pick_one` clips the ramp at 1), as a pool resolved now would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ecsim.model.dataplane.routing import Action, Pool, RequestKind, Snapshot
from ecsim.model.elbv2.resources import LoadBalancer, LoadBalancingAlgorithm

if TYPE_CHECKING:
    from ecsim.model.dataplane.engine import DataPlane

KEPT = 4096  # request kinds whose resolution is kept, at most


class TracedRoute(NamedTuple):
    """One request kind's resolution at one listener."""

    action: Action
    cdf: list[float] | None  # cumulative weight shares of the action's pools (None: no pool)
    start: dict[str, Any]  # the trace every request of that kind starts from


class TracedRoutes:
    """The resolutions of traced request kinds, valid for one routing epoch."""

    def __init__(self, dp: DataPlane) -> None:
        self.dp = dp
        self.epoch = -1
        self._snap: Snapshot | None = None
        self._routes: dict[tuple[str, int | None, RequestKind], TracedRoute] = {}
        self._picks: dict[str, tuple[float, bool]] = {}  # by target group
        self._names: dict[str, list[str]] = {}

    def refresh(self, now: float) -> None:
        """Forget every resolution when routing changed since they were made."""
        if self.epoch != self.dp.routing_epoch or self._snap is None:
            self.epoch = self.dp.routing_epoch
            self._snap = Snapshot(self.dp, at=now)
            self._routes.clear()
            self._picks.clear()
            self._names.clear()

    def route(self, lb: LoadBalancer, port: int | None, kind: RequestKind) -> TracedRoute:
        """How a request of `kind` to `lb`'s listener `port` is routed (`refresh` first)."""
        key = (lb.arn, port, kind)
        route = self._routes.get(key)
        if route is None:
            assert self._snap is not None
            if len(self._routes) >= KEPT:  # a client that asks ever new paths
                self._routes.clear()
            route = self._routes[key] = _resolve(self._snap, lb, port, kind)
        return route

    def pick(self, pool: Pool) -> tuple[float, bool]:
        """A pool's last slow-start end, and whether it picks at random (weighted random)."""
        pick = self._picks.get(pool.tg.arn)
        if pick is None:
            pick = self._picks[pool.tg.arn] = (
                pool.slow_start_end,
                pool.algorithm is LoadBalancingAlgorithm.WEIGHTED_RANDOM,
            )
        return pick

    def names(self, pool: Pool) -> list[str]:
        """A pool's targets as "ip:port"."""
        names = self._names.get(pool.tg.arn)
        if names is None:
            slots = self.dp.slot_keys
            names = self._names[pool.tg.arn] = [
                f"{ip}:{slots[slot][2]}"
                for ip, slot in zip(pool.ips, pool.slots.tolist(), strict=True)
            ]
        return names


def _resolve(snap: Snapshot, lb: LoadBalancer, port: int | None, kind: RequestKind) -> TracedRoute:
    action = snap.resolve(lb, port, kind)
    w = action.weights
    cdf = (np.cumsum(w) / w.sum()).tolist() if action.pools and w.sum() > 0 else None
    start = {
        "time": 0.0,  # the batch's instant
        "client": "client",
        "loadBalancer": lb.name,
        "loadBalancerArn": lb.arn,
        "path": kind.path,
        "host": kind.host,
        "listener": action.listener_arn,
        "rule": action.rule_arn,
        "targetGroup": None,
        "target": None,
        "status": None,
        "latencyMs": None,
        "answeredBy": "elb",
        "reason": action.why or None,
        "settled": False,
    }
    return TracedRoute(action, cdf, start)
