"""Work the web app does beside its requests (keeping the search index current, sending
webhooks), each in a thread of its own that the app starts with itself and stops with itself.

A failing round is logged and tried again at the next: a store that is briefly unreachable
must not end the app's search or its notifications for good.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("oversight.web")


class Periodic:
    """Calls `work(stopping)` every `interval_s` seconds in a daemon thread until `stop()`.

    `work` gets the stop event and should look at it between pieces of a long job (`stop()`
    waits for the round in progress to end)."""

    def __init__(
        self, name: str, interval_s: float, work: Callable[[threading.Event], object]
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be positive, got {interval_s!r}")
        self.name = name
        self._interval = interval_s
        self._work = work
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} was already started")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to end and wait for it (at most `timeout_s`)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("%s did not stop within %.0f s", self.name, timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._work(self._stopping)
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self.name, self._interval)
            self._stopping.wait(self._interval)
