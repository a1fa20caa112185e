"""Waiting for reviewers: create a durable pending approval, then watch its signed votes.

Votes are re-verified here, in the agent's monitor, every time: a vote counts only if a trusted
reviewer with the required role signed exactly this approval id, this call's digest and this
decision (and, for a modification, the exact edit). Any deny by such a reviewer denies; a
modification replaces the call (the pipeline checks the edited call again); `quorum` distinct
approvers approve; the deadline denies (timed out); a halt aborts the wait.

An approval runs at most one step: the step that runs on it marks it used, atomically in the
store, so neither a second claim nor a restarted agent can run it again.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from oversight.approvals.deadlines import deadline_seconds, deadline_text
from oversight.approvals.grants import covering_grant
from oversight.approvals.registry import Reviewer, trusted_reviewers
from oversight.approvals.signing import verify, vote_payload
from oversight.canonical import new_id
from oversight.decide import ApprovalSpec, Proposal
from oversight.store.base import ReviewState

Status = Literal[
    "approved",
    "granted",
    "modified",
    "denied",
    "timed_out",
    "halted",
    "unavailable",
    "pending",
    "used",
    "mismatch",
    "withdrawn",
]


@dataclass(frozen=True)
class ApprovalRequest:
    """What an integration is told when a step starts waiting: enough to show a reviewer the
    exact call and why it was gated. Answers still come back as signed votes
    (`cast_vote`, or `oversight approve`): a callback in the agent's process cannot approve
    anything itself."""

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


class Notice(Protocol):
    """Tells the person running the agent, in words, what a step is waiting for."""

    def waiting(self, request: ApprovalRequest, timeout_s: float) -> None:
        """A step has started waiting for reviewers (it blocks for up to `timeout_s`)."""

    def unreviewable(self, proposal: Proposal, reason: str, rule: str | None, why: str) -> None:
        """A step that needs a person is refused at once: nobody could approve it (`why`)."""


@dataclass
class Outcome:
    status: Status
    reason: str
    approval_id: str | None = None
    approvers: list[str] = field(default_factory=list)
    rejected_votes: list[str] = field(default_factory=list)
    patch: dict[str, Any] | None = None
    """A reviewer's edit of the call (status "modified")."""
    wait_ms: float | None = None
    """How long people took to decide (approved, denied or modified)."""
    request: ApprovalRequest | None = None


