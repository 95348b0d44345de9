"""AWS identifiers and ARNs, drawn from a seeded stream so a world's IDs repeat with its seed.

Formats follow AWS's (docs/behaviour.md, "ARN and ID formats").
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

ACCOUNT = "123456789012"


class Ids:
    """Makes the IDs of one world."""

    def __init__(self, rng: random.Random, region: str, account: str = ACCOUNT) -> None:
        self._rng = rng
        self.region = region
        self.account = account

    def hex(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))

    def digits(self, n: int) -> str:
        return str(self._rng.randint(10 ** (n - 1), 10**n - 1))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def task_id(self) -> str:
        return self.hex(32)

    def deployment_id(self) -> str:
        return f"ecs-svc/{self.digits(19)}"

    def resource(self, prefix: str) -> str:
        """EC2-style IDs: `vpc-…`, `subnet-…`, `sg-…`, `eni-…`, `i-…` (17 hex digits)."""
        return f"{prefix}-{self.hex(17)}"

    def mac(self) -> str:
        return ":".join(["12"] + [self.hex(2) for _ in range(5)])

    def ecs_arn(self, resource: str) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:{resource}"

    def elb_arn(self, resource: str) -> str:
        return f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:{resource}"


class Clock:
    """Turns simulated seconds into the datetimes AWS answers carry."""

    def __init__(self, epoch: datetime) -> None:
        self.epoch = epoch

    def at(self, t: float) -> datetime:
        return self.epoch + timedelta(seconds=t)

    def seconds(self, when: datetime) -> float:
        """The simulated second of a datetime (the inverse of `at`)."""
        return (when - self.epoch).total_seconds()


DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
