"""The one interception pipeline every step goes through, whoever calls it.

    normalise → classify → decide → (autonomy) → record proposal → run → record outcome

The decorator, the low-level `Monitor.check` API and every adapter call `Pipeline.propose` and
then `StepHandle.succeed`/`fail`; nothing else writes step records. Each stage is a small method
here so the path is visible in one place and each stage can be tested alone. `propose` is
`prepare` (no I/O) then `admit` (records, may wait for people): an async caller runs the first in
place and the second off its event loop when `may_block` says it can block.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import time
from asyncio import CancelledError
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from oversight.approvals.broker import ApprovalDesk
from oversight.canonical import new_id, utc_now
from oversight.classify import Classification, Classifier
from oversight.classify.workspace import SessionView
from oversight.context import current_handle, current_step
from oversight.decide import (
    NO_FACTS,
    ApprovalSpec,
    Decider,
    Proposal,
    SessionFacts,
    Verdict,
    wants_facts,
)
from oversight.edits import EditCheck
from oversight.errors import (
    ApprovalPending,
    CheckpointDenied,
    CheckpointTimeout,
    ConfigError,
    SessionHalted,
    StoreError,
    StoreUnavailableError,
)
from oversight.kinds import CONSEQUENTIAL, Kind
from oversight.normalise import (
    UNKEYED,
    NormalisedCall,
    normalise_call,
    shown_targets,
    summarise_result,
)
from oversight.recorder import Recorder
from oversight.records import (
    DECISIONS,
    Actor,
    Alert,
    DecidedBy,
    StepFinished,
    StepProposed,
    StepStatus,
)
from oversight.redact import redact_text
from oversight.whole_call import gate_oversized, oversized

if TYPE_CHECKING:
    from oversight.session import Session

# Flags that make a step write-ahead whatever its kind: its record must exist before it runs.
WRITE_AHEAD_FLAGS = frozenset({"protected_target", "obfuscated", "oversight_target"})

_CANCELLED = ("CancelledError", "KeyboardInterrupt", "GeneratorExit")
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
        halt_check: Callable[[str], str | None] | None = None,
        store_check: Callable[[str], None] | None = None,
        halt_after_denials: int = 3,
        approvals: ApprovalDesk | None = None,
    ) -> None:
        self.approvals = approvals
        self.halt_check = halt_check
        self.store_check = store_check
        """Raises before a consequential step when the store is not the one this monitor
        opened (deleted, moved, replaced, emptied): see `store_guard.py`."""
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
        """The whole call, or, past the size limit, nothing of it: a prefix would be judged
        on what it shows and run with what it hides (a long here-doc, then `git push`)."""
        if call.size > self.max_classified_chars:
            return oversized(call.size, self.max_classified_chars, declared)
        return self.classifier.classify(name, call.args, declared, view)

    def decide(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict:
        verdict = self.decider.decide(proposal, facts)
        if not isinstance(verdict, Verdict) or verdict.decision not in DECISIONS:
            # Fail closed: a decider that answers nonsense has not allowed anything.
            raise ConfigError(
                f"decider {type(self.decider).__name__} returned {verdict!r}; expected a Verdict "
                f"with decision one of {', '.join(DECISIONS)}"
            )
        return verdict

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
        return self._prepare(session, name, raw_args, declared, actor, enforce=enforce)

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
        """Record a prepared step and apply its decision: the handle that may run, or raise."""
        self._commit(handle)
        if not handle.enforced:
            # The caller cannot stop this call: record what the policy says, and that it ran.
            handle.session.facts.observe(handle.proposal, reviewed=False)
            return handle
        return self._gate(handle, wait=wait, approval_id=approval_id, cancelled=cancelled)

    def _prepare(
        self,
        session: Session,
        name: str,
        raw_args: Mapping[str, Any],
        declared: Kind | None,
        actor: Actor,
        modifies: StepHandle | None = None,
        *,
        enforce: bool = True,
    ) -> StepHandle:
        """normalise → classify → decide."""
        proposed_at = utc_now()
        call = self.normalise(raw_args)
        classification = self.classify(name, call, declared, session.view)
        # Folded in before the decision: a write the policy then refuses is still remembered,
        # which can only make a later run of that file look more consequential (fail closed).
        session.view.observe(name, call.args)
        proposal = Proposal(
            session_id=session.id,
            step_id=new_id(),
            seq=session.next_seq(),
            name=name,
            kind=classification.kind,
            actor=actor,
            args=call.args,
            args_digest=call.digest,
            flags=classification.flags,
            targets=classification.targets,
            shown_args=call.stored,
        )
        verdict = gate_oversized(
            self.decide(proposal, session.facts.facts() if self.wants_facts else NO_FACTS),
            classification,
        )
        handle = StepHandle(
            self,
            session,
            proposal,
            classification,
            verdict,
            parent_id=current_step.get(),
            write_ahead=self.needs_write_ahead(classification),
            proposed_at=proposed_at,
            raw_args=raw_args,
        )
        handle.enforced = enforce
        handle.declared = declared
        if modifies is not None:
            handle.modifies = modifies.step_id
            handle.modification = modifies.modification
            handle.edit_check = modifies.edit_check
        return handle

    def _commit(self, handle: StepHandle) -> None:
        """A consequential step checks its store and asks it for halts issued a moment ago;
        then it is recorded."""
        if handle.write_ahead:
            session_id = handle.session.id
            try:
                if self.store_check is not None:
                    self.store_check(session_id)
                halted = self.halt_check(session_id) if self.halt_check is not None else None
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

    def _gate(
        self,
        handle: StepHandle,
        *,
        wait: bool,
        approval_id: str | None,
        preapproved: tuple[str, ...] = (),
        cancelled: Callable[[], bool] | None = None,
    ) -> StepHandle:
        """Apply the decision: return the handle that may run, or raise."""
        verdict, session = handle.verdict, handle.session
        if verdict.decision == "allow":
            # An edited call the policy allows outright was still reviewed: by its editor.
            handle.approved_by = list(preapproved)
            handle.reviewed_by = list(preapproved)
            handle.decided_by = "reviewers" if preapproved else "policy"
            session.facts.observe(handle.proposal, reviewed=bool(preapproved))
            return handle
        if verdict.decision == "require_approval" and self.approvals is not None:
            return self._seek_approval(handle, verdict, wait, approval_id, preapproved, cancelled)
        session.facts.observe(handle.proposal, reviewed=False)
        if handle.modifies is not None:
            verdict = Verdict(
                verdict.decision,
                f"the reviewer's edit of step {handle.modifies} is itself refused: "
                f"{verdict.reason}",
                rule=verdict.rule,
                policy_hash=verdict.policy_hash,
            )
        self._refuse(handle, verdict)

    def _seek_approval(
        self,
        handle: StepHandle,
        verdict: Verdict,
        wait: bool,
        approval_id: str | None,
        preapproved: tuple[str, ...],
        cancelled: Callable[[], bool] | None,
    ) -> StepHandle:
        """Ask reviewers; return the handle that may run, or raise with its outcome recorded."""
        assert self.approvals is not None
        session, proposal = handle.session, handle.proposal
        halt_check = self.halt_check
        try:
            outcome = self.approvals.request(
                proposal,
                verdict.approval or ApprovalSpec(),
                reason=verdict.reason,
                rule=verdict.rule,
                halted=lambda: halt_check(session.id) if halt_check else None,
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
            session.facts.observe(proposal, reviewed=True)
            return handle
        if status == "granted":
            # A standing grant is an automatic approval, not a person's review of this step.
            session.facts.observe(proposal, reviewed=False)
            return handle
        if status == "pending":
            handle.finish("deferred", error=outcome.reason, durable=True)
            assert outcome.approval_id is not None
            raise ApprovalPending(
                outcome.approval_id, step_id=proposal.step_id, request=outcome.request
            )
        if status == "modified":
            return self._run_modified(
                handle, outcome.patch or {}, outcome.approvers, wait, cancelled
            )
        if status == "withdrawn":
            # Whoever waited has gone (a cancelled task): the step never runs.
            handle.finish("cancelled", error=outcome.reason, durable=True)
            raise CancelledError(outcome.reason)
        session.facts.observe(proposal, reviewed=status == "denied")
        if status == "halted":
            session.halt(outcome.reason)
            handle.finish("halted", error=outcome.reason, durable=True)
            raise SessionHalted(session.id, outcome.reason)
        if status == "timed_out":
            handle.finish("timed_out", error=outcome.reason, durable=True)
            raise CheckpointTimeout(outcome.reason, step_id=proposal.step_id, rule=verdict.rule)
        reason = outcome.reason
        if status == "denied":
            # A person's denial counts toward the repeated-denial halt like the policy's.
            self._halt_if_repeated(handle, reason)
        if status == "unavailable":
            reason = f"approval required ({verdict.reason}) but {outcome.reason}"
        handle.finish("denied", error=reason, durable=True)
        raise CheckpointDenied(reason, step_id=proposal.step_id, rule=verdict.rule)

    def _run_modified(
        self,
        handle: StepHandle,
        patch: dict[str, Any],
        editors: list[str],
        wait: bool,
        cancelled: Callable[[], bool] | None,
    ) -> StepHandle:
        """A reviewer edited the call: the edit is a new call, decided by the policy again.

        The editor's signed edit counts as their approval of exactly the edited call; a rule that
        needs more people (quorum) still waits for them, and a rule that denies still denies.
        """
        session, proposal = handle.session, handle.proposal
        editor = ", ".join(editors)
        unknown = sorted(set(patch) - set(handle.raw_args))
        if unknown:
            reason = f"{editor}'s edit names argument(s) the call does not have: {unknown}"
            session.facts.observe(proposal, reviewed=True)
            handle.decided_by = "system"
            handle.finish("denied", error=reason, durable=True)
            raise CheckpointDenied(reason, step_id=proposal.step_id)
        problems = handle.edit_check(patch) if handle.edit_check is not None else []
        if problems:
            # Fail closed: the call never runs with values its function does not accept.
            reason = f"{editor}'s edit does not fit the call: {'; '.join(problems)}"
            session.facts.observe(proposal, reviewed=True)
            handle.decided_by = "system"
            handle.finish("denied", error=reason, durable=True)
            raise CheckpointDenied(reason, step_id=proposal.step_id)
        if handle.depth >= MAX_EDITS:
            reason = f"the call was edited {MAX_EDITS} times without a decision"
            handle.decided_by = "system"
            handle.finish("denied", error=reason, durable=True)
            raise CheckpointDenied(reason, step_id=proposal.step_id)
        session.facts.observe(proposal, reviewed=True)
        edited = {**handle.raw_args, **patch}
        modification = {**(handle.modification or {}), **patch}
        handle.finish("modified", error=f"edited by {editor}: {sorted(patch)}", durable=True)
        handle.modification = modification
        new = self._prepare(
            session, proposal.name, edited, handle.declared, proposal.actor, modifies=handle
        )
        new.depth = handle.depth + 1
        self._commit(new)
        # A deterministic id: an agent that comes back for the original approval (a resumed
        # graph node) finds the edited call's approval instead of opening another.
        edit_id = f"{handle.approval_id}:edit" if handle.approval_id else None
        runnable = self._gate(
            new,
            wait=wait,
            approval_id=edit_id,
            preapproved=tuple(editors),
            cancelled=cancelled,
        )
        if handle.review_wait_ms is not None:
            # The people's time to decide runs from the first request, not from the edit: an
            # edit its author's own signature approves at once is no rubber stamp.
            runnable.review_wait_ms = handle.review_wait_ms + (runnable.review_wait_ms or 0.0)
        if handle.approval_id is not None and self.approvals is not None:
            # The original approval is spent by the edited call that runs, once.
            first = self.approvals.store.consume_approval(handle.approval_id, runnable.step_id)
            if first is not None:
                reason = f"approval {handle.approval_id} was already used by step {first}"
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

    def _refuse(self, handle: StepHandle, verdict: Verdict) -> NoReturn:
        handle.decided_by = (
            "halt"
            if verdict.decision == "halt"
            else "no_reviewers"
            if verdict.decision == "require_approval"
            else "policy"
        )
        if verdict.decision == "halt":
            handle.session.halt(verdict.reason)
            handle.finish("halted", error=verdict.reason, durable=True)
            raise SessionHalted(handle.session.id, verdict.reason)
        reason = verdict.reason
        self._halt_if_repeated(handle, reason)
        if verdict.decision == "require_approval":
            # Fail closed: with no approval channel there is nobody who could say yes.
            reason = f"approval required and no approval channel is configured ({verdict.reason})"
        handle.finish("denied", error=reason, durable=True)
        raise CheckpointDenied(reason, step_id=handle.step_id, rule=verdict.rule)

    def _halt_if_repeated(self, handle: StepHandle, reason: str) -> None:
        """Count a denial (the policy's or a reviewer's); halt the session once it repeats."""
        if self._repeated_denial(handle):
            reason = (
                f"the same denied action was proposed {self.halt_after_denials} times "
                f"(last denial: {reason})"
            )
            handle.session.halt(reason)
            handle.finish("halted", error=reason, durable=True)
            raise SessionHalted(handle.session.id, reason)

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


class StepHandle:
    """A step that was allowed to run; report its outcome exactly once."""

    __slots__ = (
        "_pipeline",
        "_t0",
        "approval_id",
        "approved_by",
        "autonomy",
        "classification",
        "decided_by",
        "declared",
        "depth",
        "edit_check",
        "enforced",
        "extra_attributes",
        "finished",
        "modification",
        "modifies",
        "parent_id",
        "proposal",
        "proposed_at",
        "raw_args",
        "review_wait_ms",
        "reviewed_by",
        "session",
        "verdict",
        "write_ahead",
    )

    def __init__(
        self,
        pipeline: Pipeline,
        session: Session,
        proposal: Proposal,
        classification: Classification,
        verdict: Verdict,
        *,
        parent_id: str | None,
        write_ahead: bool,
        proposed_at: _dt.datetime,
        raw_args: Mapping[str, Any],
    ) -> None:
        self._pipeline = pipeline
        self.raw_args = raw_args
        self.modifies: str | None = None
        self.modification: dict[str, Any] | None = None
        self.declared: Kind | None = None
        self.edit_check: EditCheck | None = None
        """Says what is wrong with a reviewer's edited values (empty: they fit the call)."""
        self.depth = 0
        self.enforced = True
        self.review_wait_ms: float | None = None
        self.reviewed_by: list[str] = []
        """People who decided this step: approvers, a denier, or an editor."""
        self.decided_by: DecidedBy = "policy"
        """Who or what decided it (a typed field of its outcome record, read by scoring)."""
        self.autonomy: tuple[float, int] | None = None
        self.session = session
        self.proposal = proposal
        self.classification = classification
        self.verdict = verdict
        self.parent_id = parent_id
        self.write_ahead = write_ahead
        self.proposed_at = proposed_at
        self._t0 = time.perf_counter()
        self.finished = False
        self.approval_id: str | None = None
        self.approved_by: list[str] = []
        self.extra_attributes: dict[str, Any] = {}
        """Facts learnt while the call runs (what the sandbox granted it), kept with its
        outcome."""

    @property
    def step_id(self) -> str:
        return self.proposal.step_id

    @property
    def kind(self) -> Kind:
        return self.proposal.kind

    @property
    def args(self) -> dict[str, Any]:
        """The call as recorded: normalised and redacted."""
        return self.proposal.shown()

    @property
    def call_args(self) -> dict[str, Any]:
        """The arguments to run with: the caller's own, with a reviewer's edit applied."""
        return {**self.raw_args, **(self.modification or {})}

    @property
    def modified_by(self) -> list[str] | None:
        """Who edited the call, when a reviewer did (they are also its approvers)."""
        return self.approved_by if self.modifies is not None else None

    def proposal_record(self) -> StepProposed:
        p, c, v = self.proposal, self.classification, self.verdict
        return StepProposed(
            ts=self.proposed_at,
            session_id=p.session_id,
            step_id=p.step_id,
            parent_id=self.parent_id,
            seq=p.seq,
            kind=p.kind.value,
            name=p.name,
            actor=p.actor,
            args=p.shown(),
            args_digest=p.args_digest,
            # classified from the whole call: what it quotes of the call is redacted too
            reason=redact_text(c.reason),
            flags=sorted(c.flags),
            targets=shown_targets(c.targets),
            write_ahead=self.write_ahead,
            decision=v.decision,
            rule=v.rule,
            policy_hash=v.policy_hash,
            decision_reason=v.reason,
            modifies=self.modifies,
            enforced=self.enforced,
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """While the call runs: steps started inside it (a decorated function a tool calls)
        are recorded as its children."""
        token, held = current_step.set(self.step_id), current_handle.set(self)
        try:
            yield
        finally:
            current_handle.reset(held)
            current_step.reset(token)

    def succeed(self, result: Any = None, *, attributes: Mapping[str, Any] | None = None) -> None:
        """Report that the call ran; `attributes` are extra facts to record (an adapter's model
        name and token usage, say), kept with the outcome and put on its span."""
        if self.extra_attributes:
            attributes = {**self.extra_attributes, **(attributes or {})}
        if type(result) in _IMMUTABLE and not self.write_ahead and attributes is None:
            # Nothing can change an immutable result later: summarise it in the background.
            self._finish_later(result)
            return
        result_digest, summary = summarise_result(
            result, max_chars=self._pipeline.result_summary_chars
        )
        self.finish(
            "ok",
            result_digest=result_digest,
            result_summary=summary,
            attributes=dict(attributes) if attributes else None,
        )

    def fail(self, exc: BaseException) -> None:
        status: StepStatus = "cancelled" if type(exc).__name__ in _CANCELLED else "error"
        if isinstance(exc, SessionHalted):
            status = "halted"
        elif isinstance(exc, CheckpointDenied) and exc.step_id == self.step_id:
            status = "denied"
        self.finish(status, error=f"{type(exc).__name__}: {exc}"[:2000])

    def finish(
        self,
        status: StepStatus,
        *,
        result_digest: str | None = None,
        result_summary: str | None = None,
        error: str | None = None,
        durable: bool = False,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        if self.finished:
            return
        self.finished = True
        self._score(status)
        build = functools.partial(
            self._outcome,
            status,
            (time.perf_counter() - self._t0) * 1000.0,
            result_digest=result_digest,
            result_summary=result_summary,
            error=error,
            attributes=attributes,
        )
        if durable:
            self._pipeline.recorder.submit_durable(build())
        else:
            self._pipeline.recorder.submit(build)

    def _finish_later(self, result: Any) -> None:
        if self.finished:
            return
        self.finished = True
        self._score("ok")
        duration_ms = (time.perf_counter() - self._t0) * 1000.0
        limit = self._pipeline.result_summary_chars

        def build() -> StepFinished:
            result_digest, summary = summarise_result(result, max_chars=limit)
            return self._outcome(
                "ok", duration_ms, result_digest=result_digest, result_summary=summary
            )

        self._pipeline.recorder.submit(build)

    def _score(self, status: StepStatus) -> None:
        """Fold this step into its session's autonomy; stamp it when the score can move."""
        snapshot = self.session.autonomy.fold(
            self.proposal,
            self.verdict,
            ts=self.proposed_at.timestamp(),
            status=status,
            decided_by=self.decided_by,
            reviewers=self.reviewed_by,
            approval_id=self.approval_id,
            review_wait_ms=self.review_wait_ms,
        )
        if snapshot is not None:
            self.autonomy = (snapshot.score, snapshot.scenario)
            self.session.facts.set_autonomy(snapshot.score, snapshot.scenario, snapshot.signals)

    def _outcome(
        self,
        status: StepStatus,
        duration_ms: float,
        *,
        result_digest: str | None = None,
        result_summary: str | None = None,
        error: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> StepFinished:
        p = self.proposal
        return StepFinished(
            session_id=p.session_id,
            step_id=p.step_id,
            seq=p.seq,
            kind=p.kind.value,
            status=status,
            started_at=self.proposed_at,
            duration_ms=duration_ms,
            result_digest=result_digest,
            result_summary=result_summary,
            error=error,
            approved_by=self.approved_by,
            decided_by=self.decided_by,
            reviewers=self.reviewed_by if self.decided_by == "reviewers" else [],
            approval_id=self.approval_id,
            review_wait_ms=self.review_wait_ms,
            attributes=attributes,
            autonomy_score=self.autonomy[0] if self.autonomy else None,
            autonomy_scenario=self.autonomy[1] if self.autonomy else None,
        )


# Results of these types cannot change after the step returns.
_IMMUTABLE = frozenset({str, int, float, bool, bytes, type(None)})
