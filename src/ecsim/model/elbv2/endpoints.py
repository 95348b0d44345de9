"""The network as the load balancer sees it: what answers at each private address, and the
interface through which whoever routes requests (the data plane) learns that routing changes.

The ELBv2 side owns both. A component that changes what a request to an address gets (a
task that starts or stops listening, dies, is cut off, or takes a fault) does it inside
`with endpoints.change():`, and the observers settle every request up to that instant
first, with the routing as it was. Nobody else flushes the data plane.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

from ecsim.model.elbv2.health import ProbeResult


class Endpoint(Protocol):
    """Whatever owns an address: it answers the load balancer's health-check probes."""

    def probe(
        self, now: float, port: int, path: str, timeout: float, matcher: str
    ) -> ProbeResult: ...


class RoutingObserver(Protocol):
    """Told of every change of routing, before it happens (the data plane)."""

    def routing_will_change(self) -> None:
        """Settle everything up to now with the routing as it is."""

    def endpoint_failed(self, ip: str) -> None:
        """The address stopped answering at once: requests in flight on it fail (502)."""

    def endpoint_unreachable(self, ip: str) -> None:
        """The address is cut off: requests in flight on it never get an answer."""

    def target_drained(self, tg_arn: str, ip: str, port: int) -> None:
        """A target's deregistration delay ended: requests still running on it get 502."""


E = TypeVar("E", bound=Endpoint)


class Endpoints(Generic[E]):
    """The addresses the load balancers can reach, and the observers of routing changes."""

    def __init__(self) -> None:
        self._by_ip: dict[str, E] = {}
        self._observers: list[RoutingObserver] = []

    def observe(self, observer: RoutingObserver) -> None:
        self._observers.append(observer)

    def replace_observer(self, old: RoutingObserver, new: RoutingObserver) -> None:
        self._observers = [new if o is old else o for o in self._observers]

    def get(self, ip: str) -> E | None:
        return self._by_ip.get(ip)

    # --- changes --------------------------------------------------------------------------

    def will_change(self) -> None:
        """What requests get is about to change: everything before now is settled first."""
        for observer in self._observers:
            observer.routing_will_change()

    @contextmanager
    def change(self) -> Iterator[None]:
        """A change of what requests get, made inside the block."""
        self.will_change()
        yield

    def attach(self, ip: str, endpoint: E) -> None:
        """`endpoint` owns `ip` from now on. No target routes to a new address until it is
        registered (or its checks pass), so requests so far are not affected."""
        self._by_ip[ip] = endpoint

    def detach(self, ip: str, endpoint: E) -> None:
        """`endpoint` releases `ip`: requests in flight to it fail."""
        with self.change():
            if self._by_ip.get(ip) is endpoint:
                del self._by_ip[ip]
        self.failed(ip)

    def failed(self, ip: str) -> None:
        for observer in self._observers:
            observer.endpoint_failed(ip)

    def unreachable(self, ip: str) -> None:
        for observer in self._observers:
            observer.endpoint_unreachable(ip)

    def drained(self, tg_arn: str, ip: str, port: int) -> None:
        for observer in self._observers:
            observer.target_drained(tg_arn, ip, port)

    def zone_will_change(self, az: str) -> None:
        """A zone goes down or comes back (a `ZoneObserver`): what its addresses answer
        changes."""
        self.will_change()

    def zone_changed(self, az: str, up: bool) -> None:
        """The owners of the addresses in the zone say what changed for each."""

    # --- the load balancer's view ---------------------------------------------------------

    def items(self) -> dict[str, E]:
        """Read-only use: the owner of each address."""
        return self._by_ip
