"""Votes, grants and halts from the browser. The server builds what is signed; the reviewer's
passkey signs it; the server only relays the assertion.

A vote takes two requests. `/approvals/{id}/vote/options`: the server builds the payload the
monitor will check (`vote_to_sign`: approval id, call digest, decision, reviewer, reason, the
edit), keeps it with a single-use challenge, and asks the browser for an assertion over
`challenge_for(payload)` by this reviewer's passkey only, with user verification. Then
`/approvals/{id}/vote`: the assertion is stored with `store_signed_vote`, which refuses anything
a monitor would not count. A grant is signed the same way over `grant_payload`. A halt needs no
signature (stopping is always safe), only a signed-in approver or admin.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Form, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from oversight.approvals.grants import grant_payload
from oversight.approvals.registry import Reviewer
from oversight.approvals.signing import verify
from oversight.approvals.votes import (
    ApprovalClosed,
    VoteNotVerified,
    ensure_open,
    store_signed_vote,
    vote_to_sign,
)
from oversight.canonical import new_id
from oversight.errors import ConfigError, UnknownKindError
from oversight.kinds import parse_kind
from oversight.web.access import AccessState, access_state
from oversight.web.acting import (
    ACTING_ROLES,
    Refused,
    browser_session,
    json_error,
    read_json,
    reviewer_with,
)
from oversight.web.ceremonies import CeremonyFailed
from oversight.web.challenges import ChallengeRefused
from oversight.web.passkey_prompts import credential_id, passkey_prompt, signed_answer, taken_prompt
from oversight.web.render import Flash
from oversight.web.state import WebState, web_state

router = APIRouter()
DONE = {
    "approve": "Approved",
    "deny": "Denied",
    "modify": "Modified",
}
MAX_GRANT_S = 7 * 24 * 3600.0


@router.post("/approvals/{approval_id}/vote/options", name="vote_options")
async def vote_options(
    request: Request,
    approval_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    try:
        reviewer = reviewer_with(request, ACTING_ROLES, "vote")
        row = await anyio.to_thread.run_sync(_open_row, web, access, approval_id, reviewer)
        decision, reason, patch = _vote_fields(body, row)
        payload = vote_to_sign(row, reviewer.name, decision, reason, args_patch=patch)
    except Refused as exc:
        return exc.response()
    except ConfigError as exc:
        return json_error(str(exc))
    extra = {"approval_id": approval_id, "decision": decision, "reason": reason, "patch": patch}
    return passkey_prompt(request, access, "vote", payload, extra, credential_id(reviewer))


@router.post("/approvals/{approval_id}/vote", name="vote")
async def vote(
    request: Request,
    approval_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    try:
        reviewer = reviewer_with(request, ACTING_ROLES, "vote")
        issued = taken_prompt(request, access, body, "vote")
        if issued.extra["approval_id"] != approval_id:
            raise Refused(400, "this passkey prompt was for another approval")
        answer = signed_answer(body, reviewer)
        extra = issued.extra
        await anyio.to_thread.run_sync(
            lambda: store_signed_vote(
                web.store,
                {"id": approval_id},
                reviewer.name,
                extra["decision"],
                extra["reason"],
                answer.signature,
                args_patch=extra["patch"],
                root_key=access.root_key,
            )
        )
    except Refused as exc:
        return exc.response()
    except (ChallengeRefused, CeremonyFailed) as exc:
        return json_error(str(exc))
    except ApprovalClosed as exc:
        return json_error(str(exc), 409)
    except VoteNotVerified as exc:
        return json_error(str(exc), 403)
    except ConfigError as exc:
        return json_error(str(exc), 403)
    said = DONE[str(issued.extra["decision"])]
    return JSONResponse(
        {
            "message": f"{said} by {reviewer.name} (approval {approval_id}). The signed vote "
            "is recorded; the waiting agent checks its signature itself."
        }
    )


@router.post("/grants/options", name="grant_options")
async def grant_options(
    request: Request,
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    try:
        reviewer = reviewer_with(request, ACTING_ROLES, "grant")
        row = _grant_row(body, reviewer)
    except Refused as exc:
        return exc.response()
    except (ConfigError, UnknownKindError) as exc:
        return json_error(str(exc))
    payload = grant_payload(row)
    return passkey_prompt(request, access, "grant", payload, {"row": row}, credential_id(reviewer))


@router.post("/grants", name="grant")
async def grant(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    try:
        reviewer = reviewer_with(request, ACTING_ROLES, "grant")
        issued = taken_prompt(request, access, body, "grant")
        row: dict[str, Any] = issued.extra["row"]
        if row["granted_by"] != reviewer.name:
            raise Refused(403, "this grant was prepared for another reviewer")
        answer = signed_answer(body, reviewer)
        if not verify(reviewer.public_key, grant_payload(row), answer.signature):
            raise Refused(403, f"the signature is not {reviewer.name}'s over this grant")
    except Refused as exc:
        return exc.response()
    except (ChallengeRefused, CeremonyFailed) as exc:
        return json_error(str(exc))
    await anyio.to_thread.run_sync(web.store.add_grant, {**row, "signature": answer.signature})
    scope = f"session {row['session_id']}" if row["session_id"] else "every session"
    return JSONResponse(
        {
            "message": f"Granted: {row['kind']} in {scope} until "
            f"{time.strftime('%H:%M UTC', time.gmtime(row['expires_at']))}, signed by "
            f"{reviewer.name}."
        }
    )


@router.post("/halts", name="halt")
def halt(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    session_id: Annotated[str, Form(max_length=500)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Stop a session's agent at its next step (unsigned, as `oversight halt` is; only a
    signed-in approver or admin may)."""
    try:
        reviewer = reviewer_with(request, ACTING_ROLES, "halt sessions")
    except Refused as exc:
        raise HTTPException(exc.status, exc.message) from None
    scope = session_id.strip()
    if not scope:
        raise HTTPException(400, "say which session to halt")
    said = reason.strip() or f"halted by {reviewer.name} from the review app"
    web.store.halt(scope, said, reviewer.name)
    target = "every session" if scope == "*" else f"session {scope}"
    browser_session(request).flashes.append(
        Flash("warning", f"Halted {target}: {said}. Its agent stops at its next step.")
    )
    return RedirectResponse("/approvals", status_code=303)


