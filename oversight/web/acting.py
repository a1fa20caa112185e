"""What every action route needs: the signed-in reviewer, their role, and JSON in and out.

Routes that act take the reviewer the guard found trusted for this very request (never a name
from the form), refuse anyone whose role does not allow the action, and answer the page's
script in JSON (`{"error": ...}` with a status that says why).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from oversight.approvals.registry import Reviewer
from oversight.web.browser_sessions import BrowserSession

ACTING_ROLES = ("approver", "admin")


def browser_session(request: Request) -> BrowserSession:
    """The request's browser session (the guard sets one whenever sign-in is on)."""
    session = getattr(request.state, "browser_session", None)
    if not isinstance(session, BrowserSession):
        raise HTTPException(404, "this app runs without sign-in (--no-auth)")
    return session


def signed_in(request: Request) -> Reviewer | None:
    reviewer = getattr(request.state, "trusted_reviewer", None)
    return reviewer if isinstance(reviewer, Reviewer) else None


def reviewer_with(request: Request, roles: tuple[str, ...], doing: str) -> Reviewer:
    """The signed-in reviewer if their role is one of `roles`; `Refused` (403) otherwise."""
    reviewer = signed_in(request)
    if reviewer is None:
        raise Refused(401, "sign in first")
    if reviewer.role not in roles:
        raise Refused(403, f"{reviewer.name} is a {reviewer.role}: only {_either(roles)} {doing}")
    return reviewer


class Refused(Exception):
    """An action refused, with the HTTP status and what to tell the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return json_error(self.message, self.status)


def json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object ({} when it is not one)."""
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _either(roles: tuple[str, ...]) -> str:
    names = [f"{r}s" for r in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
