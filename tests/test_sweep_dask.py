"""A sweep on a real Dask distributed cluster on 127.0.0.1 (a scheduler and 2 worker
processes, started and stopped here): the same rows as the local run, and a worker killed
mid-sweep loses no row (its runs are retried elsewhere)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import ecsim
from ecsim.sweep import Sweep, load_text

distributed = pytest.importorskip("distributed")

SWEEP = """name: on-dask
scenario: auto-healing
seed: 3
seeds: 6
parameters:
  - path: world.target_groups[home-tg].health_check.interval
    values: [6s, 10s, 20s]
metrics: [errors, time_to_detect, time_to_recover, task_hours]
"""


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A scheduler and 2 worker processes (one thread each) on 127.0.0.1, and a client."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # a worker killed on purpose is not a reason to give up on its runs
            worker_class=distributed.Nanny,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        c.wait_for_workers(2, timeout=120)
        yield c


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    return load_text(SWEEP, "on-dask.yaml")


def test_a_dask_cluster_gives_the_rows_of_the_local_run(client: object, sweep: Sweep) -> None:
    local = ecsim.sweep(sweep, workers=2)
    remote = ecsim.sweep(sweep, client)
    assert remote.rows == local.rows
    assert remote.csv_text() == local.csv_text()
    assert all(r["error"] is None for r in remote.rows)


def test_a_worker_killed_mid_sweep_loses_no_row(
    client: object, sweep: Sweep, tmp_path: Path
) -> None:
    pids: dict[str, int] = client.run(os.getpid)  # type: ignore[attr-defined]
    victim = sorted(pids.values())[0]
    killed_at: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed_at and done < total:
            os.kill(victim, signal.SIGKILL)  # a worker process dies with runs on it
            killed_at.append(done)

    table = ecsim.sweep(sweep, client, progress=progress)
    assert killed_at and killed_at[0] < sweep.runs()
    assert [(r["point"], r["seed_index"]) for r in table.rows] == [
        (p, i) for p in range(3) for i in range(6)
    ]
    assert table.rows == ecsim.sweep(sweep, workers=1).rows
