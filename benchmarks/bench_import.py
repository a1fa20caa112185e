"""Replay and import speed on real agents' transcripts, beside classification alone.

The corpus is the real one `tests/corpus/rebuild.py` builds (9,000+ calls of Claude Code, Codex,
OpenHands, mini-swe-agent, SWE-agent, MLGym and Inspect runs) when it has been built on this
machine; otherwise the real Inspect log a registry package ships, imported as 40 runs. Each
figure is amortised wall-clock time over the whole input: reading, classifying, deciding,
scoring autonomy and (import) storing, worker processes included, start-up excluded (imports go
into a store already created, as every import after the first does).
Classification alone (every call through the classifier with its session's state, nothing
else) is the baseline measured in the same run. Beside each rate, the CPU time it took per call
(this process's and its worker processes'): on a machine shared with other work, wall-clock
rates move with the load, CPU time much less.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

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


def _classify_alone(lines: list[TraceLine]) -> tuple[float, float]:
    classifier = Classifier()
    views: dict[str, SessionView] = {}

    def run() -> None:
        for line in lines:
            args = normalise_call(line.args, max_chars=65_536).args
            view = views.setdefault(line.session, SessionView(root=None))
            classifier.classify(line.tool, args, line.kind, view)
            view.observe(line.tool, args)

    return _timed(run)


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(fn: object) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of `fn()`."""
    cpu, t0 = _cpu(), time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0, _cpu() - cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        trace, folder, what = _corpus(tmp)
        lines = [line for _, line in read_trace(trace)]
        calls = len(lines)
        cores = default_jobs(calls)
        header(f"replay and import speed ({calls:,} calls: {what}; {os.cpu_count()} cores)")
        alone, alone_cpu = _classify_alone(lines)
        policy = load_policy("research-default")
        single = _timed(lambda: replay(trace, Classifier(), decider=policy))
        sharded = _timed(
            lambda: replay_sharded(trace, Classifier(), decider=policy, jobs=max(cores, 2))
        )
        report = ImportReport()
        files = recognised_files([folder], None, report)
        one_url = f"sqlite:///{tmp / 'one.db'}"
        many_url = f"sqlite:///{tmp / 'many.db'}"
        for url in (one_url, many_url):
            open_store(url).close()  # creating a store (its schema) is start-up, not import

        def import_one() -> None:
            with open_store(one_url) as store:
                import_files(files, store, ImportReport())

        imported_one = _timed(import_one)
        imported_many = _timed(
            lambda: import_sharded(
                files, many_url, ImportReport(), classifier=Classifier(), jobs=max(cores, 2)
            )
        )
        with open_store(many_url) as store:
            stored = store.count(types={"step.proposed"})
    rate = calls / alone
    print(
        f"classification alone         {rate:10,.0f} calls/s   (baseline)"
        f"{'':38}{alone_cpu * 1e6 / calls:6.0f} µs CPU a call"
    )
    for name, (seconds, cpu), count in (
        ("replay, 1 process", single, calls),
        (f"replay, {max(cores, 2)} processes", sharded, calls),
        ("import, 1 process", imported_one, stored),
        (f"import, {max(cores, 2)} processes", imported_many, stored),
    ):
        speed = count / seconds
        print(
            f"{name:<28} {speed:10,.0f} calls/s   {speed / rate:5.2f}x of classification alone"
            f"   target >= {TARGET_CALLS_PER_S:,}: {verdict(speed >= TARGET_CALLS_PER_S)}"
            f"   {cpu * 1e6 / count:6.0f} µs CPU a call"
        )
    print(json.dumps({"calls": calls, "stored": stored}))


if __name__ == "__main__":
    main()
