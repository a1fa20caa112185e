"""Keeping the app's search index current: a background thread indexes what the store gained
every second, and each search first indexes what little is new, so a step recorded a moment
ago is found. Both take the same lock without waiting for it: while one is indexing, the
other goes on with what is already searchable, and the page says how far that reaches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oversight.store import SQLStore
from oversight.web.background import Periodic
from oversight.web.search import SearchIndex

REQUEST_BUDGET_S = 0.05
"""How long a search request may spend indexing new records before it searches."""


@dataclass(frozen=True, slots=True)
class IndexProgress:
    indexed_to: int
    """Every record up to this seq has been looked at: its step (if any) is searchable."""
    head: int
    """The seq of the store's last record."""

    @property
    def current(self) -> bool:
        return self.indexed_to >= self.head


class SearchUpdater:
    """The search index of one store and the thread that keeps it current (`start`, `stop`)."""

    def __init__(self, store: SQLStore, path: Path, *, interval_s: float = 1.0) -> None:
        self._store = store
        self.index = _open_fresh(store, path)
        self._updating = threading.Lock()
        self._covered = 0
        self._worker = Periodic("oversight-search-index", interval_s, self._round)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        """End the background thread (between two batches of a long build), then close."""
        self._worker.stop()
        self.index.close()

    def catch_up(self, budget_s: float = REQUEST_BUDGET_S) -> IndexProgress:
        """Index new records for at most about `budget_s` unless an update is already under
        way (then this does not wait for it); how far the index reaches now."""
        if self._updating.acquire(blocking=False):
            try:
                deadline = time.monotonic() + budget_s
                self._update(lambda: time.monotonic() > deadline)
            finally:
                self._updating.release()
        return self.progress()

    def progress(self) -> IndexProgress:
        head = self._store.head()[0]
        return IndexProgress(min(head, max(self._covered, self.index.last_seq)), head)

    def _round(self, stopping: threading.Event) -> None:
        with self._updating:
            self._update(stopping.is_set)

    def _update(self, stop: Callable[[], bool]) -> None:
        head = self._store.head()[0]
        stopped = False

        def asked_to_stop() -> bool:
            nonlocal stopped
            stopped = stop()
            return stopped

        self.index.update(stop=asked_to_stop)
        if not stopped:  # every record up to `head` was read, step records or not
            self._covered = max(self._covered, head)


def _open_fresh(store: SQLStore, path: Path) -> SearchIndex:
    """The index at `path`, emptied first when it reaches past the store's last record: the
    store it was built from was replaced by another at the same place."""
    index = SearchIndex(store, path)
    if index.last_seq <= store.head()[0]:
        return index
    index.close()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return SearchIndex(store, path)
