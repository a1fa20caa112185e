"""`/integrity`: whether the hash chain (and the anchors an admin signed) still hold, and where
they break. Verification reads every record, so it runs when a reviewer asks, one at a time,
and its result is kept to show until the next run."""

from __future__ import annotations

import datetime as _dt
import time
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from oversight.anchors import check_anchors, read_anchors
from oversight.approvals.registry import trusted_reviewers
from oversight.web.queries import record_at
from oversight.web.render import render
from oversight.web.state import IntegrityResult, WebState, web_state

router = APIRouter()


@router.get("/integrity", response_class=HTMLResponse, name="integrity")
def integrity(request: Request, state: Annotated[WebState, Depends(web_state)]) -> HTMLResponse:
    result = state.integrity
    problem = result.report.first_problem if result else None
    where = record_at(state.reader, problem.seq) if problem and problem.seq > 0 else None
    return render(
        "integrity.html",
        state.frame(request, "integrity"),
        result=result,
        where=where,
        anchors_file=state.config.anchors_file,
        head=state.store.head(),
        busy=state.integrity_lock.locked(),
    )


@router.get("/integrity/run", name="verify")
def verify(state: Annotated[WebState, Depends(web_state)]) -> RedirectResponse:
    """Verify now (waiting for a run already under way instead of starting a second one)."""
    with state.integrity_lock:
        started = time.monotonic()
        report = state.store.verify()
        checked, problems = _anchor_problems(state)
        state.integrity = IntegrityResult(
            report=report,
            anchors_checked=checked,
            anchor_problems=tuple(problems),
            finished_at=_dt.datetime.now(_dt.UTC),
            seconds=time.monotonic() - started,
        )
    return RedirectResponse("/integrity", status_code=303)


def _anchor_problems(state: WebState) -> tuple[int, list[str]]:
    """(anchors read, what they say is wrong) for the configured anchors file, if any."""
    path = state.config.anchors_file
    if path is None:
        return 0, []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return 0, [f"cannot read the anchors file {path}: {exc}"]
    found, unreadable = read_anchors(text.splitlines())
    trusted, _ = trusted_reviewers(state.store.reviewers(), root_key=state.config.root_key)
    admins = {r.name: r.public_key for r in trusted.values() if r.role == "admin"}
    problems = unreadable + check_anchors(state.store, found, admins)
    if not found and not unreadable:
        problems.append(f"{path} holds no anchors")
    return len(found), problems
