"""Write-ahead: a consequential step is durable before it runs; a crash leaves it interrupted."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from oversight import Monitor, StoreUnavailableError
from oversight.records import StepFinished, StepProposed
from oversight.store import open_store
from oversight.timeline import build_session


def _records(db: Path, session_id: str):  # type: ignore[no-untyped-def]
    with open_store(f"sqlite:///{db}") as store:
        return [s.record for s in store.iter_records(session_id=session_id)]


def test_the_proposal_is_in_the_store_before_the_function_body_runs(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    seen_inside: list[list[str]] = []
    with Monitor(db=str(db), policy="record-only", log="none") as mon:

        @mon.step(name="read_notes")
        def read_notes(path: str) -> str:
            return "notes"

        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str) -> str:
            # Read the store through a separate connection, as a reviewer would.
            seen_inside.append([r.type for r in _records(db, "s")])
            return "ok"

        with mon.session("s"):
            read_notes("notes.md")
            launch("c.yaml")
    (inside,) = seen_inside
    assert inside == ["session.started", "step.proposed", "step.finished", "step.proposed"], (
        "the write-ahead write also flushed everything queued before it, in order"
    )


AGENT = textwrap.dedent(
    """
    import sys, time
    from oversight import Monitor
    mon = Monitor(db=sys.argv[1], policy="record-only", log="none")

    @mon.step(name="Read")
    def read(file_path): return "text"

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config, gpus):
        print("RUNNING", flush=True)
        time.sleep(60)

    with mon.session("crashy", agent="bot"):
        read("train.py")
        launch("configs/big.yaml", gpus=512)
    """
)


def test_a_killed_agent_leaves_an_interrupted_step_not_a_gap(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "RUNNING"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()

    records = _records(db, "crashy")
    view = build_session("crashy", records)
    assert view.status == "interrupted", "no end record and the process is gone"
    read_step, launch_step = view.steps
    assert read_step.status == "ok", "the cheap step before it was flushed by the write-ahead"
    assert launch_step.status == "interrupted"
    assert launch_step.proposed.args == {"config": "configs/big.yaml", "gpus": 512}

    shown = subprocess.run(
        [sys.executable, "-m", "oversight", "show", "crashy", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "interrupted" in shown.stdout and "launch_training" in shown.stdout


def _lock_store(db: Path) -> sqlite3.Connection:
    """Hold SQLite's write lock from another connection, as a stuck writer would."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_consequential_step_does_not_run_when_the_store_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERSIGHT_BUSY_TIMEOUT_S", "0.2")
    db = tmp_path / "o.db"
    ran: list[str] = []
    mon = Monitor(db=str(db), policy="record-only", log="none")

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str) -> None:
        ran.append(config)

    with mon.session("s"):
        mon.flush()
        holder = _lock_store(db)
        try:
            with pytest.raises(StoreUnavailableError):
                launch("c.yaml")
        finally:
            holder.rollback()
            holder.close()
        assert ran == [], "the launch must not run unrecorded"
    mon.close()
    records = _records(db, "s")
    proposals = [r for r in records if isinstance(r, StepProposed)]
    outcomes = [r for r in records if isinstance(r, StepFinished)]
    assert len(proposals) == 1, "the refused proposal is written later, once"
    assert outcomes[0].status == "not_run" and "unavailable" in (outcomes[0].error or "")


def test_records_the_store_cannot_take_at_exit_are_spilled_and_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERSIGHT_BUSY_TIMEOUT_S", "0.2")
    monkeypatch.setenv("OVERSIGHT_FLUSH_INTERVAL_MS", "60000")
    spill = tmp_path / "elsewhere"  # configured apart from the store's folder
    monkeypatch.setenv("OVERSIGHT_SPILL_DIR", str(spill))
    db = tmp_path / "o.db"
    mon = Monitor(db=str(db), policy="record-only", log="none")

    with mon.session("s"):
        pass
    holder = _lock_store(db)  # from here on, every write attempt fails
    try:
        later = mon.session("later")
        later.start()
        for i in range(5):
            mon.check("lookup", {"q": str(i)}, session=later).succeed(str(i))
        mon.close()
    finally:
        holder.rollback()
        holder.close()
    spilled = sorted(spill.glob("unwritten-*.jsonl"))
    assert not list(tmp_path.glob("unwritten-*.jsonl")), "nothing beside the store"
    assert len(spilled) == 1
    assert len(spilled[0].read_text().splitlines()) == 11  # start + 5 × (proposed + finished)

    done = subprocess.run(
        [sys.executable, "-m", "oversight", "import", str(spilled[0]), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len([r for r in _records(db, "later") if isinstance(r, StepProposed)]) == 5
    verified = subprocess.run(
        [sys.executable, "-m", "oversight", "verify", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout


def test_the_background_writer_makes_cheap_steps_durable_without_a_flush(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none") as mon:

        @mon.step(name="lookup")
        def lookup(q: str) -> str:
            return q

        with mon.session("s"):
            lookup("a")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if any(r.type == "step.finished" for r in _records(db, "s")):
                    break
                time.sleep(0.02)
            else:
                pytest.fail("the batched records never reached the store")


def test_a_write_ahead_steps_events_reach_the_log_while_the_writer_sleeps(
    tmp_path: Path,
) -> None:
    """An idle writer has no next tick: a durable write wakes it, so the step's events are
    delivered (to the event log, to spans) without waiting for another step."""
    import json

    log = tmp_path / "events.jsonl"
    mon = Monitor(db=str(tmp_path / "o.db"), policy="record-only", log=str(log))
    with mon.session("s"):
        mon.check("Read", {"file_path": "a"}).succeed("ok")
        mon.flush()
        end = time.monotonic() + 5
        while not mon._recorder.idle and time.monotonic() < end:
            time.sleep(0.01)
        mon.check("launch_training", {"config": "x"}, kind="train.launch").succeed("ok")
        end = time.monotonic() + 5
        seen: list[str] = []
        while time.monotonic() < end:
            seen = [json.loads(line).get("event", "") for line in log.read_text().splitlines()]
            if seen.count("step.proposed") >= 2:
                break
            time.sleep(0.02)
        assert seen.count("step.proposed") >= 2, seen
    mon.close()
