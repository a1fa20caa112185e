"""Which halts are in force: any halt stays in force until an admin's signed resume lifts it.

Anyone may halt (stopping is always safe); only a trusted admin may resume. A resume written
straight into the database without a valid signature lifts nothing. A resume is signed over the
halt's id and scope; halt ids are random and never reused (schema v6), so a resume saved from an
old halt fits no later one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oversight.approvals.registry import Reviewer, trusted_reviewers
from oversight.approvals.signing import verify


def resume_payload(halt_id: int, scope: str) -> dict[str, Any]:
    return {"action": "resume", "halt_id": halt_id, "scope": scope}


def lifted(row: dict[str, Any], trusted: dict[str, Reviewer]) -> bool:
    """Whether a trusted admin's resume, signed over exactly this halt, is on the row (a row
    that cannot be read lifts nothing)."""
    halt_id, scope, signature = row.get("id"), row.get("scope"), row.get("resume_signature")
    if row.get("resumed_at") is None or not isinstance(signature, str) or not signature:
        return False
    if not isinstance(halt_id, int) or isinstance(halt_id, bool) or not isinstance(scope, str):
        return False
    admin = trusted.get(str(row.get("resumed_by")))
    if admin is None or admin.role != "admin":
        return False
    return verify(admin.public_key, resume_payload(halt_id, scope), signature)


def resume_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a verified resume is remembered by: the same halt, scope, resumer and signature
    verify the same way every time, so each is checked once."""
    return (row["id"], row.get("scope"), row.get("resumed_by"), row.get("resume_signature"))


def halts_in_force(
    rows: Iterable[dict[str, Any]], verified_resumes: set[tuple[Any, ...]]
) -> dict[str, str]:
    """Scope → reason (the earliest) of every halt without a verified admin resume."""
    out: dict[str, str] = {}
    for row in rows:
        if resume_key(row) not in verified_resumes:
            out.setdefault(str(row["scope"]), str(row["reason"]))
    return out


def halts_stopping(
    halts: Iterable[dict[str, Any]],
    reviewers: Callable[[], Iterable[dict[str, Any]]],
    session_id: str,
    *,
    root_key: str | None,
) -> list[dict[str, Any]]:
    """The halt rows stopping one session (its own or every session's) that no trusted admin's
    signed resume lifted: the check a monitor makes before each step, for a reader that asks
    once (`oversight show`, the review app). `reviewers` is read only when a resume must be
    checked."""
    rows = [row for row in halts if row["scope"] in (session_id, "*")]
    if any(row.get("resumed_at") is not None for row in rows):
        trusted, _ = trusted_reviewers(reviewers(), root_key=root_key)
        rows = [row for row in rows if not lifted(row, trusted)]
    return rows
