"""Availability Zones going down and coming back: AWS has no API for it; `w.chaos.fail_az`
and `restore_az` do it, and whatever runs in the zone learns of it through `ZoneObserver`
(docs/behaviour.md, "Availability Zone failure")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ecsim.model.events import InfrastructureChanged

if TYPE_CHECKING:
    from ecsim.model.context import SimContext
    from ecsim.model.ec2.network import Network


class ZoneObserver(Protocol):
    def zone_will_change(self, az: str) -> None:
        """The zone is about to go down or come back."""

    def zone_changed(self, az: str, up: bool) -> None:
        """The zone went down (`up` False) or came back."""


class Zones:
    """The one writer of a zone's state."""

    def __init__(self, ctx: SimContext, net: Network) -> None:
        self.ctx = ctx
        self.net = net
        self.observers: list[ZoneObserver] = []

    def set_up(self, az: str, up: bool) -> None:
        """Cut a zone off (`up` False) or bring it back; a repeat changes nothing."""
        zone = self.net.az(az)
        if zone.up == up:
            return
        for observer in self.observers:
            observer.zone_will_change(az)
        zone.up = up
        self.ctx.emit(InfrastructureChanged(self.ctx.now, az, "available" if up else "impaired"))
        for observer in self.observers:
            observer.zone_changed(az, up)
