"""Verification: every kind of tampering an attacker with raw SQL access can do is caught.

Each tamper test edits the database directly, as someone with the file or a database login would,
then asserts that `verify` fails at the exact first bad seq with a reason naming the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from oversight.records import SessionEnded, SessionStarted, StepFinished, StepProposed
from oversight.store import SQLStore, VerifyProblem, VerifyReport, forked, open_store, sql
from oversight.store.chain import GENESIS_HASH, record_hash
from oversight.store.columns import record_columns

N = 10
COLUMNS = "seq, record_id, type, session_id, step_id, kind, decision, ts, prev_hash, hash, body"


def ten_records() -> list[Any]:
    """seq 1 session.started, 2..9 alternating proposed/finished, 10 session.ended."""
    records: list[Any] = [
        SessionStarted(session_id="s", pid=1, host="h", oversight_version="0.1.0", agent="a")
    ]
    for step in range(1, 5):
        records.append(
            StepProposed(
                session_id="s", step_id=f"step-{step}", seq=step, kind="shell.exec",
                name="bash", args={"command": "ls"}, args_digest="d" * 64, reason="shell",
                decision="allow",
            )
        )  # fmt: skip
        records.append(
            StepFinished(
                session_id="s", step_id=f"step-{step}", seq=step, kind="shell.exec",
                status="ok", started_at=records[0].ts, duration_ms=1.0,
            )
        )  # fmt: skip
    records.append(SessionEnded(session_id="s", status="completed", steps=4))
    assert len(records) == N
    return records


@pytest.fixture(autouse=True, params=["single-pass", "forked-segments"])
def verify_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every verify test runs twice: one pass here, and split across forked workers.

    The forked run lowers the size threshold so ten records are split into three segments
    (`test_the_forked_path_is_taken` checks it really runs rather than falling back).
    """
    if request.param == "forked-segments":
        monkeypatch.setattr(forked, "PARALLEL_MIN_ROWS", 2)
        monkeypatch.setattr(forked, "MAX_WORKERS", 3)
        monkeypatch.setattr(forked.os, "cpu_count", lambda: 3)
        # A pytest-xdist worker runs an I/O thread beside the tests, and verify never forks a
        # process with other threads in it. Here forking beside it is safe: the child only
        # reads its segment of the store and sends the result back through a pipe.
        monkeypatch.setattr(forked.threading, "active_count", lambda: 1)
    yield request.param


