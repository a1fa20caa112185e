"""Records as OpenTelemetry spans, built after the fact from their recorded timestamps.

Records reach us after they are committed, so spans are started and ended with explicit times
rather than around the live call. A session is an `invoke_agent` span; each step is an
`execute_tool` (or, for model calls, a `chat`) span under its parent step or its session. Open
spans are held only until their outcome arrives; a bounded memory of ended ones lets late
children and outcomes still find their parent.

What happens while a span is open is made visible at once: a step that waits for people gets a
`checkpoint` span, ended and flushed when the request is made, so a backend shows the waiting
agent before anyone answers. A session's span ids follow from its records (`span_ids`), and a
note marks it open (`open_sessions`), so a killed agent's session span is made by the next
monitor and the steps it exported still sit under it. A call deferred to people elsewhere and
the call that resumes it are linked.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TracerProvider,
    set_span_in_context,
)
from opentelemetry.util.types import AttributeValue

from oversight._version import __version__
from oversight.canonical import canonical_json, to_jsonable
from oversight.kinds import Kind
from oversight.records import (
    Alert,
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
)
from oversight.telemetry import attributes as A
from oversight.telemetry.open_sessions import OpenSessionNotes
from oversight.telemetry.span_ids import (
    ChosenIds,
    deferred_step_span,
    span_id_for,
    trace_id_for,
)

# Outcomes that make a span's status ERROR; "ok" and "cancelled" leave it unset.
ERROR_STEP_STATUSES: frozenset[str] = frozenset({"error", "denied", "halted", "timed_out"})
ERROR_SESSION_STATUSES: frozenset[str] = frozenset({"failed", "halted"})

# How many ended spans are remembered so late children and duplicate outcomes find them.
ENDED_MEMORY = 4096
# How long a checkpoint span may hold the recorder's thread to leave now (approvals are rare).
CHECKPOINT_FLUSH_MS = 1000

Attributes = dict[str, AttributeValue]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


@dataclass(slots=True)
class _OpenSession:
    span: Span
    start_ns: int
    agent: str | None
    refused: int = 0
    """Steps refused so far (denied, halted, timed out): the session's span is an error then."""


@dataclass(slots=True)
class _OpenStep:
    span: Span
    start_ns: int
    session_id: str
    decision: str


@dataclass(frozen=True, slots=True)
class _EndedSession:
    context: SpanContext
    agent: str | None


