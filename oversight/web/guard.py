"""The gate every request passes: the right host, a signed-in trusted reviewer, a CSRF token.

With sign-in (an origin configured):
- a request for another host name is sent to the origin (GET) or refused: a page reached under
  another name (DNS rebinding, a typed IP address) could not use its passkeys anyway;
- every page needs a signed-in reviewer, checked again on each request against the reviewers
  the store trusts now, so a removed or re-keyed reviewer is signed out at once; only the
  sign-in and registration pages and the static files are open;
- every request that is not GET/HEAD/OPTIONS must carry the session's CSRF token (header or
  form field) and may not name another Origin.

Without sign-in (`--no-auth`): pages answer only to local host names, and every request that
would change something is refused: there is nobody to act as.

It sets `request.state.reviewer` (the name), `role`, `trusted_reviewer` (the `Reviewer`), `csrf`,
`access`, `flashes` and `browser_session`.
"""

from __future__ import annotations

import anyio
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oversight.approvals.registry import Reviewer
from oversight.web import csrf
from oversight.web.access import LOCAL_HOSTS, AccessState
from oversight.web.browser_sessions import COOKIE, BrowserSession, set_cookie
from oversight.web.render import Flash, frame, render
from oversight.web.state import WebState

OPEN_PATHS = ("/signin", "/register")
"""Paths (and their sub-paths) anyone may open: how a reviewer gets in."""


class Guard:
    """ASGI middleware; reads the app's `AccessState` (`app.state.access`) and `WebState`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        access: AccessState = scope["app"].state.access
        web: WebState = scope["app"].state.web
        request = Request(scope)
        method = scope["method"]
        path = scope["path"]
        refused = _wrong_host(access, request)
        if refused is not None:
            await refused(scope, receive, send)
            return
        if path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not access.config.signing_in:
            state["access"] = "open"
            if method not in csrf.SAFE_METHODS:
                page = _refusal(
                    request,
                    web,
                    403,
                    "Read-only",
                    "this app was started with --no-auth: it only shows the store. Nobody can "
                    "approve, deny, grant or halt here; start it with sign-in to act.",
                )
                await page(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        session, new_cookie, reviewer = await _session(access, web, request)
        state["browser_session"] = session
        state["csrf"] = session.csrf
        if reviewer is not None:
            state.update(
                reviewer=reviewer.name,
                role=reviewer.role,
                access="signed_in",
                trusted_reviewer=reviewer,
            )
        else:
            state["access"] = "signed_out"

        if method not in csrf.SAFE_METHODS:
            receive, problem = await _check_forgery(access, request, session, receive)
            if problem is not None:
                page = _refusal(request, web, 403, "Refused: the form cannot be trusted", problem)
                await _send(page, new_cookie, access, scope, receive, send)
                return
        if reviewer is None and not _open(path):
            await _send(_sign_in_first(request, web), new_cookie, access, scope, receive, send)
            return
        if method == "GET" and request.headers.get("sec-fetch-dest", "document") == "document":
            # Messages are shown by the next page, not by a script's fetch of a fragment.
            state["flashes"] = tuple(session.flashes)
            session.flashes.clear()
        await _send(self.app, new_cookie, access, scope, receive, send)


def _open(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPEN_PATHS)


def _wrong_host(access: AccessState, request: Request) -> Response | None:
    host = request.headers.get("host", "")
    if access.config.signing_in:
        if host == access.config.host:
            return None
        if request.method in ("GET", "HEAD"):
            target = access.config.exact_origin + request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(target, status_code=307)
        return PlainTextResponse(
            f"this app is reached at {access.config.exact_origin}, not at {host!r}", 400
        )
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    if name in LOCAL_HOSTS:
        return None
    return PlainTextResponse(
        f"this app runs without sign-in (--no-auth) and answers only on this machine "
        f"(127.0.0.1 or localhost), not at {host!r}",
        400,
    )


async def _session(
    access: AccessState, web: WebState, request: Request
) -> tuple[BrowserSession, BrowserSession | None, Reviewer | None]:
    """(the browser's live session, the session whose cookie must be set if it is new, the
    signed-in reviewer as trusted now). A reviewer no longer trusted with the key they signed
    in with is signed out here, with a message."""
    session = access.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        session = access.sessions.anonymous()
        return session, session, None
    if session.reviewer is None:
        return session, None, None
    rows = await anyio.to_thread.run_sync(web.store.reviewers)
    reviewer = access.trusted(rows).get(session.reviewer)
    if reviewer is not None and reviewer.public_key == session.public_key:
        return session, None, reviewer
    access.sessions.end(session)
    fresh = access.sessions.anonymous()
    fresh.flashes.append(
        Flash("warning", f"{session.reviewer} was signed out: no longer a trusted reviewer here")
    )
    return fresh, fresh, None


async def _check_forgery(
    access: AccessState, request: Request, session: BrowserSession, receive: Receive
) -> tuple[Receive, str | None]:
    """(the receive to pass on, why the request is refused or None)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != access.config.exact_origin:
        return receive, f"the request came from another site ({origin})"
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return receive, "the request came from another site"
    token = request.headers.get(csrf.HEADER)
    content_type = request.headers.get("content-type", "")
    if token is None and content_type.startswith("application/x-www-form-urlencoded"):
        try:
            token, receive = await csrf.form_token(receive)
        except csrf.BodyTooLarge as exc:
            return receive, f"the form is too large ({exc})"
    if token is None:
        return receive, (
            "the form carried no security token (CSRF). Forms of this app always carry one: "
            "reload the page and try again"
        )
    if not csrf.matches(session.csrf, token):
        return receive, (
            "the form's security token (CSRF) is not this browser session's: it is from an "
            "older page or another site. Reload the page and try again"
        )
    return receive, None


def _sign_in_first(request: Request, web: WebState) -> Response:
    if _wants_json(request) or request.url.path.endswith("/events"):
        return JSONResponse({"error": "sign in first", "signin": "/signin"}, status_code=401)
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        next_part = "" if target == "/" else "?next=" + _quoted(target)
        return RedirectResponse("/signin" + next_part, status_code=303)
    return _refusal(request, web, 403, "Sign in first", "only signed-in reviewers can do that")


def _refusal(request: Request, web: WebState, status: int, title: str, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    layout = frame(request, "", store=web.store.url_for_display, pending=None)
    return render(
        "error.html", layout, status_code=status, code=status, title=title, message=message
    )


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.headers.get(
        "content-type", ""
    ).startswith("application/json")


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/:@-._~!$'()*+,;=")


async def _send(
    app: ASGIApp,
    new_cookie: BrowserSession | None,
    access: AccessState,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Run `app`, adding the cookie of a session started by this request."""
    if new_cookie is None:
        await app(scope, receive, send)
        return

    async def with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if not any(c.startswith(COOKIE + "=") for c in headers.getlist("set-cookie")):
                carrier = Response()
                set_cookie(carrier, new_cookie, secure=access.config.secure)
                headers.append("set-cookie", carrier.headers["set-cookie"])
        await send(message)

    await app(scope, receive, with_cookie)
