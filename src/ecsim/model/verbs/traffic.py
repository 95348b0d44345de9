"""`w.traffic`: the clients. A steady load per load balancer, single traced requests, and the
statistics of what the clients got back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ecsim.model.dataplane.routing import RequestKind
from ecsim.model.elbv2.resources import LoadBalancer
from ecsim.model.errors import LoadBalancerNotFound, ValidationError
from ecsim.model.verbs import catalog
from ecsim.model.verbs.spec import check

if TYPE_CHECKING:
    from ecsim.model.dataplane.engine import DataPlane
    from ecsim.model.elbv2.backend import ElbBackend


class Traffic:
    def __init__(self, elb: ElbBackend, dataplane: DataPlane) -> None:
        self.elb = elb
        self.dataplane = dataplane

    def _lb(self, ref: str | None) -> LoadBalancer:
        lbs = self.elb.load_balancers
        if ref is None:
            if not lbs:
                raise LoadBalancerNotFound("There is no load balancer to send traffic to.")
            return next(iter(lbs.values()))
        for lb in lbs.values():
            if ref in (lb.arn, lb.name, lb.dns_name):
                return lb
        raise LoadBalancerNotFound(f"Load balancer '{ref}' not found")

    def set_rate(
        self,
        rps: float,
        load_balancer: str | None = None,
        paths: Iterable[str | dict[str, Any]] | None = None,
        port: int | None = None,
    ) -> None:
        """A steady client load of `rps` requests per second (Poisson arrivals), at most
        `catalog.MAX_RATE`.

        `paths` spreads the load over request kinds: `["/", "/api"]`, or dicts with `path`,
        `host` and `weight`.
        """
        if paths is not None and not isinstance(paths, str | dict):
            paths = list(paths)
        given = {"rps": rps, "load_balancer": load_balancer, "paths": paths, "port": port}
        check(catalog.SET_RATE, given)
        lb = self._lb(load_balancer)
        kinds = None
        if paths is not None:
            kinds = []
            for p in paths:
                if isinstance(p, str):
                    kinds.append(RequestKind(p))
                else:
                    kinds.append(
                        RequestKind(
                            str(p.get("path", "/")), p.get("host"), float(p.get("weight", 1.0))
                        )
                    )
        try:
            self.dataplane.set_rate(lb.arn, float(rps), kinds, port)
        except ValueError as e:
            raise ValidationError(str(e)) from None

    def rate(self, load_balancer: str | None = None) -> float:
        check(catalog.RATE, {"load_balancer": load_balancer})
        src = self.dataplane.sources.get(self._lb(load_balancer).arn)
        return src.rate if src else 0.0

    def send(
        self,
        path: str | None = None,
        host: str | None = None,
        load_balancer: str | None = None,
        port: int | None = None,
    ) -> dict[str, Any]:
        """One request, now (to `/` unless `path` says), answered with its whole trace: the
        answer it gets if nothing changes before simulated time reaches it (`settled` False);
        the same dict then says what the client got, the answer `stats` counts (`settled`
        True)."""
        given = {"path": path, "host": host, "load_balancer": load_balancer, "port": port}
        a = check(catalog.SEND, given)
        return self.dataplane.trace(self._lb(load_balancer).arn, RequestKind(a["path"], host), port)

    def send_many(
        self,
        requests: Sequence[tuple[str, str | None]],
        load_balancer: str | None = None,
        port: int | None = None,
    ) -> list[dict[str, Any]]:
        """`send` for each (path, host) of `requests`, all now, one after the other: the
        same traces as that many calls of `send`, evaluated together (the ALB's real port
        sends the requests that reach it within one turn of its event loop so). Each
        distinct request is checked once; the first one refused refuses them all."""
        checked: dict[tuple[str, str | None], RequestKind] = {}
        kinds = []
        for path, host in requests:
            kind = checked.get((path, host))
            if kind is None:
                given = {"path": path, "host": host, "load_balancer": load_balancer, "port": port}
                a = check(catalog.SEND, given)
                kind = checked[(path, host)] = RequestKind(a["path"], host)
            kinds.append(kind)
        trace_many = getattr(self.dataplane, "trace_many", None)
        lb = self._lb(load_balancer).arn
        if trace_many is None:  # a data plane of one request at a time (tests' reference)
            return [self.dataplane.trace(lb, kind, port) for kind in kinds]
        traces: list[dict[str, Any]] = trace_many(lb, kinds, port)
        return traces

    def settle(self, trace: dict[str, Any]) -> None:
        """Fix the answer of a request traced by `send` now, before simulated time reaches it:
        what the model gives it now becomes what its client got and what `stats` counts
        (the ALB's real port does this when the answer is due while the clock is paused).
        Not a verb of the other faces: a trace sent over JSON is a copy."""
        self.dataplane.settle(trace)

    def stats(
        self,
        since: float | None = None,
        until: float | None = None,
        load_balancer: str | None = None,
    ) -> dict[str, Any]:
        """Answers over [since, until) of simulated time: by status, target, source; latency.

        Statistics are kept per second (`stats_period`): the window counts every second it
        reaches into, whole, so every answer given in [since, until) is counted, and so are
        the others of the seconds `since` and `until` fall in (docs/behaviour.md, "Traffic
        statistics")."""
        check(catalog.STATS, {"since": since, "until": until, "load_balancer": load_balancer})
        arn = self._lb(load_balancer).arn if load_balancer else None
        return self.dataplane.summary(since, until, arn)
