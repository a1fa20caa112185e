"""Read-only queries behind the sessions list, each answered through an index.

`SQLStore` already reads a session's records in order (`iter_records`, on (session_id, seq))
and the review tables by key. The sessions list needs more, added here without touching the
schema:

- sessions newest first: each session's first `session.started` record, through the
  (type, ts) index, a page at a time (keyset on (ts, seq), never OFFSET);
- each listed session's state (status, steps, latest autonomy score): its last few records,
  read backwards through (session_id, seq), so a session of a million steps costs what one of
  ten does.

Filters the index cannot answer (status, autonomy scenario) are applied to sessions as they are
read, within a time budget: a page then shows what it found and where the search stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    Connection,
    Select,
    bindparam,
    case,
    cast,
    exists,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnElement

from oversight.approvals.deadlines import deadline_text
from oversight.errors import StoreCorruptError
from oversight.records import REVIEW_SESSION, Record, SessionStarted, parse_record
from oversight.store.columns import parse_ts, ts_text
from oversight.store.engine import READ_ONLY, create_store_engine, store_failure
from oversight.store.schema import approvals, records
from oversight.timeline import FRAME_TYPES, process_alive

STATUSES: tuple[str, ...] = ("running", "completed", "failed", "halted", "interrupted", "unknown")
TAIL = 8
"""Records read back from a session's end for its status and step count."""
SCORE_LOOKBACK = 512
"""Records read back from a session's end for its latest live autonomy score (about 250
steps: a monitor stamps one on every step that can move it)."""
FRAME_COUNT_CAP = 2_000
"""A session with fewer records than this has its frame read on its own index outright."""
FRAME_SCAN_CAP = 250_000
"""Index entries counted at most to choose how to read a long session's frame."""

ScoreFallback = Callable[[str, int], tuple[float, int] | None]
"""(score, scenario) of a session (id, seq of its last record) with no score recorded live, or
None to leave it unscored."""


class StoreReader:
    """Read-only connections to a store, for queries the store's own methods do not offer."""

    def __init__(self, url: str) -> None:
        self._store = create_store_engine(url, create=False)
        self._engine = self._store.engine.execution_options(**READ_ONLY)
        self.dialect = self._store.dialect
        self._statements: dict[str, Any] = {}

    def statement(self, name: str, build: Callable[[StoreReader], Any]) -> Any:
        """The statement `build` makes for this store, built once: the sessions list runs a
        few per listed session, and building one costs SQLAlchemy more than SQLite takes to
        answer it. Built statements take their values as bound parameters."""
        found = self._statements.get(name)
        if found is None:
            found = self._statements[name] = build(self)
        return found

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """One read transaction; a database failure is a `StoreError` naming the store."""
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except self._store.db_errors as exc:
            raise store_failure(exc, self._store, "read") from exc

    def json_field(self, column: Any, key: str) -> ColumnElement[Any]:
        """A top-level field of a JSON text column (`body`), as SQL."""
        if self.dialect == "sqlite":
            return func.json_extract(column, f"$.{key}")
        field: ColumnElement[Any] = cast(column, JSON)[key].as_string()
        return field

    def by_session(self, column: Any) -> Any:
        """`column` in a condition SQLite must not answer from an index of its own: with it,
        SQLite reads a session's rows on (session_id, seq) instead of every row of a type on
        (type, ts) (`type || ''` has no index; PostgreSQL's planner needs no such hint)."""
        return column.concat("") if self.dialect == "sqlite" else column

    def close(self) -> None:
        self._store.engine.dispose()


