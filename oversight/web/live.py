"""`/approvals/events`: the approvals queue as server-sent events, so it updates without reload.

Each stream sends the waiting approvals (id and a version that changes with every vote and
when it closes) whenever that list changes, and a comment now and then to keep proxies from
closing it. The store is read in one short query per poll, on a worker thread, through a
snapshot shared by every open stream: no connection is held between polls, and ten reviewers
watching cost what one does. A stream ends after `live_stream_s` (the browser reconnects and
passes the sign-in check again) or as soon as its browser session ends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import StreamingResponse

from oversight.approvals.deadlines import deadline_text
from oversight.web.access import AccessState, access_state
from oversight.web.approval_cards import pending_versions
from oversight.web.browser_sessions import BrowserSession
from oversight.web.queries import StoreReader

router = APIRouter()
HEARTBEAT_S = 15.0


class Feed:
    """The latest list of waiting approvals, read at most once per `max_age_s`."""

    def __init__(self, reader: StoreReader, max_age_s: float) -> None:
        self.reader = reader
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._read_at = -1e18
        self._value: list[tuple[str, str]] = []

    def snapshot(self, *, fresh: bool = False) -> list[tuple[str, str]]:
        """The waiting approvals; `fresh`: read now (a new stream's first event must not be
        older than the page it updates)."""
        with self._lock:
            if fresh or time.monotonic() - self._read_at >= self.max_age_s:
                self._value = pending_versions(self.reader, deadline_text(time.time()))
                self._read_at = time.monotonic()
            return list(self._value)


def live_feed(request: Request) -> Feed:
    found: Feed = request.app.state.live_feed
    return found


@router.get("/approvals/events", name="approval_events")
async def approval_events(
    request: Request,
    access: Annotated[AccessState, Depends(access_state)],
    source: Annotated[Feed, Depends(live_feed)],
) -> StreamingResponse:
    session = getattr(request.state, "browser_session", None)
    config = access.config

    def still_signed_in() -> bool:
        if not isinstance(session, BrowserSession):
            return True  # --no-auth: nobody signs in, nobody signs out
        return access.sessions.get(session.id) is session

    async def events() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        sent: list[tuple[str, str]] | None = None
        quiet_since = time.monotonic()
        ends = time.monotonic() + config.live_stream_s
        while time.monotonic() < ends and still_signed_in():
            if await request.is_disconnected():
                return
            now = await anyio.to_thread.run_sync(partial(source.snapshot, fresh=sent is None))
            if now != sent:
                data = {"approvals": [{"id": i, "version": v} for i, v in now], "pending": len(now)}
                yield f"event: approvals\ndata: {json.dumps(data)}\n\n"
                sent, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since > HEARTBEAT_S:
                yield ": still here\n\n"
                quiet_since = time.monotonic()
            await anyio.sleep(config.live_poll_s)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
