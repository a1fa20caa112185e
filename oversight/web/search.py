"""Full-text search over what steps did: their names, arguments, results and errors.

The index is derived data, kept apart from the audit store (a SQLite FTS5 file in the state
folder, one per store) and brought up to date from the store's records by sequence number:
the agents' write path pays nothing for it, the store's schema is not touched (the store guard
counts a foreign table or trigger there as tampering), and deleting the file only costs a
rebuild. What it holds is what the store holds: arguments and results already redacted.
A tampered index could hide a step from search, never from the timeline or `verify`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight._known_stores import state_folder
from oversight.store.sql import SQLStore

INDEXED_TYPES = frozenset({"step.proposed", "step.finished"})
MAX_TEXT_CHARS = 20_000
"""Characters of one record's text indexed (a long result's head is what people search for)."""

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS steps USING fts5(
    session_id UNINDEXED, step_id UNINDEXED, name UNINDEXED, text,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS indexed (store TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
"""
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    seq: int
    """The step's oldest matching record: page on with `before_seq=` the last hit's."""
    session_id: str
    step_id: str
    name: str
    snippet: str
    """The matching text around the hit, the matched words between `[` and `]`."""


def default_index_path(store_url: str) -> Path:
    digest = hashlib.sha256(store_url.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return state_folder() / "search" / f"{digest}.sqlite"


class SearchIndex:
    """One store's search index. Thread-safe: the web app updates it in the background while
    requests search it."""

    def __init__(self, store: SQLStore, path: Path) -> None:
        self._store = store
        self._key = store.url_for_display
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._lock = threading.Lock()

    @property
    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT last_seq FROM indexed WHERE store = ?", (self._key,)
            ).fetchone()
        return int(row[0]) if row else 0

    def update(self, *, batch: int = 5000, stop: Callable[[], bool] | None = None) -> int:
        """Index the records stored since the last update; how many were added. `stop` is
        asked after each batch: true ends the update there (a server shutting down, a request
        that may spend only so long), and the next update goes on from that batch."""
        added = 0
        for rows in self._store.iter_bodies(INDEXED_TYPES, after_seq=self.last_seq, batch=batch):
            entries = [entry for seq, _, body in rows if (entry := _entry(seq, body)) is not None]
            with self._lock, self._transaction():
                self._db.executemany(
                    "INSERT INTO steps (rowid, session_id, step_id, name, text) "
                    "VALUES (?, ?, ?, ?, ?)",
                    entries,
                )
                self._db.execute(
                    "INSERT INTO indexed (store, last_seq) VALUES (?, ?) "
                    "ON CONFLICT (store) DO UPDATE SET last_seq = excluded.last_seq",
                    (self._key, rows[-1][0]),
                )
            added += len(entries)
            if stop is not None and stop():
                break
        return added

    def search(
        self, query: str, *, limit: int = 50, before_seq: int | None = None
    ) -> list[SearchHit]:
        """Steps whose text holds every word of `query` (the last one as a prefix), newest
        first, each step once (its call and its outcome are two records); `before_seq` (the
        last hit's `seq`) pages on. Any text is a valid query: words are quoted, never read as
        FTS syntax."""
        match = fts_query(query)
        if match is None:
            return []
        sql = (
            "SELECT rowid, session_id, step_id, name, snippet(steps, 3, '[', ']', '…', 12) "
            "FROM steps WHERE steps MATCH ?"
        )
        params: list[Any] = [match]
        if before_seq is not None:
            sql += " AND rowid < ?"
            params.append(before_seq)
        sql += " ORDER BY rowid DESC LIMIT ?"
        params.append(limit * 2)  # a step's call and outcome may both match: one hit
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        hits: dict[str, SearchHit] = {}
        for seq, session_id, step_id, name, snippet in rows:
            seen = hits.get(step_id)
            if seen is None:
                if len(hits) == limit:
                    break
                hits[step_id] = SearchHit(int(seq), session_id, step_id, name, snippet)
            else:  # the step's older record: its call's name, and where the step begins
                hits[step_id] = SearchHit(
                    int(seq), session_id, step_id, seen.name or name, seen.snippet
                )
        return list(hits.values())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every word of `text`, the last as a prefix; None for no words."""
    words = _TOKEN.findall(text)
    if not words:
        return None
    quoted = [f'"{word}"' for word in words[:16]]
    quoted[-1] += "*"
    return " ".join(quoted)


def _entry(seq: int, body: str) -> tuple[int, str, str, str, str] | None:
    try:
        record = json.loads(body)
    except ValueError:
        return None  # `verify` reports a body that does not parse; search just skips it
    if not isinstance(record, dict):
        return None
    parts: list[str] = []
    if record.get("type") == "step.proposed":
        parts += [str(record.get("name", "")), str(record.get("kind", ""))]
        parts += _strings(record.get("args"))
        parts.append(str(record.get("reason", "")))
    else:
        parts += [str(record.get("result_summary") or ""), str(record.get("error") or "")]
    text = "\n".join(p for p in parts if p)[:MAX_TEXT_CHARS]
    if not text:
        return None
    name = str(record.get("name", "")) if record.get("type") == "step.proposed" else ""
    return seq, str(record.get("session_id", "")), str(record.get("step_id", "")), name, text


def _strings(value: Any) -> list[str]:
    """The string leaves of a JSON value (argument values, not their keys' punctuation)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [] if value is None else [str(value)]
