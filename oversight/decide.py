"""The decision stage's interface: what a policy sees of a step, and what it answers.

The policy engine plugs in here; until a pack is loaded the default decider allows every step
and says so in each record, so a trace never suggests a gate that was not there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from oversight.kinds import Kind
from oversight.records import Actor, Decision


@dataclass(frozen=True, slots=True)
class Proposal:
    """A classified, normalised call awaiting a decision."""

    session_id: str
    step_id: str
    seq: int
    name: str
    kind: Kind
    actor: Actor
    args: dict[str, Any]
    """What runs: decided on whole, never stored (see `shown`)."""
    args_digest: str
    flags: frozenset[str]
    targets: tuple[str, ...]
    shown_args: dict[str, Any] | None = None
    """The arguments as stored, logged and shown to reviewers (redacted, long values cut);
    None when `args` hold nothing that needs hiding (tests, replays of stored records)."""

    def shown(self) -> dict[str, Any]:
        return self.args if self.shown_args is None else self.shown_args


@dataclass(frozen=True, slots=True)
class PastStep:
    """What a policy may know of an earlier step in the same session."""

    seq: int
    kind: Kind
    name: str
    flags: frozenset[str]
    targets: tuple[str, ...]
    reviewed: bool
    """A person approved it before it ran (automatic approvals by rule or grant do not count)."""


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """Session state a policy can match on, maintained incrementally by the monitor."""

    consequential_since_review: int = 0
    """Consequential steps since a person last reviewed one."""
    consequential_last_hour: int = 0
    history: tuple[PastStep, ...] = ()
    """Recent steps, oldest first (bounded)."""
    autonomy_score: float | None = None
    scenario: int | None = None
    autonomy_signals: Mapping[str, float] | None = None
    """The session's autonomy signals by name (docs/autonomy.md), as of its last scored step."""


NO_FACTS = SessionFacts()


@dataclass(frozen=True, slots=True)
class ApprovalSpec:
    """Who must approve a gated step, how many of them, and by when (deadlines deny)."""

    role: str = "approver"
    quorum: int = 1
    timeout_s: float = 900.0
    grants: bool = True
    """Whether a standing grant may stand in for a person (not for a scenario cap)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str
    rule: str | None = None
    policy_hash: str | None = None
    approval: ApprovalSpec | None = None
    """Set when decision is require_approval."""


class Decider(Protocol):
    """Anything that decides a proposed step: a policy pack, `RecordOnly`, your own rules."""

    def decide(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict: ...


def wants_facts(decider: Decider) -> bool:
    """Deciders that never look at session facts say so (`uses_facts = False`), sparing the
    monitor from assembling them on every step."""
    return bool(getattr(decider, "uses_facts", True))


def wants_history(decider: object) -> bool:
    """Whether the decider looks back at earlier steps (`after:` rules); unknown deciders do."""
    return bool(getattr(decider, "uses_history", True))


RECORD_ONLY = "record-only"
"""The policy name that enforces nothing (`Monitor(policy="record-only")`)."""


class RecordOnly:
    """Allows everything: the monitor records and classifies but gates nothing."""

    name = RECORD_ONLY

    VERDICT = Verdict("allow", "no policy enforced: recording only")
    uses_facts = False
    uses_history = False

    def decide(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict:
        return self.VERDICT
