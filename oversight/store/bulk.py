"""Many sessions' records in one transaction: what a batch import needs and a monitor does not.

A monitor appends a step's records as they happen; an import has hundreds of sessions ready at
once. Here each session arrives as rows already prepared (`record_columns`, computed where the
records were built, in an import worker), and a whole batch joins the chain in one transaction:
one chain-head read, one bulk insert, one commit, exactly the chain `SQLStore.append` writes.

Each session carries what it was built after (`SessionRows.after_steps`), and is stored only if
the store still holds exactly that, decided under the write lock: a new session only if nothing
of it is stored, a grown one only if its highest stored step is the one its new steps follow.
So two importers, or two copies of one transcript in one import, never store a session twice,
and monitors appending at the same time simply take their turn at the lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from oversight.errors import StoreUnavailableError
from oversight.store.columns import Columns, chained_rows
from oversight.store.engine import BATCHED, READ_ONLY, StoreEngine, store_failure
from oversight.store.schema import RECORD_COLUMNS, chain_head, records

_HEAD_ID = 1
_IN_CHUNK = 500
_STEP_TYPES = "type IN ('step.proposed', 'step.finished')"


@dataclass(frozen=True, slots=True)
class SessionRows:
    """One session's records to store, as `record_columns` rows in chain order.

    `after_steps` is the highest step seq stored when they were built (0 for a new session),
    `through_step` the highest step seq they reach. `new`: they include the session's start, so
    they are stored only if no record of the session is stored.
    """

    session_id: str
    new: bool
    after_steps: int
    through_step: int
    columns: list[Columns]


class _Sql:
    """The statements, in the dialect's parameter style."""

    def __init__(self, dialect: str) -> None:
        p = "?" if dialect == "sqlite" else "%s"
        seq = (
            "json_extract(body, '$.seq')"
            if dialect == "sqlite"
            else "CAST(CAST(body AS json) ->> 'seq' AS BIGINT)"
        )
        lock = "" if dialect == "sqlite" else " FOR UPDATE"
        self.head = f"SELECT seq, hash FROM {chain_head.name} WHERE id = {_HEAD_ID}{lock}"
        self.exists = f"SELECT 1 FROM {records.name} WHERE session_id = {p} LIMIT 1"
        self.highest_step = (
            f"SELECT MAX({seq}) FROM {records.name} WHERE session_id = {p} AND {_STEP_TYPES}"
        )
        self.stored = (
            f"SELECT session_id, MAX(CASE WHEN {_STEP_TYPES} THEN {seq} END) FROM {records.name} "
            "WHERE session_id IN ({marks}) GROUP BY session_id"
        )
        self.mark = p
        marks = ", ".join([p] * len(RECORD_COLUMNS))
        self.insert = f"INSERT INTO {records.name} ({', '.join(RECORD_COLUMNS)}) VALUES ({marks})"
        self.copy = f"COPY {records.name} ({', '.join(RECORD_COLUMNS)}) FROM STDIN"
        self.set_head = f"UPDATE {chain_head.name} SET seq = {p}, hash = {p} WHERE id = {p}"


_SQL = {"sqlite": _Sql("sqlite"), "postgresql": _Sql("postgresql")}


def stored_steps(
    store: StoreEngine, lock: contextlib.AbstractContextManager[Any], session_ids: Collection[str]
) -> dict[str, int]:
    """The sessions among `session_ids` that the store holds, each with its highest step seq
    (0 when it has no steps): `has_session` and `next_step_seq` for many sessions at once."""
    sql = _SQL[store.dialect]
    wanted = sorted(set(session_ids))
    found: dict[str, int] = {}
    try:
        with lock, _read_cursor(store) as cursor:
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[i : i + _IN_CHUNK]
                cursor.execute(sql.stored.format(marks=", ".join([sql.mark] * len(chunk))), chunk)
                for session_id, highest in cursor.fetchall():
                    found[str(session_id)] = 0 if highest is None else int(highest)
    except store.db_errors as exc:
        raise store_failure(exc, store, "read") from exc
    return found


