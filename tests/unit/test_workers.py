"""map_chunks: chunks shared by the caller and spawned workers; a failing worker costs nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.workers import map_chunks

# Set in each worker by `remember`: where to mark that a worker ran, and how to misbehave.
_STATE: dict[str, str] = {}


def remember(flag: str, mode: str) -> None:
    _STATE.update(flag=flag, mode=mode)


def remote_square(task: int) -> tuple[int, int, int]:
    Path(_STATE["flag"]).touch()
    if _STATE["mode"] == "raise" and task == 2:
        raise RuntimeError("this chunk fails in the worker")
    if _STATE["mode"] == "die" and task == 2:
        os._exit(3)  # the worker vanishes without a word
    return task, task * task, os.getpid()


def local_square(flag: Path) -> Callable[[int], tuple[int, int, int]]:
    def square(task: int) -> tuple[int, int, int]:
        if task == 0:  # hold the first chunk until a worker has started on one
            deadline = time.monotonic() + 120
            while not flag.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return task, task * task, os.getpid()

    return square


@pytest.mark.parametrize("mode", ["ok", "raise", "die"])
def test_chunks_come_back_in_order_whoever_did_them(tmp_path: Path, mode: str) -> None:
    flag = tmp_path / "worker-ran"
    results = map_chunks(
        list(range(10)),
        local_square(flag),
        workers=2,
        remote=remote_square,
        setup=remember,
        setup_args=(str(flag), mode),
    )
    assert [(task, square) for task, square, _ in results] == [(t, t * t) for t in range(10)]
    assert flag.exists()  # a worker took chunks
    if mode == "die":  # what it had sent may be lost with it: everything missing was redone here
        return
    assert {pid for _, _, pid in results} - {os.getpid()}  # its finished chunks were used
    if mode == "raise":  # the chunk it failed on was redone here
        assert results[2][2] == os.getpid()


def test_one_worker_or_no_remote_runs_everything_here() -> None:
    here = os.getpid()
    for workers, remote in ((1, remote_square), (4, None)):
        results = map_chunks([1, 2, 3], lambda t: (t, t * t, os.getpid()), workers=workers,
                             remote=remote)  # fmt: skip
        assert results == [(1, 1, here), (2, 4, here), (3, 9, here)]
    assert map_chunks([], lambda t: t, workers=2, remote=remote_square) == []
