"""Who may use the review app, and how: sign-in with passkeys, or (`--no-auth`) read-only.

`AccessConfig` says where the app is reached (its exact origin: the passkeys' relying party and
the origin every assertion must name), where its own state lives (pending registrations) and
how long sign-ins and challenges last. `AccessState` is what one running app keeps in memory:
browser sessions, outstanding challenges and the trusted reviewers, re-derived whenever the
reviewer rows change. The app holds no key: whatever it keeps lets nobody approve anything.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from oversight._known_stores import state_folder
from oversight.approvals.registry import Reviewer, trusted_reviewers
from oversight.errors import ConfigError
from oversight.web.browser_sessions import BrowserSessions
from oversight.web.challenges import Challenges
from oversight.web.pending_registrations import PendingRegistrations

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def default_state_dir(store_url: str) -> Path:
    """The app's own folder for a store: $XDG_STATE_HOME/agent-oversight/web/<digest>."""
    digest = hashlib.sha256(store_url.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return state_folder() / "web" / digest


@dataclass(frozen=True)
class AccessConfig:
    """How the app lets people in. `origin=None` is the `--no-auth` mode: nobody signs in,
    every page is readable from this machine, and every action is refused."""

    origin: str | None
    """Exactly what reviewers type in the address bar, scheme and port included
    (`http://localhost:8765`, `https://review.example.org`): passkeys are made for its host and
    every assertion must name this origin."""
    state_dir: Path | None = None
    """Where pending registrations are kept; None: `default_state_dir(store_url)`."""
    session_ttl_s: float = 8 * 3600
    """How long a sign-in lasts."""
    challenge_ttl_s: float = 180.0
    """How long a passkey prompt may stay unanswered."""
    live_poll_s: float = 1.0
    """How often the live approvals stream looks at the store."""
    live_stream_s: float = 55.0
    """How long one live stream stays open before the browser reconnects (and is checked
    again: a reviewer signed out or revoked meanwhile gets no more updates)."""

    def __post_init__(self) -> None:
        if self.origin is None:
            return
        parts = urlsplit(self.origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"origin {self.origin!r} is not like https://review.example.org or "
                "http://localhost:8765"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigError(f"origin {self.origin!r} must be scheme://host[:port], no path")
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise ConfigError(
                f"origin {self.origin!r}: browsers allow passkeys over plain http only on "
                "localhost; serve https (e.g. behind a proxy) and pass its https:// origin"
            )
        if _is_ip(parts.hostname):
            raise ConfigError(
                f"origin {self.origin!r}: a passkey needs a host name, not an IP address "
                "(use http://localhost:PORT on this machine)"
            )
        for name in ("session_ttl_s", "challenge_ttl_s", "live_poll_s", "live_stream_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")

    @classmethod
    def no_auth(cls) -> AccessConfig:
        return cls(origin=None)

    @property
    def signing_in(self) -> bool:
        return self.origin is not None

    @property
    def exact_origin(self) -> str:
        """The origin as a browser writes it in clientDataJSON (no trailing slash)."""
        if self.origin is None:
            raise ConfigError("this app runs without sign-in (--no-auth): it has no origin")
        return self.origin.rstrip("/")

    @property
    def rp_id(self) -> str:
        """The passkeys' relying party: the origin's host."""
        return urlsplit(self.exact_origin).hostname or ""

    @property
    def host(self) -> str:
        """What the Host header of a request to the origin says (host[:port])."""
        return urlsplit(self.exact_origin).netloc

    @property
    def secure(self) -> bool:
        """Cookies are sent over https only when the app is served over https."""
        return self.origin is not None and self.origin.startswith("https://")


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass
class AccessState:
    """One running app's sign-ins, challenges, pending registrations and trusted reviewers."""

    config: AccessConfig
    sessions: BrowserSessions
    challenges: Challenges
    pending: PendingRegistrations
    root_key: str | None = None
    _trust_lock: threading.Lock = field(default_factory=threading.Lock)
    _trust_key: tuple[Any, ...] | None = None
    _trusted: dict[str, Reviewer] = field(default_factory=dict)

    def trusted(self, rows: Iterable[dict[str, Any]]) -> dict[str, Reviewer]:
        """The trusted reviewers for these reviewer rows, verified again only when a row
        changed (a new reviewer, a revoked one, an edited row)."""
        rows = list(rows)
        key = tuple(
            tuple(str(row.get(c)) for c in ("name", "role", "public_key", "endorsed_by"))
            + (str(row.get("endorsement")),)
            for row in rows
        )
        with self._trust_lock:
            if key != self._trust_key:
                self._trusted, _ = trusted_reviewers(rows, root_key=self.root_key)
                self._trust_key = key
            return dict(self._trusted)


def access_state(request: Request) -> AccessState:
    state: AccessState = request.app.state.access
    return state
