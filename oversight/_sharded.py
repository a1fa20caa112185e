"""Replay and import on every core: sessions are independent, so each worker process takes a
share of them and the results come back in order.

A session's classification depends on its own earlier steps only (its writes, its open file,
its facts), never on another session's, so splitting by session changes nothing in the result:
tests compare sharded and single-process output line by line. Workers are forked, so they start
with the parent's classifier and policy already built; the parent validates a trace in full
before any worker starts, so a malformed line is reported exactly as a single process would.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight._batch_gc import collect_rarely, frozen_for_fork
from oversight.classify import Classifier
from oversight.decide import Decider
from oversight.importing.run import ImportedFile, ImportReport, prepared_sessions, size_of
from oversight.importing.writer import KnownSteps, SessionWriter
from oversight.replay import ReplayedSession, ReplayedStep, TraceLine, read_trace, replay_lines
from oversight.store import open_store

MIN_LINES_PER_JOB = 2_000
"""Below this many lines a job costs more to start than it saves."""


def default_jobs(lines: int) -> int:
    """Every core, when there is enough work for them (this machine's 2 cores: 2)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, lines // MIN_LINES_PER_JOB))


def sessions_by_cost(lines: dict[int, TraceLine]) -> list[list[int]]:
    """Each session's line numbers (in file order), the most expensive session first: workers
    take the next session when they finish one, so the run ends soon after its last big one.
    A session costs about its calls plus the text they carry (a script, an edit). Shares fixed
    in advance left one of 2 workers 10-40% busier than the other on the real corpus (a hash
    of the session id, or costs balanced up front: this machine's two cores do not run at the
    same speed), and the run waits for the busier."""
    numbers: dict[str, list[int]] = {}
    cost: dict[str, int] = {}
    for number, line in lines.items():
        size = 64
        for value in line.args.values():
            if type(value) is str:
                size += len(value)
        cost[line.session] = cost.get(line.session, 0) + size
        numbers.setdefault(line.session, []).append(number)
    return [numbers[s] for s in sorted(cost, key=lambda s: (-cost[s], s))]


@dataclass
class _ReplayJob:
    lines: dict[int, TraceLine]
    sessions: list[list[int]]  # each session's line numbers, in the order workers take them
    classifier: Classifier
    decider: Decider | None
    max_arg_chars: int
    people_review_gates: bool
    next_session: Any  # a shared counter: the next session a worker takes
    done: Any = field(default=None)  # a shared counter of lines, for a progress bar


_JOB: _ReplayJob | None = None

_Result = tuple[int, str, str, list[str], list[str], str, dict[str, Any], Any, Any, Any]


def _replay_share(_: int) -> tuple[list[_Result], dict[str, ReplayedSession]]:
    """One worker: the next session not yet taken, replayed whole, until none is left."""
    job = _JOB
    assert job is not None, "workers are forked from replay_sharded"

    def mine() -> Any:
        # the parent's parsed lines, inherited by the fork: nothing is read or parsed twice
        while (index := _take(job.next_session)) < len(job.sessions):
            for number in job.sessions[index]:
                yield number, job.lines[number]

    def counted(_: int) -> None:
        if job.done is not None:
            with job.done.get_lock():
                job.done.value += 1

    steps, sessions = replay_lines(
        mine(),
        job.classifier,
        decider=job.decider,
        max_arg_chars=job.max_arg_chars,
        progress=counted if job.done is not None else None,
        people_review_gates=job.people_review_gates,
    )
    return [_result(s) for s in steps], sessions


def _result(s: ReplayedStep) -> _Result:
    return (s.line, s.kind, s.reason, s.flags, s.targets, s.args_digest, s.args, s.decision,
            s.rule, s.decision_reason)  # fmt: skip


def _step(index: int, trace: TraceLine, r: _Result) -> ReplayedStep:
    n, kind, reason, flags, targets, digest, args, decision, rule, why = r
    return ReplayedStep(
        index=index, line=n, trace=trace, kind=kind, reason=reason, flags=flags,
        targets=targets, args_digest=digest, args=args, decision=decision, rule=rule,
        decision_reason=why,
    )  # fmt: skip


def replay_sharded(
    path: Path,
    classifier: Classifier,
    *,
    decider: Decider | None = None,
    max_arg_chars: int = 65_536,
    jobs: int,
    progress: Callable[[int], None] | None = None,
    people_review_gates: bool = False,
) -> tuple[list[ReplayedStep], dict[str, ReplayedSession]]:
    """`replay` on `jobs` processes; the same steps and sessions, in the same order."""
    global _JOB
    traces: dict[int, TraceLine] = dict(read_trace(path))  # validates the whole file first
    order = list(dict.fromkeys(line.session for line in traces.values()))
    context = multiprocessing.get_context("fork")
    done = context.Value("q", 0) if progress is not None else None
    _JOB = _ReplayJob(
        traces,
        sessions_by_cost(traces),
        classifier,
        decider,
        max_arg_chars,
        people_review_gates,
        next_session=context.Value("q", 0),
        done=done,
    )
    try:
        with frozen_for_fork(), context.Pool(jobs) as pool:
            pending = pool.map_async(_replay_share, range(jobs))
            while not pending.ready():
                pending.wait(0.2)
                if progress is not None and done is not None:
                    progress(int(done.value))
            shares = pending.get()
    finally:
        _JOB = None
    results = sorted((r for share, _ in shares for r in share), key=lambda r: r[0])
    steps = [_step(i, traces[r[0]], r) for i, r in enumerate(results)]
    merged: dict[str, ReplayedSession] = {}
    for _, sessions in shares:
        merged.update(sessions)
    return steps, {sid: merged[sid] for sid in order}


@dataclass
class _ImportJob:
    folders: list[list[ImportedFile]]
    store_url: str
    classifier: Classifier
    max_arg_chars: int
    next_folder: Any  # a shared counter: the next folder a worker takes
    results: Any  # ("share", report) a folder, then ("done", report) or ("failed", error)
    write_lock: Any  # the workers take turns storing a batch (SQLite has one writer)


_IMPORT: _ImportJob | None = None


def _import_worker() -> None:
    """One worker: the next folder not yet taken, read, classified and stored in batches
    through its own writer, until none is left; a report a folder (with what its batches stored
    meanwhile), and the last batch's at the end. A failure is sent, not raised: the parent
    raises it."""
    job = _IMPORT
    assert job is not None, "workers are forked from import_sharded"
    try:
        with collect_rarely(), open_store(job.store_url) as store:
            known = KnownSteps(store)
            with SessionWriter(store, ImportReport(), lock=job.write_lock) as writer:
                while (index := _take(job.next_folder)) < len(job.folders):
                    share = writer.report = ImportReport()
                    for prepared in prepared_sessions(
                        job.folders[index],
                        known,
                        share,
                        job.classifier,
                        max_arg_chars=job.max_arg_chars,
                    ):
                        writer.add(prepared)
                    writer.report = ImportReport()  # `share` is sent as it stands now
                    job.results.put(("share", share))
            job.results.put(("done", writer.report))
    except BaseException as exc:  # noqa: BLE001 (every failure goes to the parent)
        job.results.put(("failed", _sendable(exc)))


def _take(counter: Any) -> int:
    with counter.get_lock():
        taken = int(counter.value)
        counter.value = taken + 1
    return taken


def _sendable(exc: BaseException) -> BaseException:
    """The error itself when it pickles, else its text in one that does."""
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 (anything unpicklable)
        return RuntimeError(f"an import worker failed: {type(exc).__name__}: {exc}")
    return exc


def import_folders(files: list[ImportedFile]) -> list[list[ImportedFile]]:
    """The files by folder, largest first. A folder is one task: a host keeps a session and its
    sub-agents' files side by side, and one worker must see a session whole, or two could each
    store its new calls. Workers take the next folder when they finish one, so a folder of
    expensive calls does not hold the others up."""
    by_folder: dict[Path, list[ImportedFile]] = {}
    for item in files:
        by_folder.setdefault(item.path.parent, []).append(item)
    return sorted(by_folder.values(), key=lambda items: -size_of(items))


def import_sharded(
    files: list[ImportedFile],
    store_url: str,
    report: ImportReport,
    *,
    classifier: Classifier,
    max_arg_chars: int = 65_536,
    jobs: int,
    on_share: Callable[[ImportReport], None] | None = None,
) -> None:
    """`import_files` on `jobs` processes. Each worker stores its sessions itself, a batch at a
    time (`SessionWriter`), taking turns at one lock: each batch is one transaction, so the
    workers rarely wait, and nothing crosses between processes but reports. A session two
    workers both found new (two copies of one transcript) is stored once: the store checks,
    under its write lock, that it still holds what each session was built after."""
    global _IMPORT
    folders = import_folders(files)
    context = multiprocessing.get_context("fork")
    open_store(store_url).close()  # created (and migrated) once, before the workers open it
    _IMPORT = _ImportJob(
        folders,
        store_url,
        classifier,
        max_arg_chars,
        next_folder=context.Value("q", 0),
        results=context.Queue(),
        write_lock=context.Lock(),
    )
    workers = [context.Process(target=_import_worker, daemon=True) for _ in range(jobs)]
    try:
        with frozen_for_fork():
            for worker in workers:
                worker.start()
        _collect(_IMPORT.results, workers, report, on_share)
    finally:
        _IMPORT = None
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()


def _collect(
    results: Any,
    workers: list[Any],
    report: ImportReport,
    on_share: Callable[[ImportReport], None] | None,
) -> None:
    """Merge the workers' reports until each has said it is done; raise what one sent, or
    that one died without a word (killed, out of memory)."""
    running = len(workers)
    while running:
        try:
            kind, payload = results.get(timeout=0.5)
        except queue.Empty:
            if any(w.exitcode not in (None, 0) for w in workers) or all(
                w.exitcode is not None for w in workers
            ):
                raise RuntimeError("an import worker died; what it stored is kept") from None
            continue
        if kind == "failed":
            raise payload
        report.merge(payload)
        if kind == "done":
            running -= 1
        elif on_share is not None:
            on_share(payload)
