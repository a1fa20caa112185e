"""A monitored session: one run of an agent, bracketed by started/ended records."""

from __future__ import annotations

import collections
import itertools
import os
import socket
import threading
from contextvars import Token
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from oversight._context import current_session
from oversight._facts import FactsTracker
from oversight._halt_switch import HaltSwitch
from oversight._recorder import Recorder
from oversight._stderr import warn
from oversight._version import __version__
from oversight.autonomy.live import SessionAutonomy
from oversight.classify.workspace import SessionView
from oversight.errors import SessionError, SessionHalted, StoreError
from oversight.records import SessionEnded, SessionStarted, SessionStatus
from oversight.redact import redact, redact_text

_HOST = socket.gethostname()

MAX_DENIAL_KEYS = 4096
"""Denied actions a session counts toward the repeated-denial halt (by exact call, and by kind
and target). Past this many distinct ones, the least recently denied is forgotten: to escape
the halt an agent would have to be refused 4,096 other times between two retries."""


class DenialCounts(collections.Counter[tuple[str, ...]]):
    """A Counter that keeps only the MAX_DENIAL_KEYS most recently counted keys."""

    def __init__(self, limit: int = MAX_DENIAL_KEYS) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: tuple[str, ...], value: int) -> None:
        self.pop(key, None)  # most recently counted last
        super().__setitem__(key, value)
        while len(self) > self.limit:
            self.pop(next(iter(self)))


class OpenSessions:
    """The sessions a monitor has open, for steps in threads that did not inherit one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, Session] = {}

    def add(self, session: Session) -> None:
        with self._lock:
            self._open[session.id] = session

    def remove(self, session: Session) -> None:
        with self._lock:
            self._open.pop(session.id, None)

    def all(self) -> list[Session]:
        with self._lock:
            return list(self._open.values())


@dataclass(frozen=True, slots=True)
class SessionServices:
    """What a session uses of the monitor that opened it, handed down (a session never calls
    back into its monitor)."""

    recorder: Recorder
    halts: HaltSwitch
    policy_name: str | None = None
    policy_hash: str | None = None
    keep_history: bool = False
    """The decider reads the session's history (`decide.wants_history`)."""
    workspace_root: Path | None = None
    open_sessions: OpenSessions = field(default_factory=OpenSessions)


class Session:
    """Use as `with monitor.session(...)` or `async with monitor.session(...)`."""

    def __init__(
        self,
        services: SessionServices,
        session_id: str,
        *,
        agent: str | None,
        metadata: dict[str, Any],
        first_seq: int = 1,
    ) -> None:
        self.services = services
        self.id = session_id
        self.agent = agent
        self.metadata = redact(metadata)
        """As given, with secrets redacted (a `db_password` entry, a token in a value): it is
        recorded and sent to telemetry as it stands."""
        self._seq = itertools.count(first_seq)
        self._lock = threading.Lock()
        self.steps = 0
        self.started = False
        self.ended = False
        self.halted_reason: str | None = None
        self.facts = FactsTracker(keep_history=services.keep_history)
        self.autonomy = SessionAutonomy()
        # The open file, working directory and files written so far, read by the classifier.
        self.view = SessionView(root=services.workspace_root)
        self.denials: collections.Counter[tuple[str, ...]] = DenialCounts()
        self._tokens: list[Token[Session | None]] = []

    def next_seq(self) -> int:
        with self._lock:
            self.steps += 1
            return next(self._seq)

    def check_running(self) -> None:
        """Raise if no further step may run in this session: a halt at most `halt_poll_ms`
        old (the step itself reads the store when the last look is older)."""
        if self.halted_reason is None:
            reason = self.services.halts.reason_recent(self.id)
            if reason is not None:
                self.halted_reason = reason
        if self.halted_reason is not None:
            raise SessionHalted(self.id, self.halted_reason)
        if self.ended:
            raise SessionError(f"session {self.id!r} has ended; start a new session to continue")

    def halt(self, reason: str, *, by: str = "oversight") -> None:
        """Halt this session for every process using the store, as `Monitor.halt` does; only
        an admin's signed resume lifts it. When the store cannot take the halt, the session
        stays halted in this process all the same (said on stderr): a halt fails closed."""
        if self.halted_reason is None:
            self.halted_reason = reason
        halts = self.services.halts
        if halts.reason(self.id) is not None:
            return  # already in force in the store (that is how this step learnt of it)
        try:
            halts.halt(self.id, reason, by)
        except StoreError as exc:
            warn(
                f"session {self.id} is halted in this process only; the store did not take "
                f"the halt: {exc}"
            )

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            raise SessionError(f"session {self.id!r} was already started")
        self.started = True
        services = self.services
        services.open_sessions.add(self)
        services.halts.refresh()  # a halt issued a moment ago applies to step one
        services.recorder.submit(
            SessionStarted(
                session_id=self.id,
                agent=self.agent,
                metadata=self.metadata,
                pid=os.getpid(),
                host=_HOST,
                policy=services.policy_name,
                policy_hash=services.policy_hash,
                oversight_version=__version__,
            )
        )

    def end(self, status: SessionStatus = "completed", error: str | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        recorder = self.services.recorder
        self.services.open_sessions.remove(self)
        if self.halted_reason is not None:
            status = "halted"
        recorder.submit(
            SessionEnded(
                session_id=self.id,
                status=status,
                error=redact_text(error) if error else error,
                steps=self.steps,
            )
        )
        recorder.flush(fsync=False)  # the outcomes it ends on are cheap records too

    def __enter__(self) -> Self:
        self.start()
        self._tokens.append(current_session.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tokens:
            current_session.reset(self._tokens.pop())
        if exc is None:
            self.end("completed")
        elif isinstance(exc, SessionHalted):
            self.end("halted", error=exc.reason)
        else:
            self.end("failed", error=f"{type(exc).__name__}: {exc}"[:2000])

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
