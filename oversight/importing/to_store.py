"""Imported sessions as oversight records, appended to the store like a monitor's own.

An imported step was never decided by our policy: it is stored as `allow` with no rule and
`enforced: false` (nobody looked), unless the host recorded a person's answer, which is kept as
that person's approval or denial. The session id is the host's, so importing a file again
finds the session and appends only the calls it did not have.

Records are validated like a monitor's own: pydantic-core checks a record in ~4 µs, three times
faster than `model_construct` (which looks up each field's default in Python).
"""

from __future__ import annotations

import datetime as _dt
import socket
from typing import Any

from oversight._version import __version__
from oversight.classify.caching import text_cache
from oversight.importing.model import ImportedSession
from oversight.importing.to_trace import PERSON
from oversight.normalise import summarise_result
from oversight.records import Record, SessionEnded, SessionStarted, StepFinished, StepProposed
from oversight.replay import ReplayedStep

IMPORTED_BY = "oversight import"


def session_records(
    session: ImportedSession,
    steps: list[ReplayedStep],
    *,
    after_seq: int = 0,
    new: bool = True,
    max_result_chars: int = 2_000,
) -> list[Record]:
    """Records for `steps` (the session's calls, classified in order) with seq > `after_seq`;
    a `new` session (not stored before) also gets its start and end."""
    sid = session.session_id
    first_ts = next((c.ts for c in session.calls if c.ts is not None), None)
    clock = _Clock(session.started or first_ts)
    records: list[Record] = []
    if new:
        records.append(
            SessionStarted(
                session_id=sid,
                ts=clock.at(None),
                agent=session.agent or session.format,
                metadata=_metadata(session),
                pid=0,
                host=socket.gethostname(),
                oversight_version=__version__,
            )
        )
    for seq, (call, step) in enumerate(zip(session.calls, steps, strict=True), start=1):
        if seq <= after_seq:
            continue
        ts = clock.at(call.ts)
        step_id = f"{sid}#{seq}"
        denied = call.answer == "denied"
        records.append(
            StepProposed(
                session_id=sid,
                ts=ts,
                step_id=step_id,
                seq=seq,
                kind=step.kind,
                name=call.tool,
                actor=call.actor,
                args=step.args,
                args_digest=step.args_digest,
                reason=step.reason,
                flags=step.flags,
                targets=step.targets,
                decision="require_approval" if call.answer is not None else "allow",
                decision_reason=f"{IMPORTED_BY}: as recorded by {session.format}",
                enforced=False,
            )
        )
        digest, summary = (None, None)
        if call.result is not None:
            digest, summary = _summary(call.result, max_result_chars)
        records.append(
            StepFinished(
                session_id=sid,
                ts=ts,
                step_id=step_id,
                seq=seq,
                kind=step.kind,
                status="denied" if denied else "error" if call.error else "ok",
                started_at=ts,
                duration_ms=0.0,
                result_digest=digest,
                result_summary=summary,
                error=f"denied at the prompt ({PERSON})" if denied else None,
                approved_by=[PERSON] if call.answer == "approved" else [],
            )
        )
    if new:
        records.append(
            SessionEnded(
                session_id=sid, ts=clock.at(None), status="completed", steps=len(session.calls)
            )
        )
    return records


@text_cache(1024)
def _summary(result: str, max_chars: int) -> tuple[str, str]:
    """`summarise_result`, kept for short results: a quarter of results repeat across sessions
    (an empty output, `<returncode>0</returncode>`), and redacting each costs tens of µs."""
    return summarise_result(result, max_chars=max_chars)


def _metadata(session: ImportedSession) -> dict[str, Any]:
    return {
        "imported_by": IMPORTED_BY,
        "format": session.format,
        "source": str(session.source),
        "native_id": session.native_id,
        **({"model": session.model} if session.model else {}),
        **session.metadata,
    }


class _Clock:
    """Record times: the host's own where it has them, else the last one seen, so an import
    keeps the order and spacing the host recorded and never invents a later time."""

    def __init__(self, start: _dt.datetime | None) -> None:
        self.last = start or _dt.datetime.now(_dt.UTC)

    def at(self, ts: _dt.datetime | None) -> _dt.datetime:
        if ts is not None:
            self.last = ts
        return self.last
