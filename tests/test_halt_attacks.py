"""Attacks on the halt switch, tried as an adversarial agent would (issue 12).

The agent can write `oversight_halts` and stop threads in its own process, but holds no admin
key. Each test is the attack; it failed before the fix it names.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from reviewing import cli, register_reviewers
from sqlalchemy import create_engine, insert

from oversight import ApprovalPending, Monitor, SessionHalted
from oversight.approvals.halts import resume_payload
from oversight.approvals.signing import (
    endorsement_payload,
    load_private_key,
    new_private_key,
    public_hex,
    sign,
    write_private_key,
)
from oversight.approvals.votes import cast_vote
from oversight.store import open_store
from oversight.store.migrations import MIGRATIONS
from oversight.store.schema import HALT_ID_MIN, schema_version


def halt_rows(db: Path) -> list[dict[str, Any]]:
    with open_store(f"sqlite:///{db}") as store:
        return store.halts()


def runs(db: Path, session: str) -> bool:
    """Whether a fresh monitor lets a step run in `session`."""
    with Monitor(db=str(db), policy="record-only", log="none") as mon:
        try:
            with mon.session(session):
                mon.check("Read", {"file_path": "a"}).succeed("ok")
        except SessionHalted:
            return False
    return True


# -- a saved resume never lifts another halt -----------------------------------------------


def test_a_saved_resume_of_an_old_halt_does_not_lift_a_new_one(tmp_path: Path) -> None:
    """Before: halt ids were SQLite rowids, handed out again once the largest was deleted, and a
    resume is signed over the id; the agent deleted an old, resumed halt, the next halt got its
    id, and the agent copied the old resume onto it. After: ids are random and never reused."""
    db, root = tmp_path / "o.db", tmp_path / "root.pem"
    added = cli("reviewer", "add", "root", "--role", "admin", "--key-out", str(root), "--db", str(db))  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert cli("halt", "s", "--reason", "first", "--db", str(db)).returncode == 0
    resumed = cli("resume", "s", "--as", "root", "--key", str(root), "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    (old,) = halt_rows(db)
    assert runs(db, "s")
    with sqlite3.connect(db) as conn:  # the agent keeps the signed resume, drops the row
        conn.execute("DELETE FROM oversight_halts")
    assert cli("halt", "s", "--reason", "second", "--db", str(db)).returncode == 0
    with sqlite3.connect(db) as conn:  # ...and writes it onto the new halt
        conn.execute(
            "UPDATE oversight_halts SET resumed_at = ?, resumed_by = ?, resume_signature = ?",
            (old["resumed_at"], old["resumed_by"], old["resume_signature"]),
        )
    assert not runs(db, "s")
    (new,) = halt_rows(db)
    assert new["id"] != old["id"] and new["id"] >= HALT_ID_MIN
    # An admin's own resume of the new halt still lifts it.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE oversight_halts SET resumed_at = NULL, resume_signature = NULL")
    assert cli("resume", "s", "--as", "root", "--key", str(root), "--db", str(db)).returncode == 0
    assert runs(db, "s")


def _v5_store(db: Path) -> None:
    """A store as agent-oversight left it before v6: migrations 1-5 only."""
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            schema_version.create(conn)
            for migration in MIGRATIONS[:5]:
                migration.upgrade(conn)
                conn.execute(
                    insert(schema_version).values(
                        version=migration.version, name=migration.name, applied_at="then"
                    )
                )
    finally:
        engine.dispose()


def test_upgrading_keeps_resumed_halts_lifted_and_refits_halts_in_force(tmp_path: Path) -> None:
    """v6 keeps old data readable: a halt an admin resumed before the upgrade stays lifted (its
    signature still verifies), while a halt still in force gets a fresh random id, so a resume
    the agent saved for its old id (an earlier halt's, under the reused id) lifts nothing."""
    db, root_file = tmp_path / "o.db", tmp_path / "root.pem"
    _v5_store(db)
    root = new_private_key()
    write_private_key(root, root_file)
    pub = public_hex(root)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO oversight_reviewers VALUES ('root', 'admin', ?, 'root', ?, 'then')",
            (pub, sign(root, endorsement_payload("root", "admin", pub))),
        )
        conn.execute(
            "INSERT INTO oversight_halts VALUES (1, 'done', 'old', 'ops', '2020-01-01T00:00:00Z',"
            " '2020-01-02T00:00:00Z', 'root', ?)",
            (sign(root, resume_payload(1, "done")),),
        )
        conn.execute(
            "INSERT INTO oversight_halts (id, scope, reason, requested_by, created_at)"
            " VALUES (2, 'live', 'in force', 'ops', '2020-01-03T00:00:00Z')"
        )
    saved = sign(root, resume_payload(2, "live"))  # from an earlier halt that had id 2
    assert runs(db, "done")  # opening the store migrates it
    rows = {r["scope"]: r for r in halt_rows(db)}
    assert rows["done"]["id"] == 1 and rows["live"]["id"] >= HALT_ID_MIN
    assert not runs(db, "live")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE oversight_halts SET resumed_at = 'now', resumed_by = 'root',"
            " resume_signature = ? WHERE scope = 'live'",
            (saved,),
        )
    assert not runs(db, "live")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE oversight_halts SET resumed_at = NULL WHERE scope = 'live'")
    done = cli("resume", "live", "--as", "root", "--key", str(root_file), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert runs(db, "live")


# -- halts never wait on the recorder's thread ---------------------------------------------


def stop_recorder_thread(mon: Monitor) -> None:
    """What an agent running in the monitor's process can do: stop its background writer."""
    recorder = mon._recorder
    recorder._stopping = True
    recorder._wake.set()
    recorder._thread.join(timeout=10)
    assert not recorder._thread.is_alive()


def test_a_cheap_step_sees_a_halt_when_the_recorder_thread_is_stopped(tmp_path: Path) -> None:
    """Before: halts for cheap steps were polled only by the recorder's thread; with it stopped,
    a halt from another process was never seen. After: a step whose last look at the halts is
    older than `halt_poll_ms` reads the store itself (and nothing else polls)."""
    db = tmp_path / "o.db"
    mon = Monitor(db=str(db), policy="record-only", log="none")
    stop_recorder_thread(mon)
    with pytest.raises(SessionHalted, match="operator stop"), mon.session("s"):
        mon.check("Read", {"file_path": "a"}).succeed("ok")
        assert cli("halt", "s", "--reason", "operator stop", "--db", str(db)).returncode == 0
        halted_at = time.monotonic()
        while time.monotonic() - halted_at < 5:
            mon.check("Read", {"file_path": "a"}).succeed("ok")
            time.sleep(0.01)
    assert time.monotonic() - halted_at < 1.0
    mon.close()


def test_a_consequential_step_reads_the_halt_itself(tmp_path: Path) -> None:
    """With the thread stopped and polling set to a minute, a consequential step still asks the
    store (`halt_check`) before it is recorded and run."""
    db = tmp_path / "o.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OVERSIGHT_HALT_POLL_MS", "60000")
        mon = Monitor(db=str(db), policy="record-only", log="none")
    stop_recorder_thread(mon)
    with pytest.raises(SessionHalted, match="operator stop"), mon.session("s"):
        mon.check("launch", {"config": "a"}, kind="train.launch").succeed("ok")
        assert cli("halt", "s", "--reason", "operator stop", "--db", str(db)).returncode == 0
        mon.check("launch", {"config": "b"}, kind="train.launch").succeed("ok")
    mon.close()


