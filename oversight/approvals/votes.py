"""Casting a vote: sign (approval id, call digest, decision, reviewer, reason[, edit]) and store it.

Used by `oversight approve/deny/modify`, the terminal prompt, integrations and the demo's
reviewers alike, so every vote a monitor checks was made the same way. A vote on an approval
that is closed or past its deadline is refused here with the reason; a monitor would not count
it anyway (votes cast after the deadline never count), and a reviewer must not be told
"recorded" for something that can no longer run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import sign, vote_payload
from oversight.approvals.state import approval_state, closed_message
from oversight.errors import ConfigError, OversightError
from oversight.store.base import ReviewState

DECISIONS = ("approve", "deny", "modify")


class ApprovalClosed(OversightError):
    """The approval no longer takes votes: it expired, or was decided and closed."""


def patch_text(patch: Mapping[str, Any]) -> str:
    """The canonical text of an edit: what is signed, stored and applied."""
    if not isinstance(patch, Mapping) or not patch:
        raise ConfigError("a modification must change at least one argument")
    return json.dumps(dict(patch), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cast_vote(
    store: ReviewState,
    approval: dict[str, Any],
    reviewer: str,
    key: Ed25519PrivateKey,
    decision: str,
    reason: str = "",
    *,
    args_patch: Mapping[str, Any] | None = None,
    root_key: str | None = None,
) -> None:
    """Sign and store a vote; raises `ApprovalClosed` when the approval no longer takes votes
    (`root_key`: the pinned root, so the refusal names the reviewers a monitor trusts)."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if (decision == "modify") != (args_patch is not None):
        raise ConfigError("a 'modify' vote needs the edited arguments, and only it carries them")
    approval_id = str(approval["id"])
    ensure_open(store, approval_id, root_key=root_key)
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


def ensure_open(store: ReviewState, approval_id: str, *, root_key: str | None = None) -> None:
    """Raise `ApprovalClosed` (or `ConfigError` for an unknown id) unless the approval, as
    stored now, still takes votes."""
    row = store.approval(approval_id)
    if row is None:
        raise ConfigError(f"no approval {approval_id!r}; `oversight approvals` lists them")
    trusted, _ = trusted_reviewers(store.reviewers(), root_key=root_key)
    state = approval_state(row, store.votes(approval_id), trusted)
    if not state.open:
        raise ApprovalClosed(closed_message(approval_id, row, state))
