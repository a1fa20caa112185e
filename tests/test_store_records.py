"""The audit store: appending and reading records."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from oversight.errors import StoreCorruptError, StoreUnavailableError
from oversight.records import (
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
    record_body,
    record_index,
)
from oversight.store import AuditStore, SessionSummary, SQLStore, StoredRecord, open_store
from oversight.store.chain import GENESIS_HASH, record_hash

UTC = dt.UTC


def started(session_id: str, *, agent: str | None = "agent-x", **kw: Any) -> SessionStarted:
    return SessionStarted(
        session_id=session_id, agent=agent, pid=123, host="lab-1", oversight_version="0.1.0", **kw
    )


def proposed(session_id: str, seq: int, *, kind: str = "shell.exec", **kw: Any) -> StepProposed:
    values: dict[str, Any] = {
        "step_id": f"{session_id}-step-{seq}",
        "seq": seq,
        "kind": kind,
        "name": "bash",
        "args": {"command": f"echo {seq}"},
        "args_digest": "d" * 64,
        "reason": "shell command",
    }
    values.update(kw)
    return StepProposed(session_id=session_id, **values)


def finished(session_id: str, seq: int, *, kind: str = "shell.exec") -> StepFinished:
    return StepFinished(
        session_id=session_id,
        step_id=f"{session_id}-step-{seq}",
        seq=seq,
        kind=kind,
        status="ok",
        started_at=dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        duration_ms=1.5,
    )


def ended(session_id: str, status: str = "completed", steps: int = 0) -> SessionEnded:
    return SessionEnded(session_id=session_id, status=status, steps=steps)  # type: ignore[arg-type]


def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    """Run raw SQL on the store's database, bypassing oversight; the rows it returns."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def one_of_each_type() -> list[Record]:
    """Every record type, with every optional field filled in, including awkward text."""
    return [
        started(
            "s-1",
            metadata={"project": "ablation", "nested": {"k": [1, 2.5, None, True]}},
            policy="research-default",
            policy_hash="p" * 64,
        ),
        StepProposed(
            session_id="s-1",
            step_id="s-1-step-1",
            parent_id="s-1-step-0",
            seq=1,
            kind="file.write",
            name="write_file",
            actor="human",
            args={"path": '/tmp/x "quoted" \\ ünïcødé ✓', "text": "line1\nline2\t\x1f"},
            args_digest="a" * 64,
            reason="writes a file",
            flags=["outside-workdir"],
            targets=["/tmp/x"],
            write_ahead=True,
            decision="require_approval",
            rule="writes-need-approval",
            policy_hash="p" * 64,
            decision_reason="outside the workdir",
        ),
        StepFinished(
            session_id="s-1",
            step_id="s-1-step-1",
            seq=1,
            kind="file.write",
            status="error",
            started_at=dt.datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
            duration_ms=12.25,
            result_digest="r" * 64,
            result_summary="permission denied",
            error="PermissionError: /tmp/x",
        ),
        SessionEnded(session_id="s-1", status="failed", error="boom", steps=1),
    ]


@pytest.fixture
def store(store_url: str) -> Iterator[SQLStore]:
    with open_store(store_url) as s:
        yield s


def test_sqlstore_satisfies_the_audit_store_protocol(store: SQLStore) -> None:
    assert isinstance(store, AuditStore)


def test_every_record_type_round_trips_unchanged(store: SQLStore) -> None:
    records = one_of_each_type()
    store.append(records)
    back = [s.record for s in store.iter_records()]
    assert back == records
    assert [type(r) for r in back] == [type(r) for r in records]


def test_stored_body_is_exactly_record_body(store_url: str, store: SQLStore) -> None:
    records = one_of_each_type()
    store.append(records)
    bodies = sql(store_url, "SELECT body FROM oversight_records ORDER BY seq")
    assert bodies == [(record_body(r),) for r in records]


def test_index_columns_hold_record_index_values(store_url: str, store: SQLStore) -> None:
    records = one_of_each_type()
    store.append(records)
    rows = sql(
        store_url,
        "SELECT record_id, type, session_id, step_id, kind, decision "
        "FROM oversight_records ORDER BY seq",
    )
    assert rows == [(r.id, r.type, r.session_id, *record_index(r)) for r in records]


def test_seq_is_gap_free_across_batches_and_returned_in_order(store: SQLStore) -> None:
    batches = [[proposed("s", i) for i in range(start, start + size)] for start, size in
               [(1, 1), (2, 5), (7, 1), (8, 40)]]  # fmt: skip
    returned = [stored for batch in batches for stored in store.append(batch)]
    assert [s.seq for s in returned] == list(range(1, 48))
    assert [s.seq for s in store.iter_records()] == list(range(1, 48))
    assert store.count() == 47