class SpanRecorder:
    """Turns records, in commit order, into spans on one tracer provider."""

    def __init__(
        self,
        provider: TracerProvider,
        on_error: Callable[[Exception], None],
        ended_memory: int = ENDED_MEMORY,
        notes: OpenSessionNotes | None = None,
        stored: Callable[[str], Sequence[Record]] | None = None,
    ) -> None:
        """`stored(session_id)`: a session's records from the store, to link a resumed call to
        the call deferred in another run. Read only for a step people decided whose deferred
        call is not in memory: a few per session, on the writer's thread, where a read of even
        a long session is small beside the seconds a person took."""
        self._provider = provider
        self._stored = stored
        self._tracer = provider.get_tracer("oversight", __version__)
        self._ids: ChosenIds | None = None
        fallback = getattr(self._tracer, "id_generator", None)
        if fallback is not None:  # the SDK's tracer: a new object of ours, its generator ours
            self._ids = ChosenIds(fallback)
            self._tracer.id_generator = self._ids  # type: ignore[attr-defined]
        self._notes = notes if self._ids is not None else None
        self._on_error = on_error
        self._ended_memory = ended_memory
        self._sessions: dict[str, _OpenSession] = {}
        self._steps: dict[str, _OpenStep] = {}
        self._ended_sessions: OrderedDict[str, _EndedSession] = OrderedDict()
        self._ended_steps: OrderedDict[str, SpanContext] = OrderedDict()
        self._deferred: OrderedDict[str, SpanContext] = OrderedDict()
        """The span of each call deferred to people elsewhere, by approval id: the call that
        resumes it links to it."""

    @property
    def open_spans(self) -> int:
        return len(self._sessions) + len(self._steps)

    def handle(self, record: Record) -> None:
        if isinstance(record, StepProposed):
            self._step_proposed(record)
        elif isinstance(record, StepFinished):
            self._step_finished(record)
        elif isinstance(record, SessionStarted):
            self._session_started(record)
        elif isinstance(record, SessionEnded):
            self._session_ended(record)
        elif isinstance(record, Alert):
            self._alert(record)

    def close(self) -> None:
        """End every open span as interrupted: its outcome was never recorded."""
        now = time.time_ns()
        for step_id in list(self._steps):
            try:
                self._interrupt_step(step_id, now)
            except Exception as exc:  # noqa: BLE001 - one failing span must not keep others open
                self._on_error(exc)
        for session_id in list(self._sessions):
            try:
                self._interrupt_session(session_id, now)
            except Exception as exc:  # noqa: BLE001
                self._on_error(exc)

    def recover(self, records: Sequence[Record]) -> bool:
        """Make again the span of a session whose process died with it open: from its stored
        records, with the ids it had, so the steps it exported sit under it; the steps it left
        without an outcome end as interrupted, and so does the session, at its last record
        (unless the store holds its end). False when the records hold no session start."""
        started = next((r for r in records if isinstance(r, SessionStarted)), None)
        if started is None or started.session_id in self._sessions:
            return False
        finished = {r.step_id for r in records if isinstance(r, StepFinished)}
        self._session_started(started)
        for record in records:
            if isinstance(record, StepProposed) and record.step_id not in finished:
                self._step_proposed(record, live=False)
        ended = next((r for r in records if isinstance(r, SessionEnded)), None)
        if ended is not None:
            self._session_ended(ended)
        else:
            last = max((to_ns(r.ts) for r in records), default=to_ns(started.ts))
            self._interrupt_session(started.session_id, last)
        return True

    # -- sessions ---------------------------------------------------------------------------

    def _session_started(self, r: SessionStarted) -> None:
        if r.session_id in self._sessions or r.session_id in self._ended_sessions:
            return
        attrs: Attributes = {
            A.GEN_AI_OPERATION_NAME: A.OP_INVOKE_AGENT,
            A.GEN_AI_CONVERSATION_ID: r.session_id,
            A.OPENINFERENCE_SPAN_KIND: A.KIND_AGENT,
            A.SESSION_ID: r.session_id,
            A.OVERSIGHT_RECORD_ID: r.id,
        }
        _put(attrs, A.GEN_AI_AGENT_NAME, r.agent)
        _put(attrs, A.OVERSIGHT_POLICY, r.policy)
        _put(attrs, A.OVERSIGHT_POLICY_HASH, r.policy_hash)
        if r.metadata:
            attrs[A.METADATA] = _json(r.metadata)
        # What lists of traces show for the session: who ran, under which policy, with what.
        attrs[A.INPUT_VALUE] = _json(
            {"agent": r.agent, "policy": r.policy, "metadata": r.metadata, "host": r.host}
        )
        attrs[A.INPUT_MIME_TYPE] = A.MIME_JSON
        name = f"{A.OP_INVOKE_AGENT} {r.agent}" if r.agent else A.OP_INVOKE_AGENT
        start = to_ns(r.ts)
        if self._ids is not None:
            self._ids.choose(span_id_for(r.id), trace_id_for(r.id))
        span = self._tracer.start_span(
            clip(name),
            context=Context(),
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            start_time=start,
        )
        self._sessions[r.session_id] = _OpenSession(span, start, r.agent)
        if self._notes is not None:
            self._notes.opened(r.session_id)

    def _session_ended(self, r: SessionEnded) -> None:
        end = to_ns(r.ts)
        self._interrupt_steps_of(r.session_id, end)
        state = self._sessions.pop(r.session_id, None)
        if state is None:
            return
        span = state.span
        span.set_attribute(A.OVERSIGHT_STATUS, r.status)
        span.set_attribute(A.OVERSIGHT_STEPS, r.steps)
        span.set_attribute(A.OVERSIGHT_OUTCOME_RECORD_ID, r.id)
        span.set_attribute(A.OVERSIGHT_REFUSED_STEPS, state.refused)
        span.set_attribute(
            A.OUTPUT_VALUE,
            _json(
                {"status": r.status, "steps": r.steps, "refused": state.refused, "error": r.error}
            ),
        )
        span.set_attribute(A.OUTPUT_MIME_TYPE, A.MIME_JSON)
        if r.error is not None:
            span.set_attribute(A.OVERSIGHT_ERROR, clip(r.error))
        if r.status in ERROR_SESSION_STATUSES:
            span.set_attribute(A.ERROR_TYPE, r.status)
            span.set_status(Status(StatusCode.ERROR, _describe(r.status, r.error)))
        elif state.refused:
            # A session whose steps were refused shows as an error in trace lists.
            span.set_attribute(A.ERROR_TYPE, "refused")
            span.set_status(Status(StatusCode.ERROR, f"{state.refused} step(s) refused"))
        self._end_session(r.session_id, state, end)

    def _interrupt_steps_of(self, session_id: str, end: int) -> None:
        """End the session's steps still open as interrupted: its span is about to end."""
        for step_id in [k for k, s in self._steps.items() if s.session_id == session_id]:
            try:
                self._interrupt_step(step_id, end)
            except Exception as exc:  # noqa: BLE001 - the session span must still end
                self._on_error(exc)

    def _interrupt_session(self, session_id: str, end: int) -> None:
        self._interrupt_steps_of(session_id, end)
        state = self._sessions.pop(session_id)
        state.span.set_attribute(A.OVERSIGHT_STATUS, A.STATUS_INTERRUPTED)
        state.span.set_status(Status(StatusCode.ERROR, A.INTERRUPTED_DESCRIPTION))
        self._end_session(session_id, state, end)

    def _end_session(self, session_id: str, state: _OpenSession, end: int) -> None:
        _remember(
            self._ended_sessions,
            session_id,
            _EndedSession(state.span.get_span_context(), state.agent),
            self._ended_memory,
        )
        state.span.end(end_time=max(end, state.start_ns))
        if self._notes is not None:
            self._notes.closed(session_id)

    # -- steps ------------------------------------------------------------------------------

    def _step_proposed(self, r: StepProposed, *, live: bool = True) -> None:
        if r.step_id in self._steps or r.step_id in self._ended_steps:
            return
        parent, agent = self._parent(r.session_id, r.parent_id)
        name, kind, attrs = proposal_attributes(r, agent)
        start = to_ns(r.ts)
        if self._ids is not None:
            self._ids.choose(span_id_for(r.id))
        span = self._tracer.start_span(
            name, context=parent, kind=kind, attributes=attrs, start_time=start
        )
        self._steps[r.step_id] = _OpenStep(span, start, r.session_id, r.decision)
        if live and r.decision == "require_approval":
            self._checkpoint(span, r, agent, start)

    def _checkpoint(self, step: Span, r: StepProposed, agent: str | None, at: int) -> None:
        """A span that says, now, that the step waits for people: the step's own span is only
        exported once they answer. Flushed at once, so a backend shows the waiting agent."""
        attrs: Attributes = {
            A.OPENINFERENCE_SPAN_KIND: A.KIND_GUARDRAIL,
            A.SESSION_ID: r.session_id,
            A.GEN_AI_CONVERSATION_ID: r.session_id,
            A.OVERSIGHT_STEP_ID: r.step_id,
            A.OVERSIGHT_KIND: r.kind,
            A.OVERSIGHT_DECISION: r.decision,
            A.OVERSIGHT_REASON: clip(r.reason),
            A.OVERSIGHT_STATUS: A.STATUS_APPROVAL_REQUESTED,
            A.INPUT_VALUE: _json(r.args),
            A.INPUT_MIME_TYPE: A.MIME_JSON,
            # What lists show in their output column, read at any later time.
            A.OUTPUT_VALUE: clip(f"approval requested: {r.decision_reason or r.reason}"),
            A.OUTPUT_MIME_TYPE: A.MIME_TEXT,
        }
        _put(attrs, A.GEN_AI_AGENT_NAME, agent)
        _put(attrs, A.OVERSIGHT_RULE, r.rule)
        _put(attrs, A.OVERSIGHT_DECISION_REASON, r.decision_reason)
        span = self._tracer.start_span(
            clip(f"{A.CHECKPOINT_SPAN} {r.name}"),
            context=set_span_in_context(step, Context()),
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            start_time=at,
        )
        span.end(end_time=at)
        flush = getattr(self._provider, "force_flush", None)
        if callable(flush):
            flush(CHECKPOINT_FLUSH_MS)

    def _step_finished(self, r: StepFinished) -> None:
        started = to_ns(r.started_at)
        state = self._steps.pop(r.step_id, None)
        if state is not None:
            span, start = state.span, state.start_ns
        elif r.step_id in self._ended_steps:
            return  # an outcome we have already turned into a span
        else:
            # Its proposal was never seen (emit began mid-session): a span from the outcome alone.
            parent, agent = self._parent(r.session_id, None)
            name, kind, attrs = orphan_outcome_attributes(r, agent)
            span = self._tracer.start_span(
                name, context=parent, kind=kind, attributes=attrs, start_time=started
            )
            start = started
        span.set_attributes(outcome_attributes(r))
        if state is not None and state.decision == "require_approval":
            _approval_events(span, r, start)
        if r.approval_id is not None:
            self._link_deferred(span, r)
        if r.status in ERROR_STEP_STATUSES:
            span.set_status(Status(StatusCode.ERROR, _describe(r.status, r.error)))
            session = self._sessions.get(r.session_id)
            if session is not None and r.status != "error":
                session.refused += 1
        _remember(self._ended_steps, r.step_id, span.get_span_context(), self._ended_memory)
        span.end(end_time=max(started + round(r.duration_ms * 1_000_000), start))

    def _link_deferred(self, span: Span, r: StepFinished) -> None:
        """A call deferred to people (LangGraph's interrupt) and the later call that claims its
        approval (the resume) are two steps: the second's span links to the first's."""
        assert r.approval_id is not None
        if r.status == "deferred":
            _remember(self._deferred, r.approval_id, span.get_span_context(), self._ended_memory)
            return
        deferred = self._deferred.pop(r.approval_id, None)
        if deferred is None and self._stored is not None and r.decided_by != "waiting":
            deferred = deferred_step_span(self._stored(r.session_id), r.approval_id)
        if deferred is not None:
            span.add_link(deferred, {A.OVERSIGHT_LINK: A.LINK_RESUMES})

    def _alert(self, r: Alert) -> None:
        """An alert is an event on its step's span, else on its session's; with neither open, a
        span of its own under the session, so it is never dropped."""
        attrs: Attributes = {A.OVERSIGHT_ALERT_REASON: clip(r.reason), A.OVERSIGHT_RECORD_ID: r.id}
        at = to_ns(r.ts)
        step = self._steps.get(r.step_id) if r.step_id else None
        session = self._sessions.get(r.session_id)
        target = step.span if step is not None else session.span if session is not None else None
        if target is not None:
            target.add_event(A.EVENT_ALERT, attrs, timestamp=at)
            return
        parent, _ = self._parent(r.session_id, r.step_id)
        span = self._tracer.start_span(
            A.EVENT_ALERT,
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes={**attrs, A.SESSION_ID: r.session_id},
            start_time=at,
        )
        span.set_status(Status(StatusCode.ERROR, clip(r.reason)))
        span.end(end_time=at)

    def _interrupt_step(self, step_id: str, end: int) -> None:
        state = self._steps.pop(step_id)
        span = state.span
        _remember(self._ended_steps, step_id, span.get_span_context(), self._ended_memory)
        span.set_attribute(A.OVERSIGHT_STATUS, A.STATUS_INTERRUPTED)
        span.set_status(Status(StatusCode.ERROR, A.INTERRUPTED_DESCRIPTION))
        span.end(end_time=max(end, state.start_ns))

    def _parent(self, session_id: str, parent_id: str | None) -> tuple[Context, str | None]:
        """The context to start a step under (its parent step, else its session) and the agent."""
        agent: str | None = None
        session_span: Span | None = None
        open_session = self._sessions.get(session_id)
        if open_session is not None:
            agent, session_span = open_session.agent, open_session.span
        else:
            ended_session = self._ended_sessions.get(session_id)
            if ended_session is not None:
                agent = ended_session.agent
                session_span = NonRecordingSpan(ended_session.context)
        if parent_id is not None:
            open_step = self._steps.get(parent_id)
            if open_step is not None:
                return set_span_in_context(open_step.span, Context()), agent
            ended_step = self._ended_steps.get(parent_id)
            if ended_step is not None:
                return set_span_in_context(NonRecordingSpan(ended_step), Context()), agent
        if session_span is not None:
            return set_span_in_context(session_span, Context()), agent
        return Context(), agent


