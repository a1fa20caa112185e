"""`/sessions/{id}`: one session's timeline, a page of steps at a time, with its autonomy chart.

The session's frame (start, end, alerts) and its steps come from `SessionPages`, which reads a
page of steps through the (session_id, seq) index. The chart needs every step's score, so it is
computed for the whole session (cached until the session changes); sessions longer than
`chart_max_steps` compute it only when asked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from oversight.approvals.halts import halts_stopping
from oversight.records import StepProposed
from oversight.timeline import SessionPages, build_session, process_alive
from oversight.web.chart import render_chart
from oversight.web.queries import frame_records, last_seq, session_status, step_total
from oversight.web.render import render, session_url
from oversight.web.review_queries import approvals_by_id
from oversight.web.state import WebState, web_state
from oversight.web.timeline_view import step_items, step_link

router = APIRouter()


@router.get("/sessions/{session_id:path}/step/{step_id}", name="step")
def step(
    session_id: str, step_id: str, state: Annotated[WebState, Depends(web_state)]
) -> RedirectResponse:
    """A step by id (as approvals name it), sent to the timeline page that shows it."""
    found = next(
        (
            stored.record
            for stored in state.store.iter_records(
                session_id, types=("step.proposed",), step_ids=[step_id], batch=1
            )
        ),
        None,
    )
    if not isinstance(found, StepProposed):
        raise HTTPException(404, f"no step {step_id!r} in session {session_id!r}")
    per_page = state.config.steps_per_page
    link = step_link(found.seq, per_page=per_page, current_offset=-1, base=session_url(session_id))
    return RedirectResponse(link, status_code=303)


def _open_pages(state: WebState, session_id: str) -> SessionPages:
    """The session's frame (start, end, alerts, status) and a reader of its steps: what
    `SessionPages.open` gives, read so that a long session costs what a short one does (the
    frame through the cheaper index, the steps counted by the number of the last one)."""
    frame = build_session(session_id, frame_records(state.reader, session_id))
    total = step_total(state.reader, session_id)
    if total == 0 and frame.started is None and frame.ended is None and not frame.alerts:
        raise HTTPException(404, f"no session {session_id!r} in this store")
    gone = frame.ended is not None or process_alive(frame.started) is False
    return SessionPages(state.store, frame, total, gone)


@router.get("/sessions/{session_id:path}", response_class=HTMLResponse, name="timeline")
def timeline(
    request: Request,
    session_id: str,
    state: Annotated[WebState, Depends(web_state)],
    offset: Annotated[int, Query(ge=0)] = 0,
    chart: bool = False,
) -> HTMLResponse:
    store, config = state.store, state.config
    pages = _open_pages(state, session_id)
    view = pages.view
    per_page = config.steps_per_page
    steps = [s for chunk in pages.steps(offset=offset, limit=per_page) for s in chunk]
    approvals = approvals_by_id(
        state.reader,
        [s.finished.approval_id for s in steps if s.finished and s.finished.approval_id],
    )
    charted = pages.total_steps <= config.chart_max_steps or chart
    autonomy = None
    if charted:
        autonomy = state.autonomy.get(session_id, last_seq(state.reader, session_id) or 0)
    base = session_url(session_id)

    def link(seq: int) -> str:
        return step_link(seq, per_page=per_page, current_offset=offset, base=base)

    svg = None
    if autonomy is not None:
        final = autonomy.final
        svg = Markup(
            render_chart(
                autonomy.points, evidence=final.evidence, stretches=final.stretches, link=link
            )
        )
    status, note = session_status(view.ended.status if view.ended else None, view.started)
    last = offset + len(steps)
    paging = {
        "first": f"{base}?offset=0" if offset > 0 else None,
        "previous": f"{base}?offset={max(0, offset - per_page)}" if offset > 0 else None,
        "next": f"{base}?offset={last}" if last < pages.total_steps else None,
        "last": f"{base}?offset={(pages.total_steps - 1) // per_page * per_page}"
        if last < pages.total_steps
        else None,
    }
    return render(
        "timeline.html",
        state.frame(request, "sessions"),
        view=view,
        status=status,
        status_note=note,
        total_steps=pages.total_steps,
        items=step_items(steps, started_at=view.started_at, approvals=approvals, autonomy=autonomy),
        offset=offset,
        shown_to=last,
        paging=paging,
        autonomy=autonomy,
        chart_svg=svg,
        chart_link=None if charted else f"{base}?offset={offset}&chart=true",
        link=link,
        halts=halts_stopping(store.halts(), store.reviewers, session_id, root_key=config.root_key),
        export_url=f"{base}/export.jsonl",
    )