def _open_row(
    web: WebState, access: AccessState, approval_id: str, reviewer: Reviewer
) -> dict[str, Any]:
    row = web.store.approval(approval_id)
    if row is None:
        raise Refused(404, f"no approval {approval_id!r}")
    if not reviewer.may_act_as(str(row["role"])):
        raise Refused(
            403, f"approval {approval_id} needs an {row['role']}; you are a {reviewer.role}"
        )
    try:
        ensure_open(web.store, approval_id, root_key=access.root_key)
    except ApprovalClosed as exc:
        raise Refused(409, str(exc)) from None
    return row


def _vote_fields(
    body: dict[str, Any], row: dict[str, Any]
) -> tuple[str, str, dict[str, Any] | None]:
    """(decision, reason, edit) from the form; `ConfigError` saying what to fix."""
    decision = str(body.get("decision") or "")
    reason = str(body.get("reason") or "").strip()
    if decision not in DONE:
        raise ConfigError(f"decision {decision!r} is not one of approve, modify, deny")
    if decision == "deny" and not reason:
        raise ConfigError("say why it is denied: the agent is told the reason")
    if decision != "modify":
        return decision, reason, None
    return decision, reason, edit_of(row, body.get("args"))


def edit_of(row: dict[str, Any], text: object) -> dict[str, Any]:
    """The arguments a reviewer changed, from the call's arguments edited as JSON: every
    argument whose value differs (the edit that is signed and applied)."""
    try:
        recorded = json.loads(str(row["args"]))
    except ValueError:
        raise ConfigError("this call's arguments are not JSON; modify it from the CLI") from None
    if not isinstance(text, str):
        raise ConfigError("send the edited arguments as a JSON object")
    try:
        edited = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"the edited arguments are not valid JSON: {exc}") from None
    if not isinstance(edited, dict) or not isinstance(recorded, dict):
        raise ConfigError("the edited arguments must be a JSON object of names to values")
    unknown = sorted(set(edited) - set(recorded))
    if unknown:
        raise ConfigError(f"the call has no argument(s) {unknown}; it has {sorted(recorded)}")
    removed = sorted(set(recorded) - set(edited))
    if removed:
        raise ConfigError(f"an edit changes values; it cannot remove {removed}")
    patch = {k: v for k, v in edited.items() if recorded[k] != v}
    if not patch:
        raise ConfigError("nothing was changed: edit a value, or approve the call as it is")
    return patch


def _grant_row(body: dict[str, Any], reviewer: Reviewer) -> dict[str, Any]:
    kind = parse_kind(str(body.get("kind") or "")).value
    try:
        hours = float(body.get("hours") or 1)
    except (TypeError, ValueError):
        raise ConfigError(f"hours {body.get('hours')!r} is not a number") from None
    if not 0 < hours * 3600 <= MAX_GRANT_S:
        raise ConfigError("a grant lasts more than 0 and at most 168 hours")
    limit = body.get("max_gpu_hours")
    try:
        max_gpu_hours = float(limit) if limit not in (None, "") else None
    except (TypeError, ValueError):
        raise ConfigError(f"max GPU-hours {limit!r} is not a number") from None
    session = str(body.get("session_id") or "").strip() or None
    reason = str(body.get("reason") or "").strip()
    return {
        "id": new_id(),
        "kind": kind,
        "session_id": session,
        "max_gpu_hours": max_gpu_hours,
        "expires_at": time.time() + hours * 3600,
        "granted_by": reviewer.name,
        "reason": reason or f"standing approval by {reviewer.name}",
    }
