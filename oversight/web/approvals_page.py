"""`/approvals`: what waits for people now, the longest-waiting first, ready to decide.

Each approval shows the exact call, the rule and reason that gated it, what it would touch (the
classifier's targets, kind and flags) and may use in the sandbox, the votes counted against its
quorum (verified as the monitor verifies them), how long it has waited and until when it can
be decided. Approvers and admins answer it here: Approve, Modify (the arguments as JSON) or
Deny (with a reason), each signed by their passkey in the browser (`actions.py`); the queue
updates itself from `/approvals/events` (`live.py`) and works without script by reloading.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse

from oversight.approvals.registry import trusted_reviewers
from oversight.kinds import ALL_KINDS
from oversight.web.access import AccessState, access_state
from oversight.web.approval_cards import ApprovalCard, build_cards
from oversight.web.render import ENVIRONMENT, render, with_query
from oversight.web.review_queries import ApprovalCursor, approvals_by_id, pending_approvals
from oversight.web.state import WebState, web_state

router = APIRouter()


def may_vote(role: str | None, approval_role: str) -> bool:
    """Whether a signed-in reviewer of `role` can vote on an approval needing `approval_role`
    (as `Reviewer.may_act_as` decides for the monitor)."""
    return role == "admin" or (role == approval_role and role != "viewer")


def trusted_now(web: WebState, access: AccessState) -> dict[str, Any]:
    rows = web.store.reviewers()
    if access.config.signing_in:
        return access.trusted(rows)
    return trusted_reviewers(rows, root_key=web.config.root_key)[0]


@router.get("/approvals", response_class=HTMLResponse, name="approvals")
def approvals(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
    after: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    try:
        position = ApprovalCursor.parse(after) if after else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    rows, following = pending_approvals(
        web.reader, after=position, limit=web.config.approvals_per_page
    )
    cards = build_cards(web.reader, web.store, rows, trusted_now(web, access))
    now = time.time()
    grants = [g for g in web.store.grants() if float(g["expires_at"]) > now]
    return render(
        "approvals.html",
        web.frame(request, "approvals"),
        cards=cards,
        may_vote=may_vote,
        grants=grants,
        grant_kinds=sorted(ALL_KINDS),
        now=now,
        next_url=with_query("/approvals", after=following.text()) if following else None,
        first_url="/approvals" if position else None,
        live=position is None,
    )


@router.get("/approvals/{approval_id}/card", response_class=HTMLResponse, name="approval_card")
async def approval_card(
    request: Request,
    approval_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> HTMLResponse:
    """One approval's card, for the live queue to insert or refresh; 404 once it no longer
    waits (decided, expired or used)."""
    card = await anyio.to_thread.run_sync(_card, web, access, approval_id)
    if card is None:
        raise HTTPException(404, f"approval {approval_id} no longer waits")
    layout = web.frame(request, "approvals")
    html = ENVIRONMENT.get_template("approval_card.html").render(
        frame=layout, card=card, may_vote=may_vote
    )
    return HTMLResponse(html)


def _card(web: WebState, access: AccessState, approval_id: str) -> ApprovalCard | None:
    row = approvals_by_id(web.reader, [approval_id]).get(approval_id)
    if row is None or row.status != "pending" or row.deadline is None:
        return None
    if row.deadline.timestamp() <= time.time():
        return None
    (card,) = build_cards(web.reader, web.store, [row], trusted_now(web, access))
    return card
