"""Span ids that follow from the records, so a span can be made again by another process.

A killed agent's finished steps were exported naming their session's span as parent, but the
session span itself is only exported when the session ends, which it never does. The next
monitor on the same store makes that span again from the stored `session.started` record; it
can, because every session and step span's ids are derived from the id of the record that opened
it (a random id per run, so two runs of a session named alike stay two traces).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import INVALID_SPAN_ID, INVALID_TRACE_ID, SpanContext, TraceFlags

from oversight.records import Record, SessionStarted, StepFinished, StepProposed


def trace_id_for(session_record_id: str) -> int:
    """The trace of the session whose `session.started` record has this id."""
    return _derived(f"trace:{session_record_id}", 16) or INVALID_TRACE_ID + 1


def span_id_for(record_id: str) -> int:
    """The span opened by the record (session.started or step.proposed) with this id."""
    return _derived(f"span:{record_id}", 8) or INVALID_SPAN_ID + 1


def deferred_step_span(records: Sequence[Record], approval_id: str) -> SpanContext | None:
    """The span of the step, among a session's stored `records`, that was deferred to people
    with this approval: what the call that resumes it (in another run) links to."""
    started: SessionStarted | None = None
    starts: dict[str, SessionStarted] = {}
    proposals: dict[str, StepProposed] = {}
    for record in records:
        if isinstance(record, SessionStarted):
            started = record
        elif isinstance(record, StepProposed) and started is not None:
            proposals[record.step_id] = record
            starts[record.step_id] = started
        elif (
            isinstance(record, StepFinished)
            and record.approval_id == approval_id
            and record.status == "deferred"
            and record.step_id in proposals
        ):
            return SpanContext(
                trace_id_for(starts[record.step_id].id),
                span_id_for(proposals[record.step_id].id),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
    return None


def _derived(text: str, size: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "big")


class ChosenIds(IdGenerator):
    """The ids chosen for the next span (`choose`), else the tracer's own generator's.

    Installed on our own tracer only (the provider's generator, and so the application's spans,
    stay as they were). Spans are started on one thread, under the telemetry lock."""

    def __init__(self, fallback: IdGenerator) -> None:
        self._fallback = fallback
        self._trace_id: int | None = None
        self._span_id: int | None = None

    def choose(self, span_id: int, trace_id: int | None = None) -> None:
        """Ids for the next span; a trace id only for a root (a child takes its parent's)."""
        self._span_id, self._trace_id = span_id, trace_id

    def generate_span_id(self) -> int:
        chosen, self._span_id = self._span_id, None
        return chosen if chosen is not None else self._fallback.generate_span_id()

    def generate_trace_id(self) -> int:
        chosen, self._trace_id = self._trace_id, None
        return chosen if chosen is not None else self._fallback.generate_trace_id()

    def is_trace_id_random(self) -> bool:
        return False  # derived from a record id: not promised random (the W3C random flag)
