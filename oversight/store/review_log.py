"""The review tables' rows in the chain: what each write records, and how `verify` checks them.

Reviewers, approvals, votes, grants and halts are plain rows (agents and reviewers in other
processes read and update them), so on their own an agent that can write the database could
empty the halts table or delete the votes nobody has counted yet. Every write to them therefore
appends a `ReviewEvent` in the same transaction, carrying a digest of exactly the columns that
write set. `review_problems` replays those events against the tables as they are: a row the
chain knows that is gone or different, or a row the chain never saw, is a problem `verify`
reports like a broken hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from oversight.errors import StoreUnavailableError
from oversight.records import REVIEW_SESSION, ReviewAction, ReviewEvent
from oversight.store.columns import chained_rows, record_columns
from oversight.store.schema import (
    RECORD_COLUMNS,
    approvals,
    chain_head,
    grants,
    halts,
    records,
    reviewers,
    votes,
)

_HEAD_ID = 1


@dataclass(frozen=True)
class Part:
    """One write to one review table: which columns it sets, and which action records it."""

    action: ReviewAction
    table: str
    key: str
    columns: tuple[str, ...]
    by: str | None = None
    """The column naming who wrote it (a reviewer, an admin, the requesting monitor)."""
    present: str | None = None
    """For a later update of a row: the column that is set once the update happened."""


PARTS: tuple[Part, ...] = (
    Part(
        "reviewer.added",
        reviewers.name,
        "name",
        ("name", "role", "public_key", "endorsed_by", "endorsement", "created_at"),
        by="endorsed_by",
    ),
    Part(
        "approval.requested",
        approvals.name,
        "id",
        (
            "id",
            "session_id",
            "step_id",
            "args_digest",
            "kind",
            "name",
            "args",
            "reason",
            "rule",
            "role",
            "quorum",
            "deadline",
            "created_at",
        ),
    ),
    Part(
        "approval.closed",
        approvals.name,
        "id",
        ("id", "status", "outcome", "decided_at"),
        present="decided_at",
    ),
    Part(
        "approval.used",
        approvals.name,
        "id",
        ("id", "consumed_by", "consumed_at"),
        present="consumed_by",
    ),
    Part(
        "vote.cast",
        votes.name,
        "id",
        (
            "id",
            "approval_id",
            "reviewer",
            "decision",
            "reason",
            "signature",
            "args_patch",
            "created_at",
        ),
        by="reviewer",
    ),
    Part(
        "grant.given",
        grants.name,
        "id",
        (
            "id",
            "kind",
            "session_id",
            "max_gpu_hours",
            "expires_at",
            "granted_by",
            "reason",
            "signature",
            "created_at",
        ),
        by="granted_by",
    ),
    Part(
        "halt.requested",
        halts.name,
        "id",
        ("id", "scope", "reason", "requested_by", "created_at"),
        by="requested_by",
    ),
    Part(
        "halt.resumed",
        halts.name,
        "id",
        ("id", "resumed_at", "resumed_by", "resume_signature"),
        by="resumed_by",
        present="resumed_at",
    ),
)
PART_BY_ACTION: dict[str, Part] = {part.action: part for part in PARTS}
REVIEW_TABLES = (reviewers, approvals, votes, grants, halts)


def row_digest(part: Part, row: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the columns `part` writes, as the row holds them."""
    values = {name: _plain(row.get(name)) for name in part.columns}
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: Any) -> Any:
    """One rendering per value whichever database returned it (ids as text, floats as repr)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # An int stored in a float column reads back as a float: one text for both.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def review_event(
    action: ReviewAction, row: Mapping[str, Any], session_id: str | None = None
) -> ReviewEvent:
    """The chained record of one write of `row`. `session_id`: the session it concerns, when
    the row does not say (a vote or an update names only its approval)."""
    part = PART_BY_ACTION[action]
    by = row.get(part.by) if part.by is not None else None
    return ReviewEvent(
        session_id=session_id or _session_of(part, row) or REVIEW_SESSION,
        action=action,
        ref=str(row[part.key]),
        by=None if by is None else str(by),
        row_digest=row_digest(part, row),
    )


def append_on(conn: Connection, events: Sequence[ReviewEvent]) -> None:
    """Chain `events` on inside the caller's write transaction, so the rows they describe and
    the records commit together or not at all. Rare writes: plain SQLAlchemy Core is enough."""
    if not events:
        return
    query = select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == _HEAD_ID)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    head = conn.execute(query).first()
    if head is None:
        raise StoreUnavailableError(
            f"the oversight store has no chain head row ({chain_head.name} is empty): "
            "it was tampered with or damaged"
        )
    rows = chained_rows(int(head[0]), str(head[1]), [record_columns(e) for e in events])
    conn.execute(insert(records), [dict(zip(RECORD_COLUMNS, row, strict=True)) for row in rows])
    last = rows[-1]
    conn.execute(
        update(chain_head).where(chain_head.c.id == _HEAD_ID).values(seq=last[0], hash=last[9])
    )


def table_rows(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every review table, as the database holds it now."""
    return {
        table.name: [dict(r._mapping) for r in conn.execute(select(table))]
        for table in REVIEW_TABLES
    }


