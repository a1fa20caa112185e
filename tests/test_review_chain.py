"""Review rows in the chain (issue 12 item 3): reviewers, approvals, votes, grants and halts are
plain rows other processes update, so each write also chains a record of exactly what it wrote.
An agent that empties the halts table, deletes a vote, re-opens a used approval or slips a row
in around oversight is caught by `verify`, as an edited record is. SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from oversight.records import ReviewEvent
from oversight.store import open_store
from oversight.store.migrations import MIGRATIONS
from oversight.store.schema import schema_version
from oversight.store.sql import SQLStore


@contextlib.contextmanager
def raw(url: str) -> Iterator[Engine]:
    """The database as an agent with write access sees it: plain SQL, no oversight."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _fill(store: SQLStore) -> int:
    """One of every review write; returns the halt id that was resumed."""
    store.add_reviewer(
        {"name": "alice", "role": "approver", "public_key": "pk", "endorsed_by": "root",
         "endorsement": "sig"}
    )  # fmt: skip
    store.create_approval(
        {"id": "ap1", "session_id": "s", "step_id": "st1", "args_digest": "d", "kind": "train.launch",
         "name": "Bash", "args": "{}", "reason": "training", "rule": "gate", "role": "approver",
         "quorum": 1, "deadline": "2099-01-01T00:00:00.000000Z"}
    )  # fmt: skip
    store.add_vote(
        {"approval_id": "ap1", "reviewer": "alice", "decision": "approve", "reason": "ok",
         "signature": "sig", "args_patch": None}
    )  # fmt: skip
    store.close_approval("ap1", "approved", "approved by alice")
    assert store.consume_approval("ap1", "st1") is None
    store.add_grant(
        {"id": "g1", "kind": "experiment.run", "session_id": None, "max_gpu_hours": 2.0,
         "expires_at": 4102444800, "granted_by": "alice", "reason": "sweep", "signature": "sig"}
    )  # fmt: skip
    store.halt("s", "stop", "bob")
    store.halt("*", "stop all", "bob")
    resumed = next(h for h in store.halts() if h["scope"] == "*")["id"]
    store.resume(resumed, "root", "sig")
    return int(resumed)


def test_every_review_write_is_a_chained_record_and_the_store_verifies(store_url: str) -> None:
    with open_store(store_url) as store:
        _fill(store)
        actions = [
            r.record.action for r in store.iter_records() if isinstance(r.record, ReviewEvent)
        ]
        report = store.verify()
    assert actions == [
        "reviewer.added", "approval.requested", "vote.cast", "approval.closed", "approval.used",
        "grant.given", "halt.requested", "halt.requested", "halt.resumed",
    ]  # fmt: skip
    assert report.ok, report.first_problem


