"""Casting a vote: sign (approval id, call digest, decision, reviewer, reason) and store it.

Used by `oversight approve/deny`, integrations and the demo's reviewers alike, so every vote a
monitor checks was made the same way.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.signing import sign, vote_payload
from oversight.store import SQLStore


def cast_vote(
    store: SQLStore,
    approval: dict[str, Any],
    reviewer: str,
    key: Ed25519PrivateKey,
    decision: str,
    reason: str = "",
) -> None:
    approval_id = str(approval["id"])
    payload = vote_payload(approval_id, str(approval["args_digest"]), decision, reviewer, reason)
    store.add_vote(
        {
            "approval_id": approval_id,
            "reviewer": reviewer,
            "decision": decision,
            "reason": reason,
            "signature": sign(key, payload),
        }
    )