def proposal_attributes(r: StepProposed, agent: str | None) -> tuple[str, SpanKind, Attributes]:
    """Span name, kind and starting attributes for a proposed step."""
    attrs: Attributes = {
        A.GEN_AI_CONVERSATION_ID: r.session_id,
        A.SESSION_ID: r.session_id,
        A.INPUT_VALUE: _json(r.args),
        A.INPUT_MIME_TYPE: A.MIME_JSON,
        A.OVERSIGHT_KIND: r.kind,
        A.OVERSIGHT_SEQ: r.seq,
        A.OVERSIGHT_STEP_ID: r.step_id,
        A.OVERSIGHT_ACTOR: r.actor,
        A.OVERSIGHT_ARGS_DIGEST: r.args_digest,
        A.OVERSIGHT_DECISION: r.decision,
        A.OVERSIGHT_REASON: clip(r.reason),
        A.OVERSIGHT_FLAGS: _strings(r.flags),
        A.OVERSIGHT_TARGETS: _strings(r.targets),
        A.OVERSIGHT_WRITE_AHEAD: r.write_ahead,
        A.OVERSIGHT_RECORD_ID: r.id,
    }
    _put(attrs, A.GEN_AI_AGENT_NAME, agent)
    _put(attrs, A.OVERSIGHT_PARENT_ID, r.parent_id)
    _put(attrs, A.OVERSIGHT_RULE, r.rule)
    _put(attrs, A.OVERSIGHT_POLICY_HASH, r.policy_hash)
    _put(attrs, A.OVERSIGHT_DECISION_REASON, r.decision_reason)
    if r.kind == Kind.MODEL_CALL:
        model = _model(r.args)
        attrs[A.GEN_AI_OPERATION_NAME] = A.OP_CHAT
        attrs[A.OPENINFERENCE_SPAN_KIND] = A.KIND_LLM
        _put(attrs, A.GEN_AI_REQUEST_MODEL, model)
        _put(attrs, A.LLM_MODEL_NAME, model)
        provider = r.args.get("provider")
        if isinstance(provider, str):
            attrs[A.GEN_AI_PROVIDER_NAME] = clip(provider)
        # The conventions name inference spans for the model requested; the call's name is the
        # fallback when the arguments do not say.
        return clip(f"{A.OP_CHAT} {model or r.name}"), SpanKind.CLIENT, attrs
    attrs[A.GEN_AI_OPERATION_NAME] = A.OP_EXECUTE_TOOL
    attrs[A.GEN_AI_TOOL_NAME] = clip(r.name)
    attrs[A.GEN_AI_TOOL_CALL_ID] = r.step_id
    attrs[A.GEN_AI_TOOL_TYPE] = A.TOOL_TYPE_FUNCTION
    attrs[A.OPENINFERENCE_SPAN_KIND] = A.KIND_TOOL
    attrs[A.TOOL_NAME] = clip(r.name)
    return clip(f"{A.OP_EXECUTE_TOOL} {r.name}"), SpanKind.INTERNAL, attrs


