"""`/reviewers`: who is trusted, and (for admins) the passkeys waiting for an endorsement.

An admin compares a registration's fingerprint with the one its registrant reads out, then
endorses it in the browser: the server builds `endorsement_payload(name, role, public_key)`,
the admin's own passkey signs it (an assertion, as for a vote), and the reviewer row is written
with that assertion as its endorsement, which `registry.trusted_reviewers` verifies through
`signing.verify` like any admin's signature. Or the admin downloads the registration file and
runs `oversight reviewer add NAME --passkey FILE --as ADMIN --key ADMIN.pem`. Declining deletes
the file. Each of these is chained in the store.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from oversight.approvals.passkeys import parse_public_key
from oversight.approvals.registry import ROLES, trusted_reviewers
from oversight.approvals.signing import endorsement_payload, verify
from oversight.web import audit
from oversight.web.access import AccessState, access_state
from oversight.web.acting import (
    Refused,
    browser_session,
    json_error,
    read_json,
    reviewer_with,
    signed_in,
)
from oversight.web.ceremonies import CeremonyFailed, read_assertion
from oversight.web.challenges import ChallengeRefused
from oversight.web.passkey_prompts import passkey_prompt, taken_prompt
from oversight.web.pending_registrations import fingerprint
from oversight.web.registration_pages import ROLE_NOTES, endorse_command
from oversight.web.render import Flash, render
from oversight.web.state import WebState, web_state

router = APIRouter()


@router.get("/reviewers", response_class=HTMLResponse, name="reviewers")
def reviewers(
    request: Request,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> HTMLResponse:
    me = signed_in(request)
    if me is None:
        raise HTTPException(404, "this app runs without sign-in (--no-auth)")
    rows = web.store.reviewers()
    trusted, rejected = trusted_reviewers(rows, root_key=access.root_key)
    admin = me.role == "admin"
    listed = []
    for reviewer in trusted.values():
        passkey = parse_public_key(reviewer.public_key)
        endorsed_by = next((str(r["endorsed_by"]) for r in rows if r["name"] == reviewer.name), "")
        listed.append(
            {
                "name": reviewer.name,
                "role": reviewer.role,
                "credential": "passkey" if passkey else "key file",
                "fingerprint": fingerprint(passkey.spki if passkey else _raw(reviewer.public_key)),
                "endorsed_by": endorsed_by,
            }
        )
    pending = access.pending.settle({str(r["public_key"]) for r in rows}) if admin else []
    return render(
        "reviewers.html",
        web.frame(request, "reviewers"),
        reviewers=listed,
        rejected=rejected if admin else [],
        pending=pending,
        commands={p.id: endorse_command(p.name, str(p.path)) for p in pending},
        pending_folder=access.pending.folder,
        roles=[(role, ROLE_NOTES[role]) for role in ROLES],
        admin=admin,
    )


@router.get("/reviewers/pending/{registration_id}.json", name="pending_file")
def pending_file(
    request: Request,
    registration_id: str,
    access: Annotated[AccessState, Depends(access_state)],
) -> FileResponse:
    try:
        reviewer_with(request, ("admin",), "download registrations")
    except Refused as exc:
        raise HTTPException(exc.status, exc.message) from None
    pending = access.pending.get(registration_id)
    if pending is None:
        raise HTTPException(404, f"no registration {registration_id!r} waits")
    return FileResponse(
        pending.path,
        media_type="application/json",
        filename=f"{pending.name}.passkey.json",
    )


@router.post("/reviewers/pending/{registration_id}/endorse/options", name="endorse_options")
async def endorse_options(
    request: Request,
    registration_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    try:
        admin = reviewer_with(request, ("admin",), "endorse reviewers")
        pending = access.pending.get(registration_id)
        if pending is None:
            raise Refused(404, f"no registration {registration_id!r} waits")
        role = str(body.get("role") or pending.role)
        if role not in ROLES:
            raise Refused(400, f"role {role!r} is not one of {', '.join(ROLES)}")
        trusted = access.trusted(await anyio.to_thread.run_sync(web.store.reviewers))
        if pending.name in trusted:
            raise Refused(409, f"{pending.name!r} is already a reviewer; decline this one")
        own = parse_public_key(admin.public_key)
        if own is None:
            raise Refused(403, f"{admin.name} has no passkey to sign with")
    except Refused as exc:
        return exc.response()
    payload = endorsement_payload(pending.name, role, pending.public_key)
    extra = {"registration_id": registration_id}
    return passkey_prompt(request, access, "endorse", payload, extra, own.credential_id)


@router.post("/reviewers/pending/{registration_id}/endorse", name="endorse")
async def endorse(
    request: Request,
    registration_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> JSONResponse:
    body = await read_json(request)
    try:
        admin = reviewer_with(request, ("admin",), "endorse reviewers")
        issued = taken_prompt(request, access, body, "endorse")
        if issued.extra["registration_id"] != registration_id:
            raise Refused(400, "this passkey prompt was for another registration")
        pending = access.pending.get(registration_id)
        if pending is None or pending.public_key != issued.payload["public_key"]:
            raise Refused(404, f"registration {registration_id!r} no longer waits")
        answer = read_assertion(body.get("credential"))
        if not verify(admin.public_key, issued.payload, answer.signature):
            raise Refused(403, f"the signature is not {admin.name}'s over this endorsement")
        trusted = access.trusted(await anyio.to_thread.run_sync(web.store.reviewers))
        if pending.name in trusted:
            raise Refused(409, f"{pending.name!r} is already a reviewer")
    except Refused as exc:
        return exc.response()
    except (ChallengeRefused, CeremonyFailed) as exc:
        return json_error(str(exc))
    payload = issued.payload
    await anyio.to_thread.run_sync(
        web.store.add_reviewer,
        {
            "name": payload["name"],
            "role": payload["role"],
            "public_key": payload["public_key"],
            "endorsed_by": admin.name,
            "endorsement": answer.signature,
        },
    )
    access.pending.remove(registration_id)
    message = f"Endorsed {payload['name']} as {payload['role']}, signed by {admin.name}."
    browser_session(request).flashes.append(Flash("success", message))
    return JSONResponse({"message": message, "next": "/reviewers"})


@router.post("/reviewers/pending/{registration_id}/decline", name="decline")
def decline(
    request: Request,
    registration_id: str,
    web: Annotated[WebState, Depends(web_state)],
    access: Annotated[AccessState, Depends(access_state)],
) -> RedirectResponse:
    try:
        admin = reviewer_with(request, ("admin",), "decline registrations")
    except Refused as exc:
        raise HTTPException(exc.status, exc.message) from None
    pending = access.pending.get(registration_id)
    if pending is None:
        raise HTTPException(404, f"no registration {registration_id!r} waits")
    access.pending.remove(registration_id)
    audit.declined(web.store, registration_id, admin.name, pending.name, pending.public_key)
    browser_session(request).flashes.append(
        Flash("info", f"Declined the registration of {pending.name} ({pending.fingerprint}).")
    )
    return RedirectResponse("/reviewers", status_code=303)


def _raw(public_key: str) -> bytes:
    """A key file's public key (hex) as bytes, for its fingerprint."""
    try:
        return bytes.fromhex(public_key)
    except ValueError:
        return public_key.encode("utf-8")
