"""How a record becomes the column values of its row, and the cheap check that they still agree.

The `ts` column is always `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds, 27 characters) so
that text order is time order in every database; the body keeps pydantic's own rendering, which
drops the fraction when it is zero and keeps non-UTC offsets. A naive datetime is taken as UTC.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, NamedTuple

from pydantic import ValidationError

from oversight.records import Record, parse_record, record_body
from oversight.store.chain import record_hash

_UTC = _dt.UTC


class Columns(NamedTuple):
    """Everything but seq and the hashes, computed outside the write lock.

    In `chain.record_hash`'s argument order, so `record_hash(prev_hash, seq, *columns)`.
    """

    record_id: str
    type: str
    session_id: str
    step_id: str | None
    kind: str | None
    decision: str | None
    ts: str
    body: str


def ts_text(ts: _dt.datetime) -> str:
    """The sortable UTC text stored in the `ts` column."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(_UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str) -> _dt.datetime:
    """The aware datetime of a `ts` column value."""
    return _dt.datetime.fromisoformat(text)


def record_columns(record: Record) -> Columns:
    body = record_body(record)
    record_id = record.id
    # pydantic writes id then ts first; when it already wrote the canonical form, reuse it.
    prefix = f'{{"id":"{record_id}","ts":"'
    n = len(prefix)
    if body.startswith(prefix) and body[n + 19 : n + 20] == "." and body[n + 26 : n + 28] == 'Z"':
        ts = body[n : n + 27]
    else:
        ts = ts_text(record.ts)
    # record_index's getattr, without pydantic's slow path for fields a record type lacks.
    fields = record.__dict__
    return Columns(
        record_id,
        record.type,
        record.session_id,
        fields.get("step_id"),
        fields.get("kind"),
        fields.get("decision"),
        ts,
        body,
    )


def body_disagreement(
    record_id: str,
    type_: str,
    session_id: str,
    step_id: str | None,
    kind: str | None,
    decision: str | None,
    ts: str,
    body: str,
) -> str | None:
    """Why the index columns contradict the body, or None when they agree.

    The fast path is one prefix comparison: pydantic renders the record's first fields (id, ts,
    session_id, type, and step_id for steps) in a fixed order, so a row written by `append` with
    plain strings matches it exactly. Without a backslash in the prefix, a match can only mean
    equal values (quotes and control characters inside JSON strings are escaped with one).
    Anything else (escaped characters, a non-canonical ts, a real disagreement) falls back to
    parsing the body and comparing every index column; kind and decision are compared only
    there, the hash covering them otherwise.
    """
    prefix = f'{{"id":"{record_id}","ts":"{ts}","session_id":"{session_id}","type":"{type_}",'
    if step_id is not None:
        prefix = f'{prefix}"step_id":"{step_id}",'
    if body.startswith(prefix) and "\\" not in prefix:
        return None
    try:
        record = parse_record(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"body is not a valid record ({first['msg']} at {first['loc']})"
    actual = record_columns(record)
    expected = Columns(record_id, type_, session_id, step_id, kind, decision, ts, body)
    for name in ("record_id", "type", "session_id", "step_id", "kind", "decision", "ts"):
        column, in_body = getattr(expected, name), getattr(actual, name)
        if column != in_body:
            return f"{name} column {column!r} disagrees with the body ({in_body!r})"
    return None


def chained_rows(seq: int, prev: str, prepared: list[Columns]) -> list[tuple[Any, ...]]:
    """Row tuples (in `schema.RECORD_COLUMNS` order) for `prepared`, numbered and hash-linked
    after the record at (seq, prev): the one place rows join the chain."""
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    for c in prepared:
        seq += 1
        h = record_hash(prev, seq, *c)
        add((seq, *c[:7], prev, h, c.body))
        prev = h
    return rows