def orphan_outcome_attributes(
    r: StepFinished, agent: str | None
) -> tuple[str, SpanKind, Attributes]:
    """Name, kind and attributes for a step known only by its outcome (no name, no arguments)."""
    attrs: Attributes = {
        A.GEN_AI_CONVERSATION_ID: r.session_id,
        A.SESSION_ID: r.session_id,
        A.OVERSIGHT_KIND: r.kind,
        A.OVERSIGHT_SEQ: r.seq,
        A.OVERSIGHT_STEP_ID: r.step_id,
    }
    _put(attrs, A.GEN_AI_AGENT_NAME, agent)
    if r.kind == Kind.MODEL_CALL:
        attrs[A.GEN_AI_OPERATION_NAME] = A.OP_CHAT
        attrs[A.OPENINFERENCE_SPAN_KIND] = A.KIND_LLM
        return A.OP_CHAT, SpanKind.CLIENT, attrs
    attrs[A.GEN_AI_OPERATION_NAME] = A.OP_EXECUTE_TOOL
    attrs[A.GEN_AI_TOOL_CALL_ID] = r.step_id
    attrs[A.GEN_AI_TOOL_TYPE] = A.TOOL_TYPE_FUNCTION
    attrs[A.OPENINFERENCE_SPAN_KIND] = A.KIND_TOOL
    return A.OP_EXECUTE_TOOL, SpanKind.INTERNAL, attrs


