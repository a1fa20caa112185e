"""Cross-site request forgery: every state-changing request carries its page's token.

Each browser session has a random token; pages put it in their forms (`csrf_token`) and in a
`<meta name="csrf-token">` that the script sends as the `X-CSRF-Token` header. A request without
the token, or with another session's, is refused before any page code runs. (The session
cookie is also SameSite=Strict, and a request naming another Origin is refused: three locks,
any of which stops a forged form.)
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.types import Message, Receive

HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1_000_000


class BodyTooLarge(Exception):
    pass


def matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


async def form_token(receive: Receive) -> tuple[str | None, Receive]:
    """The `csrf_token` field of a url-encoded form body, and a `receive` that gives the
    page the same body again (the body is read here to find the token)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise BodyTooLarge(f"a form of more than {MAX_FORM_BYTES:,} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    token = values.get(FIELD, [None])[0]
    return token, _replay(body, receive)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
