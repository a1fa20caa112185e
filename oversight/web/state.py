"""What one running app holds: the store, its read connections, settings and small caches.

Pages get it with `Depends(web_state)`; nothing is global, so two apps (two stores) can run in
one process, as the tests do.
"""

from __future__ import annotations

import datetime as _dt
import threading
from dataclasses import dataclass, field

from starlette.requests import Request

from oversight.store import SQLStore, VerifyReport
from oversight.web.autonomy_view import AutonomyCache
from oversight.web.config import WebConfig
from oversight.web.queries import StoreReader, pending_total
from oversight.web.render import Frame, frame


@dataclass(frozen=True)
class IntegrityResult:
    """One run of verification, kept to show until the next run."""

    report: VerifyReport
    anchors_checked: int
    anchor_problems: tuple[str, ...]
    finished_at: _dt.datetime
    seconds: float

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.anchor_problems


@dataclass
class WebState:
    store: SQLStore
    reader: StoreReader
    config: WebConfig
    autonomy: AutonomyCache
    integrity: IntegrityResult | None = None
    integrity_lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while verifying: one verification at a time, however many reviewers click."""

    def frame(self, request: Request, active: str) -> Frame:
        return frame(
            request,
            active,
            store=self.store.url_for_display,
            pending=pending_total(self.reader),
        )


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state
