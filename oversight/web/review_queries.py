"""Read-only queries on the review tables: pending approvals, their votes, halts in force.

Pending approvals are read a page at a time through the (status, created_at) index, and votes
through (approval_id, id). Rows are shown as stored; what counts (a vote's signature, a resume's)
is decided by the monitor that reads them, so a vote shows here as "recorded", never as
"accepted", and a halt counts as lifted only with a trusted admin's valid resume signature.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, tuple_

from oversight.approvals.deadlines import deadline_text
from oversight.store.schema import approvals, votes
from oversight.web.queries import StoreReader


@dataclass(frozen=True, slots=True)
class VoteRow:
    reviewer: str
    decision: str
    reason: str
    created_at: _dt.datetime | None


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    id: str
    session_id: str
    step_id: str
    kind: str
    name: str
    args: Any
    """The call's arguments as stored (redacted): parsed JSON, or the text if it is not JSON."""
    reason: str
    rule: str | None
    role: str
    quorum: int
    status: str
    outcome: str | None
    created_at: _dt.datetime | None
    deadline: _dt.datetime | None
    decided_at: _dt.datetime | None
    votes: tuple[VoteRow, ...] = ()

    @property
    def approvals_recorded(self) -> int:
        return sum(1 for v in self.votes if v.decision == "approve")


@dataclass(frozen=True, slots=True)
class ApprovalCursor:
    """A place in the pending list: (created_at, id) of the last approval shown."""

    created_at: str
    id: str

    def text(self) -> str:
        return f"{self.created_at}|{self.id}"

    @classmethod
    def parse(cls, text: str) -> ApprovalCursor:
        created, sep, approval_id = text.partition("|")
        if not sep or not approval_id or len(created) > 40:
            raise ValueError(f"{text!r} is not an approvals-list position (CREATED|ID)")
        return cls(created, approval_id)


def pending_approvals(
    reader: StoreReader, *, after: ApprovalCursor | None = None, limit: int = 50
) -> tuple[list[ApprovalRow], ApprovalCursor | None]:
    """Approvals waiting for people, oldest first (the one waiting longest leads), with the
    position of the next page or None. Past-deadline rows are left out: nothing can run on
    them any more."""
    a = approvals.c
    query = select(approvals).where(a.status == "pending", a.deadline > deadline_text(time.time()))
    if after is not None:
        query = query.where(tuple_(a.created_at, a.id) > tuple_(after.created_at, after.id))
    query = query.order_by(a.created_at, a.id).limit(limit + 1)
    with reader.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        found = _with_votes(conn, rows[:limit])
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return found, (ApprovalCursor(str(last["created_at"]), str(last["id"])) if last else None)


def approvals_by_id(reader: StoreReader, ids: Sequence[str]) -> dict[str, ApprovalRow]:
    """The approval rows (with votes) of these ids, for a page of steps."""
    wanted = sorted({i for i in ids if i and not i.startswith("grant:")})
    if not wanted:
        return {}
    with reader.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(approvals).where(approvals.c.id.in_(wanted)))
        ]
        return {row.id: row for row in _with_votes(conn, rows)}


def _with_votes(conn: Connection, rows: list[dict[str, Any]]) -> list[ApprovalRow]:
    ids = [str(row["id"]) for row in rows]
    by_approval: dict[str, list[VoteRow]] = {i: [] for i in ids}
    if ids:
        query = (
            select(votes.c.approval_id, votes.c.reviewer, votes.c.decision, votes.c.reason,
                   votes.c.created_at)
            .where(votes.c.approval_id.in_(ids))
            .order_by(votes.c.approval_id, votes.c.id)
        )  # fmt: skip
        for approval_id, reviewer, decision, reason, created in conn.execute(query):
            by_approval[str(approval_id)].append(
                VoteRow(str(reviewer), str(decision), str(reason or ""), _when(created))
            )
    return [_approval(row, by_approval.get(str(row["id"]), [])) for row in rows]


def _approval(row: dict[str, Any], found: list[VoteRow]) -> ApprovalRow:
    try:
        args: Any = json.loads(str(row["args"]))
    except ValueError:
        args = str(row["args"])
    return ApprovalRow(
        id=str(row["id"]),
        session_id=str(row["session_id"]),
        step_id=str(row["step_id"]),
        kind=str(row["kind"]),
        name=str(row["name"]),
        args=args,
        reason=str(row["reason"]),
        rule=row.get("rule"),
        role=str(row["role"]),
        quorum=int(row["quorum"]),
        status=str(row["status"]),
        outcome=row.get("outcome"),
        created_at=_when(row.get("created_at")),
        deadline=_when(row.get("deadline")),
        decided_at=_when(row.get("decided_at")),
        votes=tuple(found),
    )


def _when(value: object) -> _dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_dt.UTC)
