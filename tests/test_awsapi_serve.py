"""`ecsim serve` itself, as a user starts it: the AWS API on its port, the ALB on another,
the mapping printed on start (issue 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from ecsim.cli.serve import AlbPort
from tests.support.ports import free_port


def test_alb_port_options() -> None:
    assert AlbPort.parse("8080") == AlbPort(8080, None, 80)
    assert AlbPort.parse("8080=home-alb") == AlbPort(8080, "home-alb", 80)
    assert AlbPort.parse("8081=home-alb:8080") == AlbPort(8081, "home-alb", 8080)
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/0123"
    assert AlbPort.parse(f"9000={arn}") == AlbPort(9000, arn, 80)
    assert AlbPort.parse(f"9000={arn}:81") == AlbPort(9000, arn, 81)
    for bad in ("", "x", "x=home-alb", "0", "70000", "8080=lb:0"):
        with pytest.raises(ValueError, match=r"PORT|ports"):
            AlbPort.parse(bad)


def test_ecsim_serve_answers_the_aws_api_and_the_alb_port() -> None:
    api, alb = free_port(), free_port()
    command = "from ecsim.cli.main import main; main()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            command,
            "serve",
            "--port",
            str(api),
            "--speed",
            "60",
            "--alb-port",
            f"{alb}=home-alb:80",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert f"http://127.0.0.1:{api}/" in lines[0]
        assert f"http://127.0.0.1:{alb}/  -> listener :80 of home-alb" in lines[1]
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{alb}/hello", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the ALB port did not open"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["taskDefinition"] == "home-app:1"
        r = httpx.post(
            f"http://127.0.0.1:{api}/",
            headers={
                "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
                "Content-Type": "application/x-amz-json-1.1",
            },
            content=b"{}",
        )
        assert json.loads(r.content)["clusterArns"][0].endswith(":cluster/home")
        # the headers AWS's endpoint sends, and no `Server: uvicorn`
        assert set(r.headers) == {"date", "x-amzn-requestid", "content-length", "content-type"}
        page_state = httpx.get(f"http://127.0.0.1:{api}/ecsim/ui/state", timeout=10).json()
        assert page_state["realPorts"] == [
            {"port": alb, "loadBalancer": "home-alb", "listenerPort": 80}
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()
