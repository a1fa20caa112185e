"""Browser sessions, kept in the server's memory: the cookie holds only a random id.

Every visitor who opens a page gets a session (anonymous until a passkey signs in), so even the
sign-in and registration forms carry a CSRF token. Signing in starts a new session under a new
id (a planted id never becomes a signed-in one). Sessions expire; a restart signs everybody out,
and nothing that could act for a reviewer is ever written to disk.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response

from oversight.web.render import Flash

COOKIE = "oversight_session"
ANONYMOUS_TTL_S = 30 * 60.0
MAX_ANONYMOUS = 10_000
"""Anonymous sessions kept at most (the oldest go first): anyone can open the sign-in page."""


@dataclass
class BrowserSession:
    id: str
    """The cookie's value: a secret, never logged or recorded."""
    audit_id: str
    """A separate random name for this session in the audit records."""
    csrf: str
    expires: float
    reviewer: str | None = None
    public_key: str | None = None
    """The reviewer's key when they signed in: a changed reviewer row ends the session."""
    flashes: list[Flash] = field(default_factory=list)
    registrations: list[str] = field(default_factory=list)
    """Pending registrations made in this browser (whose page it may show)."""


class BrowserSessions:
    """Thread-safe: pages run in a thread pool."""

    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, BrowserSession] = {}

    def get(self, session_id: str | None) -> BrowserSession | None:
        """The live session of this id, or None (an unknown or expired one is forgotten)."""
        if not session_id:
            return None
        with self._lock:
            found = self._by_id.get(session_id)
            if found is not None and found.expires <= self.clock():
                del self._by_id[session_id]
                return None
            return found

    def anonymous(self) -> BrowserSession:
        with self._lock:
            self._prune()
            return self._new(None, None, ANONYMOUS_TTL_S)

    def sign_in(self, old: BrowserSession | None, reviewer: str, public_key: str) -> BrowserSession:
        """A new signed-in session replacing `old` (which ends)."""
        with self._lock:
            if old is not None:
                self._by_id.pop(old.id, None)
            return self._new(reviewer, public_key, self.ttl_s)

    def end(self, session: BrowserSession) -> None:
        with self._lock:
            self._by_id.pop(session.id, None)

    def _new(self, reviewer: str | None, public_key: str | None, ttl: float) -> BrowserSession:
        session = BrowserSession(
            id=secrets.token_urlsafe(32),
            audit_id=secrets.token_hex(8),
            csrf=secrets.token_urlsafe(32),
            expires=self.clock() + ttl,
            reviewer=reviewer,
            public_key=public_key,
        )
        self._by_id[session.id] = session
        return session

    def _prune(self) -> None:
        now = self.clock()
        for key in [k for k, s in self._by_id.items() if s.expires <= now]:
            del self._by_id[key]
        anonymous = [s for s in self._by_id.values() if s.reviewer is None]
        if len(anonymous) >= MAX_ANONYMOUS:
            anonymous.sort(key=lambda s: s.expires)
            for stale in anonymous[: len(anonymous) - MAX_ANONYMOUS + 1]:
                del self._by_id[stale.id]


def set_cookie(response: Response, session: BrowserSession, *, secure: bool) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
    page sends it), Secure when served over https, gone when the session expires."""
    response.set_cookie(
        COOKIE,
        session.id,
        max_age=max(1, int(session.expires - time.time())),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def clear_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
