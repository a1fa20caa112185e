"""The two halves of a passkey ceremony from the browser: the prompt and the answer.

A vote, a grant and an endorsement are each signed the same way. First the server keeps the
payload it built with a single-use challenge over it (`challenge_for`) and answers the page with
the options for `navigator.credentials.get`, limited to the signer's passkey. Then the page posts
the assertion back: the challenge is taken (once, by the browser session it was issued to, for
the purpose it was issued for) and the assertion read, and checked to be the signer's passkey. Registering and signing in post
their answers back the same way (`posted_answer`), from a browser not yet signed in.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from oversight.approvals.passkeys import challenge_for, parse_public_key
from oversight.approvals.registry import Reviewer
from oversight.web.access import AccessState
from oversight.web.acting import Refused, browser_session, read_json
from oversight.web.browser_sessions import BrowserSession
from oversight.web.ceremonies import BrowserAssertion, assertion_options, read_assertion
from oversight.web.challenges import Challenge


def passkey_prompt(
    request: Request,
    access: AccessState,
    purpose: str,
    payload: dict[str, Any],
    extra: dict[str, Any],
    credential_id: bytes,
) -> JSONResponse:
    """Keep `payload` with a challenge for this browser and answer with the assertion options
    over it (only `credential_id` may answer) and the payload, for the page to show."""
    issued = access.challenges.issue(
        browser_session(request).id,
        purpose,
        challenge_for(payload),
        payload=payload,
        extra=extra,
    )
    return JSONResponse(
        {
            "challenge_id": issued.id,
            "publicKey": assertion_options(access.config, issued.challenge, [credential_id]),
            "payload": payload,
        }
    )


def taken_prompt(
    request: Request, access: AccessState, body: dict[str, Any], purpose: str
) -> Challenge:
    """The challenge the posted answer names, taken (`ChallengeRefused` when it is not this
    browser's, for `purpose`, and in time)."""
    return access.challenges.take(body.get("challenge_id"), browser_session(request).id, purpose)


async def posted_answer(
    request: Request, access: AccessState, purpose: str
) -> tuple[dict[str, Any], BrowserSession, Challenge]:
    """What the page posted back to a prompt it needs no sign-in for (registering, signing in):
    its JSON, this browser's session, and the challenge the answer names, taken."""
    body = await read_json(request)
    session = browser_session(request)
    return body, session, access.challenges.take(body.get("challenge_id"), session.id, purpose)


def signed_answer(body: dict[str, Any], reviewer: Reviewer) -> BrowserAssertion:
    """The posted assertion, made with `reviewer`'s own passkey (`Refused` 403 otherwise,
    `CeremonyFailed` when it is not an assertion)."""
    answer = read_assertion(body.get("credential"))
    if answer.credential_id != credential_id(reviewer):
        raise Refused(403, f"that passkey is not {reviewer.name}'s")
    return answer


def credential_id(reviewer: Reviewer) -> bytes:
    """The id of the reviewer's passkey (`Refused` 403 when they have a key file instead)."""
    passkey = parse_public_key(reviewer.public_key)
    if passkey is None:
        raise Refused(403, f"{reviewer.name} has no passkey registered")
    return passkey.credential_id
