"""`/sessions/{id}/export.jsonl`: a session's records streamed as JSON lines, each with its
place in the chain, exactly as `oversight export` writes them (batched reads, constant memory)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from starlette.responses import StreamingResponse

from oversight.records import record_body
from oversight.store import SQLStore
from oversight.web.state import WebState, web_state

router = APIRouter()


@router.get("/sessions/{session_id:path}/export.jsonl", name="export")
def export(session_id: str, state: Annotated[WebState, Depends(web_state)]) -> StreamingResponse:
    if not state.store.has_session(session_id):
        raise HTTPException(404, f"no session {session_id!r} in this store")
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", session_id)[:120] or "session"
    return StreamingResponse(
        export_lines(state.store, session_id),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{filename}.jsonl"'},
    )


def export_lines(store: SQLStore, session_id: str) -> Iterator[str]:
    for stored in store.iter_records(session_id):
        yield (
            f'{{"seq":{stored.seq},"hash":"{stored.hash}","prev_hash":"{stored.prev_hash}",'
            f'"record":{record_body(stored.record)}}}\n'
        )
