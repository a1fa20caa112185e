"""Import transcript files: detect each file's format, read it, classify it, store it.

Files are read one at a time; each session's new calls become rows (`prepared_sessions`), and
the rows of many sessions are stored together (`writer.SessionWriter`), so a long import holds
at most one batch in memory and an interrupted one keeps every batch it stored. A file no reader
recognises, and every record a reader could not use, is reported and skipped; the rest imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight._batch_gc import collect_rarely
from oversight.classify import Classifier
from oversight.importing.detect import candidate_files, detect, format_named
from oversight.importing.formats import Format
from oversight.importing.model import ImportedSession, ImportProblem
from oversight.importing.report import ImportReport
from oversight.importing.to_store import session_records
from oversight.importing.to_trace import trace_lines
from oversight.importing.writer import KnownSteps, Prepared, SessionWriter
from oversight.replay import ReplayedStep, replay_lines
from oversight.store import SQLStore
from oversight.store.bulk import SessionRows
from oversight.store.columns import record_columns

__all__ = [
    "ImportReport",
    "ImportedFile",
    "classify_session",
    "import_files",
    "prepared_session",
    "prepared_sessions",
    "read_sessions",
    "recognised_files",
    "size_of",
]


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


def prepared_session(
    session: ImportedSession,
    stored: int | None,
    classifier: Classifier,
    *,
    max_arg_chars: int,
) -> Prepared | None:
    """The session's calls after the `stored` highest step (None: it is not stored) classified
    and turned into rows to store; None when the store already has every call."""
    if stored is not None and stored >= len(session.calls):
        return None
    after = stored or 0
    steps = classify_session(session, classifier, max_arg_chars=max_arg_chars)
    records = session_records(session, steps, after_seq=after, new=stored is None)
    rows = SessionRows(
        session_id=session.session_id,
        new=stored is None,
        after_steps=after,
        through_step=len(session.calls),
        columns=[record_columns(r) for r in records],
    )
    return Prepared(rows, len(session.calls) - after)


def prepared_sessions(
    files: list[ImportedFile],
    known: KnownSteps,
    report: ImportReport,
    classifier: Classifier,
    *,
    max_arg_chars: int,
    on_file: Callable[[Path], None] | None = None,
) -> Iterator[Prepared]:
    """Every session of `files` with calls the store lacks, prepared to store; each one read is
    counted in `report`, and those with nothing new as unchanged."""
    for item in files:
        for session in read_sessions([item], report):
            report.saw(session)
            prepared = prepared_session(
                session, known(session.session_id), classifier, max_arg_chars=max_arg_chars
            )
            if prepared is None:
                report.sessions_unchanged += 1
                continue
            known.offered(prepared.rows)
            yield prepared
        if on_file is not None:
            on_file(item.path)


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
    counts what would be added. `write_lock`, if given, is held around each batch stored."""
    classifier = classifier or Classifier()
    with collect_rarely(), SessionWriter(store, report, lock=write_lock) as writer:
        for prepared in prepared_sessions(
            files,
            KnownSteps(store),
            report,
            classifier,
            max_arg_chars=max_arg_chars,
            on_file=on_file,
        ):
            writer.add(prepared)
