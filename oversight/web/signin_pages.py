"""`/signin` and `/signout`: a WebAuthn authentication ceremony, then a server-side session.

The challenge is SHA-256 of a sign-in payload holding a random nonce (`challenge_for`), kept
server-side for this browser session, used once, for a few minutes. The answer is checked by
`signing.verify`, the very check a monitor makes on a vote (origin, relying party, user present
and verified, the key the admin endorsed), so signing in proves the same thing a vote does:
this trusted reviewer's passkey, with its owner there. Each sign-in and sign-out is chained.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from oversight.approvals.passkeys import b64url, challenge_for, parse_public_key
from oversight.approvals.signing import verify
from oversight.web import audit
from oversight.web.access import AccessState, access_state
from oversight.web.acting import browser_session, json_error
from oversight.web.browser_sessions import set_cookie
from oversight.web.ceremonies import CeremonyFailed, assertion_options, read_assertion
from oversight.web.challenges import ChallengeRefused
from oversight.web.passkey_prompts import posted_answer
from oversight.web.render import Flash, render
from oversight.web.state import WebState, web_state

router = APIRouter()
PURPOSE = "oversight sign-in"


def safe_next(target: str) -> str:
    """Where to go after signing in: a path of this app only (never another site)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/signin", response_class=HTMLResponse, name="signin")
def signin_page(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
    next_: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    if access.config.signing_in and getattr(request.state, "reviewer", None) is not None:
        return RedirectResponse(safe_next(next_), status_code=303)
    return render(
        "signin.html",
        web.frame(request, "signin"),
        next_url=safe_next(next_),
        signing_in=access.config.signing_in,
        origin=access.config.origin,
    )


@router.post("/signin/options", name="signin_options")
def signin_options(
    request: Request,
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    session = browser_session(request)
    payload = {
        "purpose": PURPOSE,
        "origin": access.config.exact_origin,
        "nonce": b64url(secrets.token_bytes(32)),
    }
    issued = access.challenges.issue(session.id, "sign-in", challenge_for(payload), payload=payload)
    return JSONResponse(
        {
            "challenge_id": issued.id,
            "publicKey": assertion_options(access.config, issued.challenge),
        }
    )


@router.post("/signin/verify", name="signin_verify")
async def signin_verify(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    try:
        body, session, issued = await posted_answer(request, access, "sign-in")
        answer = read_assertion(body.get("credential"))
    except (ChallengeRefused, CeremonyFailed) as exc:
        return json_error(str(exc))
    trusted = access.trusted(await anyio.to_thread.run_sync(web.store.reviewers))
    reviewer = next(
        (
            r
            for r in trusted.values()
            if (passkey := parse_public_key(r.public_key)) is not None
            and passkey.credential_id == answer.credential_id
        ),
        None,
    )
    if reviewer is None:
        waiting = any(p.credential_id == answer.credential_id for p in access.pending.list())
        why = (
            "this passkey is registered but waits for an admin's endorsement"
            if waiting
            else "this passkey belongs to no trusted reviewer of this store"
        )
        return json_error(why, 403)
    if not verify(reviewer.public_key, issued.payload, answer.signature):
        passkey = parse_public_key(reviewer.public_key)
        where = passkey.origin if passkey is not None else "?"
        return json_error(
            f"the passkey's answer does not verify for {reviewer.name} (it must be made at "
            f"{where}, with your PIN or biometric)",
            403,
        )
    signed_in = access.sessions.sign_in(session, reviewer.name, reviewer.public_key)
    await anyio.to_thread.run_sync(
        audit.signed_in, web.store, reviewer.name, signed_in.audit_id, b64url(answer.credential_id)
    )
    signed_in.flashes.append(Flash("success", f"Signed in as {reviewer.name} ({reviewer.role})."))
    response = JSONResponse({"next": safe_next(str(body.get("next") or "/"))})
    set_cookie(response, signed_in, secure=access.config.secure)
    return response


@router.post("/signout", name="signout")
def signout(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> RedirectResponse:
    session = browser_session(request)
    name = session.reviewer
    if name is not None:
        audit.signed_out(web.store, name, session.audit_id)
    access.sessions.end(session)
    fresh = access.sessions.anonymous()
    if name is not None:
        fresh.flashes.append(Flash("info", f"{name} signed out."))
    response = RedirectResponse("/signin", status_code=303)
    set_cookie(response, fresh, secure=access.config.secure)
    return response