def append_sessions(
    store: StoreEngine,
    lock: contextlib.AbstractContextManager[Any],
    sessions: Sequence[SessionRows],
    *,
    durable: bool,
) -> list[bool]:
    """Store `sessions` in one transaction after everything already stored, each only if the
    store holds what it was built after; whether each was stored. All or nothing: a database
    failure raises `StoreUnavailableError` and stores none of them."""
    if not sessions:
        return []
    sql = _SQL[store.dialect]
    try:
        with lock, write_cursor(store, durable) as cursor:
            cursor.execute(sql.head)
            head = cursor.fetchone()
            if head is None:
                raise StoreUnavailableError(
                    f"the oversight store at {store.where} has no chain head row "
                    f"({chain_head.name} is empty): it was tampered with or damaged"
                )
            taken = _still_fitting(cursor, sql, sessions)
            prepared = [c for s, ok in zip(sessions, taken, strict=True) if ok for c in s.columns]
            if prepared:
                rows = chained_rows(int(head[0]), str(head[1]), prepared)
                if store.dialect == "postgresql":
                    with cursor.copy(sql.copy) as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cursor.executemany(sql.insert, rows)
                cursor.execute(sql.set_head, (rows[-1][0], rows[-1][9], _HEAD_ID))
    except store.db_errors as exc:
        raise store_failure(exc, store, "append to") from exc
    return taken


def _still_fitting(cursor: Any, sql: _Sql, sessions: Sequence[SessionRows]) -> list[bool]:
    """Which sessions follow on from what is stored, counting those earlier in the batch."""
    reached: dict[str, int] = {}  # sessions stored by this batch: their highest step now
    taken: list[bool] = []
    for s in sessions:
        if s.session_id in reached:
            ok = not s.new and reached[s.session_id] == s.after_steps
        elif s.new:
            cursor.execute(sql.exists, (s.session_id,))
            ok = cursor.fetchone() is None
        else:
            cursor.execute(sql.highest_step, (s.session_id,))
            highest = cursor.fetchone()[0]
            ok = (0 if highest is None else int(highest)) == s.after_steps
        if ok:
            reached[s.session_id] = s.through_step
        taken.append(ok)
    return taken


@contextlib.contextmanager
def _read_cursor(store: StoreEngine) -> Iterator[Any]:
    """A driver cursor for reads. SQLite: the raw connection in autocommit, each statement its
    own snapshot (a read transaction through SQLAlchemy cost more than the query)."""
    if store.dialect == "sqlite":
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            raw.close()
        return
    with store.engine.execution_options(**READ_ONLY).connect() as conn, conn.begin():
        cursor = cast(Any, conn.connection.dbapi_connection).cursor()
        try:
            yield cursor
        finally:
            cursor.close()


@contextlib.contextmanager
def write_cursor(store: StoreEngine, durable: bool) -> Iterator[Any]:
    """A driver cursor inside a write transaction holding the chain lock, committed when the
    block ends and rolled back when it raises (`SQLStore.append` writes through it on SQLite too).
    SQLite: `BEGIN IMMEDIATE` on the raw connection; PostgreSQL: the head row is locked by the first statement."""
    if store.dialect != "sqlite":
        options = BATCHED if not durable else {}
        with store.engine.connect().execution_options(**options) as conn, conn.begin():
            cursor = cast(Any, conn.connection.dbapi_connection).cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        return
    mode = store.synchronous if durable else "NORMAL"
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            if raw.info.get("oversight_synchronous") != mode:
                cursor.execute(f"PRAGMA synchronous = {mode}")
                raw.info["oversight_synchronous"] = mode
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
                cursor.execute("COMMIT")
            except BaseException:
                if raw.dbapi_connection is not None and raw.dbapi_connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.close()
    finally:
        raw.close()
