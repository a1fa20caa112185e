"""What an audit store promises, independent of the database behind it."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Collection, Iterator, Sequence
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
class AuditStore(Protocol):
    """An append-only, hash-chained store of records; `SQLStore` is the default."""

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

    def halt(self, scope: str, reason: str, requested_by: str) -> None:
        """Halt a session (`scope` = its id) or every session (`"*"`) until resumed."""
        ...

    def halts(self) -> list[dict[str, Any]]: ...

    def reviewers(self) -> list[dict[str, Any]]: ...

    def add_reviewer(self, row: dict[str, str]) -> None: ...

    def create_approval(self, row: dict[str, Any]) -> None: ...

    def approvals(self, *, status: str | None = None) -> list[dict[str, Any]]: ...

    def approval(self, approval_id: str) -> dict[str, Any] | None: ...

    def add_vote(self, row: dict[str, str | None]) -> None: ...

    def votes(self, approval_id: str) -> list[dict[str, Any]]: ...

    def close_approval(self, approval_id: str, status: str, outcome: str) -> None: ...

    def consume_approval(self, approval_id: str, step_id: str) -> str | None:
        """Mark the approval used by `step_id` unless already used; returns the first user."""
        ...

    def add_grant(self, row: dict[str, Any]) -> None: ...

    def grants(self) -> list[dict[str, Any]]: ...

    def resume(self, halt_id: int, resumed_by: str, signature: str) -> None: ...

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport: ...

    def close(self) -> None: ...
