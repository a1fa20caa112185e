"""The decision stage's interface: what a policy sees of a step, and what it answers.

The policy engine plugs in here; until a pack is loaded the default decider allows every step
and says so in each record, so a trace never suggests a gate that was not there.
"""

from __future__ import annotations

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
    args_digest: str
    flags: frozenset[str]
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str
    rule: str | None = None
    policy_hash: str | None = None


class Decider(Protocol):
    def decide(self, proposal: Proposal) -> Verdict: ...


class RecordOnly:
    """Allows everything: the monitor records and classifies but gates nothing."""

    VERDICT = Verdict("allow", "no policy enforced: recording only")

    def decide(self, proposal: Proposal) -> Verdict:
        return self.VERDICT
