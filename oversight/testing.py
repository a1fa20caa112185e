"""Helpers for testing your own agent under oversight, like `structlog.testing`.

from oversight.testing import monitored

def test_agent_pushes_only_after_tests():
    with monitored() as mon:
        run_my_agent(mon.monitor)
    assert mon.kinds() == ["file.read", "shell.exec", "code.apply"]
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oversight.monitor import Monitor
from oversight.records import Record, StepFinished, StepProposed
from oversight.timeline import SessionView, build_session


class MonitoredRun:
    """A Monitor on a throwaway SQLite store, with accessors for what was recorded."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def records(self, session_id: str | None = None) -> list[Record]:
        self.monitor.flush()
        return [s.record for s in self.monitor.store.iter_records(session_id=session_id)]

    def steps(self, session_id: str | None = None) -> list[StepProposed]:
        return [r for r in self.records(session_id) if isinstance(r, StepProposed)]

    def outcomes(self, session_id: str | None = None) -> dict[str, StepFinished]:
        return {r.step_id: r for r in self.records(session_id) if isinstance(r, StepFinished)}

    def kinds(self, session_id: str | None = None) -> list[str]:
        return [s.kind for s in self.steps(session_id)]

    def names(self, session_id: str | None = None) -> list[str]:
        return [s.name for s in self.steps(session_id)]

    def session(self, session_id: str) -> SessionView:
        return build_session(session_id, self.records(session_id))


@contextmanager
def monitored(**monitor_kwargs: Any) -> Iterator[MonitoredRun]:
    """Yield a MonitoredRun backed by a temporary store; logs are off unless `log=` is given."""
    tmp = Path(tempfile.mkdtemp(prefix="oversight-test-"))
    monitor_kwargs.setdefault("db", str(tmp / "oversight.db"))
    monitor_kwargs.setdefault("log", "none")
    monitor = Monitor(**monitor_kwargs)
    try:
        yield MonitoredRun(monitor)
    finally:
        monitor.close()
        shutil.rmtree(tmp, ignore_errors=True)
