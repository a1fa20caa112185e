"""What an import did: files read, sessions new, grown or unchanged, calls added, problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from oversight.importing.model import ImportedSession, ImportProblem


@dataclass
class ImportReport:
    files: int = 0
    unrecognised: list[Path] = field(default_factory=list)
    sessions_new: int = 0
    sessions_grown: int = 0
    sessions_unchanged: int = 0
    calls: int = 0
    calls_added: int = 0
    by_format: dict[str, int] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)

    def saw(self, session: ImportedSession) -> None:
        """Count a session read (and its calls), whatever becomes of it."""
        self.calls += len(session.calls)
        self.by_format[session.format] = self.by_format.get(session.format, 0) + 1

    def settled(self, *, new: bool, calls_added: int, stored: bool) -> None:
        """Count a session whose new calls were offered to the store: stored (new or grown), or
        found already there when its turn came (unchanged)."""
        if not stored:
            self.sessions_unchanged += 1
            return
        if new:
            self.sessions_new += 1
        else:
            self.sessions_grown += 1
        self.calls_added += calls_added

    def merge(self, other: ImportReport) -> None:
        """Add another worker's counts (files read, sessions, calls, problems) to these."""
        self.files += other.files
        self.unrecognised += other.unrecognised
        self.sessions_new += other.sessions_new
        self.sessions_grown += other.sessions_grown
        self.sessions_unchanged += other.sessions_unchanged
        self.calls += other.calls
        self.calls_added += other.calls_added
        for name, count in other.by_format.items():
            self.by_format[name] = self.by_format.get(name, 0) + count
        self.problems += other.problems