def outcome_attributes(r: StepFinished) -> Attributes:
    attrs: Attributes = {
        A.OVERSIGHT_STATUS: r.status,
        A.OVERSIGHT_OUTCOME_RECORD_ID: r.id,
    }
    _put(attrs, A.OVERSIGHT_RESULT_DIGEST, r.result_digest)
    if r.result_summary is not None:
        attrs[A.OUTPUT_VALUE] = clip(r.result_summary)
        attrs[A.OUTPUT_MIME_TYPE] = A.MIME_TEXT
    _put(attrs, A.OVERSIGHT_ERROR, r.error)
    _put(attrs, A.OVERSIGHT_APPROVAL_ID, r.approval_id)
    _put(attrs, A.OVERSIGHT_DECIDED_BY, r.decided_by)
    if r.reviewers:
        attrs[A.OVERSIGHT_REVIEWERS] = list(r.reviewers)
    if r.review_wait_ms is not None:
        attrs[A.OVERSIGHT_REVIEW_WAIT_MS] = round(r.review_wait_ms)
    if r.approved_by:
        attrs[A.OVERSIGHT_APPROVED_BY] = list(r.approved_by)
    if r.autonomy_score is not None:
        attrs[A.OVERSIGHT_AUTONOMY_SCORE] = r.autonomy_score
    if r.autonomy_scenario is not None:
        attrs[A.OVERSIGHT_AUTONOMY_SCENARIO] = r.autonomy_scenario
    for key, value in (r.attributes or {}).items():
        if isinstance(value, str | bool | int | float):
            attrs[key] = value
    _token_counts(attrs)
    if r.status in ERROR_STEP_STATUSES:
        attrs[A.ERROR_TYPE] = r.status
    return attrs


