"""Scoped grants: a reviewer approves a class of steps for a while, instead of each one.

"Training launches under 8 GPU-hours in session S for 2 hours." A grant is signed by a trusted
reviewer like a vote, recorded, visible (`oversight grants`) and expires. Steps it covers run
without waiting, and count as automatic, not as a person's review.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from oversight.approvals.registry import Reviewer
from oversight.approvals.signing import verify
from oversight.decide import Proposal
from oversight.policy.compute import derive


def grant_payload(row: dict[str, Any]) -> dict[str, Any]:
    """What the granting reviewer signs."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "session_id": row["session_id"],
        "max_gpu_hours": row["max_gpu_hours"],
        "expires_at": row["expires_at"],
        "granted_by": row["granted_by"],
        "reason": row["reason"],
    }


@dataclass(frozen=True)
class Grant:
    id: str
    granted_by: str
    reason: str


def covering_grant(
    rows: Iterable[dict[str, Any]],
    proposal: Proposal,
    role: str,
    trusted: dict[str, Reviewer],
    *,
    now: float | None = None,
) -> Grant | None:
    """The first valid, unexpired grant that covers this exact step, if any."""
    now = time.time() if now is None else now
    compute = None
    for row in rows:
        if row["kind"] != proposal.kind.value or float(row["expires_at"]) <= now:
            continue
        if row["session_id"] is not None and row["session_id"] != proposal.session_id:
            continue
        limit = row["max_gpu_hours"]
        if limit is not None:
            compute = compute or derive(proposal.args)
            if compute.gpu_hours is None or compute.gpu_hours > float(limit):
                continue  # unknown or too large: a person decides
        reviewer = trusted.get(str(row["granted_by"]))
        if reviewer is None or not reviewer.may_act_as(role):
            continue
        if not verify(reviewer.public_key, grant_payload(row), str(row["signature"])):
            continue
        return Grant(str(row["id"]), reviewer.name, str(row["reason"]))
    return None
