"""The halt switch: stop an agent from another process, and keep it stopped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from reviewing import cli

from oversight import CheckpointDenied, Monitor, Proposal, SessionHalted, Verdict
from oversight.records import SessionEnded, StepFinished, StepProposed
from oversight.store import open_store

AGENT = textwrap.dedent(
    """
    import sys, time
    from oversight import Monitor, SessionHalted
    mon = Monitor(db=sys.argv[1], policy="record-only", log="none")

    @mon.step(name="lookup")
    def lookup(i): return i

    try:
        with mon.session("runner", agent="bot"):
            print("STARTED", flush=True)
            for i in range(100_000):
                lookup(i)
                time.sleep(0.005)
    except SessionHalted as exc:
        print("HALTED:", exc.reason, flush=True)
        sys.exit(3)
    """
)


def test_halt_from_another_process_stops_a_running_agent(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True
    )
    assert agent.stdout is not None
    try:
        assert agent.stdout.readline().strip() == "STARTED"
        time.sleep(0.3)
        halted_at = time.monotonic()
        done = cli("halt", "runner", "--reason", "loss diverged", "--db", str(db))
        assert done.returncode == 0, done.stderr
        assert agent.wait(timeout=10) == 3
        stopped_after = time.monotonic() - halted_at
        out = agent.stdout.read()
    finally:
        agent.kill()
        agent.wait()
        agent.stdout.close()
    assert "HALTED: loss diverged" in out
    assert stopped_after < 5
    with open_store(f"sqlite:///{db}") as store:
        records = [s.record for s in store.iter_records("runner")]
    ended = records[-1]
    assert isinstance(ended, SessionEnded) and ended.status == "halted"
    assert ended.error == "loss diverged"


def test_a_consequential_step_sees_a_halt_at_once(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    ran: list[str] = []
    settings_env = {"OVERSIGHT_HALT_POLL_MS": "60000"}  # polling alone would be far too late
    with pytest.MonkeyPatch.context() as mp:
        for k, v in settings_env.items():
            mp.setenv(k, v)
        mon = Monitor(db=str(db), policy="record-only", log="none")

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str) -> None:
        ran.append(config)

    with pytest.raises(SessionHalted, match="operator stop"), mon.session("s"):
        launch("a.yaml")
        with open_store(f"sqlite:///{db}") as other:
            other.halt("s", "operator stop", "alice")
        launch("b.yaml")
    mon.close()
    assert ran == ["a.yaml"]
    with open_store(f"sqlite:///{db}") as store:
        records = [s.record for s in store.iter_records("s")]
    proposals = [r for r in records if isinstance(r, StepProposed)]
    outcomes = [r for r in records if isinstance(r, StepFinished)]
    assert proposals[-1].decision == "halt" and proposals[-1].rule == "(halt switch)"
    assert outcomes[-1].status == "halted"


def test_halt_all_stops_every_session_until_an_admin_resumes(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    root_key = tmp_path / "root.pem"
    added = cli(
        "reviewer", "add", "root", "--role", "admin", "--key-out", str(root_key), "--db", str(db)
    )
    assert added.returncode == 0, added.stderr
    assert cli("halt", "--all", "--reason", "incident", "--db", str(db)).returncode == 0
    with (
        Monitor(db=str(db), policy="record-only", log="none") as mon,
        pytest.raises(SessionHalted, match="incident"),mon.session("new")
    ):
        mon.check("Bash", {"command": "python train.py"})
    unsigned = cli("resume", "--all", "--db", str(db))
    assert unsigned.returncode == 2 and "only an admin" in unsigned.stderr
    resumed = cli("resume", "--all", "--as", "root", "--key", str(root_key), "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    with Monitor(db=str(db), policy="record-only", log="none") as mon, mon.session("after"):
        mon.check("Bash", {"command": "python train.py"}).succeed("ok")


def test_a_halted_session_stays_halted_even_if_the_halt_row_is_deleted(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none") as mon, mon.session("s") as session:
        mon.halt("stop", session_id="s")
        with pytest.raises(SessionHalted):
            mon.check("Read", {"file_path": "a"})
        conn = sqlite3.connect(db)
        conn.execute("DELETE FROM oversight_halts")  # the agent covering its tracks
        conn.commit()
        conn.close()
        mon.halt_reason_now("s")  # the monitor reads the (now empty) halts table again
        with pytest.raises(SessionHalted):
            mon.check("Read", {"file_path": "a"}, session=session)


class _DenyPushes:
    def decide(self, proposal: Proposal, facts: object = None) -> Verdict:
        if proposal.kind == "code.apply":
            return Verdict("deny", "no pushes today", rule="no-push")
        return Verdict("allow", "ok")


def test_repeating_a_denied_action_escalates_to_a_halt(tmp_path: Path) -> None:
    with Monitor(db=str(tmp_path / "o.db"), log="none", policy=_DenyPushes()) as mon:
        with pytest.raises(SessionHalted, match="3 times"), mon.session("s"):
            for command in (
                "git push origin main",
                "git push -f origin main",
                "git push origin main",
            ):
                try:
                    mon.check("Bash", {"command": command})
                except CheckpointDenied:
                    continue


def test_a_resume_written_into_the_database_lifts_nothing(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "o.db"
    assert cli("halt", "s", "--reason", "stop", "--db", str(db)).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE oversight_halts SET resumed_at = 'now', resumed_by = 'root', resume_signature = '00'"
    )
    conn.commit()
    conn.close()
    with Monitor(db=str(db), policy="record-only", log="none") as mon:
        with pytest.raises(SessionHalted, match="stop"), mon.session("s"):
            mon.check("Read", {"file_path": "a"})


def test_halt_needs_a_session_or_all(tmp_path: Path) -> None:
    out = cli("halt", "--db", str(tmp_path / "o.db"))
    assert out.returncode == 2 and "--all" in out.stderr
