"""A small load generator for the load test, run in its own process (its own GIL):

    python -m tests.support.loadgen ALB_URL API_URL ALB_CLIENTS API_CLIENTS SECONDS

Prints one JSON object: per side, requests sent and answers by status (or error), and the
wall time it ran.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time

import httpx

ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


async def alb_client(base: str, until: float, out: collections.Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < until:
            out["sent"] += 1
            try:
                r = await client.get("/load")
            except httpx.HTTPError as e:
                out[f"error:{type(e).__name__}"] += 1
                continue
            out[str(r.status_code)] += 1


async def api_client(base: str, until: float, i: int, out: collections.Counter[str]) -> None:
    """ECS DescribeServices (JSON 1.1) and ELBv2 DescribeTargetGroups (query), alternately."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
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
                        "/", data={"Action": "DescribeTargetGroups", "Version": "2015-12-01"}
                    )
                    ok = r.status_code == 200 and b"<TargetGroupName>home-tg<" in r.content
            except httpx.HTTPError as e:
                out[f"error:{type(e).__name__}"] += 1
                continue
            out["ok" if ok else f"bad:{r.status_code}"] += 1


async def run(alb: str, api: str, alb_clients: int, api_clients: int, seconds: float) -> None:
    alb_out: collections.Counter[str] = collections.Counter()
    api_out: collections.Counter[str] = collections.Counter()
    began = time.monotonic()
    until = began + seconds
    await asyncio.gather(
        *(alb_client(alb, until, alb_out) for _ in range(alb_clients)),
        *(api_client(api, until, i, api_out) for i in range(api_clients)),
    )
    took = time.monotonic() - began
    print(json.dumps({"alb": alb_out, "api": api_out, "seconds": took}))


if __name__ == "__main__":
    a, b, n, m, s = sys.argv[1:6]
    asyncio.run(run(a, b, int(n), int(m), float(s)))
