"""The default audit store: SQLite or PostgreSQL through SQLAlchemy Core.

Appends and verification are the hot paths and talk to the driver directly (one `executemany`
per batch, one streaming cursor for verify); everything else uses Core statements. Every read
is batched by seq so memory stays constant however large the store grows.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast

from pydantic import ValidationError
from sqlalchemy import Connection, func, select

from oversight.approvals import deadlines as _deadlines
from oversight.errors import (
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from oversight.records import REVIEW_SESSION, Record, ReviewEvent, parse_record
from oversight.store.base import SessionSummary, StoredRecord, VerifyProblem, VerifyReport
from oversight.store.bulk import SessionRows, append_sessions, stored_steps, write_cursor
from oversight.store.chain import GENESIS_HASH, record_hash
from oversight.store.columns import (
    Columns,
    body_disagreement,
    chained_rows,
    parse_ts,
    record_columns,
    ts_text,
)
from oversight.store.engine import (
    BATCHED,
    READ_ONLY,
    StoreEngine,
    create_store_engine,
    store_failure,
)
from oversight.store.forked import ForkedTaskError, parallel_workers, run_forked
from oversight.store.migrations import current_version, migrate
from oversight.store.pg_guards import is_our_guard
from oversight.store.review_log import (
    append_on,
    review_event,
    review_problems,
    table_rows,
)
from oversight.store.schema import (
    RECORD_COLUMNS,
    approvals,
    chain_head,
    grants,
    halts,
    new_halt_id,
    records,
    reviewers,
    votes,
)

# The deadline helpers live in `oversight.approvals.deadlines` (the desk needs them without the
# database layer); these names stay importable from here.
DEADLINE_FORMAT = _deadlines.DEADLINE_FORMAT
deadline_text = _deadlines.deadline_text
deadline_seconds = _deadlines.deadline_seconds

PROGRESS_EVERY = 10_000
_VERIFY_FETCH = 5_000
_IN_CHUNK = 500
VOTE_CHANNEL = "oversight_votes"
_HEAD_ID = 1


class SQLStore:
    """An append-only, hash-chained record store in one SQLite file or PostgreSQL schema.

    Thread-safe: every call checks out its own pooled connection. Safe across processes: each
    append extends the chain under the database's write lock (see `engine.py`).
    """

    def __init__(self, store: StoreEngine) -> None:
        self._store = store
        self._engine = store.engine
        self._read_engine = store.engine.execution_options(**READ_ONLY)
        # SQLite lets one writer in at a time anyway; queueing our own threads here is cheaper
        # and fairer than letting them poll the busy handler. An in-memory database is one
        # shared connection, so there every operation takes the lock.
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if store.dialect == "sqlite" else contextlib.nullcontext()
        )
        self._read_lock = self._write_lock if store.memory else contextlib.nullcontext()
        p = self._p = "?" if store.dialect == "sqlite" else "%s"
        placeholders = ", ".join([p] * len(RECORD_COLUMNS))
        lock = "" if store.dialect == "sqlite" else " FOR UPDATE"
        self._sql_head = f"SELECT seq, hash FROM {chain_head.name} WHERE id = {_HEAD_ID}{lock}"
        self._sql_has_session = f"SELECT 1 FROM {records.name} WHERE session_id = {self._p} LIMIT 1"
        self._sql_insert = (
            f"INSERT INTO {records.name} ({', '.join(RECORD_COLUMNS)}) VALUES ({placeholders})"
        )
        self._sql_copy = f"COPY {records.name} ({', '.join(RECORD_COLUMNS)}) FROM STDIN"
        self._sql_set_head = f"UPDATE {chain_head.name} SET seq = {p}, hash = {p} WHERE id = {p}"
        columns = (
            "SELECT seq, record_id, type, session_id, step_id, kind, decision, ts, body, "
            f"prev_hash, hash FROM {records.name}"
        )
        self._sql_verify = f"{columns} ORDER BY seq"
        self._sql_verify_range = f"{columns} WHERE seq > {p} AND seq <= {p} ORDER BY seq"
        self._closed = False
        self._schema_seen: tuple[Any, list[str]] | None = None

    @property
    def url_for_display(self) -> str:
        return self._store.url_for_display

    @property
    def dialect(self) -> str:
        return self._store.dialect

    def __repr__(self) -> str:
        return f"SQLStore({self.url_for_display!r})"

    # -- writing ---------------------------------------------------------------------------

    def append(
        self, records: Sequence[Record], *, durable: bool = True, new_session: str | None = None
    ) -> list[StoredRecord]:
        """Store `records` in one transaction, after everything already stored, all or nothing.

        `new_session`: store them only if no record of that session is stored yet, decided
        under the chain lock, so two importers racing on one session store it once (nothing is
        stored, and [] returned, when it exists).

        `durable=False` (batched records) lets SQLite skip the fsync at commit; the records are
        still safe against a crash of the writing process.

        Serialising and extracting columns happens before the lock is taken; under it, only
        the chain (one SHA-256 per record), one bulk insert (`executemany` on SQLite, `COPY` on
        PostgreSQL) and the head update. Any database failure raises `StoreUnavailableError`
        and stores nothing.
        """
        if not records:
            return []
        self._check_open()
        prepared = [record_columns(r) for r in records]
        if self._store.dialect == "sqlite":
            return self._append_sqlite(records, prepared, durable=durable, new_session=new_session)
        try:
            with (
                self._write_lock,
                self._engine.connect().execution_options(
                    **(BATCHED if not durable else {})
                ) as conn,
                conn.begin(),
            ):
                head = self._read_head(conn)
                if head is None:
                    raise StoreUnavailableError(self._no_head_message())
                if (
                    new_session is not None
                    and conn.exec_driver_sql(self._sql_has_session, (new_session,)).first()
                ):
                    return []
                rows = chained_rows(head[0], head[1], prepared)
                self._insert(conn, rows)
                conn.exec_driver_sql(self._sql_set_head, (rows[-1][0], rows[-1][9], _HEAD_ID))
        except self._store.db_errors as exc:
            raise store_failure(exc, self._store, "append to") from exc
        return [
            StoredRecord(seq=row[0], hash=row[9], prev_hash=row[8], record=record)
            for row, record in zip(rows, records, strict=True)
        ]

    def _append_sqlite(
        self,
        records: Sequence[Record],
        prepared: list[Columns],
        *,
        durable: bool,
        new_session: str | None = None,
    ) -> list[StoredRecord]:
        """The same transaction as `append`, on the raw sqlite3 connection.

        A write-ahead append sits on the agent's path before a consequential step; SQLAlchemy's
        per-statement machinery cost more than SQLite's own work there.
        """
        try:
            with self._write_lock, write_cursor(self._store, durable) as cursor:
                head = cursor.execute(self._sql_head).fetchone()
                if head is None:
                    raise StoreUnavailableError(self._no_head_message())
                if (
                    new_session is not None
                    and cursor.execute(self._sql_has_session, (new_session,)).fetchone()
                ):
                    return []  # nothing written: the empty transaction commits nothing
                rows = chained_rows(int(head[0]), str(head[1]), prepared)
                cursor.executemany(self._sql_insert, rows)
                cursor.execute(self._sql_set_head, (rows[-1][0], rows[-1][9], _HEAD_ID))
        except self._store.db_errors as exc:
            raise store_failure(exc, self._store, "append to") from exc
        return [
            StoredRecord(seq=row[0], hash=row[9], prev_hash=row[8], record=record)
            for row, record in zip(rows, records, strict=True)
        ]

    def append_sessions(
        self, sessions: Sequence[SessionRows], *, durable: bool = True
    ) -> list[bool]:
        """Many sessions' prepared rows in one transaction (a batch import), each stored only if
        the store still holds what it was built after; whether each was stored (`bulk.py`)."""
        self._check_open()
        return append_sessions(self._store, self._write_lock, sessions, durable=durable)

    def stored_steps(self, session_ids: Collection[str]) -> dict[str, int]:
        """The stored sessions among `session_ids`, each with its highest step seq (0: none):
        `has_session` and `next_step_seq` for many sessions in one query."""
        self._check_open()
        return stored_steps(self._store, self._read_lock, session_ids)

    def _insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        cursor = cast(Any, conn.connection.dbapi_connection).cursor()
        try:
            if self._store.dialect == "postgresql":
                with cursor.copy(self._sql_copy) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self._sql_insert, rows)
        finally:
            cursor.close()

    def _read_head(self, conn: Connection) -> tuple[int, str] | None:
        row = conn.exec_driver_sql(self._sql_head).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def _no_head_message(self) -> str:
        return (
            f"the oversight store at {self._store.where} has no chain head row "
            f"({chain_head.name} is empty): it was tampered with or damaged"
        )

    # -- reading ---------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last record, as the chain head says; (0, GENESIS_HASH) if empty."""
        with self._reading("read") as conn:
            head = self._read_head(conn)
        if head is None:
            raise StoreCorruptError(self._no_head_message())
        return head

    def count(self, session_id: str | None = None, *, types: Collection[str] | None = None) -> int:
        """How many records (of a session, of these types) are stored, from index columns."""
        conditions = self._filters(session_id, types, None)
        if conditions is None:
            return 0
        query = select(func.count()).select_from(records).where(*conditions)
        with self._reading("read") as conn:
            return int(conn.execute(query).scalar_one())

    def has_session(self, session_id: str) -> bool:
        """Whether any record of the session is stored (the first one found, not a count)."""
        with self._reading("read") as conn:
            return conn.exec_driver_sql(self._sql_has_session, (session_id,)).first() is not None

    def iter_records(
        self,
        session_id: str | None = None,
        *,
        types: Collection[str] | None = None,
        step_ids: Collection[str] | None = None,
        after_seq: int = 0,
        skip: int = 0,
        batch: int = 1000,
    ) -> Iterator[StoredRecord]:
        """Records in seq order, fetched `batch` at a time, each batch in its own transaction.

        No transaction or lock is held between batches, so a slow consumer never blocks
        writers; records appended while iterating are included. `skip` leaves out the first
        matching records in the database (for paging), without reading their bodies.
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        if skip < 0:
            raise ValueError(f"skip must not be negative, got {skip}")
        conditions = self._filters(session_id, types, step_ids)
        if conditions is None:
            return
        t = records.c
        last = after_seq
        while True:
            stmt = (
                select(t.seq, t.hash, t.prev_hash, t.body)
                .where(t.seq > last, *conditions)
                .order_by(t.seq)
                .limit(batch)
            )
            if skip:
                stmt, skip = stmt.offset(skip), 0
            with self._reading("read") as conn:
                rows = conn.execute(stmt).all()
            for seq, hash_, prev_hash, body in rows:
                yield StoredRecord(seq, hash_, prev_hash, self._parse(body, seq))
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def iter_bodies(
        self, types: Collection[str], *, after_seq: int = 0, batch: int = 5000
    ) -> Iterator[list[tuple[int, str, str]]]:
        """(seq, type, body) of records of `types` after `after_seq`, in seq order, a batch at a
        time, unparsed: for indexes built beside the store (search), where parsing every record
        into its model would cost more than the index.

        Read along seq (the primary key), the types checked row by row: `types` are meant to be
        most of the store (steps). On SQLite the type test is written so that it cannot use the
        (type, ts) index, which SQLite otherwise picks, reading every record of those types and
        sorting them for each batch."""
        t = records.c
        type_column = t.type.concat("") if self._store.dialect == "sqlite" else t.type
        last = after_seq
        while True:
            stmt = (
                select(t.seq, t.type, t.body)
                .where(t.seq > last, type_column.in_(sorted(types)))
                .order_by(t.seq)
                .limit(batch)
            )
            with self._reading("read") as conn:
                rows = [
                    (int(seq), str(type_), str(body)) for seq, type_, body in conn.execute(stmt)
                ]
            if rows:
                yield rows
            if len(rows) < batch:
                return
            last = rows[-1][0]

    @staticmethod
    def _filters(
        session_id: str | None, types: Collection[str] | None, step_ids: Collection[str] | None
    ) -> list[Any] | None:
        """WHERE conditions on index columns; None when an empty filter can match nothing."""
        t = records.c
        conditions: list[Any] = []
        if session_id is not None:
            conditions.append(t.session_id == session_id)
        for column, wanted in ((t.type, types), (t.step_id, step_ids)):
            if wanted is not None:
                if not wanted:
                    return None
                conditions.append(column.in_(sorted(set(wanted))))
        return conditions

    def records_for_session(self, session_id: str) -> list[StoredRecord]:
        return list(self.iter_records(session_id))

    def next_step_seq(self, session_id: str) -> int:
        """The step seq a resumed session continues from: one past its highest recorded step."""
        seq_in_body = (
            "json_extract(body, '$.seq')"
            if self._store.dialect == "sqlite"
            else "CAST(CAST(body AS json) ->> 'seq' AS BIGINT)"
        )
        sql = (
            f"SELECT MAX({seq_in_body}) FROM {records.name} WHERE session_id = {self._p} "
            "AND type IN ('step.proposed', 'step.finished')"
        )
        with self._reading("read") as conn:
            highest = conn.exec_driver_sql(sql, (session_id,)).scalar()
        return 1 if highest is None else int(highest) + 1

    def sessions(self, limit: int | None = None) -> list[SessionSummary]:
        """Sessions newest first (by when the store first saw them).

        Only the session.started and session.ended bodies are parsed; steps are counted and
        the last timestamp read from index columns.
        """
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        t = records.c
        first_seq = func.min(t.seq).label("first_seq")
        listing = (
            select(t.session_id, first_seq, func.max(t.seq).label("last_seq"))
            # Halts of every session, reviewers and grants for anyone: no one session's.
            .where(t.session_id != REVIEW_SESSION)
            .group_by(t.session_id)
            .order_by(first_seq.desc())
        )
        if limit is not None:
            listing = listing.limit(limit)
        summaries: dict[str, dict[str, Any]] = {}
        with self._reading("read") as conn:
            last_seqs: dict[int, str] = {}
            for sid, _first, last in conn.execute(listing):
                summaries[sid] = {
                    "session_id": sid, "agent": None, "started_at": None, "ended_at": None,
                    "status": None, "steps": 0,
                }  # fmt: skip
                last_seqs[last] = sid
            ids = list(summaries)
            for chunk in _chunks(ids):
                bounds = conn.execute(
                    select(t.session_id, t.type, t.body).where(
                        t.session_id.in_(chunk),
                        t.type.in_(("session.started", "session.ended")),
                    )
                )
                for sid, type_, body in bounds:
                    record = self._parse(body, None)
                    info = summaries[sid]
                    if type_ == "session.started" and info["started_at"] is None:
                        info["agent"] = getattr(record, "agent", None)
                        info["started_at"] = record.ts
                    elif type_ == "session.ended":
                        info["status"] = getattr(record, "status", None)
                        info["ended_at"] = record.ts
                steps = conn.execute(
                    select(t.session_id, func.count())
                    .where(t.session_id.in_(chunk), t.type == "step.proposed")
                    .group_by(t.session_id)
                )
                for sid, n in steps:
                    summaries[sid]["steps"] = int(n)
            for chunk_seqs in _chunks(list(last_seqs)):
                for seq, ts in conn.execute(select(t.seq, t.ts).where(t.seq.in_(chunk_seqs))):
                    summaries[last_seqs[seq]]["last_ts"] = parse_ts(ts)
        return [SessionSummary(**info) for info in summaries.values()]

    # -- the halt switch --------------------------------------------------------------------

    def halt(self, scope: str, reason: str, requested_by: str) -> None:
        """Halt one session (`scope` = its id) or every session (`scope` = "*"). The halt's id
        is random and never reused: an admin's resume is signed over it."""
        row = {
            "id": new_halt_id(),
            "scope": scope,
            "reason": reason,
            "requested_by": requested_by,
            "created_at": _now_text(),
        }
        with self._review_write("halt a session in") as conn:
            conn.execute(halts.insert().values(**row))
            append_on(conn, [review_event("halt.requested", row)])

    def halts(self) -> list[dict[str, Any]]:
        """Every halt row, oldest first; which are still in force is decided by the caller,
        which checks each resume's admin signature."""
        query = select(halts).order_by(halts.c.created_at, halts.c.id)
        with self._reading("read halts from") as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def resume(self, halt_id: int, resumed_by: str, signature: str) -> None:
        """Record an admin's signed resume of one halt (once: a resumed halt stays resumed)."""
        row = {
            "id": halt_id,
            "resumed_at": _now_text(),
            "resumed_by": resumed_by,
            "resume_signature": signature,
        }
        with self._review_write("resume a session in") as conn:
            done = conn.execute(
                halts.update()
                .where(halts.c.id == halt_id, halts.c.resumed_at.is_(None))
                .values(
                    resumed_at=row["resumed_at"], resumed_by=resumed_by, resume_signature=signature
                )
            )
            if done.rowcount == 1:
                scope = conn.execute(select(halts.c.scope).where(halts.c.id == halt_id)).scalar()
                append_on(conn, [review_event("halt.resumed", {**row, "scope": scope})])

    # -- approvals ----------------------------------------------------------------------------
    # Plain rows: they are the mailbox between a waiting agent and its reviewers, and what
    # counts is re-checked by the monitor (signatures), never trusted as stored. Each write also
    # chains a `ReviewEvent` in its transaction, so `verify` catches rows deleted or edited.

    def add_reviewer(self, row: dict[str, str]) -> None:
        full = {**row, "created_at": _now_text()}
        with self._review_write("register a reviewer in") as conn:
            conn.execute(reviewers.insert().values(**full))
            append_on(conn, [review_event("reviewer.added", full)])

    def reviewers(self) -> list[dict[str, Any]]:
        with self._reading("read reviewers from") as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(select(reviewers).order_by(reviewers.c.created_at))
            ]

    def create_approval(self, row: dict[str, Any]) -> None:
        full = {**row, "status": "pending", "created_at": _now_text()}
        with self._review_write("create an approval in") as conn:
            conn.execute(approvals.insert().values(**full))
            append_on(conn, [review_event("approval.requested", full)])

    def approvals(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """Approval rows as stored, oldest first. `status="pending"` means still open: a row
        whose deadline has passed is left out even when no monitor was left to close it (its
        agent crashed or was killed), so nobody is asked to decide what can no longer run."""
        query = select(approvals).order_by(approvals.c.created_at)
        if status is not None:
            query = query.where(approvals.c.status == status)
        if status == "pending":
            query = query.where(approvals.c.deadline > deadline_text(time.time()))
        with self._reading("read approvals from") as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def approval(self, approval_id: str) -> dict[str, Any] | None:
        with self._reading("read an approval from") as conn:
            row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
            return dict(row._mapping) if row is not None else None

    def add_vote(self, row: dict[str, str | None]) -> None:
        """Record a vote; on PostgreSQL also wake waiting monitors (NOTIFY, sent at commit)."""
        full: dict[str, Any] = {**row, "created_at": _now_text()}
        with self._review_write("record a vote in") as conn:
            inserted = conn.execute(votes.insert().values(**full))
            key = inserted.inserted_primary_key
            full["id"] = None if key is None else key[0]
            append_on(
                conn, [review_event("vote.cast", full, self._session_of(conn, row["approval_id"]))]
            )
            if self._store.dialect == "postgresql":
                conn.exec_driver_sql(
                    f"SELECT pg_notify('{VOTE_CHANNEL}', %s)", (str(row["approval_id"]),)
                )

    @contextlib.contextmanager
    def vote_signal(self) -> Iterator[Callable[[float], None]]:
        """A `wait(seconds)` that returns early when a vote arrives (PostgreSQL LISTEN); on
        SQLite, which cannot signal across processes, it simply sleeps (the caller polls)."""
        if self._store.dialect != "postgresql":
            yield time.sleep
            return
        import psycopg

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )

        def listen() -> psycopg.Connection[Any]:
            connection = psycopg.connect(conninfo, autocommit=True)
            connection.execute(f"LISTEN {VOTE_CHANNEL}")
            return connection

        try:
            listener: psycopg.Connection[Any] | None = listen()
        except psycopg.Error as exc:
            raise store_failure(exc, self._store, "listen for votes in") from exc

        def wait(seconds: float) -> None:
            # A cut connection (a server restart) only costs the early wake-up: the caller
            # polls the votes anyway, and the next wait listens again.
            nonlocal listener
            try:
                if listener is None:
                    listener = listen()
                for _ in listener.notifies(timeout=seconds, stop_after=1):
                    pass
            except psycopg.Error:
                if listener is not None:
                    listener.close()
                listener = None
                time.sleep(seconds)

        try:
            yield wait
        finally:
            if listener is not None:
                listener.close()

    def votes(self, approval_id: str) -> list[dict[str, Any]]:
        with self._reading("read votes from") as conn:
            query = select(votes).where(votes.c.approval_id == approval_id).order_by(votes.c.id)
            return [dict(r._mapping) for r in conn.execute(query)]

    def close_approval(self, approval_id: str, status: str, outcome: str) -> None:
        row = {"id": approval_id, "status": status, "outcome": outcome, "decided_at": _now_text()}
        with self._review_write("close an approval in") as conn:
            done = conn.execute(
                approvals.update()
                .where(approvals.c.id == approval_id)
                .values(status=status, outcome=outcome, decided_at=row["decided_at"])
            )
            if done.rowcount == 1:
                session = self._session_of(conn, approval_id)
                append_on(conn, [review_event("approval.closed", row, session)])

    def consume_approval(self, approval_id: str, step_id: str) -> str | None:
        """Mark the approval used by `step_id`, atomically; returns None on success, else the
        step that used it first (an approval runs at most one step, whatever process asks)."""
        row = {"id": approval_id, "consumed_by": step_id, "consumed_at": _now_text()}
        with self._review_write("use an approval in") as conn:
            done = conn.execute(
                approvals.update()
                .where(approvals.c.id == approval_id, approvals.c.consumed_by.is_(None))
                .values(consumed_by=step_id, consumed_at=row["consumed_at"])
            )
            if done.rowcount == 1:
                session = self._session_of(conn, approval_id)
                append_on(conn, [review_event("approval.used", row, session)])
                return None
            first = conn.execute(
                select(approvals.c.consumed_by).where(approvals.c.id == approval_id)
            ).first()
        return str(first[0]) if first is not None and first[0] is not None else "(unknown approval)"

    def add_grant(self, row: dict[str, Any]) -> None:
        full = {**row, "created_at": _now_text()}
        with self._review_write("record a grant in") as conn:
            conn.execute(grants.insert().values(**full))
            append_on(conn, [review_event("grant.given", full)])

    def grants(self) -> list[dict[str, Any]]:
        with self._reading("read grants from") as conn:
            return [
                dict(r._mapping) for r in conn.execute(select(grants).order_by(grants.c.created_at))
            ]

    @contextlib.contextmanager
    def _review_write(self, action: str) -> Iterator[Connection]:
        """One write transaction on the review tables; any database failure is a clear
        `StoreUnavailableError` naming `action`, and nothing of it is stored."""
        self._check_open()
        try:
            with self._write_lock, self._engine.begin() as conn:
                yield conn
        except self._store.db_errors as exc:
            raise store_failure(exc, self._store, action) from exc

    @staticmethod
    def _session_of(conn: Connection, approval_id: Any) -> str | None:
        """The session of the approval a vote or an update is about (None when unknown)."""
        session = conn.execute(
            select(approvals.c.session_id).where(approvals.c.id == approval_id)
        ).scalar()
        return None if session is None else str(session)

    # -- verifying -------------------------------------------------------------------------

    def hash_at(self, seq: int) -> str | None:
        """The chain hash of the record at `seq`, or None when there is none (anchors)."""
        with self._reading("read") as conn:
            row = conn.exec_driver_sql(
                f"SELECT hash FROM {records.name} WHERE seq = {int(seq)}"
            ).first()
        return None if row is None else str(row[0])

    def guard_probe(self) -> tuple[int, list[str]]:
        """(chain head seq, foreign schema objects) in one read: what the store guard checks
        before each consequential step. On SQLite the schema listing is read again only when
        `PRAGMA schema_version` moved (any CREATE or DROP moves it)."""
        with self._reading("inspect") as conn:
            row = conn.exec_driver_sql(
                f"SELECT seq FROM {chain_head.name} WHERE id = {_HEAD_ID}"
            ).first()
            if row is None:
                raise StoreCorruptError(self._no_head_message())
            if self._store.dialect != "sqlite":
                return int(row[0]), self._foreign_objects(conn)
            version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
            seen = self._schema_seen
            if seen is None or seen[0] != version:
                seen = self._schema_seen = (version, self._foreign_objects(conn))
            return int(row[0]), list(seen[1])

    def erasing_powers(self) -> list[str]:
        """What this connection may do to the records beyond appending (PostgreSQL: UPDATE,
        DELETE, TRUNCATE, owning the table); [] for an append-only role. A SQLite file is
        whatever its file permissions allow, so it says "file"."""
        if self._store.dialect == "sqlite":
            return ["file"]
        query = (
            "SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p "
            f"WHERE has_table_privilege(current_user, '{records.name}', p) "
            "UNION ALL SELECT 'OWNER' FROM pg_tables WHERE schemaname = current_schema() "
            f"AND tablename = '{records.name}' AND pg_has_role(current_user, tableowner, 'USAGE')"
        )
        with self._reading("inspect the privileges on") as conn:
            return [str(row[0]) for row in conn.exec_driver_sql(query)]

    def foreign_schema_objects(self) -> list[str]:
        """Triggers, rules and views on oversight's tables that oversight did not create. One
        trigger is enough to delete every halt as it is written or rewrite records as they
        arrive, so any is a problem (`verify` fails; a monitor refuses to act on the store)."""
        with self._reading("inspect the schema of") as conn:
            return self._foreign_objects(conn)

    def _foreign_objects(self, conn: Connection) -> list[str]:
        if self._store.dialect == "sqlite":
            query = (
                "SELECT type || ' ' || name || ' on ' || tbl_name FROM sqlite_master "
                "WHERE type IN ('trigger', 'view') ORDER BY name"
            )
            return [str(row[0]) for row in conn.exec_driver_sql(query)]
        here = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        found = [
            f"trigger {trigger} on {table}"
            for trigger, table, function, source in conn.exec_driver_sql(
                "SELECT t.tgname, c.relname, p.proname, p.prosrc FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
                f"WHERE NOT t.tgisinternal AND c.relnamespace = {here} "
                "AND c.relname LIKE 'oversight%%'"
            )
            # The guards `oversight pg setup` installs, exactly as it writes them.
            if not is_our_guard(str(trigger), str(table), str(function), str(source))
        ]
        query = (
            "SELECT 'rule ' || rulename || ' on ' || tablename FROM pg_rules "
            "WHERE schemaname = current_schema() AND tablename LIKE 'oversight%%' "
            "UNION ALL SELECT 'view ' || viewname || ' on ' || viewname FROM pg_views "
            "WHERE schemaname = current_schema() AND viewname LIKE 'oversight%%'"
        )
        found += [str(row[0]) for row in conn.exec_driver_sql(query)]
        return sorted(found)

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Recompute the whole chain in seq order and report the first place it breaks.

        Reads one consistent snapshot (the head and every row) without blocking writers, and
        streams rows through a driver cursor. `progress(done, total)` is called every
        `PROGRESS_EVERY` rows and at the end, with total taken from the chain head.
        """
        self._check_open()
        try:
            with self._read_lock, self._snapshot() as conn:
                head_row = conn.exec_driver_sql(
                    f"SELECT seq, hash FROM {chain_head.name} WHERE id = {_HEAD_ID}"
                ).first()
                if head_row is None:
                    return VerifyReport(
                        ok=False,
                        checked=0,
                        head_seq=0,
                        head_hash="",
                        first_problem=VerifyProblem(0, None, "chain head row is missing"),
                    )
                head_seq, head_hash = int(head_row[0]), str(head_row[1])
                foreign = self._foreign_objects(conn)
                if foreign:
                    return VerifyReport(
                        ok=False,
                        checked=0,
                        head_seq=head_seq,
                        head_hash=head_hash,
                        first_problem=VerifyProblem(
                            0,
                            None,
                            "schema objects oversight did not create (they can delete or "
                            f"rewrite rows as they are written): {', '.join(foreign)}",
                        ),
                    )
                workers = parallel_workers(head_seq, memory=self._store.memory)
                outcome = None
                if workers > 1:
                    try:
                        outcome = self._verify_in_processes(
                            conn, head_seq, head_hash, workers, progress
                        )
                    except ForkedTaskError:
                        outcome = None  # verify here instead: slower, same answer
                if outcome is not None:
                    checked, problem = outcome
                else:
                    cursor = self._streaming_cursor(conn)
                    try:
                        cursor.execute(self._sql_verify)
                        whole = _Segment(1, head_seq, GENESIS_HASH, True, head_hash)
                        checked, problem = _verify_rows(cursor, whole, progress)
                    finally:
                        cursor.close()
                if problem is None:
                    problem = self._review_tables_problem(conn)
        except self._store.db_errors as exc:
            raise store_failure(exc, self._store, "verify") from exc
        return VerifyReport(
            ok=problem is None,
            checked=checked,
            head_seq=head_seq,
            head_hash=head_hash,
            first_problem=problem,
        )

    def _review_tables_problem(self, conn: Connection) -> VerifyProblem | None:
        """The first difference between the review tables and their chained records."""
        events = []
        for seq, body in conn.execute(
            select(records.c.seq, records.c.body)
            .where(records.c.type == "review")
            .order_by(records.c.seq)
        ):
            event = self._parse(body, seq)
            if isinstance(event, ReviewEvent):
                events.append((int(seq), event))
        problems = review_problems(events, table_rows(conn))
        if not problems:
            return None
        seq, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        record_id = next((e.id for s, e in events if s == seq), None)
        return VerifyProblem(seq, record_id, f"review tables: {message}{more}")

    def _verify_in_processes(
        self,
        conn: Connection,
        head_seq: int,
        head_hash: str,
        workers: int,
        progress: Callable[[int, int], None] | None,
    ) -> tuple[int, VerifyProblem | None]:
        """Verify the chain as `workers` segments in forked processes, one per core.

        Each segment recomputes its own rows and checks their links, starting from the stored
        hash of the row before it; the segment before checked that stored hash, so together
        they verify the whole chain. Rows beyond the head are looked for here, in the snapshot
        the head was read from. The first problem by seq wins, as in a single pass.
        """
        bounds = [head_seq * i // workers for i in range(workers + 1)]
        starts = bounds[1:-1]
        prev_of: dict[int, str] = {}
        if starts:
            marks = ", ".join([self._p] * len(starts))
            prev_of = {
                int(s): str(h)
                for s, h in conn.exec_driver_sql(
                    f"SELECT seq, hash FROM {records.name} WHERE seq IN ({marks})", tuple(starts)
                )
            }
        segments = [
            _Segment(
                first=bounds[i] + 1,
                last=bounds[i + 1],
                prev_hash=GENESIS_HASH if i == 0 else prev_of.get(bounds[i], ""),
                final=i == workers - 1,
                head_hash=head_hash,
            )
            for i in range(workers)
        ]
        beyond = conn.exec_driver_sql(
            f"SELECT seq, record_id FROM {records.name} WHERE seq > {self._p} ORDER BY seq LIMIT 1",
            (head_seq,),
        ).first()
        results = run_forked([functools.partial(self._verify_segment, s) for s in segments])
        done = 0
        first: tuple[int, VerifyProblem] | None = None
        for segment, (checked, problem) in zip(segments, results, strict=True):
            done += checked
            if progress is not None:
                progress(done, head_seq)
            if problem is not None and (first is None or problem.seq < first[1].seq):
                first = (done, problem)
        if beyond is not None:
            seq, rid = int(beyond[0]), str(beyond[1])
            if first is None or seq < first[1].seq:
                first = (
                    done,
                    VerifyProblem(
                        seq,
                        rid,
                        f"head mismatch: record at seq {seq} lies beyond the chain head (seq "
                        f"{head_seq}): rows were appended without updating the head, or the head "
                        "was moved back",
                    ),
                )
        if first is None:
            return done, None
        return min(first[0], done), first[1]

    def _verify_segment(self, segment: _Segment) -> tuple[int, VerifyProblem | None]:
        """Runs in a forked child: its own connection, never the parent's pooled ones."""
        self._engine.dispose(close=False)
        with self._snapshot() as conn:
            cursor = self._streaming_cursor(conn)
            try:
                cursor.execute(f"{self._sql_verify_range}", (segment.first - 1, segment.last))
                return _verify_rows(cursor, segment, None)
            finally:
                cursor.close()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        engine = self._read_engine
        if self._store.dialect == "postgresql":
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.connect() as conn, conn.begin():
            yield conn

    def _streaming_cursor(self, conn: Connection) -> Any:
        dbapi_conn = cast(Any, conn.connection.dbapi_connection)
        if self._store.dialect == "postgresql":
            cursor = dbapi_conn.cursor(name="oversight_verify")
            cursor.itersize = _VERIFY_FETCH
            return cursor
        return dbapi_conn.cursor()

    # -- plumbing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._read_lock, self._read_engine.connect() as conn, conn.begin():
                yield conn
        except self._store.db_errors as exc:
            raise store_failure(exc, self._store, action) from exc

    def _parse(self, body: str, seq: int | None) -> Record:
        try:
            return parse_record(body)
        except ValidationError as exc:
            at = f"record seq {seq}" if seq is not None else "a record"
            raise StoreCorruptError(
                f"{at} in the oversight store at {self._store.where} does not parse: "
                f"{exc.errors()[0]['msg']}; run verify to find tampering"
            ) from None

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailableError(
                f"the oversight store at {self._store.where} was closed; open it again"
            )

    def close(self) -> None:
        """Release every pooled connection. The store cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class _Segment:
    """A run of seqs to verify: rows `first..last` must chain on from `prev_hash`."""

    first: int
    last: int
    prev_hash: str
    final: bool
    head_hash: str


def _verify_rows(
    cursor: Any,
    segment: _Segment,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, VerifyProblem | None]:
    """The verify loop over one segment: (rows checked, first problem or None)."""
    head_seq = segment.last
    expected = segment.first
    prev_hash = segment.prev_hash
    checked = 0
    next_progress = PROGRESS_EVERY
    fetch = cursor.fetchmany
    while rows := fetch(_VERIFY_FETCH):
        for seq, rid, type_, sid, step_id, kind, decision, ts, body, prev_col, hash_ in rows:
            if seq != expected:
                if seq < expected:
                    return checked, VerifyProblem(seq, rid, f"duplicated seq {seq}")
                return checked, VerifyProblem(
                    expected,
                    None,
                    f"seq gap: seq {expected} is missing (the next row is seq {seq}, "
                    f"record {rid}): a record was deleted",
                )
            if seq > head_seq:
                return checked, VerifyProblem(
                    seq,
                    rid,
                    f"head mismatch: record at seq {seq} lies beyond the chain head (seq "
                    f"{head_seq}): rows were appended without updating the head, or the head "
                    "was moved back",
                )
            if prev_col != prev_hash:
                return checked, VerifyProblem(
                    seq,
                    rid,
                    f"broken prev-hash link: prev_hash does not match the hash of seq {seq - 1}"
                    ": a record was inserted, reordered or replaced",
                )
            checked += 1
            if hash_ != record_hash(
                prev_col, seq, rid, type_, sid, step_id, kind, decision, ts, body
            ):
                return checked, VerifyProblem(
                    seq,
                    rid,
                    "hash mismatch: the stored row (body or an index column) was edited after "
                    "it was written",
                )
            disagreement = body_disagreement(rid, type_, sid, step_id, kind, decision, ts, body)
            if disagreement is not None:
                return checked, VerifyProblem(
                    seq, rid, f"columns disagree with body: {disagreement}"
                )
            prev_hash = hash_
            expected += 1
        if progress is not None and checked >= next_progress:
            progress(checked, head_seq)
            next_progress = (checked // PROGRESS_EVERY + 1) * PROGRESS_EVERY
    last = expected - 1
    if last < head_seq:
        if not segment.final:
            return checked, VerifyProblem(
                last + 1, None, f"seq gap: seq {last + 1} is missing: a record was deleted"
            )
        return checked, VerifyProblem(
            last + 1,
            None,
            f"head mismatch: the chain head says {head_seq} records but the table ends at seq "
            f"{last}: the tail was truncated (or the head moved forward)",
        )
    if segment.final and prev_hash != segment.head_hash:
        return checked, VerifyProblem(
            head_seq,
            None,
            f"head hash mismatch: the chain head's hash differs from the hash of seq {head_seq}",
        )
    if progress is not None:
        progress(checked, head_seq)
    return checked, None


def _require_oversight_schema(store: StoreEngine) -> None:
    with store.engine.execution_options(**READ_ONLY).connect() as conn:
        version = current_version(conn, store.where)
        conn.rollback()
    if version is None:
        kind = "database" if store.dialect == "postgresql" else "file"
        raise StoreNotFoundError(
            f"no oversight store at {store.where}: the {kind} has no oversight tables"
        )


def _now_text() -> str:
    return ts_text(_dt.datetime.now(_dt.UTC))


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def open_store(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    busy_timeout_s: float = 30.0,
    create: bool = True,
) -> SQLStore:
    """Open (creating and migrating if needed) the store at `url`.

    `url` is a SQLAlchemy URL: `sqlite:///relative/or/absolute.db`, `sqlite://` (in memory,
    for tests) or `postgresql+psycopg://user:password@host:port/database`. Raises
    `StoreUnavailableError` when the store cannot be reached or written, `StoreCorruptError`
    when the location holds something that is not an oversight store, `SchemaVersionError` when
    a newer agent-oversight wrote it, and `MissingExtraError` without the PostgreSQL extra.

    `create=False` opens only a store that exists (for reading what was recorded): a missing
    SQLite file, or a database or file without oversight tables, is a `StoreNotFoundError`,
    and no file, folder or table is created. An existing store of an older schema is still
    brought up to date.
    """
    store = create_store_engine(
        url, sqlite_synchronous=sqlite_synchronous, busy_timeout_s=busy_timeout_s, create=create
    )
    try:
        if not create:
            _require_oversight_schema(store)
        migrate(store.engine, store.where)
    except StoreError:
        store.engine.dispose()
        raise
    except store.db_errors as exc:
        store.engine.dispose()
        raise store_failure(exc, store, "open") from exc
    return SQLStore(store)
