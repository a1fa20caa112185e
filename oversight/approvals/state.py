"""Where an approval stands for the people looking at it, derived on read (lazy expiry).

A waiting monitor closes its approval when it ends (approved, denied, timed out, halted). An
approval whose agent crashed or was killed, or that was deferred (`wait=False`) and never
claimed, stays `pending` in the store; its state is derived here from its deadline and its
verified votes, so nothing has to run to expire it:

- undecided, deadline ahead: `pending` (open for votes);
- decided by verified votes cast in time but not claimed yet: `approved`, `denied` or
  `modified`, waiting for the agent to come back (votes stay open until the deadline: a
  reviewer can still deny before it runs);
- undecided at its deadline: `timed_out` (expired; it can never run, and votes are refused).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from oversight.approvals.broker import tally_votes
from oversight.approvals.deadlines import deadline_seconds
from oversight.approvals.registry import Reviewer


@dataclass(frozen=True)
class ApprovalState:
    status: str
    """pending, approved, denied, modified, timed_out, halted (or another closed status)."""
    open: bool
    """Whether a vote may still be cast."""
    note: str
    """One line for people: who decided, what happens next."""
    label: str = ""
    """A few words for a table column (the status when empty)."""


def deadline_passed(row: dict[str, Any], now: float | None = None) -> bool:
    """Whether the approval's deadline is behind us (an unreadable deadline has passed)."""
    try:
        deadline = deadline_seconds(str(row["deadline"]))
    except ValueError:
        return True
    return (time.time() if now is None else now) >= deadline


def approval_state(
    row: dict[str, Any],
    votes: list[dict[str, Any]],
    trusted: dict[str, Reviewer],
    *,
    now: float | None = None,
) -> ApprovalState:
    """The state of one approval row, from its stored status, deadline and verified votes."""
    stored = str(row["status"])
    if stored != "pending":
        return ApprovalState(stored, False, str(row.get("outcome") or stored))
    expired = deadline_passed(row, now)
    decided = tally_votes(row, votes, trusted)
    if decided.status == "approved":
        note = f"{decided.reason}; not claimed yet: it runs when the agent comes back for it"
        return ApprovalState("approved", not expired, note, "approved, not claimed yet")
    if decided.status in ("denied", "modified"):
        then = "is told" if decided.status == "denied" else "gets the edited call"
        note = f"{decided.reason}; not claimed yet: the agent {then} when it comes back"
        return ApprovalState(
            decided.status, not expired, note, f"{decided.status}, not claimed yet"
        )
    if expired:
        return ApprovalState(
            "timed_out",
            False,
            f"expired at {row['deadline']} with no decision ({decided.reason}); "
            "the step was not run",
            "expired, not run",
        )
    return ApprovalState("pending", True, f"{decided.reason} so far")


def closed_message(approval_id: str, row: dict[str, Any], state: ApprovalState) -> str:
    """Why a vote on this approval is refused, for the person casting it."""
    if state.status == "timed_out" and str(row["status"]) == "pending":
        return f"approval {approval_id} expired at {row['deadline']}; the step was not run"
    if state.status == "timed_out":
        return f"approval {approval_id} timed out at {row['deadline']}; the step was not run"
    return (
        f"approval {approval_id} is already {state.status} ({state.note}); "
        "votes are no longer accepted"
    )
