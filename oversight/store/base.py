"""What an audit store promises, independent of the database behind it.

Two promises with different lifetimes: `RecordLog`, the append-only, hash-chained log that is
the evidence, and `ReviewState`, the mutable tables (halts, reviewers, approvals, votes, grants)
that agents and reviewers in other processes read and update. Code that needs one asks for that
one, so the approval desk runs on any review state and a log needs no review tables;
`AuditStore` is both, what a monitor opens.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from oversight.records import Record


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as the store holds it: its place in the chain and the parsed typed record."""

    seq: int
    hash: str
    prev_hash: str
    record: Record


@dataclass(frozen=True, slots=True)
class SessionSummary:
    session_id: str
    agent: str | None
    started_at: _dt.datetime | None
    ended_at: _dt.datetime | None
    status: str | None
    """From the session.ended record; None while the session is running or was interrupted."""
    steps: int
    """How many steps were proposed (step.proposed records)."""
    last_ts: _dt.datetime


@dataclass(frozen=True, slots=True)
class VerifyProblem:
    """The first place where the chain does not hold.

    `record_id` is None when the problem is an absence (a deleted record, a truncated tail, a
    missing chain head) rather than a row.
    """

    seq: int
    record_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    """Rows whose hash was recomputed before verification stopped."""
    head_seq: int
    head_hash: str
    first_problem: VerifyProblem | None = None


@runtime_checkable
class RecordLog(Protocol):
    """The append-only, hash-chained log of records: written once, read, verified."""

    @property
    def url_for_display(self) -> str: ...

    def append(
        self, records: Sequence[Record], *, durable: bool = True, new_session: str | None = None
    ) -> list[StoredRecord]:
        """Store records atomically, in order, after everything already stored.

        `durable=False` marks a batch of records nobody waits on: a store may trade
        power-loss durability for speed there, never crash safety. With `new_session`, store
        nothing (and return []) if that session already has records.
        """
        ...

    def iter_records(
        self,
        session_id: str | None = None,
        *,
        types: Collection[str] | None = None,
        after_seq: int = 0,
        batch: int = 1000,
    ) -> Iterator[StoredRecord]: ...

    def records_for_session(self, session_id: str) -> list[StoredRecord]: ...

    def next_step_seq(self, session_id: str) -> int:
        """One past the highest step seq recorded for the session; 1 for a new session."""
        ...

    def sessions(self, limit: int | None = None) -> list[SessionSummary]: ...

    def count(self) -> int: ...

    def head(self) -> tuple[int, str]: ...

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport: ...

    def close(self) -> None: ...


@runtime_checkable
class ReviewState(Protocol):
    """The mutable review tables: the mailbox between waiting agents and their reviewers.

    Rows are plain dicts, as stored; nothing in them is trusted as written (signatures on
    reviewers, votes, grants and resumes are checked by whoever reads them). Every write is
    atomic, and `consume_approval` is the one compare-and-set: an approval runs one step.
    """

    def halt(self, scope: str, reason: str, requested_by: str) -> None:
        """Halt a session (`scope` = its id) or every session (`"*"`) until resumed."""
        ...

    def halts(self) -> list[dict[str, Any]]:
        """Every halt row, resumed or not, oldest first."""
        ...

    def resume(self, halt_id: int, resumed_by: str, signature: str) -> None:
        """Record a signed resume of one halt; a halt already resumed stays as it was."""
        ...

    def reviewers(self) -> list[dict[str, Any]]: ...

    def add_reviewer(self, row: dict[str, str]) -> None: ...

    def create_approval(self, row: dict[str, Any]) -> None:
        """Store a new approval row as `pending`."""
        ...

    def approvals(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """Approval rows, oldest first; `status="pending"` leaves out those past deadline."""
        ...

    def approval(self, approval_id: str) -> dict[str, Any] | None: ...

    def add_vote(self, row: dict[str, str | None]) -> None:
        """Store a vote and wake anyone waiting in `vote_signal`."""
        ...

    def votes(self, approval_id: str) -> list[dict[str, Any]]:
        """The votes on one approval, in the order they were stored (by row id)."""
        ...

    def vote_signal(self) -> AbstractContextManager[Callable[[float], None]]:
        """A `wait(seconds)` that may return early when a vote arrives (else it just waits)."""
        ...

    def close_approval(self, approval_id: str, status: str, outcome: str) -> None:
        """Set the approval's final status and outcome (whatever it was before)."""
        ...

    def consume_approval(self, approval_id: str, step_id: str) -> str | None:
        """Mark the approval used by `step_id`, atomically: None when this call did, else the
        step that used it first (an approval runs at most one step)."""
        ...

    def add_grant(self, row: dict[str, Any]) -> None: ...

    def grants(self) -> list[dict[str, Any]]: ...


@runtime_checkable
class AuditStore(RecordLog, ReviewState, Protocol):
    """The log and the review state in one store, as a monitor opens it; `SQLStore` is the
    default (it also chains every review write into the log, so `verify` covers both)."""
