"""Webhooks for approval requests, sent by the web server.

Not by the agent's process: the agent is the party under oversight, and anything running in
its process (an `on_approval_request` hook included) is something it could suppress, delay or
rewrite. The server watches the store the monitor writes to, which the agent cannot undo
(every approval row is chained), and it is where reviewers are: the link in each message opens
the request on its page, where the answer is a vote the reviewer signs.

Each configured target gets a thread that polls the pending approvals every second (one
indexed query), sends each new one once, and retries a failed delivery with backoff for as
long as the approval stays pending. What was delivered is noted in a small SQLite file in
the state folder (per store; targets named by a digest, as webhook URLs hold secrets), so a
restarted server does not send it again. A delivery that succeeded just before a crash,
before it was noted, is sent again: at least once, never silently dropped.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import http.client
import json
import logging
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from oversight._known_stores import state_folder
from oversight._version import __version__
from oversight.web.background import Periodic
from oversight.web.queries import StoreReader
from oversight.web.review_queries import ApprovalCursor, ApprovalRow, pending_approvals
from oversight.web.webhooks import WebhookTarget, approval_link, payload

log = logging.getLogger("oversight.web")

Post = Callable[[str, bytes, float], None]
"""Send a JSON body to a URL within a timeout; raise on any failure (a non-2xx answer too)."""

PAGE = 200


def default_sent_path(store_url: str) -> Path:
    digest = hashlib.sha256(store_url.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return state_folder() / "webhooks" / f"{digest}.sqlite"


def post_json(url: str, body: bytes, timeout_s: float) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"agent-oversight/{__version__}",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        response.read(65_536)


class SentLog:
    """Which approvals each target was sent, kept across restarts."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sent (target TEXT NOT NULL, approval_id TEXT NOT NULL, "
            "sent_at TEXT NOT NULL, PRIMARY KEY (target, approval_id))"
        )
        self._lock = threading.Lock()

    def has(self, target: str, approval_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM sent WHERE target = ? AND approval_id = ?", (target, approval_id)
            ).fetchone()
        return row is not None

    def add(self, target: str, approval_id: str) -> None:
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO sent (target, approval_id, sent_at) VALUES (?, ?, ?)",
                (target, approval_id, now),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class _Retry:
    failures: int
    next_at: float


class ApprovalNotifier:
    """Announces every pending approval to each target once (`start`, `stop`)."""

    def __init__(
        self,
        reader: StoreReader,
        targets: Sequence[WebhookTarget],
        *,
        public_url: str,
        sent: SentLog,
        post: Post = post_json,
        poll_s: float = 1.0,
        timeout_s: float = 10.0,
        first_retry_s: float = 2.0,
        max_retry_s: float = 300.0,
    ) -> None:
        self._reader = reader
        self._public_url = public_url
        self._sent = sent
        self._post = post
        self._timeout = timeout_s
        self._first_retry = first_retry_s
        self._max_retry = max_retry_s
        self._retries: dict[str, dict[str, _Retry]] = {t.key: {} for t in targets}
        self._workers = [
            Periodic(f"oversight-webhook-{n}", poll_s, functools.partial(self.round, target))
            for n, target in enumerate(targets, 1)
        ]

    def start(self) -> None:
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._sent.close()

    def round(self, target: WebhookTarget, stopping: threading.Event | None = None) -> int:
        """Send `target` every pending approval it has not had (and whose retry is due); how
        many were delivered."""
        pending = self._pending()
        retries = self._retries.setdefault(target.key, {})
        for gone in set(retries) - {row.id for row in pending}:
            del retries[gone]  # decided or past its deadline: nothing left to announce
        delivered = 0
        for row in pending:
            if stopping is not None and stopping.is_set():
                break
            retry = retries.get(row.id)
            if retry is not None and time.monotonic() < retry.next_at:
                continue
            if self._sent.has(target.key, row.id):
                continue
            if self._deliver(target, row, retry):
                retries.pop(row.id, None)
                delivered += 1
        return delivered

    def _deliver(self, target: WebhookTarget, row: ApprovalRow, retry: _Retry | None) -> bool:
        link = approval_link(self._public_url, row.id)
        body = json.dumps(payload(target, row, link), ensure_ascii=False, default=str)
        try:
            self._post(target.url, body.encode("utf-8"), self._timeout)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            failures = (retry.failures if retry else 0) + 1
            wait = min(self._max_retry, self._first_retry * 2 ** (failures - 1))
            self._retries[target.key][row.id] = _Retry(failures, time.monotonic() + wait)
            log.warning(
                "webhook %s: approval %s not delivered (%s, attempt %d); trying again in %.0f s",
                target.shown, row.id, exc, failures, wait,
            )  # fmt: skip
            return False
        self._sent.add(target.key, row.id)
        return True

    def _pending(self) -> list[ApprovalRow]:
        rows: list[ApprovalRow] = []
        after: ApprovalCursor | None = None
        while True:
            page, after = pending_approvals(self._reader, after=after, limit=PAGE)
            rows += page
            if after is None:
                return rows