def test_returned_records_form_the_hash_chain(store: SQLStore) -> None:
    first = store.append([started("s"), proposed("s", 1)])
    second = store.append([proposed("s", 2)])
    chain = first + second
    assert chain[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash
    assert store.head() == (3, chain[-1].hash)
    assert [(s.seq, s.hash, s.prev_hash) for s in store.iter_records()] == [
        (s.seq, s.hash, s.prev_hash) for s in chain
    ]


def test_hash_covers_every_column_as_specified(store_url: str, store: SQLStore) -> None:
    record = proposed("s", 1, decision="deny")
    (stored,) = store.append([record])
    ((ts,),) = sql(store_url, "SELECT ts FROM oversight_records")
    body = record_body(record)
    fields = [
        "1", record.id, "step.proposed", "s", record.step_id, "shell.exec", "deny", ts, body
    ]  # fmt: skip
    import hashlib

    expected = hashlib.sha256((GENESIS_HASH + "\n" + "\x1f".join(fields)).encode()).hexdigest()
    assert stored.hash == expected
    assert record_hash(
        GENESIS_HASH, 1, record.id, "step.proposed", "s", record.step_id, "shell.exec",
        "deny", ts, body,
    ) == expected  # fmt: skip


def test_empty_append_stores_nothing(store: SQLStore) -> None:
    assert store.append([]) == []
    assert store.head() == (0, GENESIS_HASH)
    assert store.count() == 0


def test_a_failing_batch_stores_nothing_and_raises_unavailable(store: SQLStore) -> None:
    store.append([started("s")])
    head = store.head()
    duplicate = proposed("s", 1)
    with pytest.raises(StoreUnavailableError, match="append"):
        store.append([proposed("s", 2), duplicate, duplicate])
    assert store.head() == head
    assert store.count() == 1
    store.append([proposed("s", 3)])
    assert [s.seq for s in store.iter_records()] == [1, 2]
    assert store.verify().ok


def test_a_record_id_already_stored_is_refused(store: SQLStore) -> None:
    record = started("s")
    store.append([record])
    with pytest.raises(StoreUnavailableError, match="record_id"):
        store.append([record])
    assert store.count() == 1


def test_iter_records_filters_by_session_type_and_seq(store: SQLStore) -> None:
    store.append([started("a"), started("b"), proposed("a", 1), finished("a", 1)])
    store.append([proposed("b", 1), proposed("a", 2), ended("a")])
    assert [s.seq for s in store.iter_records("a")] == [1, 3, 4, 6, 7]
    assert [s.seq for s in store.iter_records(types={"step.proposed"})] == [3, 5, 6]
    assert [s.seq for s in store.iter_records("a", types=["step.proposed"])] == [3, 6]
    assert [s.seq for s in store.iter_records(after_seq=4)] == [5, 6, 7]
    assert list(store.iter_records(types=[])) == []
    assert list(store.iter_records("nobody")) == []


def test_iter_records_fetches_in_batches_and_sees_later_appends(store: SQLStore) -> None:
    store.append([proposed("s", i) for i in range(1, 8)])
    seen: list[int] = []
    for stored in store.iter_records(batch=3):
        seen.append(stored.seq)
        if stored.seq == 4:
            store.append([proposed("s", 8)])
    assert seen == list(range(1, 9))


def test_iter_records_rejects_a_non_positive_batch(store: SQLStore) -> None:
    with pytest.raises(ValueError, match="batch"):
        list(store.iter_records(batch=0))


def test_records_for_session_returns_that_session_in_seq_order(store: SQLStore) -> None:
    store.append([started("a"), started("b"), proposed("a", 1), ended("b")])
    result = store.records_for_session("a")
    assert all(isinstance(s, StoredRecord) for s in result)
    assert [(s.seq, s.record.type) for s in result] == [
        (1, "session.started"),
        (3, "step.proposed"),
    ]


def test_sessions_summarise_each_session_newest_first(store: SQLStore) -> None:
    store.append([started("old", agent="alpha"), proposed("old", 1), proposed("old", 2)])
    store.append([finished("old", 1), started("new", agent=None), proposed("new", 1)])
    store.append([ended("old", "halted", steps=2)])
    summaries = store.sessions()
    assert [s.session_id for s in summaries] == ["new", "old"]
    new, old = summaries
    assert isinstance(old, SessionSummary)
    assert (old.agent, old.status, old.steps) == ("alpha", "halted", 2)
    assert old.started_at is not None and old.ended_at is not None
    assert old.started_at <= old.ended_at == old.last_ts
    assert (new.agent, new.status, new.ended_at, new.steps) == (None, None, None, 1)
    assert new.last_ts >= new.started_at  # type: ignore[operator]


def test_sessions_limit_keeps_the_newest(store: SQLStore) -> None:
    for name in ("s1", "s2", "s3"):
        store.append([started(name)])
    assert [s.session_id for s in store.sessions(limit=2)] == ["s3", "s2"]
    assert store.sessions(limit=10)[-1].session_id == "s1"


def test_sessions_lists_a_session_without_a_start_record(store: SQLStore) -> None:
    store.append([proposed("orphan", 1)])
    (summary,) = store.sessions()
    assert (summary.session_id, summary.started_at, summary.steps) == ("orphan", None, 1)


def test_sessions_of_an_empty_store_is_empty(store: SQLStore) -> None:
    assert store.sessions() == []


def test_next_step_seq_continues_after_the_highest_recorded_step(store: SQLStore) -> None:
    assert store.next_step_seq("s") == 1
    store.append([started("s"), proposed("s", 1), proposed("s", 2), finished("s", 2)])
    store.append([proposed("other", 9)])
    assert store.next_step_seq("s") == 3
    assert store.next_step_seq("other") == 10


def test_ts_column_is_fixed_width_utc_text_in_time_order(store_url: str, store: SQLStore) -> None:
    moments = [
        dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC),
    ]
    store.append([started(f"s{i}", ts=m) for i, m in enumerate(moments)])
    texts = [ts for (ts,) in sql(store_url, "SELECT ts FROM oversight_records ORDER BY ts, seq")]
    assert texts == [
        "2026-03-01T12:00:00.000000Z",
        "2026-03-01T12:00:00.000001Z",
        "2026-03-01T12:00:00.500000Z",
        "2026-03-01T12:30:00.000000Z",
    ]


