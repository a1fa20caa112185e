"""Errors as pages a reviewer can read: a missing session is a 404 page, a store that cannot
be read a 503 page naming it, and a bug a 500 page (its traceback goes to the server log,
never to the browser)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from oversight.errors import StoreError
from oversight.web.render import Frame, frame, render

log = logging.getLogger("oversight.web")

TITLES = {
    400: "That request does not fit",
    404: "Not found",
    405: "Not allowed",
    500: "Something went wrong",
    503: "The store cannot be read",
}


def install(app: FastAPI) -> None:
    """Register the error pages on `app`."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing here at {request.url.path}"
        return _page(request, exc.status_code, message)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        log.warning("store error on %s: %s", request.url.path, exc)
        return _page(request, 503, str(exc))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        log.exception("error on %s", request.url.path, exc_info=exc)
        return _page(request, 500, "the server hit an error; its log has the details")


def _page(request: Request, status: int, message: str) -> Response:
    state = getattr(request.app.state, "web", None)
    store = state.store.url_for_display if state is not None else ""
    page: Frame = frame(request, "", store=store, pending=None)
    response = render(
        "error.html",
        page,
        status_code=status,
        code=status,
        title=TITLES.get(status, "Error"),
        message=message,
    )
    return response
