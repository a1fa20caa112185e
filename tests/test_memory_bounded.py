"""The agent process's memory stays bounded over a long session, and while the store is stalled
(issue 12 item 7): what cannot be held in memory is spilled to a file and counted, never dropped
silently."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from oversight._facts import FactsTracker
from oversight._recorder import Recorder
from oversight._session import DenialCounts
from oversight.classify import Classifier
from oversight.classify.workspace import FORGOTTEN, MAX_FORGOTTEN, SessionView
from oversight.decide import Proposal
from oversight.kinds import Kind
from oversight.records import Record, SessionEnded

REPO = Path(__file__).resolve().parents[1]

# 20,000 steps of the benchmark's mix (benchmarks/bench_memory.py) in a fresh process. Measured
# on this code: about +5 MiB between step 5,000 and step 20,000 (the classifier's bounded caches
# finishing to fill); before the fixes, the same run kept growing with the session.
GROWTH_BOUND_MIB = 15.0
_MEASURE = """
import gc, sys, tempfile
from pathlib import Path
from benchmarks.bench_memory import Outcome, mix, open_monitor, rss_kib, run_step

with tempfile.TemporaryDirectory() as tmp:
    monitor = open_monitor(Path(tmp), warnings=[])
    step, outcome = mix(monitor), Outcome()
    with monitor.session("memory-test", agent="test"):
        for i in range(1, 20_001):
            run_step(step, i, outcome)
            if i in (5_000, 20_000):
                monitor.flush()
                gc.collect()
                print(i, rss_kib()[0], flush=True)
    monitor.close()
    print("written", monitor._recorder.written, "lost", monitor._recorder.lost_records)
"""


def test_rss_growth_from_step_5000_to_20000_is_bounded() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.split("\n")
    rss = {int(a): int(b) for a, b in (line.split() for line in lines if line[:1].isdigit())}
    growth_mib = (rss[20_000] - rss[5_000]) / 1024
    assert growth_mib < GROWTH_BOUND_MIB, f"RSS grew {growth_mib:.1f} MiB over 15,000 steps"
    written = next(line.split() for line in lines if line.startswith("written"))
    assert int(written[1]) > 40_000 and written[3] == "0"


class StalledStore:
    """A store whose appends block until released: another process holds the write lock."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.stored: list[Record] = []
        self.entered = threading.Event()

    def append(self, records: Sequence[Record], *, durable: bool = True) -> Any:
        self.entered.set()
        self.release.wait()
        self.stored.extend(records)
        return []


def _record(i: int) -> Record:
    return SessionEnded(session_id=f"s{i}", status="completed", steps=i)


def test_a_stalled_store_bounds_the_queue_and_spills_what_it_cannot_hold(tmp_path: Path) -> None:
    store = StalledStore()
    warnings: list[str] = []
    recorder = Recorder(
        store,
        flush_interval_s=0.01,
        batch_size=10,
        max_queued=100,
        spill_dir=tmp_path,
        on_error=warnings.append,
    )
    try:
        recorder.submit(_record(0))
        assert store.entered.wait(5)  # the writer is now stuck inside append with one batch
        longest = 0
        for i in range(1, 1000):
            recorder.submit(_record(i))
            longest = max(longest, recorder.pending)
        assert longest <= 100
        assert recorder.spilled_records >= 850
        spilled_lines = sum(len(p.read_text().splitlines()) for p in recorder.spilled)
        assert spilled_lines == recorder.spilled_records
        assert any("were saved to" in w and "oversight import" in w for w in warnings)
    finally:
        store.release.set()
        recorder.close()
    assert recorder.lost_records == 0
    # Every record is in the store or in a spill file, exactly once; and the store is told.
    alerts = [r for r in store.stored if r.type == "alert"]
    kept = [r for r in store.stored if r.type != "alert"]
    assert len(kept) + recorder.spilled_records == 1000
    assert alerts and f"{recorder.spilled_records} records" in alerts[-1].reason  # type: ignore[union-attr]
    names = {r.session_id for r in kept}
    for path in recorder.spilled:
        lines = path.read_text().splitlines()
        names |= {line.split('"session_id":"')[1].split('"')[0] for line in lines}
    assert names == {f"s{i}" for i in range(1000)}


