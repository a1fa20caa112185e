"""Storing imported sessions in batches.

An import has hundreds of sessions to store, where a monitor has one step. Appending each in its
own transaction (a chain-head read, two reads of what is stored, a commit) cost a quarter more
than storing the same records in batches, as here: sessions wait in a batch and go in together
(`SQLStore.append_sessions`: one transaction, one chain-head read, one bulk insert). Each
import process has one writer; worker processes take turns at a shared lock, a batch at a time.
A session is counted as new or grown only once the store has taken it: one that another importer
(or another copy of the same transcript) stored first is counted unchanged.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from oversight.errors import StoreError
from oversight.importing.report import ImportReport
from oversight.store import SQLStore
from oversight.store.bulk import SessionRows

BATCH_ROWS = 1_024
"""Records a batch holds before it is stored: about 20 ms of inserts, so workers taking turns
at the lock rarely wait long, an interrupted import loses little, and memory stays bounded. On
the real corpus, batches of 512 to 2,048 records cost the same a record; 8,192 cost more (the
write-ahead log outgrows its usual size before each checkpoint)."""
BATCH_CHARS = 8 * 1024 * 1024
"""Characters of record bodies a batch holds before it is stored (long transcripts)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A session's records not yet stored, as rows, and how many of its calls they add."""

    rows: SessionRows
    calls_added: int

    @property
    def chars(self) -> int:
        return sum(len(c.body) for c in self.rows.columns)


class KnownSteps:
    """Each session's highest stored step, as an importer must take it: what it has itself
    offered to the store in this run (stored, or waiting in a batch), else what the store holds;
    None for a session it has never seen. With no store (a dry run), nothing is ever known."""

    def __init__(self, store: SQLStore | None) -> None:
        self._store = store
        self._offered: dict[str, int] = {}

    def __call__(self, session_id: str) -> int | None:
        if session_id in self._offered:
            return self._offered[session_id]
        if self._store is None:
            return None
        return self._store.stored_steps([session_id]).get(session_id)

    def offered(self, rows: SessionRows) -> None:
        if self._store is not None:
            self._offered[rows.session_id] = rows.through_step


class SessionWriter:
    """Prepared sessions, stored a batch at a time; counted in `report` as the store takes
    them. With no store (a dry run), every session counts as taken.

    Leaving the `with` block stores what is waiting. When the block ends on an error that is not
    the store's own (an interrupted import, a failed worker), what was prepared is still stored,
    best effort, and the error goes on; after a store error nothing more is tried.
    """

    def __init__(
        self,
        store: SQLStore | None,
        report: ImportReport,
        *,
        lock: contextlib.AbstractContextManager[Any] | None = None,
        max_rows: int = BATCH_ROWS,
        max_chars: int = BATCH_CHARS,
    ) -> None:
        self._store = store
        self.report = report
        """Where stored sessions are counted (a worker swaps in one a folder)."""
        self._lock = lock or contextlib.nullcontext()
        self._max_rows = max_rows
        self._max_chars = max_chars
        self._waiting: list[Prepared] = []
        self._rows = 0
        self._chars = 0

    def add(self, prepared: Prepared) -> None:
        if self._store is None:
            self._settle(prepared, stored=True)
            return
        self._waiting.append(prepared)
        self._rows += len(prepared.rows.columns)
        self._chars += prepared.chars
        if self._rows >= self._max_rows or self._chars >= self._max_chars:
            self.flush()

    def flush(self) -> None:
        """Store every waiting session (those that still fit) in one transaction."""
        waiting, self._waiting, self._rows, self._chars = self._waiting, [], 0, 0
        if not waiting or self._store is None:
            return
        # `durable=False`: a power cut may lose the last sessions imported (a crash of this
        # process cannot); the transcripts are still there and importing again adds them.
        with self._lock:
            taken = self._store.append_sessions([p.rows for p in waiting], durable=False)
        for prepared, stored in zip(waiting, taken, strict=True):
            self._settle(prepared, stored=stored)

    def _settle(self, prepared: Prepared, *, stored: bool) -> None:
        self.report.settled(new=prepared.rows.new, calls_added=prepared.calls_added, stored=stored)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.flush()
        elif not isinstance(exc, StoreError):
            with contextlib.suppress(StoreError):
                self.flush()
