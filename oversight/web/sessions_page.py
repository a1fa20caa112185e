"""`/`: the sessions list, newest first, a page at a time, with filters and a search box."""

from __future__ import annotations

import datetime as _dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse

from oversight.web.queries import STATUSES, Cursor, SessionFilter, list_sessions
from oversight.web.render import render, with_query
from oversight.web.state import WebState, web_state

router = APIRouter()


@router.get("/", response_class=HTMLResponse, name="sessions")
def sessions(
    request: Request,
    state: Annotated[WebState, Depends(web_state)],
    q: str = "",
    agent: str = "",
    status: str = "",
    scenario: str = "",
    since: str = "",
    until: str = "",
    before: Annotated[str, Query(max_length=80)] = "",
    after: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    try:
        wanted = SessionFilter(
            q=q.strip()[:200],
            agent=agent.strip()[:200],
            status=status,
            scenario=int(scenario) if scenario else None,
            since=_day(since, "since"),
            until=_day(until, "until"),
        )
        older_than = Cursor.parse(before) if before else None
        newer_than = Cursor.parse(after) if after else None
    except ValueError as exc:
        raise HTTPException(400, f"bad filter: {exc}") from None
    config = state.config

    def scored(session_id: str, last: int) -> tuple[float, int] | None:
        final = state.autonomy.get(session_id, last).final
        return (final.score, final.scenario) if final.seq is not None else None

    page = list_sessions(
        state.reader,
        wanted,
        before=older_than,
        after=newer_than,
        limit=config.sessions_per_page,
        budget_s=config.filter_budget_s,
        fallback_score=scored,
        fallback_max_steps=config.list_score_max_steps,
    )
    params = {
        "q": wanted.q,
        "agent": wanted.agent,
        "status": wanted.status,
        "scenario": wanted.scenario or "",
        "since": since,
        "until": until,
    }
    search_on = None
    if page.stopped_at is not None:
        direction = "after" if newer_than is not None else "before"
        search_on = with_query("/", **params, **{direction: page.stopped_at.text()})
    links = {
        "older": with_query("/", **params, before=page.older.text()) if page.older else None,
        "newer": with_query("/", **params, after=page.newer.text()) if page.newer else None,
        "newest": with_query("/", **params) if (older_than or newer_than) else None,
        "search_on": search_on,
    }
    return render(
        "sessions.html",
        state.frame(request, "sessions"),
        page=page,
        wanted=wanted,
        params=params,
        links=links,
        statuses=STATUSES,
    )


def _day(text: str, name: str) -> _dt.date | None:
    if not text:
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a date (YYYY-MM-DD)") from None
