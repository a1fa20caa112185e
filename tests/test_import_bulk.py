"""Importing through the bulk path: many sessions a transaction, one writer, the same chain.

The store side (`SQLStore.append_sessions`) is checked on SQLite and PostgreSQL: the chain
verifies, a session is stored once however often it is offered, a grown session only follows on
from what is stored, and monitors appending at the same time keep the chain whole. The import
side: a transcript that grows adds only its new calls, a batch at a time or across workers, and
an interrupted import keeps what it prepared.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from oversight._sharded import import_sharded
from oversight.classify import Classifier
from oversight.importing.formats import Format
from oversight.importing.model import ImportedCall, ImportedSession
from oversight.importing.run import (
    ImportedFile,
    ImportReport,
    import_files,
    prepared_session,
    recognised_files,
)
from oversight.importing.writer import KnownSteps, SessionWriter
from oversight.records import SessionStarted, StepProposed
from oversight.store import SQLStore, open_store
from oversight.store.bulk import SessionRows

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _session(native: str, calls: int) -> ImportedSession:
    """A session of `calls` shell calls, each with its result, as a reader yields it."""
    return ImportedSession(
        format="claude-code",
        source=Path(f"/transcripts/{native}.jsonl"),
        native_id=native,
        calls=[
            ImportedCall(
                tool="Bash",
                args={"command": f"python train.py --epoch {i}"},
                ts=T0 + dt.timedelta(seconds=i),
                call_id=f"t{i}",
                result=f"epoch {i} done",
                line=i + 1,
            )
            for i in range(calls)
        ],
        model="a-model",
        started=T0,
    )


def _rows(session: ImportedSession, stored: int | None = None) -> SessionRows:
    prepared = prepared_session(session, stored, Classifier(), max_arg_chars=65_536)
    assert prepared is not None
    return prepared.rows


def _steps(store: SQLStore, session_id: str) -> list[int]:
    return [
        r.record.seq
        for r in store.iter_records(session_id, types={"step.proposed"})
        if isinstance(r.record, StepProposed)
    ]


def test_many_sessions_in_one_transaction_chain_as_appends_do(store_url: str) -> None:
    with open_store(store_url) as store:
        store.append([SessionStarted(session_id="m", pid=1, host="h", oversight_version="0")])
        taken = store.append_sessions([_rows(_session(f"s{i}", 3)) for i in range(4)])
        assert taken == [True] * 4
        assert store.verify().ok
        assert store.head()[0] == 1 + 4 * (3 * 2 + 2)  # start, 3 steps of two records, end
        assert _steps(store, "claude-code:s2") == [1, 2, 3]
        assert store.stored_steps(["claude-code:s1", "claude-code:nope", "m"]) == {
            "claude-code:s1": 3,
            "m": 0,
        }


def test_a_new_session_is_stored_once_however_often_it_is_offered(store_url: str) -> None:
    with open_store(store_url) as store:
        rows = _rows(_session("twice", 2))
        assert store.append_sessions([rows, rows]) == [True, False]  # two copies in one batch
        assert store.append_sessions([rows]) == [False]  # and again later
        assert store.count("claude-code:twice") == 6 and store.verify().ok


def test_a_grown_session_is_stored_only_after_the_steps_it_follows(store_url: str) -> None:
    with open_store(store_url) as store:
        store.append_sessions([_rows(_session("g", 2))])
        longer = _session("g", 5)
        stale = _rows(longer, stored=1)  # built after step 1, but the store has 2
        fitting = _rows(longer, stored=2)
        assert store.append_sessions([stale]) == [False]
        assert store.append_sessions([fitting, fitting]) == [True, False]
        assert _steps(store, "claude-code:g") == [1, 2, 3, 4, 5]
        assert store.verify().ok


def test_a_batch_grows_a_session_it_started_itself(store_url: str) -> None:
    with open_store(store_url) as store:
        first = _rows(_session("b", 2))
        then = _rows(_session("b", 4), stored=2)
        assert store.append_sessions([then, first, then]) == [False, True, True]
        assert _steps(store, "claude-code:b") == [1, 2, 3, 4] and store.verify().ok


def _monitor_appends(url: str, count: int) -> None:
    with open_store(url) as store:
        for i in range(count):
            store.append(
                [SessionStarted(session_id=f"mon{i}", pid=2, host="h", oversight_version="0")]
            )


def test_bulk_appends_interleaved_with_a_monitors_keep_the_chain_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    open_store(url).close()
    monitor = multiprocessing.get_context("fork").Process(target=_monitor_appends, args=(url, 200))
    monitor.start()
    with open_store(url) as store:
        for batch in range(20):
            rows = [_rows(_session(f"b{batch}-{i}", 3)) for i in range(3)]
            assert store.append_sessions(rows, durable=False) == [True, True, True]
    monitor.join(60)
    assert monitor.exitcode == 0
    with open_store(url) as store:
        assert store.head()[0] == 200 + 20 * 3 * 8
        assert store.verify().ok
        # each session's records went in together: one batch is one run of seqs
        seqs = [r.seq for r in store.iter_records("claude-code:b7-1")]
        assert seqs == list(range(seqs[0], seqs[0] + 8))


def test_the_writer_stores_in_batches_and_counts_only_what_the_store_took(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        store.append_sessions([_rows(_session("already", 2))])
        report = ImportReport()
        with SessionWriter(store, report, max_rows=10) as writer:
            known = KnownSteps(store)
            for native, calls in (("a", 2), ("b", 3), ("already", 2), ("c", 1)):
                session = _session(native, calls)
                prepared = prepared_session(
                    session, known(session.session_id), Classifier(), max_arg_chars=65_536
                )
                if prepared is None:
                    report.sessions_unchanged += 1
                    continue
                writer.add(prepared)
            heads = store.head()[0]
        assert heads < store.head()[0]  # something waited for the end of the block
        assert (report.sessions_new, report.sessions_unchanged, report.calls_added) == (3, 1, 6)
        assert store.verify().ok
        # a session offered as new that another importer stored first is counted unchanged
        late = ImportReport()
        with SessionWriter(store, late) as writer:
            again = prepared_session(_session("c", 1), None, Classifier(), max_arg_chars=65_536)
            assert again is not None
            writer.add(again)
        assert (late.sessions_new, late.sessions_unchanged, late.calls_added) == (0, 1, 0)


def test_an_interrupted_import_keeps_what_it_prepared(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        report = ImportReport()
        with pytest.raises(KeyboardInterrupt), SessionWriter(store, report) as writer:
            prepared = prepared_session(_session("x", 2), None, Classifier(), max_arg_chars=65_536)
            assert prepared is not None
            writer.add(prepared)
            raise KeyboardInterrupt
        assert _steps(store, "claude-code:x") == [1, 2]
        assert report.sessions_new == 1 and store.verify().ok


# -- whole imports of a transcript that grows -------------------------------------------------


def _transcript(path: Path, session: str, calls: int) -> Path:
    """A Claude Code session file of `calls` shell calls, each answered by its result."""
    lines: list[dict[str, Any]] = []
    for i in range(calls):
        at = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
        lines.append({
            "type": "assistant", "sessionId": session, "uuid": f"{session}-a{i}", "timestamp": at,
            "message": {"role": "assistant", "model": "a-model", "content": [
                {"type": "tool_use", "id": f"{session}-t{i}", "name": "Bash",
                 "input": {"command": f"python eval.py --seed {i}"}},
            ]},
        })  # fmt: skip
        lines.append({
            "type": "user", "sessionId": session, "uuid": f"{session}-u{i}", "timestamp": at,
            "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": f"{session}-t{i}", "content": f"seed {i}"},
            ]},
        })  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _import(folder: Path, url: str, jobs: int) -> ImportReport:
    report = ImportReport()
    files = recognised_files([folder], None, report)
    if jobs == 1:
        with open_store(url) as store:
            import_files(files, store, report)
    else:
        import_sharded(files, url, report, classifier=Classifier(), jobs=jobs)
    return report


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_transcript_that_grew_adds_only_its_new_calls(tmp_path: Path, jobs: int) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    folder = tmp_path / "projects"
    for n in range(4):
        _transcript(folder / f"p{n}" / f"s{n}.jsonl", f"s{n}", 3)
    first = _import(folder, url, jobs)
    assert (first.sessions_new, first.calls_added) == (4, 12)
    _transcript(folder / "p1" / "s1.jsonl", "s1", 7)
    grown = _import(folder, url, jobs)
    assert (grown.sessions_grown, grown.sessions_unchanged, grown.calls_added) == (1, 3, 4)
    again = _import(folder, url, jobs)
    assert (again.sessions_unchanged, again.calls_added) == (4, 0)
    with open_store(url) as store:
        assert _steps(store, "claude-code:s1") == list(range(1, 8))
        assert store.count(types={"session.started"}) == 4
        assert store.verify().ok


def test_one_import_of_two_copies_stores_the_longer_once(tmp_path: Path) -> None:
    """Two copies of one session in one import, the second longer: one process stores the first
    and grows it by the second; nothing is stored twice."""
    url = f"sqlite:///{tmp_path / 'o.db'}"
    _transcript(tmp_path / "t" / "a" / "s.jsonl", "s", 2)
    _transcript(tmp_path / "t" / "b" / "s.jsonl", "s", 5)
    report = _import(tmp_path / "t", url, 1)
    assert (report.sessions_new, report.sessions_grown, report.calls_added) == (1, 1, 5)
    with open_store(url) as store:
        assert _steps(store, "claude-code:s") == [1, 2, 3, 4, 5] and store.verify().ok


def test_two_workers_given_copies_of_one_session_store_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    for copy in "abcd":
        _transcript(tmp_path / "t" / copy / "s.jsonl", "same", 3)
    report = _import(tmp_path / "t", url, 2)
    assert (report.sessions_new, report.sessions_unchanged, report.calls_added) == (1, 3, 3)
    with open_store(url) as store:
        assert _steps(store, "claude-code:same") == [1, 2, 3] and store.verify().ok


def _failing(path: Path) -> Any:
    raise ValueError(f"reader bug on {path.name}")


def _dying(path: Path) -> Any:
    os._exit(3)


@pytest.mark.parametrize(("read", "error"), [(_failing, "reader bug on"), (_dying, "died")])
def test_a_worker_that_fails_fails_the_import_and_keeps_what_was_stored(
    tmp_path: Path, read: Any, error: str
) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    folder = tmp_path / "t"
    for n in range(3):
        _transcript(folder / f"p{n}" / f"s{n}.jsonl", f"s{n}", 2)
    files = recognised_files([folder], None, ImportReport())
    broken = Format("broken", "fails on its file", sniff=lambda p, h: False, read=read)
    bad = ImportedFile(tmp_path / "bad" / "x.jsonl", broken)
    with pytest.raises((ValueError, RuntimeError), match=error):
        import_sharded([*files, bad], url, ImportReport(), classifier=Classifier(), jobs=2)
    with open_store(url) as store:
        assert store.verify().ok
