"""Passkey prompts the server is waiting on: each challenge is used once, by the browser session
it was issued to, for the purpose it was issued for, before it expires.

A sign-in or registration challenge is random. A vote's, an endorsement's or a grant's is
`challenge_for(payload)`: the payload the server built and showed is kept with it, so the
assertion that comes back is checked against exactly what was asked for.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_OUTSTANDING = 10_000


@dataclass(frozen=True)
class Challenge:
    id: str
    session_id: str
    purpose: str
    """"register", "sign-in", "vote", "endorse" or "grant"."""
    challenge: bytes
    expires: float
    payload: dict[str, Any] = field(default_factory=dict)
    """What the assertion signs (a vote, an endorsement, a grant), or the sign-in nonce."""
    extra: dict[str, Any] = field(default_factory=dict)
    """What the server needs to finish (the registrant's name and role, the grant's row)."""


class ChallengeRefused(Exception):
    """The answer does not belong to a challenge this browser is owed."""


class Challenges:
    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, Challenge] = {}

    def issue(
        self,
        session_id: str,
        purpose: str,
        challenge: bytes,
        *,
        payload: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Challenge:
        with self._lock:
            now = self.clock()
            for key in [k for k, c in self._by_id.items() if c.expires <= now]:
                del self._by_id[key]
            if len(self._by_id) >= MAX_OUTSTANDING:
                oldest = min(self._by_id.values(), key=lambda c: c.expires)
                del self._by_id[oldest.id]
            issued = Challenge(
                id=secrets.token_urlsafe(18),
                session_id=session_id,
                purpose=purpose,
                challenge=challenge,
                expires=now + self.ttl_s,
                payload=dict(payload or {}),
                extra=dict(extra or {}),
            )
            self._by_id[issued.id] = issued
            return issued

    def take(self, challenge_id: object, session_id: str, purpose: str) -> Challenge:
        """The challenge, removed (whatever the outcome, it cannot be answered twice);
        `ChallengeRefused` saying why when it is not this browser's, for this, and in time."""
        if not isinstance(challenge_id, str) or not challenge_id:
            raise ChallengeRefused("the answer names no passkey prompt; start again")
        with self._lock:
            found = self._by_id.pop(challenge_id, None)
        if found is None:
            raise ChallengeRefused("this passkey prompt was already answered or has expired")
        if found.session_id != session_id or found.purpose != purpose:
            raise ChallengeRefused("this passkey prompt was not issued to this page")
        if found.expires <= self.clock():
            raise ChallengeRefused("the passkey prompt expired; start again")
        return found
