"""Run a few independent tasks in forked processes, one per core, and collect their results.

Used to verify long hash chains in parallel: hashing is CPU-bound Python, so threads would share
one core. Fork (not spawn) makes starting a worker cost milliseconds instead of re-importing
everything; it is only used where it is safe: POSIX, and no other thread in this process whose
locks a child could inherit mid-use (a running Monitor's writer thread, for instance).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Below this many rows a single pass finishes before forked workers would pay for themselves.
PARALLEL_MIN_ROWS = 100_000
MAX_WORKERS = 8


class ForkedTaskError(RuntimeError):
    """A forked worker failed or died; the caller falls back to doing the work itself."""


def parallel_workers(rows: int, *, memory: bool) -> int:
    """How many forked workers to use for `rows` rows (1 means: do it here)."""
    if memory or rows < PARALLEL_MIN_ROWS or sys.platform == "win32":
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, rows // (PARALLEL_MIN_ROWS // 2)))


def run_forked(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run each task in its own forked child; results in task order, or ForkedTaskError."""
    ctx = multiprocessing.get_context("fork")
    pipes: list[Any] = []
    procs: list[Any] = []
    for task in tasks:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(task, send), daemon=True)
        proc.start()
        send.close()
        pipes.append(receive)
        procs.append(proc)
    results: list[T] = []
    failure: str | None = None
    for receive, proc in zip(pipes, procs, strict=True):
        try:
            ok, value = receive.recv()
        except EOFError:
            ok, value = False, f"worker {proc.pid} exited without a result"
        finally:
            receive.close()
        proc.join()
        if ok:
            results.append(value)
        elif failure is None:
            failure = str(value)
    if failure is not None:
        raise ForkedTaskError(failure)
    return results


def _child(task: Callable[[], Any], send: Any) -> None:
    try:
        send.send((True, task()))
    except BaseException as exc:  # noqa: BLE001 - report every failure to the parent
        send.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()
