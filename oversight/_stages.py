"""The pure stages of a step, shared by the live pipeline and by replay, so an imported or
replayed call is classified and decided exactly as a live one is.

    normalised call → classify_whole → proposal_for → checked_verdict
"""

from __future__ import annotations

from oversight._whole_call import gate_oversized, oversized
from oversight.classify import Classification, Classifier
from oversight.classify.workspace import SessionView
from oversight.decide import Decider, Proposal, SessionFacts, Verdict
from oversight.errors import ConfigError
from oversight.kinds import Kind, parse_kind
from oversight.normalise import NormalisedCall
from oversight.records import DECISIONS, Actor


def classify_whole(
    classifier: Classifier,
    name: str,
    call: NormalisedCall,
    declared: Kind | str | None,
    view: SessionView | None,
    limit: int,
) -> Classification:
    """The whole call, or, past the size limit, nothing of it: a prefix would be judged on what
    it shows and run with what it hides (a long here-doc, then `git push`)."""
    if call.size > limit:
        kind = parse_kind(declared) if isinstance(declared, str) else declared
        return oversized(call.size, limit, kind)
    return classifier.classify(name, call.args, declared, view)


def proposal_for(
    call: NormalisedCall,
    classification: Classification,
    *,
    session_id: str,
    step_id: str,
    seq: int,
    name: str,
    actor: Actor,
) -> Proposal:
    """What a policy sees of a classified call."""
    return Proposal(
        session_id=session_id,
        step_id=step_id,
        seq=seq,
        name=name,
        kind=classification.kind,
        actor=actor,
        args=call.args,
        args_digest=call.digest,
        flags=classification.flags,
        targets=classification.targets,
        shown_args=call.stored,
    )


def checked_verdict(
    decider: Decider, proposal: Proposal, facts: SessionFacts, classification: Classification
) -> Verdict:
    """The decider's verdict, failing closed on nonsense; an oversized call waits for a person."""
    verdict = decider.decide(proposal, facts)
    if not isinstance(verdict, Verdict) or verdict.decision not in DECISIONS:
        # Fail closed: a decider that answers nonsense has not allowed anything.
        raise ConfigError(
            f"decider {type(decider).__name__} returned {verdict!r}; expected a Verdict "
            f"with decision one of {', '.join(DECISIONS)}"
        )
    return gate_oversized(verdict, classification)
