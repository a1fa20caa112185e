"""Turn a session's records into the timeline a reviewer reads.

A step with a proposal and no outcome is *interrupted* once its process is gone or its session
has ended: the write-ahead record proves it was about to run, and nothing says it finished.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from oversight.records import (
    Alert,
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
)


@dataclass
class StepView:
    proposed: StepProposed
    finished: StepFinished | None = None
    depth: int = 0
    status: str = "running"

    @property
    def duration_ms(self) -> float | None:
        return self.finished.duration_ms if self.finished else None


@dataclass
class SessionView:
    session_id: str
    started: SessionStarted | None = None
    ended: SessionEnded | None = None
    steps: list[StepView] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    status: str = "running"

    @property
    def agent(self) -> str | None:
        return self.started.agent if self.started else None

    @property
    def started_at(self) -> _dt.datetime | None:
        return self.started.ts if self.started else None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for step in self.steps:
            out[step.status] = out.get(step.status, 0) + 1
        return out


def process_alive(started: SessionStarted | None) -> bool | None:
    """Whether the session's process still runs; None when it ran on another host."""
    if started is None or started.host != socket.gethostname():
        return None
    try:
        os.kill(started.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_session(session_id: str, records: Iterable[Record]) -> SessionView:
    view = SessionView(session_id)
    by_step: dict[str, StepView] = {}
    for record in records:
        if isinstance(record, SessionStarted):
            view.started = record
        elif isinstance(record, SessionEnded):
            view.ended = record
        elif isinstance(record, StepProposed):
            parent = by_step.get(record.parent_id) if record.parent_id else None
            step = StepView(record, depth=parent.depth + 1 if parent else 0)
            by_step[record.step_id] = step
            view.steps.append(step)
        elif isinstance(record, StepFinished):
            known = by_step.get(record.step_id)
            if known is not None:
                known.finished = record
        elif isinstance(record, Alert):
            view.alerts.append(record)
    alive = process_alive(view.started)
    if view.ended is not None:
        view.status = view.ended.status
    elif alive is False:
        view.status = "interrupted"
    else:
        view.status = "running" if alive else "unknown (no end record; other host)"
    gone = view.ended is not None or alive is False
    for step in view.steps:
        if step.finished is not None:
            step.status = step.finished.status
        else:
            step.status = "interrupted" if gone else "running"
    view.steps.sort(key=lambda s: s.proposed.seq)
    return view
