"""The store a monitor started with must still be there before each consequential step.

`rm -rf .oversight` used to be an ordinary write: SQLite kept writing into the deleted file
through its open descriptor, and every record was lost without a word. Before a consequential
step runs, the guard checks that the store file is the one it opened (not deleted, moved or
replaced by another file) and that its chain has not gone backwards (emptied or truncated). If
not, the step is refused (`StoreVanishedError`, a `StoreUnavailableError`: fail closed), and so
is every later one from this monitor: a store that existed never silently becomes a new one.
A trigger, rule or view added to its tables (one trigger can delete every halt as it is written)
counts as losing it too. Across processes, `known_stores` notes each store's chain head apart
from the store: a monitor started on a store that is missing, emptied or behind its note starts
lost, and refuses every step that acts.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from oversight._known_stores import KnownStores
from oversight.errors import StoreError, StoreUnavailableError
from oversight.store import AuditStore
from oversight.store.engine import StoreUnreachableError

NOTE_EVERY_S = 5.0


class StoreVanishedError(StoreUnavailableError):
    """The store this monitor started with is gone, replaced or emptied."""


@dataclass(frozen=True)
class _FileIdentity:
    device: int
    inode: int


class StoreGuard:
    def __init__(self, store: AuditStore, url: str, known: KnownStores | None = None) -> None:
        self.store = store
        self.path = _sqlite_path(url)
        self.identity = _identity(self.path) if self.path else None
        self.seq = _head_seq(store)
        self.known = known
        self.where = self.path or _shown_location(store, url)
        self.lost: str | None = None
        """Why the store was lost; sticky once set."""
        self.announced = False
        """Whether the loss was told (stderr, alert); the monitor does it once."""
        if known is not None and self.where is not None:
            self.lost = known.behind(self.where, self.seq)
            if self.lost is None:
                known.note(self.where, self.seq)
        self._noted_at = time.monotonic()

    def check(self) -> None:
        """Raise StoreVanishedError when the store is not the one this monitor opened (remembered:
        every later check raises it too), StoreUnreachableError when its server cannot be asked
        right now (not remembered)."""
        if self.lost is None:
            self.lost = self._problem()
        if self.lost is not None:
            raise StoreVanishedError(self.lost)
        if self.known is not None and self.where is not None:
            now = time.monotonic()
            if now - self._noted_at >= NOTE_EVERY_S:
                self._noted_at = now
                self.known.note(self.where, self.seq)

    def close(self) -> None:
        """Note the chain head as the monitor leaves it: the least the next one must find."""
        if self.lost is not None or self.known is None or self.where is None:
            return
        try:
            seq = _head_seq(self.store)
        except StoreError:
            return
        if seq >= self.seq:
            self.known.note(self.where, seq)

    def _problem(self) -> str | None:
        if self.path is not None:
            try:
                now = _identity(self.path)
            except FileNotFoundError:
                return (
                    f"the oversight store {self.path} was deleted or moved while this monitor "
                    "ran; no step that acts runs without its record"
                )
            if now != self.identity:
                return (
                    f"the oversight store {self.path} was replaced by another file while this "
                    "monitor ran; no step that acts runs without its record"
                )
        try:
            seq, foreign = _probe(self.store)
        except StoreUnreachableError:
            raise  # a server restarting: this step is refused, the next one asks again
        except StoreError as exc:
            return f"the oversight store cannot be read as the one this monitor opened: {exc}"
        if seq < self.seq:
            return (
                f"the oversight store's chain went back from record {self.seq} to {seq}: it "
                "was emptied or truncated while this monitor ran"
            )
        self.seq = seq
        if foreign:
            return (
                "the oversight store has schema objects oversight did not create, which can "
                f"delete or rewrite what is written: {', '.join(foreign)}"
            )
        return None


def _shown_location(store: AuditStore, url: str) -> str | None:
    """A server store's location without its password; None for a store in memory."""
    if url.startswith("sqlite"):
        return None
    shown = getattr(store, "url_for_display", None)
    return str(shown) if shown else None


def _sqlite_path(url: str) -> str | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].partition("?")[0]
    return None if path in ("", ":memory:") else os.path.realpath(path)


def _identity(path: str) -> _FileIdentity:
    info = os.stat(path)
    return _FileIdentity(info.st_dev, info.st_ino)


def _probe(store: AuditStore) -> tuple[int, list[str]]:
    """(head seq, foreign schema objects): in one read where the store offers it."""
    probe = getattr(store, "guard_probe", None)
    if callable(probe):
        seq, foreign = probe()
        return int(seq), list(foreign)
    return _head_seq(store), _foreign(store)


def _foreign(store: AuditStore) -> list[str]:
    inspect = getattr(store, "foreign_schema_objects", None)
    return list(inspect()) if callable(inspect) else []


def _head_seq(store: AuditStore) -> int:
    head = getattr(store, "head", None)
    return int(head()[0]) if callable(head) else 0
