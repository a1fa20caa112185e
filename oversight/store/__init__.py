"""The audit store: every record, durably and tamper-evidently, in SQLite or PostgreSQL.

`open_store(url)` returns the default `SQLStore`; other stores can plug in by implementing the
`AuditStore` protocol, which is two narrower ones: `RecordLog` (the append-only log) and
`ReviewState` (the mutable review tables the approval desk needs). See `chain.py` for what
verification does and does not prove.

`SQLStore` and `open_store` load on first use (PEP 562): code that only needs the protocols
(the approval desk, an in-memory review state) does not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oversight.store.base import (
    AuditStore,
    RecordLog,
    ReviewState,
    SessionSummary,
    StoredRecord,
    VerifyProblem,
    VerifyReport,
)

if TYPE_CHECKING:
    from oversight.store.sql import SQLStore, open_store

_LAZY = frozenset({"SQLStore", "open_store"})


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'oversight.store' has no attribute {name!r}")
    from oversight.store import sql

    value = getattr(sql, name)
    globals()[name] = value  # asked once: later lookups are plain attribute reads
    return value


__all__ = [
    "AuditStore",
    "RecordLog",
    "ReviewState",
    "SQLStore",
    "SessionSummary",
    "StoredRecord",
    "VerifyProblem",
    "VerifyReport",
    "open_store",
]
