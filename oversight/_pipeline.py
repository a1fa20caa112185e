"""The one interception pipeline every step goes through, whoever calls it.

    prepare:  normalise → classify → decide               (no I/O: an event loop calls it in place)
    admit:    record the proposal → resolve: run | refuse | edit (a loop: an edit is decided again)
    run:      StepHandle.call / acall → record the outcome (_step.py)

The decorator, the low-level `Monitor.check` API and every adapter come through `propose` (or
`prepare` then `admit`) and run the call through the handle it returns; nothing else writes step
records. A decision is data: `_resolve` turns a verdict (and the approval desk's outcome) into
a `Run`, `Refuse` or `Edit` record, and `admit` acts on it in one place.
"""

from __future__ import annotations

from asyncio import CancelledError
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from oversight._context import current_step
from oversight._edits import EditCheck
from oversight._halt_switch import HaltSwitch
from oversight._recorder import Recorder
from oversight._session import Session
from oversight._stages import checked_verdict, classify_whole, proposal_for
from oversight._step import StepHandle
from oversight.approvals.broker import ApprovalDesk, ApprovalRequest
from oversight.canonical import new_id, utc_now
from oversight.classify import Classification, Classifier
from oversight.classify.workspace import SessionView
from oversight.decide import (
    NO_FACTS,
    ApprovalSpec,
    Decider,
    Verdict,
    wants_facts,
)
from oversight.errors import (
    ApprovalPending,
    CheckpointDenied,
    CheckpointTimeout,
    SessionHalted,
    StoreError,
    StoreUnavailableError,
)
from oversight.kinds import CONSEQUENTIAL, Kind
from oversight.normalise import UNKEYED, NormalisedCall, normalise_call
from oversight.records import Actor, Alert, DecidedBy, StepStatus

__all__ = ["Edit", "Pipeline", "Refuse", "Resolution", "Run", "StepHandle"]

# Flags that make a step write-ahead whatever its kind: its record must exist before it runs.
WRITE_AHEAD_FLAGS = frozenset({"protected_target", "obfuscated", "oversight_target"})

# A call edited this many times in a row without a decision is denied.
MAX_EDITS = 5


