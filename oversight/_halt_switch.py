"""`HaltSwitch`: the one owner of halts in a process.

A halt lives in the store's review state, where every process using the store sees it and only
an admin's signed resume lifts it (`approvals/halts.py`). The switch writes halts there, reads
the halts in force, and answers the two questions a step asks: may this session go on, as of a
look at most `poll_interval_s` old (a cheap step), or as of now (a consequential one). It reads
on the asking thread only: nothing polls in the background, so an idle monitor costs nothing
and no thread the agent could stop stands between a halt and its next step.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol

from oversight.approvals.halts import halts_in_force, lifted, resume_key
from oversight.approvals.registry import trusted_reviewers
from oversight.errors import StoreError

ALL_SESSIONS = "*"
"""The scope of a halt that stops every session."""


class HaltState(Protocol):
    """The part of the review state halts live in."""

    def halt(self, scope: str, reason: str, requested_by: str) -> None: ...

    def halts(self) -> list[dict[str, Any]]: ...

    def reviewers(self) -> list[dict[str, Any]]: ...


class HaltSwitch:
    """Writes halts to the review state and answers whether a session may take its next step
    (the monitor has one; its sessions, pipeline and approval waits all ask it)."""

    def __init__(
        self,
        state: HaltState,
        *,
        poll_interval_s: float,
        root_key: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._state = state
        self._interval = poll_interval_s
        self._root_key = root_key
        self._clock = clock
        self._looked_at: float | None = None
        self._verified_resumes: set[tuple[Any, ...]] = set()
        self.in_force: dict[str, str] = {}
        """Scope → reason of every halt in force as of the last look ("*": every session)."""

    def reason(self, session_id: str) -> str | None:
        """Why `session_id` is halted as of the last look (two dict lookups, no I/O)."""
        in_force = self.in_force
        return in_force.get(session_id) or in_force.get(ALL_SESSIONS)

    def reason_recent(self, session_id: str) -> str | None:
        """As of a look at most `poll_interval_s` old, looking again first when the last is
        older: the check before a cheap step.

        With the store out of reach (a server restarting), the halts last seen count and the
        next look is after another interval: a cheap step's records wait in the queue, while a
        consequential step asks `reason_now` and is refused."""
        looked_at = self._looked_at
        if looked_at is None or self._clock() - looked_at >= self._interval:
            with contextlib.suppress(StoreError):
                self.refresh()
        return self.reason(session_id)

    def reason_now(self, session_id: str) -> str | None:
        """As of a look now: the check before a consequential step (raises StoreError)."""
        self.refresh()
        return self.reason(session_id)

    def refresh(self) -> None:
        """Read the halts in force. A resume counts only with a trusted admin's signature over
        that very halt; each is verified once."""
        self._looked_at = self._clock()
        rows = self._state.halts()
        unchecked = [
            row
            for row in rows
            if row.get("resumed_at") is not None and resume_key(row) not in self._verified_resumes
        ]
        if unchecked:
            trusted, _ = trusted_reviewers(self._state.reviewers(), root_key=self._root_key)
            self._verified_resumes.update(
                resume_key(row) for row in unchecked if lifted(row, trusted)
            )
        self.in_force = halts_in_force(rows, self._verified_resumes)

    def halt(self, scope: str, reason: str, by: str) -> None:
        """Halt `scope` (a session id, or ALL_SESSIONS) for every process using the store."""
        self._state.halt(scope, reason, by)
        self.in_force = {**self.in_force, scope: reason}
