"""`/register`: a person makes a passkey for this app; it waits for an admin's endorsement.

Anyone who reaches the app may register (it is how a reviewer starts), and a registration
grants nothing: it is a file in the app's state folder (`pending_registrations.py`) until an
admin endorses it, from the Reviewers page with their own passkey or from the CLI with
`oversight reviewer add NAME --passkey FILE`. The registrant is shown the key's fingerprint to
read out to the admin, who sees the same fingerprint before endorsing.
"""

from __future__ import annotations

import re
import secrets
import shlex
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from oversight.approvals.passkeys import parse_public_key
from oversight.approvals.registry import ROLES
from oversight.errors import ConfigError
from oversight.web import audit
from oversight.web.access import AccessState, access_state
from oversight.web.acting import browser_session, json_error, read_json
from oversight.web.ceremonies import CeremonyFailed, registration_options, verify_registration
from oversight.web.challenges import ChallengeRefused
from oversight.web.passkey_prompts import posted_answer
from oversight.web.render import render
from oversight.web.state import WebState, web_state

router = APIRouter()
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
ROLE_NOTES = {
    "viewer": "reads sessions, timelines and approvals; never votes",
    "approver": "also approves, modifies or denies waiting calls, grants and halts",
    "admin": "also endorses reviewers",
}


@router.get("/register", response_class=HTMLResponse, name="register")
def register_page(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> HTMLResponse:
    return render(
        "register.html",
        web.frame(request, "register"),
        roles=[(role, ROLE_NOTES[role]) for role in ROLES],
        signing_in=access.config.signing_in,
        origin=access.config.origin,
    )


@router.post("/register/options", name="register_options")
async def register_options(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    name, role = str(body.get("name") or "").strip(), str(body.get("role") or "approver")
    if not NAME.match(name):
        return json_error(
            "a name is 1 to 64 letters, digits or . _ @ + - (starting with a letter or digit)"
        )
    if role not in ROLES:
        return json_error(f"role {role!r} is not one of {', '.join(ROLES)}")
    trusted = access.trusted(await anyio.to_thread.run_sync(web.store.reviewers))
    if name in trusted:
        return json_error(f"{name!r} is already a reviewer here; pick another name", 409)
    session = browser_session(request)
    issued = access.challenges.issue(
        session.id,
        "register",
        secrets.token_bytes(32),
        extra={"name": name, "role": role, "user_id": secrets.token_bytes(16)},
    )
    options = registration_options(access.config, name, issued.extra["user_id"], issued.challenge)
    return JSONResponse({"challenge_id": issued.id, "publicKey": options})


@router.post("/register/verify", name="register_verify")
async def register_verify(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    try:
        body, session, issued = await posted_answer(request, access, "register")
        passkey = verify_registration(access.config, body.get("credential"), issued.challenge)
    except (ChallengeRefused, CeremonyFailed) as exc:
        return json_error(str(exc))
    trusted = access.trusted(await anyio.to_thread.run_sync(web.store.reviewers))
    for reviewer in trusted.values():
        known = parse_public_key(reviewer.public_key)
        if known is not None and known.credential_id == passkey.credential_id:
            return json_error(f"this passkey is already {reviewer.name}'s", 409)
    name, role = str(issued.extra["name"]), str(issued.extra["role"])
    try:
        pending = access.pending.add(name, role, passkey)
    except ConfigError as exc:
        return json_error(str(exc), 409)
    await anyio.to_thread.run_sync(
        audit.registered, web.store, pending.id, name, role, pending.public_key
    )
    session.registrations.append(pending.id)
    return JSONResponse({"next": f"/register/done/{pending.id}"})


@router.get("/register/done/{registration_id}", response_class=HTMLResponse, name="registered")
def registered_page(
    request: Request,
    registration_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> HTMLResponse:
    session = browser_session(request)
    pending = access.pending.get(registration_id)
    if pending is None or registration_id not in session.registrations:
        raise HTTPException(404, "no registration of yours by that id (it may be endorsed now)")
    return render(
        "registered.html",
        web.frame(request, "register"),
        pending=pending,
        command=endorse_command(pending.name, str(pending.path)),
    )


def endorse_command(name: str, path: str) -> str:
    """What an admin runs on the server's machine to endorse a registration by its file."""
    return (
        f"oversight reviewer add {shlex.quote(name)} --passkey {shlex.quote(path)} "
        "--as ADMIN --key ADMIN.pem"
    )
