"""Bounded load: 20 concurrent clients for 10 wall seconds against the ALB port and the AWS
API at once. Nothing is lost: every request gets exactly one answer, the model counted exactly
the requests the clients sent (by status), and the server stays up (issue 5).

Speed is printed, not asserted (`pytest -s -k load` shows it), so a slow machine passes too.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import httpx
import pytest

from ecsim.model.world import World
from tests.awsapi_support import running

CLIENTS_ALB = 16
CLIENTS_API = 4
SECONDS = 10.0
ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


async def alb_client(base: str, until: float, out: collections.Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < until:
            out["sent"] += 1
            try:
                r = await client.get("/load")
            except httpx.HTTPError as e:
                out[f"error:{type(e).__name__}"] += 1
                continue
            out[str(r.status_code)] += 1


async def api_client(base: str, until: float, i: int, out: collections.Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < until:
            out["sent"] += 1
            try:
                if i % 2:
                    r = await client.post(
                        "/",
                        headers={
                            "X-Amz-Target": f"{ECS_TARGET}.DescribeServices",
                            "Content-Type": "application/x-amz-json-1.1",
                        },
                        content=b'{"cluster": "home", "services": ["home-service"]}',
                    )
                    ok = r.status_code == 200 and r.json()["services"][0]["desiredCount"] == 3
                else:
                    r = await client.post(
                        "/",
                        data={"Action": "DescribeTargetGroups", "Version": "2015-12-01"},
                    )
                    ok = r.status_code == 200 and b"<TargetGroupName>home-tg<" in r.content
            except httpx.HTTPError as e:
                out[f"error:{type(e).__name__}"] += 1
                continue
            out["ok" if ok else f"bad:{r.status_code}"] += 1


@pytest.mark.slow
def test_twenty_clients_for_ten_seconds_lose_nothing() -> None:
    with running(factory=lambda seed: World.demo(seed=seed, rate=0), speed=60) as server:

        async def load() -> tuple[collections.Counter[str], collections.Counter[str], float]:
            alb: collections.Counter[str] = collections.Counter()
            api: collections.Counter[str] = collections.Counter()
            began = time.monotonic()
            until = began + SECONDS
            await asyncio.gather(
                *(alb_client(server.alb_url, until, alb) for _ in range(CLIENTS_ALB)),
                *(api_client(server.url, until, i, api) for i in range(CLIENTS_API)),
            )
            return alb, api, time.monotonic() - began

        alb, api, took = asyncio.run(load())

        # Every request got exactly one answer, and a well-formed one.
        alb_answers = {k: v for k, v in alb.items() if k.isdigit()}
        assert not [k for k in alb if k.startswith("error")], alb
        assert sum(alb_answers.values()) == alb["sent"] > 0
        assert api["ok"] == api["sent"] > 0, api

        # The model counted exactly what the clients got (the world's own load is 0 rps).
        def model_counts(w: World) -> dict[str, Any]:
            w.advance(15)  # past the last answer's simulated latency
            return w.traffic.stats()

        stats = server.call(model_counts)
        assert stats["requests"] == alb["sent"]
        assert stats["by_status"] == alb_answers
        status = httpx.get(f"{server.url}/ecsim/api/status")
        assert status.status_code == 200  # still up

    print(
        f"\nload: {CLIENTS_ALB} ALB clients {alb['sent'] / took:.0f} req/s "
        f"({dict(alb_answers)}), {CLIENTS_API} API clients {api['sent'] / took:.0f} req/s, "
        f"{(alb['sent'] + api['sent']) / took:.0f} req/s in all over {took:.1f} s"
    )