def backfill_events(tables: Mapping[str, list[dict[str, Any]]]) -> list[ReviewEvent]:
    """Events for rows written before the review tables were chained (store v7): each row as it
    stands, so a store upgraded in place verifies and is protected from then on."""
    events: list[ReviewEvent] = []
    for part in PARTS:
        for row in tables.get(part.table, []):
            if part.present is None or row.get(part.present) is not None:
                events.append(review_event(part.action, row))
    return events


def _session_of(part: Part, row: Mapping[str, Any]) -> str | None:
    """The session a row names: a halt's scope (not "*"), an approval's or a grant's session."""
    if part.table == halts.name:
        scope = row.get("scope")
        return None if scope in (None, "*") else str(scope)
    if part.table in (approvals.name, grants.name):
        session = row.get("session_id")
        return None if session is None else str(session)
    return None


def review_problems(
    events: Iterable[tuple[int, ReviewEvent]], tables: Mapping[str, list[dict[str, Any]]]
) -> list[tuple[int, str]]:
    """(seq, problem) for each difference between the chained events and the tables.

    The latest event of each (action, row) is what the row must show now; every row, and every
    later update a row shows (a decision, a use, a resume), must have its event.
    """
    latest: dict[tuple[str, str], tuple[int, ReviewEvent]] = {}
    problems: list[tuple[int, str]] = []
    for seq, event in events:
        if event.action not in PART_BY_ACTION:
            continue  # an action that wrote no row (a sign-in): nothing to hold a table to
        written = (event.action, event.ref)
        if written in latest and PART_BY_ACTION[event.action].present is None:
            # A row is written once: a second one under the same key means the first was
            # deleted and its id given again (SQLite reuses the largest rowid).
            table = PART_BY_ACTION[event.action].table
            problems.append((seq, f"{table} row {event.ref} was written twice: its id reused"))
        latest[written] = (seq, event)
    for part in PARTS:
        by_key = {str(row[part.key]): row for row in tables.get(part.table, [])}
        for key, row in by_key.items():
            if part.present is not None and row.get(part.present) is None:
                if (part.action, key) in latest:
                    seq = latest[(part.action, key)][0]
                    problems.append((seq, f"{part.table} row {key}: its {part.action} was undone"))
                continue
            known = latest.get((part.action, key))
            if known is None:
                around = f"has no {part.action} record in the chain: written around oversight"
                problems.append((0, f"{part.table} row {key} {around}"))
            elif known[1].row_digest != row_digest(part, row):
                problems.append(
                    (known[0], f"{part.table} row {key} differs from its {part.action} record")
                )
        for (action, key), (seq, _event) in latest.items():
            if action == part.action and key not in by_key:
                problems.append(
                    (seq, f"{part.table} row {key} ({action}) is missing: deleted from the store")
                )
    problems.sort(key=lambda p: p[0])
    return problems
