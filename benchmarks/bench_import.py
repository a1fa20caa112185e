"""Replay and import speed on real agents' transcripts, beside classification alone.

The corpus is the real one `tests/corpus/rebuild.py` builds (9,000+ calls of Claude Code, Codex,
OpenHands, mini-swe-agent, SWE-agent, MLGym and Inspect runs) when it has been built on this
machine; otherwise the real Inspect log a registry package ships, imported as 40 runs. Each
figure is amortised wall-clock time over the whole input: reading, classifying, deciding,
scoring autonomy and (import) storing, worker processes included, start-up excluded (imports go
into a store already created, as every import after the first does).
Classification alone (every call through the classifier with its session's state, nothing
else) is the baseline measured in the same run. Each measurement runs in a fresh process (cold
caches, as a user's command starts), three rounds round-robin, and the median is printed with
the range. Beside each rate, the CPU time it took per call (the process's and its workers'):
this machine's speed drifts by a fifth from one run to the next, and CPU time with it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from benchmarks.common import header, verdict
from oversight._sharded import default_jobs, import_sharded, replay_sharded
from oversight.classify import Classifier
from oversight.classify.workspace import SessionView
from oversight.importing.formats.inspect_log import FORMAT as INSPECT
from oversight.importing.model import ImportedSession
from oversight.importing.run import ImportReport, import_files, recognised_files
from oversight.importing.to_trace import trace_lines
from oversight.normalise import normalise_call
from oversight.policy import load_policy
from oversight.replay import TraceLine, read_trace, replay
from oversight.store import open_store

TARGET_CALLS_PER_S = 5_000
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "corpus"), str(ROOT / "tests")]  # the corpus tooling

from realdata import real_file
from rebuild import default_out


def _corpus(tmp: Path) -> tuple[Path, Path, str]:
    """(trace file, folder of transcripts to import, what they are)."""
    built = default_out()
    if (built / "corpus.trace.jsonl").is_file() and (built / "sources").is_dir():
        return built / "corpus.trace.jsonl", built / "sources", "the real corpus"
    log = real_file("docent", "docent/samples/log.eval")
    sessions = [s for s in INSPECT.read(log) if isinstance(s, ImportedSession)]
    folder, trace, lines = tmp / "logs", tmp / "trace.jsonl", []
    for run in range(40):
        (folder / f"run{run}").mkdir(parents=True)
        shutil.copy(log, folder / f"run{run}" / "ctf.eval")
        for session in sessions:
            for line in trace_lines(session):
                line.session = f"run{run}:{line.session}"
                lines.append(line.model_dump_json(exclude_none=True))
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return trace, folder, "a real Inspect log x40 (`python tests/corpus/rebuild.py` for the rest)"


ROUNDS = 3
"""Each measurement is taken this many times, round-robin, and its median reported: this
machine's speed drifts by a fifth over seconds, and a round-robin shares the drift out."""


def _classify_alone(lines: list[TraceLine], classifier: Classifier) -> None:
    views: dict[str, SessionView] = {}
    for line in lines:
        args = normalise_call(line.args, max_chars=65_536).args
        view = views.setdefault(line.session, SessionView(root=None))
        classifier.classify(line.tool, args, line.kind, view)
        view.observe(line.tool, args)


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _cold(fn: Callable[[Classifier], object]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of `fn(classifier)` in a fresh child process, forked
    before any classification ran: its caches start empty, as a user's `oversight import` does,
    and what one measurement cached cannot speed up the next. Its workers' CPU is counted.
    Building the classifier (compiling the policy's path globs, about 0.1 s) is start-up, done
    before the clock starts, as opening the store is."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        classifier = Classifier()
        cpu, t0 = _cpu(), time.perf_counter()
        fn(classifier)
        writer.send((time.perf_counter() - t0, _cpu() - cpu))

    process = context.Process(target=child)
    process.start()
    got = reader.recv() if reader.poll(600) else None
    process.join()
    if got is None or process.exitcode != 0:
        raise RuntimeError(f"a benchmark child failed (exit code {process.exitcode})")
    return cast(tuple[float, float], got)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        trace, folder, what = _corpus(tmp)
        lines = [line for _, line in read_trace(trace)]
        calls = len(lines)
        jobs = max(default_jobs(calls), 2)
        header(
            f"replay and import speed ({calls:,} calls: {what}; {os.cpu_count()} cores; "
            f"median of {ROUNDS} rounds, each measurement in a fresh process)"
        )
        policy = load_policy("research-default")
        files = recognised_files([folder], None, ImportReport())
        urls: list[str] = []

        def store_url() -> str:
            urls.append(f"sqlite:///{tmp / f'import{len(urls)}.db'}")
            open_store(urls[-1]).close()  # creating a store (its schema) is start-up, not import
            return urls[-1]

        def import_one(url: str, classifier: Classifier) -> None:
            with open_store(url) as store:
                import_files(files, store, ImportReport(), classifier=classifier)

        measured: dict[str, list[tuple[float, float]]] = {}
        for _ in range(ROUNDS):
            one_url, many_url = store_url(), store_url()
            for name, fn in (
                ("classification alone", lambda c: _classify_alone(lines, c)),
                ("replay, 1 process", lambda c: replay(trace, c, decider=policy)),
                (
                    f"replay, {jobs} processes",
                    lambda c: replay_sharded(trace, c, decider=policy, jobs=jobs),
                ),
                ("import, 1 process", lambda c, url=one_url: import_one(url, c)),
                (
                    f"import, {jobs} processes",
                    lambda c, url=many_url: import_sharded(
                        files, url, ImportReport(), classifier=c, jobs=jobs
                    ),
                ),
            ):
                measured.setdefault(name, []).append(_cold(fn))
        stored = []
        for url in urls:
            with open_store(url) as store:
                stored.append(store.count(types={"step.proposed"}))
    if len(set(stored)) != 1:
        raise RuntimeError(f"the imports stored different numbers of calls: {stored}")
    baseline = calls / statistics.median(s for s, _ in measured["classification alone"])
    for name, runs in measured.items():
        count = calls if not name.startswith("import") else stored[0]
        rates = sorted(count / seconds for seconds, _ in runs)
        speed = statistics.median(rates)
        cpu_us = statistics.median(cpu for _, cpu in runs) * 1e6 / count
        spread = f"({rates[0]:,.0f}-{rates[-1]:,.0f})"
        if name == "classification alone":
            verdict_text = f"{'(baseline)':<40}"
        else:
            verdict_text = (
                f"{speed / baseline:5.2f}x alone   target >= {TARGET_CALLS_PER_S:,}: "
                f"{verdict(speed >= TARGET_CALLS_PER_S)}"
            )
        print(
            f"{name:<22} {speed:7,.0f} calls/s {spread:<15} {verdict_text}"
            f"   {cpu_us:4.0f} µs CPU a call"
        )
    print(json.dumps({"calls": calls, "stored": stored[0], "rounds": ROUNDS}))


if __name__ == "__main__":
    main()