def test_records_neither_stored_nor_spilled_are_counted_and_warned(tmp_path: Path) -> None:
    store = StalledStore()
    warnings: list[str] = []
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the spill folder should be")
    recorder = Recorder(
        store, batch_size=10, max_queued=20, spill_dir=blocked, on_error=warnings.append
    )
    try:
        recorder.submit(_record(0))
        assert store.entered.wait(5)
        for i in range(1, 50):
            recorder.submit(_record(i))
        assert recorder.pending <= 20
        assert recorder.lost_records >= 20
        assert any("they are lost" in w for w in warnings)
    finally:
        store.release.set()
        recorder.close()
    alerts = [r for r in store.stored if r.type == "alert"]
    assert len(store.stored) - len(alerts) + recorder.lost_records == 50
    assert alerts and f"{recorder.lost_records} were lost" in alerts[-1].reason  # type: ignore[union-attr]


def test_a_recorder_needs_room_for_two_records() -> None:
    with pytest.raises(ValueError, match="max_queued"):
        Recorder(StalledStore(), max_queued=1)


PUSHES = "import subprocess\nsubprocess.run(['git', 'push', 'origin', 'main'])\n"


def test_written_files_are_bounded_and_an_evicted_script_is_unresolved_not_unread() -> None:
    classifier = Classifier()
    view = SessionView(root=None, max_written_chars=64 * 1024)
    view.observe("Write", {"file_path": "/w/ship.py", "content": PUSHES})
    known = classifier.classify("Bash", {"command": "python /w/ship.py"}, view=view)
    assert known.kind is Kind.CODE_APPLY
    for i in range(40):  # 40 × 4 KiB: more than the budget, so ship.py is evicted
        view.observe("Write", {"file_path": f"/w/f{i}.py", "content": "x = 1\n" * 700})
    held = sum(len(t) for t in view.written.values() if t is not None)
    assert held <= 64 * 1024
    assert "/w/ship.py" not in view.written and "/w/ship.py" in view.forgotten
    assert view.read_file("/w/ship.py").problem == FORGOTTEN
    forgotten = classifier.classify("Bash", {"command": "python /w/ship.py"}, view=view)
    # Its content is unknown now: the run is flagged unresolved (confined, like a script too
    # large to read), where a never-written script would be judged by its name alone.
    assert "unresolved" in forgotten.flags
    never = classifier.classify("Bash", {"command": "python /w/other.py"}, view=view)
    assert "unresolved" not in never.flags
    # Writing it again makes its content known again.
    view.observe("Write", {"file_path": "/w/ship.py", "content": PUSHES})
    again = classifier.classify("Bash", {"command": "python /w/ship.py"}, view=view)
    assert again.kind is Kind.CODE_APPLY and "/w/ship.py" not in view.forgotten


def test_forgotten_names_are_bounded_too() -> None:
    view = SessionView(root=None, max_written_chars=1024)
    for i in range(MAX_FORGOTTEN + 600):
        view.observe("Write", {"file_path": f"/w/f{i}.py", "content": "y = 2\n" * 100})
    assert len(view.forgotten) == MAX_FORGOTTEN
    assert len(view.written) <= 2


def test_denial_counts_keep_the_most_recent_keys() -> None:
    counts = DenialCounts(limit=3)
    for key in ("a", "b", "c"):
        counts[(key,)] += 1
    counts[("a",)] += 1  # recently counted again: kept
    counts[("d",)] += 1
    assert dict(counts) == {("c",): 1, ("a",): 2, ("d",): 1}


def test_the_hourly_window_holds_seconds_not_steps() -> None:
    now = [1000.0]
    tracker = FactsTracker(clock=lambda: now[0])
    for seq in range(1, 5001):
        tracker.observe(
            Proposal(
                session_id="s", step_id=f"i{seq}", seq=seq, name="Bash",
                kind=Kind.SHELL_EXEC, actor="agent", args={}, args_digest="d",
                flags=frozenset(), targets=(),
            ),
            reviewed=False,
        )  # fmt: skip
        now[0] += 0.01  # 100 steps a second
    assert tracker.facts().consequential_last_hour == 5000
    assert len(tracker._window) <= 51
    now[0] += 3600 - 25  # the first 25 seconds' steps are now older than an hour
    assert 2400 <= tracker.facts().consequential_last_hour <= 2600


def test_a_healthy_store_behind_a_burst_catches_up_instead_of_spilling(tmp_path: Path) -> None:
    """Spilling is for a stuck store: a burst that outruns a working writer waits for it."""
    from oversight.store import open_store

    warnings: list[str] = []
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        recorder = Recorder(
            store, flush_interval_s=0.05, batch_size=50, max_queued=200,
            spill_dir=tmp_path, on_error=warnings.append,
        )  # fmt: skip
        try:
            for i in range(3_000):
                recorder.submit(_record(i))
            recorder.flush()
            assert recorder.spilled_records == 0 and recorder.lost_records == 0, warnings
            assert store.count() == 3_000
        finally:
            recorder.close()
    assert not list(tmp_path.glob("unwritten-*.jsonl"))
