"""`/search?q=…`: steps whose name, arguments, result or error hold the words, newest first,
a page at a time (`before_seq` pages on), each linked to its place in its session's timeline.

Before searching, the request indexes what the store gained since the last update (briefly,
and only when the background thread is not already at it); while the index is still behind
the store, the page says how far it reaches.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse

from oversight.web.render import render, with_query
from oversight.web.search_updater import SearchUpdater
from oversight.web.search_view import search_rows
from oversight.web.state import WebState, web_state

router = APIRouter()

RESULTS_PER_PAGE = 50


def search_updater(request: Request) -> SearchUpdater:
    updater: SearchUpdater | None = getattr(request.app.state, "search", None)
    if updater is None:
        raise HTTPException(404, "this app was started without a search index")
    return updater


@router.get("/search", response_class=HTMLResponse, name="search")
def search(
    request: Request,
    state: Annotated[WebState, Depends(web_state)],
    updater: Annotated[SearchUpdater, Depends(search_updater)],
    q: Annotated[str, Query(max_length=500)] = "",
    before_seq: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    query = q.strip()
    progress = updater.catch_up()
    hits = (
        updater.index.search(query, limit=RESULTS_PER_PAGE + 1, before_seq=before_seq)
        if query
        else []
    )
    shown = hits[:RESULTS_PER_PAGE]
    rows = search_rows(state.reader, shown, query, per_page=state.config.steps_per_page)
    older = (
        with_query("/search", q=query, before_seq=shown[-1].seq)
        if len(hits) > RESULTS_PER_PAGE
        else None
    )
    return render(
        "search.html",
        state.frame(request, "search"),
        q=query,
        rows=rows,
        progress=progress,
        older_url=older,
        newest_url=with_query("/search", q=query) if before_seq is not None else None,
    )