GATE_TOOLS = """
name: gate-tools
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-tool
    match: {kind: [tool.call]}
    effect: require_approval
    reason: this tool needs a person
    approval: {role: approver, quorum: 1, timeout_s: 60}
"""


def test_a_halt_that_comes_with_the_approval_wins_on_the_claim_path(tmp_path: Path) -> None:
    """A gated step of a cheap kind is not write-ahead, so nothing read the halt before it ran
    on a claimed approval. Before: with the recorder thread stopped, it ran although halted.
    After: an approval lets a step run only once the store says no halt is in force."""
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    pack = tmp_path / "pack.yaml"
    pack.write_text(GATE_TOOLS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OVERSIGHT_HALT_POLL_MS", "60000")
        mon = Monitor(db=str(db), policy=str(pack), log="none")
    stop_recorder_thread(mon)
    ran: list[str] = []
    with mon.session("s"):
        with pytest.raises(ApprovalPending) as pending:
            mon.check("lookup", {"q": "x"}, kind="tool.call", wait=False)
        with open_store(f"sqlite:///{db}") as store:
            row = store.approval(pending.value.approval_id)
            assert row is not None
            cast_vote(store, row, "alice", load_private_key(keys / "alice.pem"), "approve")
            store.halt("s", "operator stop", "ops")
        with pytest.raises(SessionHalted, match="operator stop"):
            mon.check("lookup", {"q": "x"}, kind="tool.call", approval_id=pending.value.approval_id)
            ran.append("lookup")
    mon.close()
    assert ran == []
    with open_store(f"sqlite:///{db}") as store:
        row = store.approval(pending.value.approval_id)
    assert row is not None and row["consumed_by"] is None and row["status"] == "halted"


def test_an_idle_monitor_has_nothing_waking_it_and_still_sees_a_halt(tmp_path: Path) -> None:
    """No background polling: once its records are written, the writer sleeps until work comes
    (an idle agent process costs no CPU), and a halt issued meanwhile stops the next step."""
    db = tmp_path / "o.db"
    mon = Monitor(db=str(db), policy="record-only", log="none")
    with pytest.raises(SessionHalted, match="quiet stop"), mon.session("s"):
        mon.check("Read", {"file_path": "a"}).succeed("ok")
        mon.flush()
        end = time.monotonic() + 5
        while not mon._recorder.idle and time.monotonic() < end:
            time.sleep(0.01)
        assert mon._recorder.idle, "the writer went to sleep with nothing to do"
        assert cli("halt", "s", "--reason", "quiet stop", "--db", str(db)).returncode == 0
        time.sleep(0.15)  # longer than halt_poll_ms: the next step looks again itself
        mon.check("Read", {"file_path": "b"}).succeed("ok")
    mon.close()
