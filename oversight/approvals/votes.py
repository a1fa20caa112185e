"""Casting a vote: sign (approval id, call digest, decision, reviewer, reason[, edit]) and store it.

`cast_vote` signs with a reviewer's key and is used by `oversight approve/deny/modify`, the
terminal prompt, integrations and the demo's reviewers alike; `store_signed_vote` stores a vote
signed elsewhere (a passkey, in the browser) once it verifies as a monitor will check it. Both
build the payload with `vote_to_sign`, so every vote a monitor checks was made the same way. A
vote on an approval that is closed or past its deadline is refused here with the reason; a
monitor would not count it anyway (votes cast after the deadline never count), and a reviewer
must not be told "recorded" for something that can no longer run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.registry import Reviewer, trusted_reviewers
from oversight.approvals.signing import sign, verify, vote_payload
from oversight.approvals.state import approval_state, closed_message
from oversight.errors import ConfigError, OversightError
from oversight.store.base import ReviewState

DECISIONS = ("approve", "deny", "modify")


class ApprovalClosed(OversightError):
    """The approval no longer takes votes: it expired, or was decided and closed."""


class VoteNotVerified(OversightError):
    """A vote signed elsewhere whose signature is not its reviewer's over exactly that vote."""


def patch_text(patch: Mapping[str, Any]) -> str:
    """The canonical text of an edit: what is signed, stored and applied."""
    if not isinstance(patch, Mapping) or not patch:
        raise ConfigError("a modification must change at least one argument")
    return json.dumps(dict(patch), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def vote_to_sign(
    approval: dict[str, Any],
    reviewer: str,
    decision: str,
    reason: str = "",
    *,
    args_patch: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload `reviewer` signs to cast this vote on `approval` (with a passkey, the
    assertion is made over `passkeys.challenge_for` of it); refuses an unknown decision, and an
    edit on anything but a 'modify' vote."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if (decision == "modify") != (args_patch is not None):
        raise ConfigError("a 'modify' vote needs the edited arguments, and only it carries them")
    patch = patch_text(args_patch) if args_patch is not None else None
    return vote_payload(
        str(approval["id"]), str(approval["args_digest"]), decision, reviewer, reason, patch
    )


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
    payload = vote_to_sign(approval, reviewer, decision, reason, args_patch=args_patch)
    ensure_open(store, payload["approval_id"], root_key=root_key)
    _store_vote(store, payload, sign(key, payload))


def store_signed_vote(
    store: ReviewState,
    approval: dict[str, Any],
    reviewer: str,
    decision: str,
    reason: str,
    signature: str,
    *,
    args_patch: Mapping[str, Any] | None = None,
    root_key: str | None = None,
) -> None:
    """Store a vote signed elsewhere (a passkey's assertion, relayed by the web server), only
    if it is one a monitor would count: the approval takes votes, `reviewer` is trusted with its
    role, and `signature` verifies for exactly this vote on the approval as stored now. Raises
    `ApprovalClosed`, `ConfigError` (not a reviewer for it) or `VoteNotVerified`."""
    row, trusted = _open_approval(store, str(approval["id"]), root_key=root_key)
    payload = vote_to_sign(row, reviewer, decision, reason, args_patch=args_patch)
    who = trusted.get(reviewer)
    if who is None:
        raise ConfigError(f"{reviewer!r} is not a registered reviewer")
    if not who.may_act_as(str(row["role"])):
        raise ConfigError(f"{reviewer!r} is not an {row['role']}; only they can vote on this")
    if not verify(who.public_key, payload, signature):
        raise VoteNotVerified(
            f"the signature is not {reviewer!r}'s over {decision!r} on approval {row['id']} "
            f"(call digest {row['args_digest']}); the vote was not stored"
        )
    _store_vote(store, payload, signature)


def _store_vote(store: ReviewState, payload: dict[str, Any], signature: str) -> None:
    store.add_vote(
        {
            "approval_id": payload["approval_id"],
            "reviewer": payload["reviewer"],
            "decision": payload["decision"],
            "reason": payload["reason"],
            "signature": signature,
            "args_patch": payload.get("args_patch"),
        }
    )


def ensure_open(store: ReviewState, approval_id: str, *, root_key: str | None = None) -> None:
    """Raise `ApprovalClosed` (or `ConfigError` for an unknown id) unless the approval, as
    stored now, still takes votes."""
    _open_approval(store, approval_id, root_key=root_key)


def _open_approval(
    store: ReviewState, approval_id: str, *, root_key: str | None
) -> tuple[dict[str, Any], dict[str, Reviewer]]:
    """The approval as stored now, if it still takes votes, and the reviewers trusted now."""
    row = store.approval(approval_id)
    if row is None:
        raise ConfigError(f"no approval {approval_id!r}; `oversight approvals` lists them")
    trusted, _ = trusted_reviewers(store.reviewers(), root_key=root_key)
    state = approval_state(row, store.votes(approval_id), trusted)
    if not state.open:
        raise ApprovalClosed(closed_message(approval_id, row, state))
    return row, trusted
