"""The sessions an adapter has open in this process, keyed by session id.

A LangGraph run is not one Python call: its nodes run as separate tasks (in threads or asyncio
tasks), it can pause at an interrupt and resume later, in another process. So a session is
opened by id when the run starts (or, after a resume, by whichever call comes first), joined by
every model and tool call, and ended when the run finishes, or when an error escapes a call and
no other call of the session is still running.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oversight import Monitor, Session, SessionHalted


@dataclass
class _Open:
    session: Session
    in_flight: int = 0
    failure: BaseException | None = None


class Sessions:
    def __init__(self, monitor: Monitor, *, agent: str | None) -> None:
        self._monitor = monitor
        self._agent = agent
        self._lock = threading.Lock()
        self._open: dict[str, _Open] = {}

    def begin(self, session_id: str | None, metadata: Mapping[str, Any]) -> Session:
        """Open the session for a run, or join it when it is already open here; without an id,
        a new session with a fresh id (which needs no look-up in the store)."""
        with self._lock:
            if session_id is None:
                session = self._monitor.session(agent=self._agent, metadata=metadata)
                session.start()
                self._open[session.id] = _Open(session)
                return session
            return self._entry(session_id, metadata).session

    def acquire(self, session_id: str, metadata: Mapping[str, Any]) -> Session:
        """The session a call belongs to; every acquire is paired with one `release`.

        A session that ended (its run failed, and something outside recovered) is re-opened:
        the store continues its sequence numbers.
        """
        with self._lock:
            entry = self._entry(session_id, metadata)
            entry.in_flight += 1
            return entry.session

    def release(self, session_id: str, error: BaseException | None = None) -> None:
        """A call is over; `error` is an exception that escaped it and will end the run."""
        with self._lock:
            entry = self._open.get(session_id)
            if entry is None:
                return
            entry.in_flight -= 1
            if error is not None and (entry.failure is None or _cancelled(entry.failure)):
                # A sibling call cancelled because another failed: the failure is the cause.
                entry.failure = error
            if entry.in_flight > 0 or entry.failure is None:
                return
            del self._open[session_id]
        _end(entry.session, entry.failure)

    def end(self, session_id: str, error: BaseException | None = None) -> None:
        """The run finished (after_agent), or failed where no call of ours could see it."""
        with self._lock:
            entry = self._open.pop(session_id, None)
        if entry is not None:
            _end(entry.session, error or entry.failure)

    def end_all(self, error: BaseException | None = None) -> None:
        with self._lock:
            entries = list(self._open.values())
            self._open.clear()
        for entry in entries:
            _end(entry.session, error or entry.failure)

    def open_ids(self) -> list[str]:
        with self._lock:
            return list(self._open)

    def _entry(self, session_id: str, metadata: Mapping[str, Any]) -> _Open:
        entry = self._open.get(session_id)
        if entry is None or entry.session.ended:
            session = self._monitor.session(session_id, agent=self._agent, metadata=metadata)
            session.start()
            entry = self._open[session_id] = _Open(session)
        return entry


def _cancelled(error: BaseException) -> bool:
    return isinstance(error, asyncio.CancelledError)


def _end(session: Session, error: BaseException | None) -> None:
    if error is None:
        session.end("completed")
    elif isinstance(error, SessionHalted):
        session.end("halted", error=error.reason)
    else:
        session.end("failed", error=f"{type(error).__name__}: {error}"[:2000])
