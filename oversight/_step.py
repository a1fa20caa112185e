"""`StepHandle`: a decided step that may run, and the one protocol every caller runs it by.

    handle = monitor.check(name, args)               # raises when the step must not run
    result = handle.call(tool, **handle.call_args)   # or: await handle.acall(...)

    with monitor.check(name, args) as step:          # when the outcome needs more than a result
        reply = model(**step.call_args)
        step.succeed(summary(reply), attributes=usage(reply))

Inside the call (or the block) steps it starts are its children; its outcome is reported exactly
once: `call`/`acall` report the result, an exception is the step's failure (cancelled, for a
cancelled task), and a block that reported nothing succeeded with no result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as _dt
import functools
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import Token
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

from oversight._context import current_handle, current_step
from oversight._edits import EditCheck
from oversight._recorder import Recorder
from oversight._session import Session
from oversight.classify import Classification
from oversight.decide import Proposal, Verdict
from oversight.errors import CheckpointDenied, SessionHalted
from oversight.kinds import Kind
from oversight.normalise import shown_targets, summarise_result
from oversight.records import DecidedBy, StepFinished, StepProposed, StepStatus
from oversight.redact import redact, redact_text

P = ParamSpec("P")
T = TypeVar("T")

CANCELLED: tuple[type[BaseException], ...] = (
    asyncio.CancelledError,
    concurrent.futures.CancelledError,
    KeyboardInterrupt,
    GeneratorExit,
)
"""A call that ended with one of these was cancelled, not failed."""


class StepHandle:
    """A step that was allowed to run; report its outcome exactly once."""

    __slots__ = (
        "_contexts",
        "_recorder",
        "_summary_chars",
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
        recorder: Recorder,
        session: Session,
        proposal: Proposal,
        classification: Classification,
        verdict: Verdict,
        *,
        parent_id: str | None,
        write_ahead: bool,
        proposed_at: _dt.datetime,
        raw_args: Mapping[str, Any],
        summary_chars: int,
    ) -> None:
        self._recorder = recorder
        self._summary_chars = summary_chars
        self._contexts: list[tuple[Token[str | None], Token[StepHandle | None]]] = []
        self.raw_args = raw_args
        self.modifies: str | None = None
        self.modification: dict[str, Any] | None = None
        self.declared: Kind | None = None
        self.edit_check: EditCheck | None = None
        """Says what is wrong with a reviewer's edited values (empty: they fit the call)."""
        self.depth = 0
        """How many reviewer edits led to this call."""
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

    # -- running the call ---------------------------------------------------------------------
    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(*args, **kwargs)` as this step and report its outcome."""
        with self:
            result = fn(*args, **kwargs)
            self.succeed(result)
        return result

    async def acall(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await `fn(*args, **kwargs)` as this step and report its outcome."""
        with self:
            result = await fn(*args, **kwargs)
            self.succeed(result)
        return result

    def __enter__(self) -> Self:
        """Run the block as this step: steps started in it are its children."""
        self._contexts.append((current_step.set(self.step_id), current_handle.set(self)))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """An exception is the step's failure; a block that reported nothing succeeded."""
        step_token, handle_token = self._contexts.pop()
        current_handle.reset(handle_token)
        current_step.reset(step_token)
        if exc is not None:
            self.fail(exc)
        elif not self.finished:
            self.succeed(None)

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

    # -- reporting ----------------------------------------------------------------------------
    def succeed(self, result: Any = None, *, attributes: Mapping[str, Any] | None = None) -> None:
        """Report that the call ran; `attributes` are extra facts to record (an adapter's model
        name and token usage, say), kept with the outcome and put on its span."""
        if self.extra_attributes:
            attributes = {**self.extra_attributes, **(attributes or {})}
        if type(result) in _IMMUTABLE and not self.write_ahead and attributes is None:
            # Nothing can change an immutable result later: summarise it in the background.
            self._finish_later(result)
            return
        result_digest, summary = summarise_result(result, max_chars=self._summary_chars)
        self.finish(
            "ok",
            result_digest=result_digest,
            result_summary=summary,
            attributes=dict(attributes) if attributes else None,
        )

    def fail(self, exc: BaseException) -> None:
        status: StepStatus = "cancelled" if isinstance(exc, CANCELLED) else "error"
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
        """Record the outcome (once: later calls do nothing); `durable` writes it now."""
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
            self._recorder.submit_durable(build())
        else:
            self._recorder.submit(build)

    def _finish_later(self, result: Any) -> None:
        if self.finished:
            return
        self.finished = True
        self._score("ok")
        duration_ms = (time.perf_counter() - self._t0) * 1000.0
        limit = self._summary_chars

        def build() -> StepFinished:
            result_digest, summary = summarise_result(result, max_chars=limit)
            return self._outcome(
                "ok", duration_ms, result_digest=result_digest, result_summary=summary
            )

        self._recorder.submit(build)

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

    # -- records ------------------------------------------------------------------------------
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
            # Whatever the text came from (an exception, a reviewer's reason, a tool's error
            # message), secrets in it never reach the store, the event log or a span.
            error=redact_text(error) if error else error,
            approved_by=self.approved_by,
            decided_by=self.decided_by,
            reviewers=self.reviewed_by if self.decided_by == "reviewers" else [],
            approval_id=self.approval_id,
            review_wait_ms=self.review_wait_ms,
            attributes=redact(attributes) if attributes else attributes,
            autonomy_score=self.autonomy[0] if self.autonomy else None,
            autonomy_scenario=self.autonomy[1] if self.autonomy else None,
        )


# Results of these types cannot change after the step returns.
_IMMUTABLE = frozenset({str, int, float, bool, bytes, type(None)})