class ApprovalDesk:
    """Decides gated steps from the review state: grants, signed votes, deadlines, halts.

    It needs only a `ReviewState` (the mutable review tables), not a whole audit store, so it
    runs against the SQL store a monitor opens and against an in-memory state in unit tests.
    """

    def __init__(
        self,
        store: ReviewState,
        *,
        timeout_override_s: float | None = None,
        poll_s: float = 0.025,
        clock: Callable[[], float] = time.monotonic,
        notify: Notify | None = None,
        on_error: Callable[[str], None] | None = None,
        root_key: str | None = None,
        notice: Notice | None = None,
    ) -> None:
        self.store = store
        self.notify = notify
        self.notice = notice
        self.on_error = on_error
        self.timeout_override_s = timeout_override_s
        self.poll_s = poll_s
        self.clock = clock
        self.root_key = root_key

    def trusted(self) -> dict[str, Reviewer]:
        return trusted_reviewers(self.store.reviewers(), root_key=self.root_key)[0]

    def request(
        self,
        proposal: Proposal,
        spec: ApprovalSpec,
        *,
        reason: str,
        rule: str | None,
        halted: Callable[[], str | None],
        approval_id: str | None = None,
        wait: bool = True,
        preapproved: Iterable[str] = (),
        cancelled: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Decide whether `proposal` may run: a grant, reviewers' votes, or a deadline.

        `approval_id` names the approval: an existing one is claimed (it must be for exactly this
        call and unused), a new one is created with that id. `wait=False` returns a "pending"
        outcome instead of blocking. `preapproved` reviewers already approved this exact call
        (the author of a modification). Once `cancelled()` is true the wait ends "withdrawn":
        whoever waited has gone, and the approval is closed unused.
        """
        if approval_id is not None:
            existing = self.store.approval(approval_id)
            if existing is not None:
                return self._claim(
                    existing, proposal, spec, halted, wait, list(preapproved), cancelled
                )
        trusted = self.trusted()
        if spec.quorum <= 1 and spec.grants and not preapproved:
            # A two-person rule is never satisfied by a standing grant.
            grant = covering_grant(self.store.grants(), proposal, spec.role, trusted)
            if grant is not None:
                return Outcome(
                    "granted",
                    f"covered by grant {grant.id} from {grant.granted_by} ({grant.reason})",
                    approval_id=f"grant:{grant.id}",
                )
        eligible = [r for r in trusted.values() if r.may_act_as(spec.role)]
        if len(eligible) < spec.quorum:
            why = (
                f"needs {spec.quorum} reviewer(s) with role {spec.role!r}; "
                f"{len(eligible)} registered (`oversight reviewer add`)"
            )
            if self.notice is not None:
                self.notice.unreviewable(proposal, reason, rule, why)
            return Outcome("unavailable", why)
        timeout = self.timeout_override_s if self.timeout_override_s is not None else spec.timeout_s
        approval_id = approval_id or new_id()
        # Rounded up to the second it is stored in: never earlier than the wait itself ends.
        deadline = deadline_text(math.ceil(time.time() + timeout))
        self.store.create_approval(
            {
                "id": approval_id,
                "session_id": proposal.session_id,
                "step_id": proposal.step_id,
                "args_digest": proposal.args_digest,
                "kind": proposal.kind.value,
                "name": proposal.name,
                "args": json.dumps(proposal.shown(), ensure_ascii=False),
                "reason": reason,
                "rule": rule,
                "role": spec.role,
                "quorum": spec.quorum,
                "deadline": deadline,
            }
        )
        request = ApprovalRequest(
            approval_id=approval_id,
            session_id=proposal.session_id,
            step_id=proposal.step_id,
            kind=proposal.kind.value,
            name=proposal.name,
            args=proposal.shown(),
            args_digest=proposal.args_digest,
            reason=reason,
            rule=rule,
            role=spec.role,
            quorum=spec.quorum,
            deadline=deadline,
        )
        approvers = list(preapproved)
        if self.notify is not None and len(approvers) < spec.quorum:
            self._notify(request)
        started = self.clock()
        tally = _Tally(approval_id, proposal.args_digest, spec, approvers)
        if not wait:
            # Reviewers who already approved this exact call (an edit's author) may meet the
            # quorum by themselves; otherwise the caller comes back for the decision.
            decided = self._poll_once(tally)
            if decided is None:
                pending = tally.finish("pending", f"waiting for approval {approval_id}")
                pending.request = request
                return pending
            return self._settle(
                _unless_halted(decided, tally, halted), approval_id, proposal.step_id
            )
        if self.notice is not None and len(approvers) < spec.quorum:
            self.notice.waiting(request, timeout)
        outcome = self._watch(tally, started + timeout, halted, cancelled)
        if outcome.status in ("approved", "denied", "modified"):
            outcome.wait_ms = (self.clock() - started) * 1000.0
        return self._settle(outcome, approval_id, proposal.step_id)

    # -- claiming an approval that already exists ---------------------------------------------
    def _claim(
        self,
        row: dict[str, Any],
        proposal: Proposal,
        spec: ApprovalSpec,
        halted: Callable[[], str | None],
        wait: bool,
        preapproved: list[str],
        cancelled: Callable[[], bool] | None,
    ) -> Outcome:
        approval_id = str(row["id"])
        same_call = (
            row["args_digest"] == proposal.args_digest
            and row["session_id"] == proposal.session_id
            and row["name"] == proposal.name
            and row["kind"] == proposal.kind.value
        )
        if not same_call:
            return Outcome(
                "mismatch",
                f"approval {approval_id} was given for a different call "
                f"({row['name']} in session {row['session_id']}); this call needs its own",
                approval_id,
            )
        if row["consumed_by"] is not None:
            return Outcome(
                "used",
                f"approval {approval_id} was already used by step {row['consumed_by']}",
                approval_id,
            )
        # Votes cast after the deadline do not count: an expired approval runs nothing later.
        # A deadline that does not read as one has passed (fail closed).
        tally = _Tally(
            approval_id, proposal.args_digest, spec, preapproved, until=str(row["deadline"])
        )
        try:
            remaining = deadline_seconds(str(row["deadline"])) - time.time()
        except ValueError:
            remaining = 0.0
        if not wait:
            outcome = self._poll_once(tally)
            if outcome is None:
                if remaining > 0:
                    return tally.finish("pending", f"waiting for approval {approval_id}")
                outcome = tally.timed_out()
            outcome = _unless_halted(outcome, tally, halted)
        else:
            outcome = self._watch(tally, self.clock() + max(remaining, 0.0), halted, cancelled)
        if outcome.status in ("approved", "denied", "modified"):
            outcome.wait_ms = _ms_between(str(row["created_at"]), tally.decided_at)
        return self._settle(outcome, approval_id, proposal.step_id)

    def _settle(self, outcome: Outcome, approval_id: str, step_id: str) -> Outcome:
        """Close the approval with its outcome; an approved one is used by this step, once."""
        outcome.approval_id = approval_id
        if outcome.status == "approved":
            first = self.store.consume_approval(approval_id, step_id)
            if first is not None:
                outcome.status = "used"
                outcome.reason = f"approval {approval_id} was already used by step {first}"
                return outcome
        self.store.close_approval(approval_id, outcome.status, outcome.reason)
        return outcome

    def consume(self, approval_id: str, step_id: str) -> str | None:
        """Spend an approval on `step_id`: None the first time, else the step that used it
        (an edited call spends the approval of the call it replaced)."""
        return self.store.consume_approval(approval_id, step_id)

    def _notify(self, request: ApprovalRequest) -> None:
        assert self.notify is not None
        try:
            self.notify(request)
        except Exception as exc:  # noqa: BLE001 - a broken integration must not approve or crash
            if self.on_error is not None:
                self.on_error(f"approval notifier failed for {request.approval_id}: {exc!r}")

    # -- counting votes -----------------------------------------------------------------------
    def _poll_once(self, tally: _Tally) -> Outcome | None:
        return tally.fold(self.store.votes(tally.approval_id), self.trusted)

    def _watch(
        self,
        tally: _Tally,
        deadline: float,
        halted: Callable[[], str | None],
        cancelled: Callable[[], bool] | None,
    ) -> Outcome:
        with self.store.vote_signal() as wait:
            while True:
                # Before counting votes: an approval that arrives as the caller leaves stays
                # unused, instead of being spent on a call that will never run.
                if cancelled is not None and cancelled():
                    return tally.finish("withdrawn", "withdrawn: the waiting caller was cancelled")
                outcome = self._poll_once(tally)
                if outcome is not None:
                    return _unless_halted(outcome, tally, halted)
                stop = halted()
                if stop is not None:
                    return tally.finish("halted", stop)
                if self.clock() >= deadline:
                    return tally.timed_out()
                wait(self.poll_s)


class _Tally:
    """Votes on one approval, folded in as they arrive; each is verified exactly once.

    Vote rows are plain rows the agent can write, so each is read defensively: a row that is not
    well formed (a missing or mistyped field, a time that is unreadable or has no time zone) is
    not counted, and the reason is kept in `rejected`, as for a forged signature. Every outcome,
    "pending" too, carries `rejected`, so each forged or broken vote a monitor sees is alerted."""

    def __init__(
        self,
        approval_id: str,
        digest: str,
        spec: ApprovalSpec,
        approvers: list[str],
        *,
        until: str | None = None,
    ) -> None:
        self.approval_id = approval_id
        self.bounded = until is not None
        self.until = _parse_time(until) if until is not None else None
        self.digest = digest
        self.spec = spec
        self.approvers = approvers
        self.rejected: list[str] = []
        self.decided_at: str | None = None
        self._seen: set[object] = set()
        self._trusted: dict[str, Reviewer] | None = None

    def fold(
        self, votes: list[dict[str, Any]], load_trusted: Callable[[], dict[str, Reviewer]]
    ) -> Outcome | None:
        # By row id, not by position: a row slipped in under an earlier id is still read.
        new = []
        for vote in votes:
            key = _row_key(vote)
            if key not in self._seen:
                self._seen.add(key)
                new.append(vote)
        # Endorsements are verified once, and again only when a vote names someone unknown
        # (a reviewer registered while we wait), not on every poll.
        if self._trusted is None or any(str(v.get("reviewer")) not in self._trusted for v in new):
            self._trusted = load_trusted()
        for vote in new:
            outcome = self._count(vote, self._trusted)
            if outcome is not None:
                return outcome
        if len(self.approvers) >= self.spec.quorum:
            return self.finish("approved", f"approved by {', '.join(self.approvers)}")
        return None

    def _count(self, row: dict[str, Any], trusted: dict[str, Reviewer]) -> Outcome | None:
        vote = _read_vote(row)
        if isinstance(vote, str):
            self.rejected.append(f"vote {_row_label(row)}: {vote}; it does not count")
            return None
        name, decision = vote.reviewer, vote.decision
        reviewer = trusted.get(name)
        payload = vote_payload(
            self.approval_id, self.digest, decision, name, vote.reason, vote.args_patch
        )
        if reviewer is None or not reviewer.may_act_as(self.spec.role):
            self.rejected.append(
                f"vote by {name!r}: not a trusted reviewer with role {self.spec.role!r}"
            )
        elif decision not in ("approve", "deny", "modify"):
            self.rejected.append(f"vote by {name!r}: unknown decision {decision!r}")
        elif not verify(reviewer.public_key, payload, vote.signature):
            self.rejected.append(f"vote by {name!r}: signature does not verify for this call")
        else:
            return self._count_verified(vote, _cast_time(row.get("created_at")))
        return None

    def _count_verified(self, vote: _Vote, cast: dt.datetime | str) -> Outcome | None:
        """A vote a trusted reviewer signed; it counts if it was cast, readably, in time."""
        name, decision = vote.reviewer, vote.decision
        if isinstance(cast, str):
            self.rejected.append(f"vote by {name!r}: {cast}; it does not count")
        elif self.bounded and (self.until is None or cast > self.until):
            return None  # a reviewer's own vote, cast after the deadline: it never counts
        elif decision == "deny":
            self.decided_at = vote.created_at
            reason = vote.reason or "denied by a reviewer"
            return self.finish("denied", f"{reason} ({name})", approvers=[name])
        elif decision == "modify":
            patch = _parse_patch(vote.args_patch)
            if patch is None:
                self.rejected.append(f"vote by {name!r}: the edit is not a JSON object")
                return None
            self.decided_at = vote.created_at
            return self.finish(
                "modified",
                f"modified by {name}" + (f": {vote.reason}" if vote.reason else ""),
                approvers=[name],
                patch=patch,
            )
        elif name not in self.approvers:
            self.decided_at = vote.created_at
            self.approvers.append(name)
        return None

    def timed_out(self) -> Outcome:
        return self.finish(
            "timed_out",
            f"no decision within the deadline ({len(self.approvers)}/{self.spec.quorum} approvals)",
        )

    def finish(
        self,
        status: Status,
        reason: str,
        *,
        approvers: list[str] | None = None,
        patch: dict[str, Any] | None = None,
    ) -> Outcome:
        return Outcome(
            status,
            reason,
            self.approval_id,
            approvers=list(self.approvers if approvers is None else approvers),
            rejected_votes=self.rejected,
            patch=patch,
        )


def tally_votes(
    row: dict[str, Any], votes: list[dict[str, Any]], trusted: dict[str, Reviewer]
) -> Outcome:
    """What the verified votes cast on an approval before its deadline decide: approved,
    denied or modified, else "pending" with the approvers so far. For people looking at
    approvals (`oversight approvals`); a monitor claiming one counts the same votes the same way."""
    quorum = row.get("quorum")
    if not isinstance(quorum, int) or isinstance(quorum, bool) or quorum < 1:
        # An approval row the agent rewrote: nobody's votes can be counted against it.
        return Outcome("pending", f"unreadable quorum {quorum!r}", str(row.get("id")))
    spec = ApprovalSpec(role=str(row["role"]), quorum=quorum)
    tally = _Tally(str(row["id"]), str(row["args_digest"]), spec, [], until=str(row["deadline"]))
    decided = tally.fold(votes, lambda: trusted)
    if decided is not None:
        return decided
    return tally.finish("pending", f"{len(tally.approvers)}/{spec.quorum} approvals")


def _unless_halted(outcome: Outcome, tally: _Tally, halted: Callable[[], str | None]) -> Outcome:
    """A decision that would let a call run is checked against the halt switch first (read from
    the store, not from any background poll): a halt that came with the approval wins."""
    if outcome.status not in ("approved", "modified"):
        return outcome
    stop = halted()
    return outcome if stop is None else tally.finish("halted", stop)


class _Vote(NamedTuple):
    reviewer: str
    decision: str
    reason: str
    signature: str
    args_patch: str | None
    created_at: str


def _read_vote(row: dict[str, Any]) -> _Vote | str:
    """The vote in a stored row, or why the row is not a well-formed vote (its time is read
    once its signature verifies, so a forged vote is reported as forged)."""
    texts = {}
    for name in ("reviewer", "decision", "reason", "signature"):
        value = row.get(name)
        if not isinstance(value, str):
            return f"{name} is {_shown(value)}, not text"
        texts[name] = value
    if not texts["reviewer"]:
        return "reviewer is empty"
    patch = row.get("args_patch")
    if patch is not None and not isinstance(patch, str):
        return f"args_patch is {_shown(patch)}, not text"
    return _Vote(
        texts["reviewer"],
        texts["decision"],
        texts["reason"],
        texts["signature"],
        patch,
        str(row.get("created_at")),
    )


def _cast_time(value: object) -> dt.datetime | str:
    """When a vote was cast, or why its stored time does not say (no zone, not a time)."""
    try:
        cast = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return f"created_at {_shown(value)} is not a time"
    if cast.tzinfo is None or cast.utcoffset() is None:
        return f"created_at {_shown(value)} has no time zone"
    return cast


def _row_key(row: dict[str, Any]) -> object:
    """What a vote row is remembered by: its id, or (no usable id) everything in it."""
    key = row.get("id")
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    return ("row", tuple(sorted((k, repr(v)) for k, v in row.items())))


def _row_label(row: dict[str, Any]) -> str:
    return f"{_shown(row.get('id'))} by {_shown(row.get('reviewer'))}"


def _shown(value: object) -> str:
    """A stored value as it appears in an alert: its repr, cut short (the agent wrote it)."""
    text = "NULL" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _parse_time(text: str) -> dt.datetime | None:
    """An aware time from stored text (an approval's deadline is stored as ...Z); None when
    it does not read as one or names no time zone."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None and parsed.utcoffset() is not None else None


def _parse_patch(text: object) -> dict[str, Any] | None:
    try:
        patch = json.loads(str(text))
    except ValueError:
        return None
    return patch if isinstance(patch, dict) and patch else None


def _ms_between(start: str, end: str | None) -> float | None:
    """Milliseconds between two stored timestamps (ISO text), when both parse."""
    a, b = _parse_time(start), _parse_time(end) if end is not None else None
    if a is None or b is None:
        return None
    return max((b - a).total_seconds() * 1000.0, 0.0)
