"""Templates and the filters they format with, and the page frame every page shares.

Every page is rendered through `render`, which adds the frame (navigation, who is signed in,
flash messages, pending approvals): sign-in and flash messages come later from middleware that
sets `request.state.reviewer` and `request.state.flashes`, and the frame picks them up without
any page changing. Templates escape everything; unknown names are errors, not blanks.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from oversight._version import __version__
from oversight.autonomy import SCENARIO_NAMES

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MAX_SHOWN_CHARS = 6000


@dataclass(frozen=True, slots=True)
class Flash:
    level: str
    """"info", "success", "warning" or "error"."""
    text: str


@dataclass(frozen=True)
class Frame:
    """What the shared layout shows around every page."""

    store: str
    active: str
    reviewer: str | None = None
    flashes: tuple[Flash, ...] = ()
    pending: int | None = None
    version: str = __version__
    role: str | None = None
    """The signed-in reviewer's role (viewer, approver, admin)."""
    csrf: str | None = None
    """The browser session's CSRF token, for forms and the script's requests."""
    access: str = "open"
    """"open" (no sign-in: read-only), "signed_in" or "signed_out" (only the sign-in and
    registration pages are shown)."""


def when(value: _dt.datetime | None) -> str:
    """A moment as reviewers read it: UTC, to the second."""
    if value is None:
        return "–"
    return value.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when_short(value: _dt.datetime | None) -> str:
    """A moment in a list: UTC, to the minute (the page says times are UTC)."""
    if value is None:
        return "–"
    return value.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M")


def iso(value: _dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(_dt.UTC).isoformat(timespec="seconds")


def duration(seconds: float | None) -> str:
    """A span in the largest units that keep it short: 850 ms, 12.4 s, 3 min 5 s, 2 h 10 min."""
    if seconds is None or math.isnan(seconds):
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ms(value: float | None) -> str:
    return "–" if value is None else duration(value / 1000.0)


def ago(value: _dt.datetime | None, now: _dt.datetime | None = None) -> str:
    if value is None:
        return "–"
    span = ((now or _dt.datetime.now(_dt.UTC)) - value).total_seconds()
    return f"in {duration(-span)}" if span < 0 else f"{duration(span)} ago"


def pretty(value: Any, limit: int = MAX_SHOWN_CHARS) -> str:
    """JSON for reading (indented, unicode kept), cut at `limit` characters."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… {len(text) - limit:,} more characters (the export has all of it)"


def clip(text: str | None, limit: int = MAX_SHOWN_CHARS) -> str:
    if not text:
        return ""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… {len(text) - limit:,} more characters (the export has all of it)"


def slug(value: str) -> str:
    """A CSS class fragment for a kind or status: `train.launch` → `train-launch`."""
    return "".join(c if c.isalnum() else "-" for c in value.lower())


def session_url(session_id: str) -> str:
    return "/sessions/" + quote(session_id, safe=":@-._~")


def step_url(session_id: str, step_id: str) -> str:
    """The link to a step by id (imported step ids hold `#`: quoted)."""
    return f"{session_url(session_id)}/step/{quote(step_id, safe=':@-._~')}"


def with_query(path: str, **params: Any) -> str:
    """`path` with the non-empty parameters as its query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


def number(value: int) -> str:
    return f"{value:,}"


def plural(count: int, word: str) -> str:
    """`3 consequential steps`, `1 consequential step`."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


_TICKED = re.compile(r"`([^`\n]+)`")


def ticks(text: str | None) -> Markup:
    """Reasons quote commands and paths in backticks; show those as code (escaped first)."""
    return Markup(_TICKED.sub(r"<code>\1</code>", str(escape(text or ""))))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        when_short=when_short,
        iso=iso,
        duration=duration,
        ms=ms,
        ago=ago,
        pretty=pretty,
        clip=clip,
        slug=slug,
        number=number,
        plural=plural,
        ticks=ticks,
        session_url=session_url,
    )
    env.globals.update(SCENARIO_NAMES=SCENARIO_NAMES, with_query=with_query, step_url=step_url)
    return env


ENVIRONMENT = _environment()


def frame(request: Request, active: str, *, store: str, pending: int | None) -> Frame:
    """The layout's context: the reviewer, their role, the CSRF token and flash messages come
    from `request.state`, where the sign-in middleware (`web/guard.py`) puts them."""
    reviewer = getattr(request.state, "reviewer", None)
    flashes = getattr(request.state, "flashes", ())
    role = getattr(request.state, "role", None)
    csrf = getattr(request.state, "csrf", None)
    return Frame(
        store=store,
        active=active,
        reviewer=str(reviewer) if reviewer is not None else None,
        flashes=tuple(flashes),
        pending=pending,
        role=str(role) if role is not None else None,
        csrf=str(csrf) if csrf is not None else None,
        access=str(getattr(request.state, "access", "open")),
    )


def render(template: str, layout: Frame, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = ENVIRONMENT.get_template(template).render(frame=layout, **context)
    return HTMLResponse(html, status_code=status_code)
