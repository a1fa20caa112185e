"""Casting a vote: sign (approval id, call digest, decision, reviewer, reason[, edit]) and store it.

Used by `oversight approve/deny/modify`, the terminal prompt, integrations and the demo's
reviewers alike, so every vote a monitor checks was made the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.signing import sign, vote_payload
from oversight.errors import ConfigError
from oversight.store import SQLStore

DECISIONS = ("approve", "deny", "modify")


def patch_text(patch: Mapping[str, Any]) -> str:
    """The canonical text of an edit: what is signed, stored and applied."""
    if not isinstance(patch, Mapping) or not patch:
        raise ConfigError("a modification must change at least one argument")
    return json.dumps(dict(patch), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cast_vote(
    store: SQLStore,
    approval: dict[str, Any],
    reviewer: str,
    key: Ed25519PrivateKey,
    decision: str,
    reason: str = "",
    *,
    args_patch: Mapping[str, Any] | None = None,
) -> None:
    if decision not in DECISIONS:
        raise ConfigError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if (decision == "modify") != (args_patch is not None):
        raise ConfigError("a 'modify' vote needs the edited arguments, and only it carries them")
    approval_id = str(approval["id"])
    patch = patch_text(args_patch) if args_patch is not None else None
    payload = vote_payload(
        approval_id, str(approval["args_digest"]), decision, reviewer, reason, patch
    )
    store.add_vote(
        {
            "approval_id": approval_id,
            "reviewer": reviewer,
            "decision": decision,
            "reason": reason,
            "signature": sign(key, payload),
            "args_patch": patch,
        }
    )
