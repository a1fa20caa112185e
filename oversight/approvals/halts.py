"""Which halts are in force: any halt stays in force until an admin's signed resume lifts it.

Anyone may halt (stopping is always safe); only a trusted admin may resume. A resume written
straight into the database without a valid signature lifts nothing. A resume is signed over the
halt's id and scope; halt ids are random and never reused (schema v6), so a resume saved from an
old halt fits no later one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oversight.approvals.registry import Reviewer
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
