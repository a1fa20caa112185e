"""The one interception pipeline every step goes through, whoever calls it.

    normalise → classify → decide → (autonomy) → record proposal → run → record outcome

The decorator, the low-level `Monitor.check` API and every adapter call `Pipeline.propose` and
then `StepHandle.succeed`/`fail`; nothing else writes step records. Each stage is a small method
here so the path is visible in one place and each stage can be tested alone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oversight.canonical import new_id
from oversight.classify import Classification, Classifier
from oversight.context import current_step
from oversight.decide import Decider, Proposal, Verdict
from oversight.errors import CheckpointDenied, SessionHalted, StoreUnavailableError
from oversight.kinds import CONSEQUENTIAL, Kind
from oversight.normalise import normalise_args, summarise_result
from oversight.recorder import Recorder
from oversight.records import Actor, StepFinished, StepProposed, StepStatus

if TYPE_CHECKING:
    from oversight.session import Session

# Flags that make a step write-ahead whatever its kind: its record must exist before it runs.
WRITE_AHEAD_FLAGS = frozenset({"protected_target", "obfuscated", "oversight_target"})

_CANCELLED = ("CancelledError", "KeyboardInterrupt", "GeneratorExit")


class Pipeline:
    def __init__(
        self,
        *,
        classifier: Classifier,
        decider: Decider,
        recorder: Recorder,
        max_arg_chars: int,
        result_summary_chars: int,
    ) -> None:
        self.classifier = classifier
        self.decider = decider
        self.recorder = recorder
        self.max_arg_chars = max_arg_chars
        self.result_summary_chars = result_summary_chars

    # -- stages -------------------------------------------------------------------------------
    def normalise(self, raw_args: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        return normalise_args(raw_args, max_chars=self.max_arg_chars)

    def classify(self, name: str, args: dict[str, Any], declared: Kind | None) -> Classification:
        return self.classifier.classify(name, args, declared)

    def decide(self, proposal: Proposal) -> Verdict:
        return self.decider.decide(proposal)

    @staticmethod
    def needs_write_ahead(classification: Classification) -> bool:
        return classification.kind in CONSEQUENTIAL or not WRITE_AHEAD_FLAGS.isdisjoint(
            classification.flags
        )

    def record_proposal(self, record: StepProposed, *, write_ahead: bool) -> None:
        if write_ahead:
            self.recorder.submit_durable(record)
        else:
            self.recorder.submit(record)

    # -- the path -----------------------------------------------------------------------------
    def propose(
        self,
        session: Session,
        name: str,
        raw_args: Mapping[str, Any],
        *,
        declared: Kind | None = None,
        actor: Actor = "agent",
    ) -> StepHandle:
        """Run every stage up to the call itself; raise if the step must not run.

        Raises SessionHalted, CheckpointDenied, or StoreUnavailableError (write-ahead failed: a
        consequential step is never run unrecorded).
        """
        session.check_running()
        args, args_digest = self.normalise(raw_args)
        classification = self.classify(name, args, declared)
        step_id = new_id()
        seq = session.next_seq()
        verdict = self.decide(
            Proposal(
                session_id=session.id,
                step_id=step_id,
                seq=seq,
                name=name,
                kind=classification.kind,
                actor=actor,
                args=args,
                args_digest=args_digest,
                flags=classification.flags,
                targets=classification.targets,
            )
        )
        write_ahead = self.needs_write_ahead(classification)
        record = StepProposed(
            session_id=session.id,
            step_id=step_id,
            parent_id=current_step.get(),
            seq=seq,
            kind=classification.kind.value,
            name=name,
            actor=actor,
            args=args,
            args_digest=args_digest,
            reason=classification.reason,
            flags=sorted(classification.flags),
            targets=list(classification.targets),
            write_ahead=write_ahead,
            decision=verdict.decision,
            rule=verdict.rule,
            policy_hash=verdict.policy_hash,
            decision_reason=verdict.reason,
        )
        handle = StepHandle(self, session, record, classification, verdict)
        try:
            self.record_proposal(record, write_ahead=write_ahead)
        except StoreUnavailableError as exc:
            # The step will not run. Queue the proposal with its outcome, so the store holds
            # the whole story once it is writable again, then tell the caller.
            self.recorder.submit(record)
            handle.finish("not_run", error=f"audit store unavailable: {exc}")
            raise
        if verdict.decision != "allow":
            self._refuse(handle, verdict)
        return handle

    def _refuse(self, handle: StepHandle, verdict: Verdict) -> None:
        if verdict.decision == "halt":
            handle.session.halt(verdict.reason)
            handle.finish("halted", error=verdict.reason, durable=True)
            raise SessionHalted(handle.session.id, verdict.reason)
        reason = verdict.reason
        if verdict.decision == "require_approval":
            # Fail closed: with no approval channel there is nobody who could say yes.
            reason = f"approval required and no approval channel is configured ({verdict.reason})"
        handle.finish("denied", error=reason, durable=True)
        raise CheckpointDenied(reason, step_id=handle.step_id, rule=verdict.rule)


class StepHandle:
    """A step that was allowed to run; report its outcome exactly once."""

    __slots__ = (
        "_pipeline",
        "_started_at",
        "_t0",
        "classification",
        "finished",
        "record",
        "session",
        "verdict",
    )

    def __init__(
        self,
        pipeline: Pipeline,
        session: Session,
        record: StepProposed,
        classification: Classification,
        verdict: Verdict,
    ) -> None:
        self._pipeline = pipeline
        self.session = session
        self.record = record
        self.classification = classification
        self.verdict = verdict
        self._started_at = record.ts
        self._t0 = time.perf_counter()
        self.finished = False

    @property
    def step_id(self) -> str:
        return self.record.step_id

    @property
    def kind(self) -> Kind:
        return self.classification.kind

    @property
    def args(self) -> dict[str, Any]:
        return self.record.args

    def succeed(self, result: Any = None) -> None:
        result_digest, summary = summarise_result(
            result, max_chars=self._pipeline.result_summary_chars
        )
        self.finish("ok", result_digest=result_digest, result_summary=summary)

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
    ) -> None:
        if self.finished:
            return
        self.finished = True
        record = StepFinished(
            session_id=self.session.id,
            step_id=self.record.step_id,
            seq=self.record.seq,
            kind=self.record.kind,
            status=status,
            started_at=self._started_at,
            duration_ms=(time.perf_counter() - self._t0) * 1000.0,
            result_digest=result_digest,
            result_summary=result_summary,
            error=error,
        )
        if durable:
            self._pipeline.recorder.submit_durable(record)
        else:
            self._pipeline.recorder.submit(record)
