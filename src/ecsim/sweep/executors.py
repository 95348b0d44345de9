"""Where the runs of a sweep go: worker processes on this machine (the default), any
`concurrent.futures.Executor`, or a Dask distributed cluster through its `Client`.

Runs go out in small batches (`run.run_many`: fewer round trips than one run each, still
many per worker, so the progress moves and a lost worker costs little). With Dask each batch
is submitted with `retries`, so the runs of a worker lost mid-sweep are run again elsewhere.
Whatever the executor, the rows depend only on the tasks: the caller sorts them.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from ecsim.sweep import limits
from ecsim.sweep.metrics import Value
from ecsim.sweep.run import Task, run_many

Row = dict[str, Value]
Progress = Callable[[int, int], None]  # (runs done, runs in all)
OnRows = Callable[[list[Row]], None]  # each batch's rows, as it arrives


class DaskClient(Protocol):
    """What a sweep uses of `distributed.Client`."""

    def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def scheduler_info(self, **kwargs: Any) -> dict[str, Any]: ...


def is_dask_client(executor: object) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(
        executor, "scheduler_info"
    )


def local_executor(workers: int | None = None) -> cf.ProcessPoolExecutor:
    """Worker processes on this machine: `workers` (default: one per CPU). They are started
    by a fork server (or spawned), never forked from a process that may hold threads."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return cf.ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context)


def batches(tasks: list[Task], workers: int) -> list[list[Task]]:
    """Consecutive runs in batches: about 8 per worker over the sweep, at most 8 runs each."""
    size = max(1, min(8, math.ceil(len(tasks) / max(1, workers * 8))))
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def execute(
    tasks: list[Task],
    executor: Any = None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    on_rows: OnRows | None = None,
) -> list[Row]:
    """The rows of `tasks`, in the order they finish (the caller sorts them)."""
    if not tasks:
        return []
    if executor is None:
        count = workers or os.cpu_count() or 1
        with local_executor(count) as pool:
            return _futures(tasks, pool, count, progress, on_rows)
    if is_dask_client(executor):
        return _dask(tasks, executor, progress, on_rows)
    if isinstance(executor, cf.Executor):
        count = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        return _futures(tasks, executor, int(count), progress, on_rows)
    raise TypeError(
        f"expected a concurrent.futures.Executor or a distributed.Client; got {type(executor).__name__}"
    )


def _collect(
    done: Iterable[Any],
    total: int,
    result: Callable[[Any], list[Row]],
    progress: Progress | None,
    on_rows: OnRows | None,
) -> list[Row]:
    rows: list[Row] = []
    for future in done:
        batch = result(future)
        rows += batch
        if on_rows is not None:
            on_rows(batch)
        if progress is not None:
            progress(len(rows), total)
    return rows


def _futures(
    tasks: list[Task],
    executor: cf.Executor,
    workers: int,
    progress: Progress | None,
    on_rows: OnRows | None,
) -> list[Row]:
    futures = [executor.submit(run_many, b) for b in batches(tasks, workers)]
    try:
        return _collect(cf.as_completed(futures), len(tasks), _result, progress, on_rows)
    except BaseException:
        for f in futures:
            f.cancel()  # (interrupted: what has not started will not)
        raise


def _result(future: Any) -> list[Row]:
    rows: list[Row] = future.result()
    return rows


def _dask(
    tasks: list[Task], client: DaskClient, progress: Progress | None, on_rows: OnRows | None
) -> list[Row]:
    from distributed import as_completed  # (only here: `import ecsim` never imports dask)

    info = client.scheduler_info()
    workers = sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()) or 1
    futures = [
        client.submit(run_many, b, retries=limits.MAX_RETRIES, pure=False)
        for b in batches(tasks, workers)
    ]
    done = as_completed(futures)  # type: ignore[no-untyped-call, unused-ignore]
    try:
        return _collect(_each(done), len(tasks), _result, progress, on_rows)
    except BaseException:
        for f in futures:
            f.cancel()
        raise


def _each(done: Iterable[Any]) -> Iterator[Any]:
    yield from done
