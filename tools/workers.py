"""Spread independent chunks of work over the calling process and a few spawned workers.

The caller starts on the chunks at once; workers (fresh interpreters, so no inherited database
connections or thread pools) join when they have started, and every process claims the next
unclaimed chunk, so a slow or busy worker simply does fewer. A chunk a worker claimed but never
reported (it failed, or died) is redone by the caller: the answer never depends on the workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

log = logging.getLogger("nurture.workers")
_POLL_S = 0.2


def map_chunks(
    tasks: Sequence[Task],
    local: Callable[[Task], Result],
    *,
    workers: int = 1,
    remote: Callable[[Task], Result] | None = None,
    setup: Callable[..., None] | None = None,
    setup_args: tuple[Any, ...] = (),
) -> list[Result]:
    """`local(task)` here, or `remote(task)` in a worker, for every task; results in task order.

    `remote` and `setup` must be module-level functions (a worker imports them by name), and
    `setup(*setup_args)` runs once in each worker before it claims chunks (open the database,
    receive the model). With `workers` <= 1, no `remote` or a single task, all runs here.
    """
    if workers <= 1 or remote is None or len(tasks) < 2:
        return [local(task) for task in tasks]
    context = multiprocessing.get_context("spawn")
    claimed = context.Value("i", 0)
    jobs: Any = context.Queue()
    reports: Any = context.Queue()
    processes = [
        context.Process(target=_work, args=(claimed, jobs, reports), daemon=True)
        for _ in range(workers - 1)
    ]
    for process in processes:
        process.start()
    # The job goes through a queue, not the process arguments: unpickling it imports the
    # caller's modules (seconds), and `start()` would wait for that; the queue does not.
    for _ in processes:
        jobs.put((list(tasks), remote, setup, setup_args))
    results: dict[int, Result] = {}
    try:
        while (index := _claim(claimed, len(tasks))) is not None:
            results[index] = local(tasks[index])
        _collect(processes, reports, results, len(tasks))
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for channel in (jobs, reports):
            channel.cancel_join_thread()  # a job a stopped worker never read is dropped
            channel.close()
    for index in range(len(tasks)):  # claimed by a worker that did not finish it
        if index not in results:
            results[index] = local(tasks[index])
    return [results[index] for index in range(len(tasks))]


def _claim(claimed: Any, total: int) -> int | None:
    with claimed.get_lock():
        index = int(claimed.value)
        if index >= total:
            return None
        claimed.value = index + 1
    return index


def _collect(processes: list[Any], reports: Any, results: dict[int, Any], total: int) -> None:
    """Wait for the chunks the workers claimed; stop early when a worker exits without one."""
    running = len(processes)
    while len(results) < total and running:
        try:
            kind, index, value = reports.get(timeout=_POLL_S)
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                running = 0  # died without saying so: whatever is missing is redone here
            continue
        if kind == "result":
            results[index] = value
        else:
            running -= 1
            if value:
                log.warning("a worker stopped; its chunks are redone here:\n%s", value)


def _work(claimed: Any, jobs: Any, reports: Any) -> None:
    error = None
    try:
        tasks, remote, setup, setup_args = jobs.get()
        if setup is not None:
            setup(*setup_args)
        while (index := _claim(claimed, len(tasks))) is not None:
            reports.put(("result", index, remote(tasks[index])))
    except BaseException:  # reported, and the caller redoes the chunk
        error = traceback.format_exc()
    reports.put(("exit", None, error))
