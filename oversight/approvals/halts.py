"""Which halts are in force: any halt stays in force until an admin's signed resume lifts it.

Anyone may halt (stopping is always safe); only a trusted admin may resume. A resume written
straight into the database without a valid signature lifts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oversight.approvals.registry import Reviewer
from oversight.approvals.signing import verify


def resume_payload(halt_id: int, scope: str) -> dict[str, Any]:
    return {"action": "resume", "halt_id": halt_id, "scope": scope}


def lifted(row: dict[str, Any], trusted: dict[str, Reviewer]) -> bool:
    if row.get("resumed_at") is None or not row.get("resume_signature"):
        return False
    admin = trusted.get(str(row.get("resumed_by")))
    if admin is None or admin.role != "admin":
        return False
    payload = resume_payload(int(row["id"]), str(row["scope"]))
    return verify(admin.public_key, payload, str(row["resume_signature"]))


def resume_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a verified resume is remembered by: the same row, resumer and signature verify the
    same way every time, so each is checked once."""
    return (row["id"], row.get("resumed_by"), row.get("resume_signature"))


def halts_in_force(
    rows: Iterable[dict[str, Any]], verified_resumes: set[tuple[Any, ...]]
) -> dict[str, str]:
    """Scope → reason (the earliest) of every halt without a verified admin resume."""
    out: dict[str, str] = {}
    for row in rows:
        if resume_key(row) not in verified_resumes:
            out.setdefault(str(row["scope"]), str(row["reason"]))
    return out