def test_reading_a_body_that_does_not_parse_raises_corrupt(store_url: str, store: SQLStore) -> None:
    store.append([started("s")])
    sql(store_url, "UPDATE oversight_records SET body = 'not json' WHERE seq = 1")
    with pytest.raises(StoreCorruptError, match="seq 1"):
        list(store.iter_records())


def test_appends_from_many_threads_form_one_chain(store: SQLStore) -> None:
    threads, per_thread = 8, 60
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(0, per_thread, 6):
                store.append([proposed(f"thread-{t}", i + j + 1) for j in range(6)])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    all_records = list(store.iter_records())
    assert [s.seq for s in all_records] == list(range(1, threads * per_thread + 1))
    assert len({s.record.id for s in all_records}) == threads * per_thread
    for t in range(threads):
        own = [s.record for s in all_records if s.record.session_id == f"thread-{t}"]
        assert [r.seq for r in own] == list(range(1, per_thread + 1))  # type: ignore[union-attr]
    assert store.verify().ok


def test_an_in_memory_store_works_for_tests() -> None:
    with open_store("sqlite://") as store:
        store.append(one_of_each_type())
        assert store.count() == 4
        assert store.verify().ok
        assert store.url_for_display == "sqlite://"


def test_a_closed_store_refuses_further_use(store_url: str) -> None:
    with open_store(store_url) as store:
        store.append([started("s")])
    store.close()  # closing twice is harmless
    with pytest.raises(StoreUnavailableError, match="closed"):
        store.append([started("t")])
    with pytest.raises(StoreUnavailableError, match="closed"):
        store.verify()
    with open_store(store_url) as again:
        assert again.count() == 1


def test_appending_to_a_store_without_a_chain_head_is_refused(
    store_url: str, store: SQLStore
) -> None:
    store.append([started("s")])
    sql(store_url, "DELETE FROM oversight_chain_head")
    with pytest.raises(StoreUnavailableError, match="no chain head"):
        store.append([started("t")])
    with pytest.raises(StoreCorruptError, match="no chain head"):
        store.head()
    assert store.count() == 1


def test_a_new_session_append_stores_a_session_once_when_importers_race(store: SQLStore) -> None:
    """`oversight import` on several processes: two workers reading the same session (one run's
    log in two folders) both try to store it as new; the check runs under the chain lock."""
    batch = [started("imp"), proposed("imp", 1), finished("imp", 1)]
    barrier = threading.Barrier(4)
    stored: list[int] = []

    def importer() -> None:
        barrier.wait()
        stored.append(len(store.append(batch, new_session="imp")))

    threads = [threading.Thread(target=importer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(stored) == [0, 0, 0, 3]
    assert store.count("imp") == 3
    assert store.append([proposed("other", 1)], new_session="other")
    assert store.verify().ok


def test_has_session_says_whether_a_session_has_records(store: SQLStore) -> None:
    assert not store.has_session("s-new")
    store.append([started("s-new")])
    assert store.has_session("s-new") and not store.has_session("s-other")
