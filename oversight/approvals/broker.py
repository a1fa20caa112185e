"""Waiting for reviewers: create a durable pending approval, then watch its signed votes.

Votes are re-verified here, in the agent's monitor, every time: a vote counts only if a trusted
reviewer with the required role signed exactly this approval id, this call's digest and this
decision. Any deny by such a reviewer denies; `quorum` distinct approvers approve; the deadline
denies (timed out); a halt aborts the wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from oversight.approvals.grants import covering_grant
from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import verify, vote_payload
from oversight.canonical import new_id
from oversight.decide import ApprovalSpec, Proposal
from oversight.store import SQLStore

Status = Literal["approved", "granted", "denied", "timed_out", "halted", "unavailable"]


@dataclass(frozen=True)
class ApprovalRequest:
    """What an integration is told when a step starts waiting: enough to show a reviewer the
    exact call and why it was gated. Answers still come back as signed votes
    (`SQLStore.add_vote`, or `oversight approve`): a callback in the agent's process cannot
    approve anything itself."""

    approval_id: str
    session_id: str
    step_id: str
    kind: str
    name: str
    args: dict[str, object]
    args_digest: str
    reason: str
    rule: str | None
    role: str
    quorum: int
    deadline: str


Notify = Callable[[ApprovalRequest], None]


@dataclass
class Outcome:
    status: Status
    reason: str
    approval_id: str | None = None
    approvers: list[str] = field(default_factory=list)
    rejected_votes: list[str] = field(default_factory=list)


class ApprovalDesk:
    def __init__(
        self,
        store: SQLStore,
        *,
        timeout_override_s: float | None = None,
        poll_s: float = 0.025,
        clock: Callable[[], float] = time.monotonic,
        notify: Notify | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.notify = notify
        self.on_error = on_error
        self.timeout_override_s = timeout_override_s
        self.poll_s = poll_s
        self.clock = clock

    def request(
        self,
        proposal: Proposal,
        spec: ApprovalSpec,
        *,
        reason: str,
        rule: str | None,
        halted: Callable[[], str | None],
    ) -> Outcome:
        trusted, _ = trusted_reviewers(self.store.reviewers())
        if spec.quorum <= 1:  # a two-person rule is never satisfied by a standing grant
            grant = covering_grant(self.store.grants(), proposal, spec.role, trusted)
            if grant is not None:
                return Outcome(
                    "granted",
                    f"covered by grant {grant.id} from {grant.granted_by} ({grant.reason})",
                    approval_id=f"grant:{grant.id}",
                )
        eligible = [r for r in trusted.values() if r.may_act_as(spec.role)]
        if len(eligible) < spec.quorum:
            return Outcome(
                "unavailable",
                f"needs {spec.quorum} reviewer(s) with role {spec.role!r}; "
                f"{len(eligible)} registered (`oversight reviewer add`)",
            )
        timeout = self.timeout_override_s if self.timeout_override_s is not None else spec.timeout_s
        approval_id = new_id()
        deadline_wall = time.time() + timeout
        self.store.create_approval(
            {
                "id": approval_id,
                "session_id": proposal.session_id,
                "step_id": proposal.step_id,
                "args_digest": proposal.args_digest,
                "kind": proposal.kind.value,
                "name": proposal.name,
                "args": json.dumps(proposal.args, ensure_ascii=False),
                "reason": reason,
                "rule": rule,
                "role": spec.role,
                "quorum": spec.quorum,
                "deadline": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline_wall)),
            }
        )
        if self.notify is not None:
            self._notify(
                ApprovalRequest(
                    approval_id=approval_id,
                    session_id=proposal.session_id,
                    step_id=proposal.step_id,
                    kind=proposal.kind.value,
                    name=proposal.name,
                    args=proposal.args,
                    args_digest=proposal.args_digest,
                    reason=reason,
                    rule=rule,
                    role=spec.role,
                    quorum=spec.quorum,
                    deadline=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline_wall)),
                )
            )
        outcome = self._wait(
            approval_id, proposal.args_digest, spec, self.clock() + timeout, halted
        )
        outcome.approval_id = approval_id
        self.store.close_approval(approval_id, outcome.status, outcome.reason)
        return outcome

    def _notify(self, request: ApprovalRequest) -> None:
        assert self.notify is not None
        try:
            self.notify(request)
        except Exception as exc:  # noqa: BLE001 - a broken integration must not approve or crash
            if self.on_error is not None:
                self.on_error(f"approval notifier failed for {request.approval_id}: {exc!r}")

    def _wait(
        self,
        approval_id: str,
        digest: str,
        spec: ApprovalSpec,
        deadline: float,
        halted: Callable[[], str | None],
    ) -> Outcome:
        with self.store.vote_signal() as wait:
            return self._watch(approval_id, digest, spec, deadline, halted, wait)

    def _watch(
        self,
        approval_id: str,
        digest: str,
        spec: ApprovalSpec,
        deadline: float,
        halted: Callable[[], str | None],
        wait: Callable[[float], None],
    ) -> Outcome:
        approvers: list[str] = []
        rejected: list[str] = []
        seen = 0
        # Endorsements are verified once, and again only when a vote names someone unknown
        # (a reviewer registered while we wait), not on every poll.
        trusted, _ = trusted_reviewers(self.store.reviewers())
        while True:
            votes = self.store.votes(approval_id)
            if any(str(v["reviewer"]) not in trusted for v in votes[seen:]):
                trusted, _ = trusted_reviewers(self.store.reviewers())
            for vote in votes[seen:]:
                name, decision = str(vote["reviewer"]), str(vote["decision"])
                reviewer = trusted.get(name)
                payload = vote_payload(approval_id, digest, decision, name, str(vote["reason"]))
                if reviewer is None or not reviewer.may_act_as(spec.role):
                    rejected.append(
                        f"vote by {name!r}: not a trusted reviewer with role {spec.role!r}"
                    )
                elif decision not in ("approve", "deny"):
                    rejected.append(f"vote by {name!r}: unknown decision {decision!r}")
                elif not verify(reviewer.public_key, payload, str(vote["signature"])):
                    rejected.append(f"vote by {name!r}: signature does not verify for this call")
                elif decision == "deny":
                    reason = str(vote["reason"]) or "denied by a reviewer"
                    return Outcome(
                        "denied", f"{reason} ({name})", approvers=[name], rejected_votes=rejected
                    )
                elif name not in approvers:
                    approvers.append(name)
            seen = len(votes)
            if len(approvers) >= spec.quorum:
                return Outcome(
                    "approved",
                    f"approved by {', '.join(approvers)}",
                    approvers=approvers,
                    rejected_votes=rejected,
                )
            stop = halted()
            if stop is not None:
                return Outcome("halted", stop, approvers=approvers, rejected_votes=rejected)
            if self.clock() >= deadline:
                return Outcome(
                    "timed_out",
                    f"no decision within the deadline ({len(approvers)}/{spec.quorum} approvals)",
                    approvers=approvers,
                    rejected_votes=rejected,
                )
            wait(self.poll_s)
