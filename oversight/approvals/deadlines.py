"""The stored form of an approval's deadline, shared by the desk, the stores and the readers.

One module with no dependencies, so the approval desk and an in-memory review state agree with
the SQL store on how a deadline is written and read without importing the database layer.
"""

from __future__ import annotations

import calendar
import time

DEADLINE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How approval deadlines are stored: whole UTC seconds, so text order is time order on SQLite
and PostgreSQL alike."""


def deadline_text(unix_s: float) -> str:
    """The stored form of a deadline at `unix_s` (truncated to the second: never later)."""
    return time.strftime(DEADLINE_FORMAT, time.gmtime(unix_s))


def deadline_seconds(text: str) -> float:
    """A stored deadline as Unix seconds; ValueError when it is not in the stored form."""
    return float(calendar.timegm(time.strptime(text, DEADLINE_FORMAT)))