def test_the_forked_path_is_taken(
    verify_mode: str, store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = forked.run_forked

    def counting(tasks):  # type: ignore[no-untyped-def]
        calls.append(len(tasks))
        return real(tasks)

    monkeypatch.setattr(sql, "run_forked", counting)
    assert store.verify().ok
    assert calls == ([3] if verify_mode == "forked-segments" else [])


@pytest.fixture
def store(store_url: str) -> Iterator[SQLStore]:
    with open_store(store_url) as s:
        s.append(ten_records()[:4])
        s.append(ten_records()[4:])
        yield s


class Attacker:
    """Raw SQL against the store's database, bypassing oversight entirely."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def run(self, *statements: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), params)

    def rows(self, where: str = "1 = 1") -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            result = conn.execute(
                text(f"SELECT {COLUMNS} FROM oversight_records WHERE {where} ORDER BY seq")
            )
            return [dict(r._mapping) for r in result]

    def insert(self, row: dict[str, Any]) -> None:
        names = COLUMNS.split(", ")
        self.run(
            f"INSERT INTO oversight_records ({COLUMNS}) "
            f"VALUES ({', '.join(':' + n for n in names)})",
            **row,
        )

    def forge(self, seq: int, prev_hash: str, *, good_hash: bool = True) -> dict[str, Any]:
        """A well-formed record at `seq`, chained to `prev_hash`, hashed as the store would."""
        record = StepProposed(
            session_id="s", step_id="forged", seq=99, kind="file.read", name="cat",
            args={"path": "/etc/hosts"}, args_digest="f" * 64, reason="innocent",
        )  # fmt: skip
        c = record_columns(record)
        h = record_hash(prev_hash, seq, *c) if good_hash else "e" * 64
        return {**c._asdict(), "seq": seq, "prev_hash": prev_hash, "hash": h}

    def rehash_from(self, seq: int) -> None:
        """Recompute every hash from `seq` on and the head: a consistent rewrite."""
        prev = self.rows(f"seq = {seq - 1}")[0]["hash"] if seq > 1 else GENESIS_HASH
        for row in self.rows(f"seq >= {seq}"):
            h = record_hash(
                prev, row["seq"], row["record_id"], row["type"], row["session_id"],
                row["step_id"], row["kind"], row["decision"], row["ts"], row["body"],
            )  # fmt: skip
            self.run(
                "UPDATE oversight_records SET prev_hash = :p, hash = :h WHERE seq = :s",
                p=prev, h=h, s=row["seq"],
            )  # fmt: skip
            prev = h
            last = row["seq"]
        self.run("UPDATE oversight_chain_head SET seq = :s, hash = :h", s=last, h=prev)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def attacker(store_url: str, store: SQLStore) -> Iterator[Attacker]:
    a = Attacker(store_url)
    yield a
    a.close()


def failure(report: VerifyReport) -> VerifyProblem:
    assert report.ok is False
    assert report.first_problem is not None
    return report.first_problem


def test_an_intact_store_verifies(store: SQLStore) -> None:
    report = store.verify()
    assert report.ok is True
    assert report.first_problem is None
    assert report.checked == N
    assert (report.head_seq, report.head_hash) == store.head()


def test_an_empty_store_verifies() -> None:
    with open_store("sqlite://") as empty:
        report = empty.verify()
    assert (report.ok, report.checked, report.head_seq, report.head_hash) == (
        True, 0, 0, GENESIS_HASH,
    )  # fmt: skip


def test_edited_body_is_a_hash_mismatch(store: SQLStore, attacker: Attacker) -> None:
    attacker.run(
        "UPDATE oversight_records SET body = REPLACE(body, '\"ls\"', '\"rm -rf /\"') WHERE seq = 4"
    )
    problem = failure(store.verify())
    assert problem.seq == 4
    assert problem.record_id == attacker.rows("seq = 4")[0]["record_id"]
    assert "hash mismatch" in problem.reason


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("kind", "file.read"),
        ("decision", "deny"),
        ("session_id", "someone-else"),
        ("ts", "2020-01-01T00:00:00.000000Z"),
        ("step_id", "step-99"),
        ("type", "step.finished"),
        ("record_id", "forged-id"),
    ],
)
def test_edited_index_column_is_a_hash_mismatch(
    store: SQLStore, attacker: Attacker, column: str, value: str
) -> None:
    attacker.run(f"UPDATE oversight_records SET {column} = :v WHERE seq = 6", v=value)
    problem = failure(store.verify())
    assert problem.seq == 6
    assert "hash mismatch" in problem.reason


def test_edited_prev_hash_is_a_broken_link(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("UPDATE oversight_records SET prev_hash = :p WHERE seq = 7", p="a" * 64)
    problem = failure(store.verify())
    assert problem.seq == 7
    assert "broken prev-hash link" in problem.reason


def test_deleted_middle_record_is_a_seq_gap(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("DELETE FROM oversight_records WHERE seq = 5")
    problem = failure(store.verify())
    assert (problem.seq, problem.record_id) == (5, None)
    assert "seq gap" in problem.reason
    assert "seq 5 is missing" in problem.reason


def test_deleted_first_record_is_a_seq_gap(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("DELETE FROM oversight_records WHERE seq = 1")
    problem = failure(store.verify())
    assert (problem.seq, problem.record_id) == (1, None)
    assert "seq gap" in problem.reason


def test_deleted_last_record_is_a_truncated_tail(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("DELETE FROM oversight_records WHERE seq = :s", s=N)
    report = store.verify()
    problem = failure(report)
    assert (problem.seq, problem.record_id) == (N, None)
    assert "head mismatch" in problem.reason
    assert "truncated" in problem.reason
    assert report.checked == N - 1


def test_deleted_record_hidden_by_renumbering_breaks_the_link(
    store: SQLStore, attacker: Attacker
) -> None:
    attacker.run(
        "DELETE FROM oversight_records WHERE seq = 3",
        "UPDATE oversight_records SET seq = -(seq - 1) WHERE seq > 3",
        "UPDATE oversight_records SET seq = -seq WHERE seq < 0",
        "UPDATE oversight_chain_head SET seq = :s",
        s=N - 1,
    )
    problem = failure(store.verify())
    assert problem.seq == 3
    assert "broken prev-hash link" in problem.reason


def test_forged_record_inserted_in_the_middle_breaks_the_next_link(
    store: SQLStore, attacker: Attacker
) -> None:
    prev = attacker.rows("seq = 4")[0]["hash"]
    attacker.run(
        "UPDATE oversight_records SET seq = -(seq + 1) WHERE seq >= 5",
        "UPDATE oversight_records SET seq = -seq WHERE seq < 0",
        "UPDATE oversight_chain_head SET seq = :s",
        s=N + 1,
    )
    attacker.insert(attacker.forge(5, prev))
    problem = failure(store.verify())
    assert problem.seq == 6
    assert "broken prev-hash link" in problem.reason


def test_forged_record_appended_without_the_head_is_caught(
    store: SQLStore, attacker: Attacker
) -> None:
    attacker.insert(attacker.forge(N + 1, "0" * 64, good_hash=False))
    problem = failure(store.verify())
    assert problem.seq == N + 1
    assert "beyond the chain head" in problem.reason


def test_correctly_hashed_record_appended_without_the_head_is_caught(
    store: SQLStore, attacker: Attacker
) -> None:
    prev = attacker.rows(f"seq = {N}")[0]["hash"]
    attacker.insert(attacker.forge(N + 1, prev))
    problem = failure(store.verify())
    assert problem.seq == N + 1
    assert "beyond the chain head" in problem.reason


def test_swapped_records_break_the_link(store: SQLStore, attacker: Attacker) -> None:
    attacker.run(
        "UPDATE oversight_records SET seq = -1 WHERE seq = 4",
        "UPDATE oversight_records SET seq = 4 WHERE seq = 5",
        "UPDATE oversight_records SET seq = 5 WHERE seq = -1",
    )
    problem = failure(store.verify())
    assert problem.seq == 4
    assert "broken prev-hash link" in problem.reason


def test_edited_head_hash_is_a_head_hash_mismatch(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("UPDATE oversight_chain_head SET hash = :h", h="b" * 64)
    problem = failure(store.verify())
    assert (problem.seq, problem.record_id) == (N, None)
    assert "head hash mismatch" in problem.reason


def test_head_moved_back_leaves_records_beyond_it(store: SQLStore, attacker: Attacker) -> None:
    nine = attacker.rows("seq = 9")[0]["hash"]
    attacker.run("UPDATE oversight_chain_head SET seq = 9, hash = :h", h=nine)
    problem = failure(store.verify())
    assert problem.seq == N
    assert "beyond the chain head" in problem.reason


def test_head_moved_forward_is_a_head_mismatch(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("UPDATE oversight_chain_head SET seq = :s", s=N + 5)
    problem = failure(store.verify())
    assert (problem.seq, problem.record_id) == (N + 1, None)
    assert "head mismatch" in problem.reason


def test_deleted_chain_head_is_reported(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("DELETE FROM oversight_chain_head")
    problem = failure(store.verify())
    assert problem.seq == 0
    assert "chain head row is missing" in problem.reason


@pytest.mark.parametrize(
    ("column", "value"),
    [("session_id", "someone-else"), ("type", "session.ended"), ("record_id", "x" * 26)],
)
def test_rehashed_column_that_contradicts_the_body_is_caught(
    store: SQLStore, attacker: Attacker, column: str, value: str
) -> None:
    attacker.run(f"UPDATE oversight_records SET {column} = :v WHERE seq = 6", v=value)
    attacker.rehash_from(6)
    problem = failure(store.verify())
    assert problem.seq == 6
    assert "columns disagree with body" in problem.reason
    assert column in problem.reason


def test_rehashed_body_that_is_not_a_record_is_caught(store: SQLStore, attacker: Attacker) -> None:
    attacker.run("UPDATE oversight_records SET body = '{\"hello\": 1}' WHERE seq = 3")
    attacker.rehash_from(3)
    problem = failure(store.verify())
    assert problem.seq == 3
    assert "not a valid record" in problem.reason


def test_a_consistent_rewrite_of_chain_and_head_is_not_detected(
    store: SQLStore, attacker: Attacker
) -> None:
    """The documented limit of an unkeyed chain (see oversight.store.chain): this verifies."""
    attacker.run(
        "UPDATE oversight_records SET body = REPLACE(body, '\"ls\"', '\"rm\"') WHERE seq = 4"
    )
    attacker.rehash_from(4)
    assert store.verify().ok is True


def test_verify_reports_progress_against_the_head(tmp_path: Any, verify_mode: str) -> None:
    records = [
        StepProposed(
            session_id="big", step_id=f"s{i}", seq=i, kind="model.call", name="llm",
            args={}, args_digest="d", reason="r",
        )
        for i in range(1, 25_001)
    ]  # fmt: skip
    calls: list[tuple[int, int]] = []
    with open_store(f"sqlite:///{tmp_path}/big.db", sqlite_synchronous="NORMAL") as big:
        for i in range(0, len(records), 2_000):
            big.append(records[i : i + 2_000])
        report = big.verify(progress=lambda done, total: calls.append((done, total)))
    assert report.ok and report.checked == 25_000
    if verify_mode == "single-pass":
        assert calls == [(10_000, 25_000), (20_000, 25_000), (25_000, 25_000)]
    else:  # one call per finished segment
        assert calls == [(8_333, 25_000), (16_666, 25_000), (25_000, 25_000)]