_ANSWERS: Mapping[str, str] = {
    "grant": "granted",
    "deadline": "timed_out",
    "no_reviewers": "unavailable",
    "halt": "halted",
    "system": "refused",
}


def _approval_events(span: Span, r: StepFinished, start_ns: int) -> None:
    """A gated step's request to people, when it began, and their answer, when it came: who,
    what, and how long they took."""
    requested: Attributes = {}
    _put(requested, A.OVERSIGHT_APPROVAL_ID, r.approval_id)
    span.add_event(A.EVENT_APPROVAL_REQUESTED, requested, timestamp=start_ns)
    if r.decided_by == "waiting":
        return  # deferred: the answer comes to a later call
    if r.decided_by == "reviewers":
        answer = {"modified": "modified", "denied": "denied"}.get(r.status, "approved")
    else:
        answer = _ANSWERS.get(r.decided_by or "", r.status)
    decided: Attributes = {
        A.APPROVAL_DECISION: answer,
        A.OVERSIGHT_REVIEWERS: list(r.reviewers),
    }
    _put(decided, A.OVERSIGHT_DECIDED_BY, r.decided_by)
    _put(decided, A.OVERSIGHT_APPROVAL_ID, r.approval_id)
    wait_ms = r.review_wait_ms
    if wait_ms is not None:
        decided[A.OVERSIGHT_REVIEW_WAIT_MS] = round(wait_ms)
    at = start_ns + round((wait_ms if wait_ms is not None else r.duration_ms) * 1_000_000)
    span.add_event(A.EVENT_APPROVAL_DECIDED, decided, timestamp=at)


def _token_counts(attrs: Attributes) -> None:
    """A model call's GenAI token usage also under OpenInference's names, which Phoenix and
    other OpenInference readers total by trace and session."""
    prompt = attrs.get(A.GEN_AI_USAGE_INPUT_TOKENS)
    completion = attrs.get(A.GEN_AI_USAGE_OUTPUT_TOKENS)
    if isinstance(prompt, int) and not isinstance(prompt, bool):
        attrs[A.LLM_TOKEN_COUNT_PROMPT] = prompt
    if isinstance(completion, int) and not isinstance(completion, bool):
        attrs[A.LLM_TOKEN_COUNT_COMPLETION] = completion
    if isinstance(prompt, int) and isinstance(completion, int):
        attrs[A.LLM_TOKEN_COUNT_TOTAL] = prompt + completion


def to_ns(ts: _dt.datetime) -> int:
    """Exact nanoseconds since the epoch (a float timestamp would lose the microseconds)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=_dt.UTC)
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def clip(text: str, limit: int = A.MAX_ATTRIBUTE_CHARS) -> str:
    """`text` cut to at most `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    marker = f"...[{len(text) - limit} more chars]"
    return text[: max(limit - len(marker), 0)] + marker


def _json(value: Mapping[str, Any]) -> str:
    try:
        text = canonical_json(value)
    except (TypeError, ValueError):
        text = canonical_json(to_jsonable(value))
    return clip(text)


def _strings(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(clip(str(v)) for v in values[: A.MAX_ATTRIBUTE_ITEMS])


def _model(args: Mapping[str, Any]) -> str | None:
    model = args.get("model")
    if model is None or model == "":
        return None
    return clip(model if isinstance(model, str) else canonical_json(to_jsonable(model)))


def _put(attrs: Attributes, key: str, value: str | None) -> None:
    if value is not None:
        attrs[key] = clip(value)


def _describe(status: str, error: str | None) -> str:
    return clip(f"{status}: {error}" if error else status)


def _remember(memory: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    memory[key] = value
    if len(memory) > limit:
        memory.popitem(last=False)