ATTACKS = {
    "halts emptied": "DELETE FROM oversight_halts",
    "a vote deleted": "DELETE FROM oversight_votes",
    "approvals emptied": "DELETE FROM oversight_approvals",
    "grants emptied": "DELETE FROM oversight_grants",
    "a reviewer removed": "DELETE FROM oversight_reviewers WHERE name = 'alice'",
    "a used approval re-opened": (
        "UPDATE oversight_approvals SET consumed_by = NULL, consumed_at = NULL"
    ),
    "a decision rewritten": "UPDATE oversight_approvals SET status = 'denied'",
    "a vote turned": "UPDATE oversight_votes SET decision = 'deny'",
    "a resume undone": "UPDATE oversight_halts SET resumed_at = NULL, resumed_by = NULL",
    "a halt's scope moved": "UPDATE oversight_halts SET scope = 'elsewhere' WHERE scope = 's'",
    "a grant widened": "UPDATE oversight_grants SET max_gpu_hours = 1000",
    "a reviewer's key swapped": "UPDATE oversight_reviewers SET public_key = 'mine'",
    "a grant slipped in": (
        "INSERT INTO oversight_grants (id, kind, expires_at, granted_by, reason, signature, "
        "created_at) VALUES ('g2', 'train.launch', 4102444800, 'alice', 'x', 'sig', "
        "'2026-01-01T00:00:00.000000Z')"
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_tampering_with_the_review_tables_fails_verify(store_url: str, attack: str) -> None:
    with open_store(store_url) as store:
        _fill(store)
    with raw(store_url) as engine, engine.begin() as conn:
        conn.execute(text(ATTACKS[attack]))
    with open_store(store_url) as store:
        report = store.verify()
    assert not report.ok, f"{attack} went unnoticed"
    assert report.first_problem is not None
    assert report.first_problem.reason.startswith("review tables: ")


def test_a_resume_of_a_resumed_halt_records_nothing(store_url: str) -> None:
    with open_store(store_url) as store:
        resumed = _fill(store)
        before = store.count()
        store.resume(resumed, "mallory", "other")
        assert store.count() == before
        assert store.verify().ok


def test_a_store_upgraded_from_v6_chains_the_rows_it_already_had(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    with raw(url) as engine, engine.begin() as conn:
        schema_version.create(conn)
        for migration in MIGRATIONS[:6]:
            migration.upgrade(conn)
            conn.execute(
                schema_version.insert().values(
                    version=migration.version, name=migration.name, applied_at="2026-01-01"
                )
            )
        conn.execute(
            text(
                "INSERT INTO oversight_halts (id, scope, reason, requested_by, created_at) "
                "VALUES (4294967297, 's', 'old halt', 'bob', '2026-01-01T00:00:00.000000Z')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO oversight_votes (id, approval_id, reviewer, decision, reason, "
                "signature, created_at) VALUES (7, 'ap', 'alice', 'deny', 'no', 's', 'then')"
            )
        )
    with open_store(url) as store:
        events = [r.record for r in store.iter_records() if isinstance(r.record, ReviewEvent)]
        assert [(e.action, e.ref, e.session_id) for e in events] == [
            ("vote.cast", "7", "oversight:review"),
            ("halt.requested", "4294967297", "s"),
        ]
        assert [v["id"] for v in store.votes("ap")] == [7], "v8 kept the vote and its id"
        assert store.verify().ok
    with raw(url) as engine, engine.connect() as conn:
        table = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'oversight_votes'")
        ).scalar()
    assert "AUTOINCREMENT" in str(table)
    with raw(url) as engine, engine.begin() as conn:
        conn.execute(text("DELETE FROM oversight_halts"))
    with open_store(url) as store:
        assert not store.verify().ok


def test_a_deleted_vote_does_not_hand_its_id_to_the_next(tmp_path: object) -> None:
    """SQLite's plain rowid would give the next vote the deleted one's id, and the chain's
    record of the new vote would then stand in for the deleted one's."""
    url = f"sqlite:///{tmp_path}/o.db"
    with open_store(url) as store:
        _fill(store)
        (first,) = store.votes("ap1")
    with raw(url) as engine, engine.begin() as conn:
        conn.execute(text("DELETE FROM oversight_votes"))
    with open_store(url) as store:
        store.add_vote(
            {"approval_id": "ap1", "reviewer": "alice", "decision": "approve", "reason": "ok",
             "signature": "sig", "args_patch": None}
        )  # fmt: skip
        (second,) = store.votes("ap1")
        assert second["id"] != first["id"]
        report = store.verify()
    assert not report.ok and report.first_problem is not None
    assert f"oversight_votes row {first['id']}" in report.first_problem.reason


def test_an_id_written_twice_is_caught_even_where_the_database_reuses_ids(
    tmp_path: object,
) -> None:
    """Should a reused id still happen (a store rebuilt by hand), two records of one row are a
    problem of their own."""
    from oversight.store.review_log import review_problems

    event = ReviewEvent(session_id="s", action="vote.cast", ref="1", row_digest="d")
    problems = review_problems([(1, event), (2, event)], {})
    assert any("written twice" in message for _, message in problems)
