"""Import transcript files: detect each file's format, read it, classify it, store it.

Files are read one at a time and each session is stored in one append, so a long import holds
one session in memory and an interrupted one keeps every session it finished. A file no reader
recognises, and every record a reader could not use, is reported and skipped; the rest imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.batch_gc import collect_rarely
from oversight.classify import Classifier
from oversight.importing.detect import candidate_files, detect, format_named
from oversight.importing.formats import Format
from oversight.importing.model import ImportedSession, ImportProblem
from oversight.importing.to_store import session_records
from oversight.importing.to_trace import trace_lines
from oversight.replay import ReplayedStep, replay_lines
from oversight.store import SQLStore


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


@dataclass(frozen=True)
class ImportedFile:
    path: Path
    format: Format


def size_of(files: list[ImportedFile]) -> int:
    """Bytes to read: how import weighs work before reading it. A claimed folder weighs the
    files under it (an OpenHands folder of completion logs can hold a fifth of a corpus's calls;
    counted as one byte, it was scheduled last and left one worker busy alone at the end)."""
    total = 0
    for item in files:
        try:
            total += item.path.stat().st_size if item.path.is_file() else _folder_bytes(item.path)
        except OSError:
            total += 1
    return total


def _folder_bytes(folder: Path) -> int:
    """The bytes of the regular files under `folder` (at least 1: a folder is work too)."""
    total = 1
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def recognised_files(
    paths: list[Path], format_name: str | None, report: ImportReport
) -> list[ImportedFile]:
    """The files (and claimed folders) to import, each with its format; unrecognised ones are
    noted in the report. With `format_name`, every file is taken to be in that format."""
    forced = format_named(format_name) if format_name else None
    found: list[ImportedFile] = []
    for path in candidate_files(paths):
        fmt = forced or detect(path)
        if fmt is None:
            report.unrecognised.append(path)
        else:
            found.append(ImportedFile(path, fmt))
    return found


def read_sessions(files: list[ImportedFile], report: ImportReport) -> Iterator[ImportedSession]:
    for item in files:
        report.files += 1
        for got in item.format.read(item.path):
            if isinstance(got, ImportProblem):
                report.problems.append(got)
            else:
                yield got


def classify_session(
    session: ImportedSession, classifier: Classifier, *, max_arg_chars: int
) -> list[ReplayedStep]:
    """The session's calls classified in order, with its own writes as context, exactly as
    `oversight replay` classifies the same session exported as a trace."""
    numbered = ((call.line, line) for call, line in zip(session.calls, trace_lines(session)))
    steps, _ = replay_lines(numbered, classifier, max_arg_chars=max_arg_chars, score_autonomy=False)
    return steps


def import_files(
    files: list[ImportedFile],
    store: SQLStore | None,
    report: ImportReport,
    *,
    classifier: Classifier | None = None,
    max_arg_chars: int = 65_536,
    on_file: Callable[[Path], None] | None = None,
    write_lock: AbstractContextManager[Any] | None = None,
) -> None:
    """Read, classify and (with a store) append every session; `store=None` is a dry run that
    counts what would be added. `write_lock` is held around each append: importers in several
    processes take turns on it (woken at once) rather than polling SQLite's busy lock, which
    sleeps up to 100 ms between tries."""
    classifier = classifier or Classifier()
    with collect_rarely():
        _import_each(
            files, store, report, classifier, max_arg_chars, on_file, write_lock or nullcontext()
        )


def _import_each(
    files: list[ImportedFile],
    store: SQLStore | None,
    report: ImportReport,
    classifier: Classifier,
    max_arg_chars: int,
    on_file: Callable[[Path], None] | None,
    write_lock: AbstractContextManager[Any],
) -> None:
    for item in files:
        sessions = read_sessions([item], report)
        for session in sessions:
            report.saw(session)
            known = store is not None and store.has_session(session.session_id)
            stored = _stored_steps(store, session.session_id) if known else 0
            if known and stored >= len(session.calls):
                report.sessions_unchanged += 1
                continue
            steps = classify_session(session, classifier, max_arg_chars=max_arg_chars)
            records = session_records(session, steps, after_seq=stored, new=not known)
            # `durable=False`: a power cut may lose the last sessions imported (a crash of this
            # process cannot); the transcripts are still there and importing again adds them.
            if store is not None and not known:
                # another importer may have stored it since we looked: then it is not new
                with write_lock:
                    added = store.append(records, durable=False, new_session=session.session_id)
                if not added:
                    report.sessions_unchanged += 1
                    continue
            elif store is not None:
                with write_lock:
                    store.append(records, durable=False)
            if known:
                report.sessions_grown += 1
            else:
                report.sessions_new += 1
            report.calls_added += len(session.calls) - stored
        if on_file is not None:
            on_file(item.path)


def _stored_steps(store: SQLStore | None, session_id: str) -> int:
    return 0 if store is None else store.next_step_seq(session_id) - 1
