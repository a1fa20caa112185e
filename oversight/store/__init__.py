"""The audit store: every record, durably and tamper-evidently, in SQLite or PostgreSQL.

`open_store(url)` returns the default `SQLStore`; other stores can plug in by implementing the
`AuditStore` protocol. See `chain.py` for what verification does and does not prove.
"""

from oversight.store.base import (
    AuditStore,
    SessionSummary,
    StoredRecord,
    VerifyProblem,
    VerifyReport,
)
from oversight.store.sql import SQLStore, open_store

__all__ = [
    "AuditStore",
    "SQLStore",
    "SessionSummary",
    "StoredRecord",
    "VerifyProblem",
    "VerifyReport",
    "open_store",
]
