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


def halts_in_force(rows: Iterable[dict[str, Any]], trusted: dict[str, Reviewer]) -> dict[str, str]:
    """Scope → reason (the earliest) of every halt not lifted by a valid admin resume."""
    out: dict[str, str] = {}
    for row in rows:
        if not lifted(row, trusted):
            out.setdefault(str(row["scope"]), str(row["reason"]))
    return out
