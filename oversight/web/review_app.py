"""The review app as `oversight serve` runs it: W2's pages behind sign-in, plus the actions.

`create_review_app` builds `create_app` with the guard (`guard.py`: host, sign-in, CSRF) as its
middleware and the sign-in, registration, reviewers, actions and live routes, and keeps the
access state (sessions, challenges, pending registrations) on the app. With
`AccessConfig.no_auth()` the same app serves every page read-only to this machine.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from oversight.errors import ConfigError
from oversight.web import (
    actions,
    live,
    registration_pages,
    reviewers_page,
    signin_pages,
)
from oversight.web.access import LOCAL_HOSTS, AccessConfig, AccessState, default_state_dir
from oversight.web.app import create_app
from oversight.web.browser_sessions import BrowserSessions
from oversight.web.challenges import Challenges
from oversight.web.config import WebConfig
from oversight.web.guard import Guard
from oversight.web.pending_registrations import PendingRegistrations


def create_review_app(
    store_url: str, *, config: WebConfig | None = None, access: AccessConfig
) -> FastAPI:
    """The app on the store at `store_url` (which must exist), with sign-in as `access` says."""
    settings = config or WebConfig()
    state_dir = access.state_dir or default_state_dir(store_url)
    app = create_app(
        store_url,
        config=settings,
        middleware=[Middleware(Guard)],
        routers=[
            live.router,
            signin_pages.router,
            registration_pages.router,
            reviewers_page.router,
            actions.router,
        ],
    )
    app.state.access = AccessState(
        config=access,
        sessions=BrowserSessions(access.session_ttl_s),
        challenges=Challenges(access.challenge_ttl_s),
        pending=PendingRegistrations(state_dir / "pending"),
        root_key=settings.root_key,
    )
    app.state.live_feed = live.Feed(app.state.web.reader, access.live_poll_s / 2)
    return app


def serve_access(host: str, port: int, public_url: str | None, *, no_auth: bool) -> AccessConfig:
    """How `oversight serve` lets people in. Sign-in needs the exact address reviewers open
    (`--public-url`; on this machine http://localhost:PORT, since a passkey needs a host name);
    `--no-auth` is allowed only on a local address, as it shows everything to whoever connects."""
    if no_auth:
        if host not in LOCAL_HOSTS:
            raise ConfigError(
                f"--no-auth shows every session to whoever connects, so it listens only on "
                f"127.0.0.1 or localhost, not on {host!r}"
            )
        return AccessConfig.no_auth()
    if public_url is None:
        if host not in LOCAL_HOSTS:
            raise ConfigError(
                f"listening on {host!r}, sign-in needs the address reviewers open: pass "
                "--public-url https://HOST (passkeys are made for it; serve https through a "
                "proxy)"
            )
        public_url = f"http://localhost:{port}"
    return AccessConfig(origin=public_url.rstrip("/"))


NO_AUTH_WARNING = (
    "WARNING: --no-auth: nobody signs in. Every session, argument and result in this store is "
    "shown to anyone who can connect to this machine's {address}, and nothing can be approved, "
    "denied, granted or halted here. Use it only to read on your own computer."
)
