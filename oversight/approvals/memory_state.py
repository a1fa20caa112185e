"""A review state held in memory: the approval desk without a database.

`InMemoryReviewState` implements `ReviewState` with the semantics of `SQLStore`'s review tables:
rows come back as fresh dicts with the same columns (ids, `created_at`, `status`, ...), pending
approvals past their deadline are left out of `approvals(status="pending")`, a used approval
names the step that used it first, closing an approval overwrites its status, and a vote wakes
whoever waits in `vote_signal` at once (as PostgreSQL's NOTIFY does; SQLite only sleeps).
Rows take their columns, required ones and float columns from the SQL schema (`schema.py`), so
both hand out the same shape and refuse the same incomplete rows.

What it does not do: it keeps no hash chain of review events. `SQLStore` appends a
`ReviewEvent` to the log with every review write, so `verify` catches a deleted vote or a
re-opened approval; here nothing is durable and nothing is chained. It is for unit tests and
for embedding the desk in a process that keeps no durable review record; another process
cannot vote into it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Float, Table
from sqlalchemy.types import TypeEngine

from oversight.approvals.deadlines import deadline_text
from oversight.errors import StoreUnavailableError
from oversight.store.columns import ts_text
from oversight.store.schema import approvals, grants, halts, new_halt_id, reviewers, votes


class InMemoryReviewState:
    """The review tables as lists of rows under one lock; thread-safe, not durable.

    `wall_clock` is the Unix time used for `created_at` stamps and for which pending approvals
    are past their deadline (the desk writes deadlines from `time.time()`).
    """

    def __init__(self, *, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall_clock = wall_clock
        self._changed = threading.Condition(threading.RLock())
        self._halts: list[dict[str, Any]] = []
        self._reviewers: list[dict[str, Any]] = []
        self._approvals: dict[str, dict[str, Any]] = {}
        self._votes: list[dict[str, Any]] = []
        self._grants: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        return "InMemoryReviewState()"

    # -- the halt switch ----------------------------------------------------------------------

    def halt(self, scope: str, reason: str, requested_by: str) -> None:
        row = {
            "id": new_halt_id(),
            "scope": scope,
            "reason": reason,
            "requested_by": requested_by,
            "created_at": self._now_text(),
        }
        with self._changed:
            self._halts.append(_full_row(halts, row, "halt a session in"))

    def halts(self) -> list[dict[str, Any]]:
        with self._changed:
            return _copies(sorted(self._halts, key=lambda r: (r["created_at"], r["id"])))

    def resume(self, halt_id: int, resumed_by: str, signature: str) -> None:
        with self._changed:
            for row in self._halts:
                if row["id"] == halt_id and row["resumed_at"] is None:
                    row["resumed_at"] = self._now_text()
                    row["resumed_by"] = resumed_by
                    row["resume_signature"] = signature

    # -- reviewers, approvals, votes, grants --------------------------------------------------

    def add_reviewer(self, row: dict[str, str]) -> None:
        full = _full_row(
            reviewers, {**row, "created_at": self._now_text()}, "register a reviewer in"
        )
        with self._changed:
            if any(r["name"] == full["name"] for r in self._reviewers):
                raise _failure("register a reviewer in", f"reviewer {full['name']!r} exists")
            self._reviewers.append(full)

    def reviewers(self) -> list[dict[str, Any]]:
        with self._changed:
            return _copies(_oldest_first(self._reviewers))

    def create_approval(self, row: dict[str, Any]) -> None:
        full = _full_row(
            approvals,
            {**row, "status": "pending", "created_at": self._now_text()},
            "create an approval in",
        )
        with self._changed:
            if full["id"] in self._approvals:
                raise _failure("create an approval in", f"approval {full['id']!r} exists")
            self._approvals[full["id"]] = full

    def approvals(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """As `SQLStore.approvals`: `status="pending"` leaves out rows past their deadline."""
        now = deadline_text(self._wall_clock())
        with self._changed:
            rows = [
                r
                for r in self._approvals.values()
                if (status is None or r["status"] == status)
                and (status != "pending" or str(r["deadline"]) > now)
            ]
            return _copies(_oldest_first(rows))

    def approval(self, approval_id: str) -> dict[str, Any] | None:
        with self._changed:
            row = self._approvals.get(approval_id)
            return None if row is None else dict(row)

    def add_vote(self, row: dict[str, str | None]) -> None:
        """Store the vote (ids count up from 1, never reused) and wake every waiter."""
        with self._changed:
            full = _full_row(
                votes,
                {**row, "id": len(self._votes) + 1, "created_at": self._now_text()},
                "record a vote in",
            )
            self._votes.append(full)
            self._changed.notify_all()

    def votes(self, approval_id: str) -> list[dict[str, Any]]:
        with self._changed:
            return _copies(v for v in self._votes if v["approval_id"] == approval_id)

    @contextlib.contextmanager
    def vote_signal(self) -> Iterator[Callable[[float], None]]:
        """A `wait(seconds)` that returns as soon as a vote arrives after the previous wait
        (or after entering), so a vote cast between a poll and the next wait is not slept on."""
        with self._changed:
            seen = len(self._votes)

        def wait(seconds: float) -> None:
            nonlocal seen
            with self._changed:
                self._changed.wait_for(lambda: len(self._votes) != seen, timeout=seconds)
                seen = len(self._votes)

        yield wait

    def close_approval(self, approval_id: str, status: str, outcome: str) -> None:
        """As `SQLStore.close_approval`: the latest close wins; an unknown id changes nothing."""
        with self._changed:
            row = self._approvals.get(approval_id)
            if row is not None:
                row.update(status=status, outcome=outcome, decided_at=self._now_text())

    def consume_approval(self, approval_id: str, step_id: str) -> str | None:
        with self._changed:
            row = self._approvals.get(approval_id)
            if row is None:
                return "(unknown approval)"
            if row["consumed_by"] is not None:
                return str(row["consumed_by"])
            row.update(consumed_by=step_id, consumed_at=self._now_text())
            return None

    def add_grant(self, row: dict[str, Any]) -> None:
        full = _full_row(grants, {**row, "created_at": self._now_text()}, "record a grant in")
        with self._changed:
            if any(g["id"] == full["id"] for g in self._grants):
                raise _failure("record a grant in", f"grant {full['id']!r} exists")
            self._grants.append(full)

    def grants(self) -> list[dict[str, Any]]:
        with self._changed:
            return _copies(_oldest_first(self._grants))

    def _now_text(self) -> str:
        """The `created_at` text SQLStore writes (microseconds, UTC, ...Z)."""
        return ts_text(dt.datetime.fromtimestamp(self._wall_clock(), dt.UTC))


def _full_row(table: Table, row: dict[str, Any], action: str) -> dict[str, Any]:
    """`row` with every column of `table` (None where not given), refused as the database
    refuses it: an unknown column, or a required one missing."""
    columns = [c.name for c in table.columns]
    unknown = sorted(set(row) - set(columns))
    if unknown:
        raise _failure(action, f"{table.name} has no column {', '.join(unknown)}")
    full = {name: _as_stored(table.c[name].type, row.get(name)) for name in columns}
    missing = [c.name for c in table.columns if not c.nullable and full[c.name] is None]
    if missing:
        raise _failure(action, f"{table.name} needs {', '.join(missing)}")
    return full


def _as_stored(kind: TypeEngine[Any], value: Any) -> Any:
    """A number in a Float column comes back a float, as from the database: a grant signed
    over `max_gpu_hours: 8` does not verify when read back as 8.0, here as there."""
    if isinstance(kind, Float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _failure(action: str, why: str) -> StoreUnavailableError:
    return StoreUnavailableError(f"cannot {action} the in-memory review state: {why}")


def _oldest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Stable: rows stamped in the same microsecond stay in the order they were written.
    return sorted(rows, key=lambda r: str(r["created_at"]))


def _copies(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fresh dicts, as a database read returns: a caller editing one changes nothing here."""
    return [dict(r) for r in rows]
