"""The load benchmarks refuse a run they could not carry out, by name, before starting any
server (benchmarks/alb_port.py, benchmarks/aws_api.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("alb_port", ["--client", "wrk", "--seconds", "nan"]),
        ("alb_port", ["--client", "wrk", "--seconds", "1e308"]),
        ("alb_port", ["--client", "wrk", "--seconds", "-1"]),
        ("alb_port", ["--client", "wrk", "--connections", "0"]),
        ("alb_port", ["--client", "wrk", "--seconds", "2"]),  # wrk cannot run 0.4 s turns
        ("aws_api", ["--seconds", "inf"]),
        ("aws_api", ["--seconds", str(10**12)]),
        ("aws_api", ["--clients", "-1"]),
        ("aws_api", ["--runs", "0"]),
    ],
)
def test_a_benchmark_refuses_a_run_it_cannot_carry_out(module: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "error: --seconds" in done.stderr