class Pipeline:
    def __init__(
        self,
        *,
        classifier: Classifier,
        decider: Decider,
        recorder: Recorder,
        max_arg_chars: int,
        result_summary_chars: int,
        max_classified_chars: int = 1_048_576,
        digest_key: bytes = UNKEYED,
        halts: HaltSwitch | None = None,
        store_check: Callable[[str], None] | None = None,
        halt_after_denials: int = 3,
        approvals: ApprovalDesk | None = None,
    ) -> None:
        self.approvals = approvals
        self.halts = halts
        """Asked before each consequential step and while reviewers are awaited."""
        self.store_check = store_check
        """Raises before a consequential step when the store is not the one this monitor
        opened (deleted, moved, replaced, emptied): see `_store_guard.py`."""
        self.halt_after_denials = halt_after_denials
        self.classifier = classifier
        self.decider = decider
        self.wants_facts = wants_facts(decider)
        self.recorder = recorder
        self.max_arg_chars = max_arg_chars
        self.result_summary_chars = result_summary_chars
        self.max_classified_chars = max_classified_chars
        self.digest_key = digest_key

    # -- stages -------------------------------------------------------------------------------
    def normalise(self, raw_args: Mapping[str, Any]) -> NormalisedCall:
        return normalise_call(raw_args, max_chars=self.max_arg_chars, key=self.digest_key)

    def classify(
        self,
        name: str,
        call: NormalisedCall,
        declared: Kind | None,
        view: SessionView | None = None,
    ) -> Classification:
        return classify_whole(
            self.classifier, name, call, declared, view, self.max_classified_chars
        )

    @staticmethod
    def needs_write_ahead(classification: Classification) -> bool:
        return classification.kind in CONSEQUENTIAL or not WRITE_AHEAD_FLAGS.isdisjoint(
            classification.flags
        )

    # -- the path -----------------------------------------------------------------------------
    def propose(
        self,
        session: Session,
        name: str,
        raw_args: Mapping[str, Any],
        *,
        declared: Kind | None = None,
        actor: Actor = "agent",
        wait: bool = True,
        approval_id: str | None = None,
        enforce: bool = True,
        edit_check: EditCheck | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> StepHandle:
        """Run every stage up to the call itself; raise if the step must not run.

        Returns the handle of the step to run: the proposed one, or, when a reviewer edited the
        call, the edited one (its `call_args` are what must run). Raises SessionHalted,
        CheckpointDenied (CheckpointTimeout), ApprovalPending (`wait=False`), or
        StoreUnavailableError (write-ahead failed: a consequential step never runs unrecorded).
        `edit_check` says whether a reviewer's edited values fit the call; `cancelled` is asked
        while waiting for reviewers, and once true the wait is withdrawn.
        """
        handle = self.prepare(
            session, name, raw_args, declared=declared, actor=actor, enforce=enforce
        )
        handle.edit_check = edit_check
        return self.admit(handle, wait=wait, approval_id=approval_id, cancelled=cancelled)

    def prepare(
        self,
        session: Session,
        name: str,
        raw_args: Mapping[str, Any],
        *,
        declared: Kind | None = None,
        actor: Actor = "agent",
        enforce: bool = True,
    ) -> StepHandle:
        """normalise → classify → decide: no I/O but one small read of the halts at most every
        `halt_poll_ms`, so an event loop may call it in place.

        Nothing is recorded yet; `admit` does that (and may block: see `may_block`)."""
        session.check_running()
        handle = self._prepared(session, name, raw_args, declared, actor)
        handle.enforced = enforce
        return handle

    @staticmethod
    def may_block(handle: StepHandle) -> bool:
        """Whether `admit` may wait: on the store (a write-ahead step, a refusal recorded
        durably) or on reviewers. Allowed cheap steps are admitted in microseconds."""
        return handle.write_ahead or (handle.enforced and handle.verdict.decision != "allow")

    def admit(
        self,
        handle: StepHandle,
        *,
        wait: bool = True,
        approval_id: str | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> StepHandle:
        """Record a prepared step and resolve its decision: the handle that may run, or raise.

        One loop: each call is recorded, then resolved into run, refuse or edit. A reviewer's
        edit is a new call (a child of the old one), recorded and decided again with the editor
        counted as its approver; the loop ends when a call runs or is refused. The session's
        facts learn of each call once, when it is resolved.
        """
        edited_from: list[StepHandle] = []
        preapproved: tuple[str, ...] = ()
        while True:
            self._commit(handle)
            if not handle.enforced:
                # The caller cannot stop this call: record what the policy says, and that it ran.
                handle.session.facts.observe(handle.proposal, reviewed=False)
                return handle
            resolution = self._resolve(handle, wait, approval_id, preapproved, cancelled)
            if resolution.reviewed is not None:
                handle.session.facts.observe(handle.proposal, reviewed=resolution.reviewed)
            if isinstance(resolution, Refuse):
                self._refuse(handle, resolution)
            if isinstance(resolution, Run):
                return self._spend_edited(handle, edited_from)
            edited_from.append(handle)
            handle = self._edited(handle, resolution)
            # A deterministic id: an agent that comes back for the original approval (a resumed
            # graph node) finds the edited call's approval instead of opening another.
            approval_id = (
                f"{edited_from[-1].approval_id}:edit" if edited_from[-1].approval_id else None
            )
            preapproved = tuple(resolution.editors)

    # -- the stages of admit ------------------------------------------------------------------
    def _prepared(
        self,
        session: Session,
        name: str,
        raw_args: Mapping[str, Any],
        declared: Kind | None,
        actor: Actor,
    ) -> StepHandle:
        """normalise → classify → decide."""
        proposed_at = utc_now()
        call = self.normalise(raw_args)
        classification = self.classify(name, call, declared, session.view)
        # Folded in before the decision: a write the policy then refuses is still remembered,
        # which can only make a later run of that file look more consequential (fail closed).
        session.view.observe(name, call.args)
        proposal = proposal_for(
            call,
            classification,
            session_id=session.id,
            step_id=new_id(),
            seq=session.next_seq(),
            name=name,
            actor=actor,
        )
        facts = session.facts.facts() if self.wants_facts else NO_FACTS
        verdict = checked_verdict(self.decider, proposal, facts, classification)
        handle = StepHandle(
            self.recorder,
            session,
            proposal,
            classification,
            verdict,
            parent_id=current_step.get(),
            write_ahead=self.needs_write_ahead(classification),
            proposed_at=proposed_at,
            raw_args=raw_args,
            summary_chars=self.result_summary_chars,
        )
        handle.declared = declared
        return handle

    def _commit(self, handle: StepHandle) -> None:
        """A consequential step checks its store and asks it for halts issued a moment ago;
        then it is recorded."""
        if handle.write_ahead:
            session_id = handle.session.id
            try:
                if self.store_check is not None:
                    self.store_check(session_id)
                halted = self.halts.reason_now(session_id) if self.halts is not None else None
            except StoreUnavailableError as exc:
                # The step will not run; its proposal is queued with its outcome, so the
                # session's steps stay whole (no seq missing) once the store takes records.
                self.recorder.submit(handle.proposal_record)
                handle.decided_by = "system"
                handle.finish("not_run", error=f"audit store unavailable: {exc}")
                raise
            if halted is not None:
                handle.verdict = Verdict("halt", halted, rule="(halt switch)")
        self.record_proposal(handle)

    def _resolve(
        self,
        handle: StepHandle,
        wait: bool,
        approval_id: str | None,
        preapproved: tuple[str, ...],
        cancelled: Callable[[], bool] | None,
    ) -> Resolution:
        """What the decision comes to: run, refuse, or run an edited call instead."""
        verdict = handle.verdict
        if verdict.decision == "allow":
            # An edited call the policy allows outright was still reviewed: by its editor.
            handle.approved_by = list(preapproved)
            handle.reviewed_by = list(preapproved)
            handle.decided_by = "reviewers" if preapproved else "policy"
            return Run(reviewed=bool(preapproved))
        if verdict.decision == "require_approval" and self.approvals is not None:
            return self._ask_reviewers(handle, wait, approval_id, preapproved, cancelled)
        reason = verdict.reason
        if handle.modifies is not None:
            reason = f"the reviewer's edit of step {handle.modifies} is itself refused: {reason}"
        if verdict.decision == "halt":
            handle.decided_by = "halt"
            return Refuse("halted", reason, reviewed=False)
        if verdict.decision == "require_approval":
            # Fail closed: with no approval channel there is nobody who could say yes.
            handle.decided_by = "no_reviewers"
            return Refuse(
                "denied",
                f"approval required and no approval channel is configured ({reason})",
                reviewed=False,
                counts_as_denial=True,
                repeated_reason=reason,
            )
        handle.decided_by = "policy"
        return Refuse("denied", reason, reviewed=False, counts_as_denial=True)

    def _ask_reviewers(
        self,
        handle: StepHandle,
        wait: bool,
        approval_id: str | None,
        preapproved: tuple[str, ...],
        cancelled: Callable[[], bool] | None,
    ) -> Resolution:
        """The approval desk's answer (a grant, people's votes, a deadline, a halt) as a
        resolution; the handle learns who decided and how long they took."""
        assert self.approvals is not None
        session, proposal, verdict = handle.session, handle.proposal, handle.verdict
        halts = self.halts
        try:
            outcome = self.approvals.request(
                proposal,
                verdict.approval or ApprovalSpec(),
                reason=verdict.reason,
                rule=verdict.rule,
                halted=lambda: halts.reason_now(session.id) if halts is not None else None,
                approval_id=approval_id,
                wait=wait,
                preapproved=preapproved,
                cancelled=cancelled,
            )
        except StoreError as exc:
            handle.decided_by = "system"
            handle.finish("not_run", error=f"audit store unavailable: {exc}")
            raise StoreUnavailableError(str(exc)) from exc
        for problem in outcome.rejected_votes:
            self.recorder.submit_durable(
                Alert(session_id=session.id, step_id=proposal.step_id, reason=problem)
            )
        handle.approval_id = outcome.approval_id
        handle.review_wait_ms = outcome.wait_ms
        status = outcome.status
        handle.decided_by = DECIDED_BY.get(status, "system")
        if status in ("approved", "denied", "modified"):
            handle.reviewed_by = list(outcome.approvers)
        if status == "approved":
            handle.approved_by = outcome.approvers
            return Run(reviewed=True)
        if status == "granted":
            # A standing grant is an automatic approval, not a person's review of this step.
            return Run(reviewed=False)
        if status == "modified":
            return self._checked_edit(handle, outcome.patch or {}, outcome.approvers)
        if status == "pending":
            assert outcome.approval_id is not None
            return Refuse("deferred", outcome.reason, reviewed=None, request=outcome.request)
        if status == "withdrawn":
            # Whoever waited has gone (a cancelled task): the step never runs.
            return Refuse("cancelled", outcome.reason, reviewed=None)
        if status == "halted":
            return Refuse("halted", outcome.reason, reviewed=False)
        if status == "timed_out":
            return Refuse("timed_out", outcome.reason, reviewed=False)
        if status == "unavailable":
            return Refuse(
                "denied",
                f"approval required ({verdict.reason}) but {outcome.reason}",
                reviewed=False,
            )
        # A person's denial counts toward the repeated-denial halt like the policy's; the
        # system's refusals (an approval for another call, or already used) do not.
        return Refuse(
            "denied",
            outcome.reason,
            reviewed=status == "denied",
            counts_as_denial=status == "denied",
        )

    def _checked_edit(
        self, handle: StepHandle, patch: dict[str, Any], editors: list[str]
    ) -> Resolution:
        """A reviewer's edit, if it fits the call: an Edit to run instead; else a refusal.

        The editor's signed edit counts as their approval of exactly the edited call; a rule that
        needs more people (quorum) still waits for them, and a rule that denies still denies.
        """
        editor = ", ".join(editors)
        unknown = sorted(set(patch) - set(handle.raw_args))
        problem: str | None = None
        if unknown:
            problem = f"{editor}'s edit names argument(s) the call does not have: {unknown}"
        elif handle.edit_check is not None and (problems := handle.edit_check(patch)):
            # Fail closed: the call never runs with values its function does not accept.
            problem = f"{editor}'s edit does not fit the call: {'; '.join(problems)}"
        elif handle.depth >= MAX_EDITS:
            problem = f"the call was edited {MAX_EDITS} times without a decision"
        if problem is not None:
            handle.decided_by = "system"
            return Refuse("denied", problem, reviewed=True, cites_rule=False)
        return Edit(patch=patch, editors=editors)

    def _edited(self, handle: StepHandle, edit: Edit) -> StepHandle:
        """The old call is recorded as modified; the edited one is prepared in its place."""
        modification = {**(handle.modification or {}), **edit.patch}
        handle.finish(
            "modified",
            error=f"edited by {', '.join(edit.editors)}: {sorted(edit.patch)}",
            durable=True,
        )
        proposal = handle.proposal
        new = self._prepared(
            handle.session,
            proposal.name,
            {**handle.raw_args, **edit.patch},
            handle.declared,
            proposal.actor,
        )
        new.raw_args = handle.raw_args
        new.modifies = handle.step_id
        new.modification = modification
        new.edit_check = handle.edit_check
        new.depth = handle.depth + 1
        return new

    def _spend_edited(self, runnable: StepHandle, edited_from: list[StepHandle]) -> StepHandle:
        """The call that runs after reviewers' edits spends each approval that led to it, once;
        the people's time to decide runs from the first request, not from the last edit."""
        for earlier in reversed(edited_from):
            if earlier.review_wait_ms is not None:
                runnable.review_wait_ms = earlier.review_wait_ms + (runnable.review_wait_ms or 0.0)
            if earlier.approval_id is None or self.approvals is None:
                continue
            first = self.approvals.consume(earlier.approval_id, runnable.step_id)
            if first is not None:
                reason = f"approval {earlier.approval_id} was already used by step {first}"
                runnable.decided_by = "system"
                runnable.finish("denied", error=reason, durable=True)
                raise CheckpointDenied(reason, step_id=runnable.step_id)
        return runnable

    def record_proposal(self, handle: StepHandle) -> None:
        """Write-ahead steps are durable now; cheap ones are built and written in the background."""
        if not handle.write_ahead:
            self.recorder.submit(handle.proposal_record)
            return
        record = handle.proposal_record()
        try:
            self.recorder.submit_durable(record)
        except StoreUnavailableError as exc:
            # The step will not run. Queue the proposal with its outcome, so the store holds
            # the whole story once it is writable again, then tell the caller.
            self.recorder.submit(record)
            handle.decided_by = "system"
            handle.finish("not_run", error=f"audit store unavailable: {exc}")
            raise

    def _refuse(self, handle: StepHandle, refusal: Refuse) -> NoReturn:
        """Record the refusal and raise what the caller is told: a denial that repeats halts
        the session instead."""
        session, reason = handle.session, refusal.reason
        if refusal.counts_as_denial and self._repeated_denial(handle):
            last = refusal.repeated_reason or reason
            reason = (
                f"the same denied action was proposed {self.halt_after_denials} times "
                f"(last denial: {last})"
            )
            refusal = Refuse("halted", reason, reviewed=refusal.reviewed)
        status = refusal.status
        if status == "halted":
            session.halt(reason)
        handle.finish(status, error=reason, durable=True)
        step_id, rule = handle.step_id, handle.verdict.rule
        if status == "halted":
            raise SessionHalted(session.id, reason)
        if status == "deferred":
            assert handle.approval_id is not None
            raise ApprovalPending(handle.approval_id, step_id=step_id, request=refusal.request)
        if status == "cancelled":
            raise CancelledError(reason)
        if status == "timed_out":
            raise CheckpointTimeout(reason, step_id=step_id, rule=rule)
        raise CheckpointDenied(reason, step_id=step_id, rule=rule if refusal.cites_rule else None)

    def _repeated_denial(self, handle: StepHandle) -> bool:
        """Count this denial by exact call and by kind + target; true once either repeats
        `halt_after_denials` times (an agent retrying a refused action in small variations)."""
        p = handle.proposal
        keys = [("digest", p.args_digest), *(("target", p.kind.value, t) for t in p.targets)]
        counts = handle.session.denials
        repeated = False
        for key in keys:
            counts[key] += 1
            repeated = repeated or counts[key] >= self.halt_after_denials
        return repeated


@dataclass(frozen=True, slots=True)
class Run:
    """The call runs as proposed."""

    reviewed: bool
    """A person decided it (an approver, or the editor of this very call)."""


@dataclass(frozen=True, slots=True)
class Refuse:
    """The call does not run; `status` is its recorded outcome."""

    status: StepStatus
    reason: str
    reviewed: bool | None
    """Whether a person decided it; None: no decision the session's facts count (a wait left
    pending or withdrawn, a store that failed)."""
    counts_as_denial: bool = False
    """Counts toward the repeated-denial halt (the policy's denials and people's)."""
    repeated_reason: str | None = None
    """The denial as the repeated-denial halt quotes it, when it differs from `reason`."""
    request: ApprovalRequest | None = None
    """For a deferred step: the request that waits for people."""
    cites_rule: bool = True
    """The refusal names the policy rule that gated the call (not so for a reviewer's edit
    that does not fit it)."""


@dataclass(frozen=True, slots=True)
class Edit:
    """A reviewer edited the call: the edited call is proposed and decided in its place."""

    patch: dict[str, Any]
    editors: list[str]
    reviewed: bool = True


Resolution = Run | Refuse | Edit


DECIDED_BY: dict[str, DecidedBy] = {
    "approved": "reviewers",
    "denied": "reviewers",
    "modified": "reviewers",
    "pending": "waiting",
    "granted": "grant",
    "unavailable": "no_reviewers",
    "timed_out": "deadline",
    "halted": "halt",
}
"""Who decided, by the approval desk's outcome; any other outcome (an approval for another
call or already used, a withdrawn wait) is the system's refusal."""
