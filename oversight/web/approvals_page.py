"""`/approvals`: what waits for people now, the longest-waiting first (read-only for now).

Each approval shows the exact call, the rule and reason that gated it, the votes recorded
against its quorum, how long it has waited and until when it can still be decided.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse

from oversight.web.render import render, with_query
from oversight.web.review_queries import ApprovalCursor, pending_approvals
from oversight.web.state import WebState, web_state

router = APIRouter()


@router.get("/approvals", response_class=HTMLResponse, name="approvals")
def approvals(
    request: Request,
    state: Annotated[WebState, Depends(web_state)],
    after: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    try:
        position = ApprovalCursor.parse(after) if after else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    rows, following = pending_approvals(
        state.reader, after=position, limit=state.config.approvals_per_page
    )
    return render(
        "approvals.html",
        state.frame(request, "approvals"),
        rows=rows,
        next_url=with_query("/approvals", after=following.text()) if following else None,
        first_url="/approvals" if position else None,
    )
