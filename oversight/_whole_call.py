"""A call is judged whole or not at all.

Classification reads every character of a call up to a hard limit (`max_classified_chars`).
Past it, nothing is read: the step is marked `oversized` and needs a person's approval whatever
the policy would have said, since a prefix is judged on what it shows and runs with what it
hides (a long here-doc, then `git push`).
"""

from __future__ import annotations

import dataclasses

from oversight.classify import Classification
from oversight.decide import ApprovalSpec, Verdict
from oversight.kinds import Kind

SIZE_RULE = "(size limit)"
MAX_CLASSIFIED_CHARS = 1_048_576
"""The default limit (`max_classified_chars` in the settings); replay and import use it."""


def oversized(size: int, limit: int, declared: Kind | None) -> Classification:
    """What is known of a call too large to read: its size, and the kind it declared."""
    return Classification(
        declared or Kind.SHELL_EXEC,
        f"the call is {size:,} characters, more than the {limit:,} classified whole; "
        "nothing of it was read",
        frozenset({"oversized", "unresolved"}),
    )


def gate_oversized(verdict: Verdict, classification: Classification) -> Verdict:
    """An oversized step waits for a person (not a grant) unless the policy is stricter."""
    if "oversized" not in classification.flags:
        return verdict
    if verdict.decision in ("deny", "halt"):
        return verdict
    spec = dataclasses.replace(verdict.approval or ApprovalSpec(), grants=False)
    if verdict.decision == "require_approval":
        return dataclasses.replace(verdict, approval=spec)
    return Verdict(
        "require_approval",
        f"{classification.reason}: a person must read it before it runs",
        SIZE_RULE,
        verdict.policy_hash,
        spec,
    )
