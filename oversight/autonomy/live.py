"""Autonomy scored live, step by step, inside a running monitor.

Every step is folded into its session's tracker as it finishes (O(1), a few microseconds). A
full snapshot (score, scenario, signals) costs more, so it is taken only after steps that can
move it: consequential steps, steps a person decided, and refused steps. Those steps carry the
score in their `step.finished` record; the session's facts carry it to the policy, which can
match on it or cap the scenario (`max_scenario`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from oversight.autonomy.observation import (
    COMPUTE_KINDS,
    RAN_STATUSES,
    StepObservation,
    review_by,
    unattended_review,
    with_arg_paths,
)
from oversight.autonomy.tracker import QUIET_KINDS, AutonomySnapshot, AutonomyTracker
from oversight.kinds import CONSEQUENTIAL
from oversight.policy.compute import derive

if TYPE_CHECKING:
    from oversight.decide import Proposal, Verdict
    from oversight.records import DecidedBy

# Kinds whose arguments may name compute (GPU-hours): only these pay for deriving it.


class SessionAutonomy:
    """One session's tracker, safe to fold into from the agent's threads."""

    __slots__ = ("_lock", "tracker")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tracker = AutonomyTracker()

    def fold(
        self,
        proposal: Proposal,
        verdict: Verdict,
        *,
        ts: float,
        status: str,
        decided_by: DecidedBy,
        reviewers: Iterable[str],
        approval_id: str | None,
        review_wait_ms: float | None,
    ) -> AutonomySnapshot | None:
        """Fold in a finished step; the new snapshot when the step can move the score."""
        kind = proposal.kind
        ran = status in RAN_STATUSES
        people = tuple(reviewers) if decided_by == "reviewers" else ()
        if kind in QUIET_KINDS and ran and not people and not proposal.flags:
            automatic = unattended_review(approval_id, ran, verdict.decision, verdict.rule)
            with self._lock:
                self.tracker.update_quiet(ts, proposal.seq, automatic=automatic == "automatic")
            return None
        review = review_by(decided_by, ran, approval_id, verdict.decision, verdict.rule)
        observation = StepObservation(
            seq=proposal.seq,
            ts=ts,
            kind=kind,
            name=proposal.name,
            flags=proposal.flags,
            targets=with_arg_paths(kind, tuple(proposal.targets), proposal.args),
            ran=ran,
            review=review,
            approvers=people,
            review_wait_s=review_wait_ms / 1000.0 if people and review_wait_ms else None,
            gpu_hours=derive(proposal.args).gpu_hours if kind in COMPUTE_KINDS else None,
            human_denied=bool(people) and status == "denied",
        )
        matters = kind in CONSEQUENTIAL or bool(people) or not ran or bool(proposal.flags)
        with self._lock:
            self.tracker.update(observation)
            if not matters:
                return None
            return self.tracker.snapshot()
