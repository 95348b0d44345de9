"""Bounded load: 20 concurrent clients for 10 wall seconds against the ALB port and the AWS
API at once. Nothing is lost: every request gets exactly one answer, the model counted exactly
the requests the clients sent (by status), and the server stays up (issue 5).

The clients run in their own process (`tests/support/loadgen.py`), so they do not share the
server's interpreter lock. Speed is printed, not asserted (`pytest -s -k load` shows it), so a
slow or busy machine passes too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecsim.model.world import World
from tests.support.server import LiveServer

ROOT = Path(__file__).resolve().parent.parent
CLIENTS_ALB = 16
CLIENTS_API = 4
SECONDS = 10.0


@pytest.mark.slow
@pytest.mark.server(world="demo", rate=0, speed=60)
def test_twenty_clients_for_ten_seconds_lose_nothing(server: LiveServer) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.loadgen",
            server.alb_url,
            server.url,
            str(CLIENTS_ALB),
            str(CLIENTS_API),
            str(SECONDS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout)
    alb, api, took = result["alb"], result["api"], result["seconds"]

    # Every request got exactly one answer, and a well-formed one.
    alb_answers = {k: v for k, v in alb.items() if k.isdigit()}
    assert not [k for k in alb if k.startswith("error")], alb
    assert sum(alb_answers.values()) == alb["sent"] > 0
    assert api.get("ok") == api["sent"] > 0, api

    # The model counted exactly what the clients got (the world's own load is 0 rps).
    def model_counts(w: World) -> dict[str, Any]:
        w.advance(15)  # past the last answer's simulated latency
        return w.traffic.stats()

    stats = server.call(model_counts)
    assert stats["requests"] == alb["sent"]
    assert stats["by_status"] == alb_answers
    assert httpx.get(f"{server.url}/ecsim/api/status").status_code == 200  # still up

    print(
        f"\nload: {CLIENTS_ALB} ALB clients {alb['sent'] / took:.0f} req/s "
        f"({alb_answers}), {CLIENTS_API} API clients {api['sent'] / took:.0f} req/s, "
        f"{(alb['sent'] + api['sent']) / took:.0f} req/s in all over {took:.1f} s"
    )