@dataclass(frozen=True, slots=True)
class Cursor:
    """A place in the sessions list: the (ts, seq) of a session's first start record."""

    ts: str
    seq: int

    _FORM = re.compile(r"^(\d{1,19})\.(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)$")

    def text(self) -> str:
        return f"{self.seq}.{self.ts}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor a page link carries; ValueError naming the text when it is not one."""
        match = cls._FORM.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a sessions-list position (SEQ.TIMESTAMP)")
        return cls(match.group(2), int(match.group(1)))


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What the sessions list is narrowed to; empty fields match everything."""

    q: str = ""
    """A substring of the session id or the agent's name."""
    agent: str = ""
    """A substring of the agent's name."""
    status: str = ""
    scenario: int | None = None
    since: _dt.date | None = None
    """First day (UTC) a session may have started on."""
    until: _dt.date | None = None
    """Last day (UTC) a session may have started on."""

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.scenario is not None and self.scenario not in (1, 2, 3):
            raise ValueError(f"scenario must be 1, 2 or 3, got {self.scenario!r}")

    @property
    def per_row(self) -> bool:
        """Whether a filter needs each session's state (not answerable by the index)."""
        return bool(self.status) or self.scenario is not None

    @property
    def active(self) -> bool:
        return bool(self.q or self.agent or self.per_row or self.since or self.until)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One line of the sessions list."""

    session_id: str
    agent: str | None
    host: str | None
    started_at: _dt.datetime
    ended_at: _dt.datetime | None
    last_at: _dt.datetime
    last_seq: int
    """The seq of the session's last record: it changes whenever the session does."""
    status: str
    status_note: str | None
    steps: int
    score: float | None
    scenario: int | None
    score_source: str | None
    """"live": recorded with the session's steps; "computed": scored from its records here."""
    pending: int
    cursor: Cursor

    @property
    def duration_s(self) -> float:
        end = self.ended_at or self.last_at
        return max(0.0, (end - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class SessionPage:
    rows: list[SessionRow]
    older: Cursor | None
    """Where the next page of older sessions starts (None: these are the oldest)."""
    newer: Cursor | None
    """Where the page of newer sessions starts (None: these are the newest)."""
    scanned: int
    """Sessions read to fill the page (more than shown when filters left some out)."""
    stopped_at: Cursor | None = None
    """Set when the time budget ran out before the page was full: search on from here."""


def list_sessions(
    reader: StoreReader,
    wanted: SessionFilter,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = 50,
    budget_s: float = 1.0,
    fallback_score: ScoreFallback | None = None,
    fallback_max_steps: int = 0,
) -> SessionPage:
    """A page of sessions, newest first: those before `before` (older), or the page just
    after `after` (newer), or the newest page."""
    if before is not None and after is not None:
        raise ValueError("give before or after, not both")
    older_first = after is None
    position = after if after is not None else before
    batch = limit + 1 if not wanted.per_row else max(limit + 1, 100)
    deadline = time.monotonic() + budget_s
    found: list[SessionRow] = []
    scanned = 0
    stopped_at: Cursor | None = None
    while len(found) <= limit and stopped_at is None:
        with reader.connect() as conn:
            starts = conn.execute(
                _listing(reader, wanted, position, older_first).limit(batch)
            ).all()
            pending = pending_counts(conn, [str(row.session_id) for row in starts])
            for row in starts:
                scanned += 1
                position = Cursor(str(row.ts), int(row.seq))
                summary = _summary(reader, conn, row, pending.get(str(row.session_id), 0))
                if summary.score is None and fallback_score and summary.steps <= fallback_max_steps:
                    scored = fallback_score(summary.session_id, summary.last_seq)
                    if scored is not None:
                        summary = _with_score(summary, scored)
                if _matches(summary, wanted):
                    found.append(summary)
                    if len(found) > limit:
                        break
                if time.monotonic() > deadline and row is not starts[-1]:
                    stopped_at = position
                    break
        if len(starts) < batch:
            break
        if stopped_at is None and len(found) <= limit and time.monotonic() > deadline:
            stopped_at = position
    more = len(found) > limit
    page = found[:limit]
    if not older_first:
        page.reverse()
    first, last = (page[0].cursor, page[-1].cursor) if page else (None, None)
    if older_first:
        older = last if more else None
        newer = first if before is not None else None
    else:
        older = last if page else before
        newer = first if more else None
    return SessionPage(page, older, newer, scanned, stopped_at)


def _listing(
    reader: StoreReader, wanted: SessionFilter, position: Cursor | None, older_first: bool
) -> Select[Any]:
    """Each session's first start record, by the (type, ts) index, from `position` on."""
    t = records
    earlier = records.alias("earlier")
    resumed = exists().where(
        earlier.c.session_id == t.c.session_id,
        earlier.c.type == "session.started",
        earlier.c.seq < t.c.seq,
    )
    agent = reader.json_field(t.c.body, "agent")
    stmt = select(t.c.seq, t.c.ts, t.c.session_id, t.c.body).where(
        t.c.type == "session.started", t.c.session_id != REVIEW_SESSION, ~resumed
    )
    if wanted.q:
        pattern = _contains(wanted.q)
        stmt = stmt.where(
            or_(t.c.session_id.ilike(pattern, escape="\\"), agent.ilike(pattern, escape="\\"))
        )
    if wanted.agent:
        stmt = stmt.where(agent.ilike(_contains(wanted.agent), escape="\\"))
    if wanted.since is not None:
        stmt = stmt.where(t.c.ts >= _day_text(wanted.since))
    if wanted.until is not None:
        stmt = stmt.where(t.c.ts < _day_text(wanted.until + _dt.timedelta(days=1)))
    key = tuple_(t.c.ts, t.c.seq)
    if position is not None:
        mark = tuple_(position.ts, position.seq)
        stmt = stmt.where(key < mark if older_first else key > mark)
    if older_first:
        return stmt.order_by(t.c.ts.desc(), t.c.seq.desc())
    return stmt.order_by(t.c.ts.asc(), t.c.seq.asc())


def _summary(reader: StoreReader, conn: Connection, start: Any, pending: int) -> SessionRow:
    """A listed session's row from its start record and its last few records."""
    sid = str(start.session_id)
    first = _started(start.body)
    tail = conn.execute(reader.statement("tail", _tail_statement), {"sid": sid}).all()
    ended_status: str | None = None
    ended_at: _dt.datetime | None = None
    latest_start = first
    for row in tail:
        if row.type == "session.ended":
            ended_status, ended_at = str(row.status), parse_ts(str(row.ts))
            break
        if row.type == "session.started":
            latest_start = _started(row.start) or first
            break
    steps = [int(row.step) for row in tail if row.type == "step.proposed" and row.step is not None]
    if steps:
        step_count = max(steps)
    elif len(tail) < TAIL:
        step_count = 0
    else:
        found = conn.execute(reader.statement("last_step", _last_step_statement), {"sid": sid})
        step_count = int(found.scalar() or 0)
    last = conn.execute(reader.statement("last", _last_statement), {"sid": sid}).one()
    status, note = session_status(ended_status, latest_start)
    score, scenario = latest_score(reader, conn, sid)
    return SessionRow(
        session_id=sid,
        agent=first.agent if first else None,
        host=first.host if first else None,
        started_at=parse_ts(str(start.ts)),
        ended_at=ended_at,
        last_at=parse_ts(str(last.ts)),
        last_seq=int(last.seq),
        status=status,
        status_note=note,
        steps=step_count,
        score=score,
        scenario=scenario,
        score_source="live" if scenario is not None else None,
        pending=pending,
        cursor=Cursor(str(start.ts), int(start.seq)),
    )


def _tail_statement(reader: StoreReader) -> Any:
    """The session's last `TAIL` start, end and proposal records, newest first."""
    t = records
    return (
        select(
            t.c.type,
            t.c.ts,
            reader.json_field(t.c.body, "seq").label("step"),
            reader.json_field(t.c.body, "status").label("status"),
            case((t.c.type == "session.started", t.c.body), else_=None).label("start"),
        )
        .where(
            t.c.session_id == bindparam("sid"),
            reader.by_session(t.c.type).in_(("session.started", "session.ended", "step.proposed")),
        )
        .order_by(t.c.seq.desc())
        .limit(TAIL)
    )


def _last_statement(reader: StoreReader) -> Any:
    """The seq and time of the session's last record."""
    t = records
    return (
        select(t.c.seq, t.c.ts)
        .where(t.c.session_id == bindparam("sid"))
        .order_by(t.c.seq.desc())
        .limit(1)
    )


def _last_step_statement(reader: StoreReader) -> Any:
    """The number of the session's last proposal: how many steps it proposed (steps are
    numbered from 1 as they are proposed; a resumed session goes on from its highest)."""
    t = records
    return (
        select(reader.json_field(t.c.body, "seq"))
        .where(t.c.session_id == bindparam("sid"), reader.by_session(t.c.type) == "step.proposed")
        .order_by(t.c.seq.desc())
        .limit(1)
    )


def _score_statement(reader: StoreReader) -> Any:
    """The latest scored outcome's (score, scenario), at most `SCORE_LOOKBACK` records back:
    read backwards from the session's end, stopping at the first scored outcome; the bound
    (the seq `SCORE_LOOKBACK` records back) is found on the index alone, so a long session
    with no score is not read to its start."""
    t = records
    bound = (
        select(t.c.seq)
        .where(t.c.session_id == bindparam("sid"))
        .order_by(t.c.seq.desc())
        .limit(1)
        .offset(SCORE_LOOKBACK - 1)
        .scalar_subquery()
    )
    scenario = reader.json_field(t.c.body, "autonomy_scenario")
    return (
        select(reader.json_field(t.c.body, "autonomy_score"), scenario)
        .where(
            t.c.session_id == bindparam("sid"),
            reader.by_session(t.c.type) == "step.finished",
            t.c.seq >= func.coalesce(bound, 0),
            scenario.is_not(None),
        )
        .order_by(t.c.seq.desc())
        .limit(1)
    )


def session_status(ended: str | None, started: SessionStarted | None) -> tuple[str, str | None]:
    """(status, a note explaining it or None), as the timeline decides it: an end record says
    how it ended; without one, whether its process still runs."""
    if ended is not None:
        return ended, None
    alive = process_alive(started)
    if alive is None:
        return "unknown", "no end record, and its process ran on another host"
    if alive:
        return "running", None
    return "interrupted", "no end record, and its process is gone"


def latest_score(
    reader: StoreReader, conn: Connection, session_id: str
) -> tuple[float | None, int | None]:
    """The autonomy (score, scenario) the session's latest scored outcome carries, looking
    back at most `SCORE_LOOKBACK` records; (None, None) when none carries one."""
    row = conn.execute(reader.statement("score", _score_statement), {"sid": session_id}).first()
    if row is None or row[0] is None:
        return None, None
    return float(row[0]), int(row[1])


def step_total(reader: StoreReader, session_id: str) -> int:
    """How many steps the session proposed: the number of its last proposal, read backwards
    on its (session_id, seq) index, so a session of a million steps costs what one of ten
    does (counting its rows would read them all)."""
    with reader.connect() as conn:
        found = conn.execute(
            reader.statement("last_step", _last_step_statement), {"sid": session_id}
        ).scalar()
    return 0 if found is None else int(found)


def frame_records(reader: StoreReader, session_id: str) -> list[Record]:
    """The session's start, end and alert records in order: the frame of its timeline.

    A store holds few of these (two a session, and alerts), so for a long session they are
    read on the (type, ts) index rather than by going through all of the session's records
    on (session_id, seq). SQLite, without statistics, cannot tell which is cheaper; here the
    two are counted first on the indexes alone (no row is read for that), each count stopping
    at the other's size, and the frame is read through whichever has fewer rows to look up."""
    t = records
    wanted = t.c.type.in_(FRAME_TYPES)
    by_type = False
    with reader.connect() as conn:
        if reader.dialect == "sqlite":
            own = _capped_count(conn, t.c.session_id == session_id, FRAME_COUNT_CAP)
            if own >= FRAME_COUNT_CAP:
                frames = _capped_count(conn, wanted, FRAME_SCAN_CAP)
                by_type = frames < _capped_count(conn, t.c.session_id == session_id, frames + 1)
        session_test = t.c.session_id.concat("") if by_type else t.c.session_id
        type_test = wanted if by_type else reader.by_session(t.c.type).in_(FRAME_TYPES)
        rows = conn.execute(
            select(t.c.seq, t.c.body).where(session_test == session_id, type_test).order_by(t.c.seq)
        ).all()
    return [_parsed(int(seq), str(body)) for seq, body in rows]


def _parsed(seq: int, body: str) -> Record:
    try:
        return parse_record(body)
    except ValidationError as exc:
        raise StoreCorruptError(
            f"record seq {seq} does not parse: {exc.errors()[0]['msg']}; run verify to find "
            "tampering"
        ) from None


def _capped_count(conn: Connection, condition: Any, cap: int) -> int:
    """How many records meet `condition` (an index's own columns), counting at most `cap`."""
    rows = select(records.c.seq).where(condition).limit(cap).subquery()
    return int(conn.execute(select(func.count()).select_from(rows)).scalar_one())


def last_seq(reader: StoreReader, session_id: str) -> int | None:
    """The seq of the session's last record (None: no record), read backwards by index."""
    t = records
    with reader.connect() as conn:
        found = conn.execute(
            select(t.c.seq).where(t.c.session_id == session_id).order_by(t.c.seq.desc()).limit(1)
        ).scalar()
    return None if found is None else int(found)


def record_at(reader: StoreReader, seq: int) -> dict[str, Any] | None:
    """The index columns of the record at `seq` (where verification found a problem)."""
    t = records
    with reader.connect() as conn:
        row = conn.execute(
            select(t.c.seq, t.c.record_id, t.c.type, t.c.session_id, t.c.step_id, t.c.ts).where(
                t.c.seq == seq
            )
        ).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["ts"] = parse_ts(str(found["ts"]))
    return found


def pending_total(reader: StoreReader) -> int:
    """Approvals waiting for people in every session, for the navigation bar."""
    a = approvals.c
    with reader.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    a.status == "pending", a.deadline > deadline_text(time.time())
                )
            ).scalar_one()
        )


def pending_counts(conn: Connection, session_ids: Sequence[str]) -> dict[str, int]:
    """How many approvals wait for people in each of these sessions (past-deadline ones do
    not: nobody can act on them any more)."""
    if not session_ids:
        return {}
    a = approvals.c
    query = (
        select(a.session_id, func.count())
        .where(
            a.status == "pending",
            a.deadline > deadline_text(time.time()),
            a.session_id.in_(sorted(set(session_ids))),
        )
        .group_by(a.session_id)
    )
    return {str(sid): int(n) for sid, n in conn.execute(query)}


def _with_score(row: SessionRow, scored: tuple[float, int]) -> SessionRow:
    return dataclasses.replace(row, score=scored[0], scenario=scored[1], score_source="computed")


def _matches(row: SessionRow, wanted: SessionFilter) -> bool:
    if wanted.status and row.status != wanted.status:
        return False
    return wanted.scenario is None or row.scenario == wanted.scenario


def _started(body: str | None) -> SessionStarted | None:
    if body is None:
        return None
    record = parse_record(body)
    return record if isinstance(record, SessionStarted) else None


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _day_text(day: _dt.date) -> str:
    return ts_text(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC))
