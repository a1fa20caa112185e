"""Imported sessions as trace lines: the one shape `replay`, `import` and scoring all read."""

from __future__ import annotations

from collections.abc import Iterator

from oversight.importing.model import ImportedCall, ImportedSession
from oversight.replay import TraceApproval, TraceLine, TraceOutcome

PERSON = "a person at the agent's permission prompt"


def trace_lines(session: ImportedSession) -> Iterator[TraceLine]:
    """One line per call, in order. A call a person answered carries that answer as a human
    approval (or denial); every other call ran with nobody deciding it, as the host recorded."""
    for call in session.calls:
        yield trace_line(session.session_id, call)


def trace_line(session_id: str, call: ImportedCall) -> TraceLine:
    approval = None
    if call.answer is not None:
        approval = TraceApproval(
            decision="approve" if call.answer == "approved" else "deny",
            by=PERSON,
            auto=False,
            latency_s=None,
        )
    if call.answer == "denied":
        outcome = TraceOutcome(status="denied", reason="denied by a person at the prompt")
    else:
        outcome = TraceOutcome(status="error" if call.error else "ok")
    return TraceLine(
        session=session_id,
        tool=call.tool,
        args=call.args,
        actor=call.actor,
        ts=call.ts,
        approval=approval,
        outcome=outcome,
    )
