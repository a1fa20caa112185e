"""The review web app: `create_app(store_url)` builds it on an existing store.

Server-rendered pages on the same store a monitor writes (SQLite or PostgreSQL): sessions, a
session's timeline and autonomy chart, pending approvals, integrity, export. The app holds no
key that can approve: what it writes to the store is what reviewers signed in their browsers
(votes, grants, endorsements), halts, and the audit records of their sign-ins and
registrations (`review_app` adds those parts). Beside it, it keeps a full-text search index
current (`search_updater`) and, with webhooks configured, announces approval requests
(`notifier`), each in a thread that starts and stops with the app. Later parts plug in
through `create_app`'s arguments: `middleware` (sign-in, CSRF: it runs inside the security
headers and may set `request.state.reviewer` and `request.state.flashes`, which every page's
frame shows) and `routers` (actions, live updates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.middleware import Middleware
from starlette.staticfiles import StaticFiles

from oversight._version import __version__
from oversight.store import open_store
from oversight.web import (
    approvals_page,
    error_pages,
    export_page,
    integrity_page,
    search_page,
    sessions_page,
    timeline_page,
)
from oversight.web.autonomy_view import AutonomyCache
from oversight.web.config import WebConfig
from oversight.web.headers import SecurityHeaders
from oversight.web.notifier import ApprovalNotifier, SentLog, default_sent_path
from oversight.web.queries import StoreReader
from oversight.web.render import STATIC
from oversight.web.search import default_index_path
from oversight.web.search_updater import SearchUpdater
from oversight.web.state import WebState


def create_app(
    store_url: str,
    *,
    config: WebConfig | None = None,
    middleware: Sequence[Middleware] = (),
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The app on the store at `store_url`, which must exist (a typo must not serve an empty
    new store). Raises StoreNotFoundError, StoreUnavailableError or MissingExtraError (the
    PostgreSQL driver) as `open_store` does."""
    settings = config or WebConfig()
    store = open_store(store_url, create=False)
    try:
        reader = StoreReader(store_url)
    except BaseException:
        store.close()
        raise
    notifier: ApprovalNotifier | None = None
    try:
        notifier = _notifier(store_url, reader, settings)
        search = SearchUpdater(store, settings.search_index or default_index_path(store_url))
    except BaseException:
        if notifier is not None:
            notifier.stop()
        reader.close()
        store.close()
        raise
    state = WebState(store=store, reader=reader, config=settings, autonomy=AutonomyCache(store))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        search.start()
        if notifier is not None:
            notifier.start()
        try:
            yield
        finally:
            if notifier is not None:
                notifier.stop()
            search.stop()
            reader.close()
            store.close()

    app = FastAPI(
        title="agent-oversight review",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        middleware=[Middleware(SecurityHeaders), *middleware],
    )
    app.state.web = state
    app.state.search = search
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Added routes first, then export and step links before the timeline: its
    # {session_id:path} would take their paths.
    for router in (
        *routers,
        sessions_page.router,
        search_page.router,
        export_page.router,
        timeline_page.router,
        approvals_page.router,
        integrity_page.router,
    ):
        app.include_router(router)
    error_pages.install(app)
    return app


def _notifier(store_url: str, reader: StoreReader, settings: WebConfig) -> ApprovalNotifier | None:
    """The webhook notifier when webhooks are configured (`--webhook`)."""
    if not settings.webhooks or settings.public_url is None:
        return None
    return ApprovalNotifier(
        reader,
        settings.webhooks,
        public_url=settings.public_url,
        sent=SentLog(settings.webhook_state or default_sent_path(store_url)),
    )
