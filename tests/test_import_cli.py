"""`oversight import` end to end, on a real Inspect log (a gpt-4o CTF run a package ships)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from reviewing import cli

from oversight.autonomy import score_records
from oversight.store import open_store

LOG = ("docent", "docent/samples/log.eval")


@pytest.fixture
def real_log(realdata: Callable[[str, str], Path], tmp_path: Path) -> Path:
    target = tmp_path / "logs" / "ctf.eval"
    target.parent.mkdir()
    shutil.copy(realdata(*LOG), target)
    return target


def test_a_real_log_imports_once_and_again_adds_nothing(real_log: Path, tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    first = cli("import", str(real_log), "--db", str(db), "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["sessions"]["new"] == 15 and report["calls_added"] == 121
    again = json.loads(cli("import", str(real_log), "--db", str(db), "--json").stdout)
    assert again["sessions"] == {"new": 0, "grown": 0, "unchanged": 15}
    assert again["calls_added"] == 0
    with open_store(f"sqlite:///{db}") as store:
        assert store.count(types={"step.proposed"}) == 121
        assert store.verify().ok
        scores = score_records([s.record for s in store.iter_records()])
    # nobody took part in these runs: none may read as "humans approve everything"
    assert len(scores) == 15 and all(s.scenario != 1 for s in scores.values())


def test_a_dry_run_stores_nothing(real_log: Path, tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    out = cli("import", str(real_log), "--db", str(db), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "would add 121 calls" in out.stdout
    assert not db.exists()


def test_a_malformed_file_is_named_and_the_rest_still_imports(
    real_log: Path, tmp_path: Path
) -> None:
    bad = real_log.parent / "broken.jsonl"
    good = {"type": "user", "sessionId": "s1", "uuid": "u1", "timestamp": "2026-01-01T00:00:00Z"}
    bad.write_text(
        json.dumps({**good, "message": {"role": "user", "content": "fix the loss"}})
        + "\n{not json\n",
        encoding="utf-8",
    )
    db = tmp_path / "o.db"
    out = cli("import", str(real_log.parent), "--db", str(db))
    assert out.returncode == 1
    assert f"{bad}:2:" in out.stderr and "not JSON" in out.stderr
    with open_store(f"sqlite:///{db}") as store:
        assert store.count(types={"step.proposed"}) == 122  # 121 calls and the person's message


def test_an_unrecognised_file_is_reported_not_guessed(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n", encoding="utf-8")
    out = cli("import", str(notes), "--db", str(tmp_path / "o.db"))
    assert out.returncode == 1
    assert "not a transcript format oversight reads" in out.stderr
    assert not (tmp_path / "o.db").exists()


def test_import_as_trace_replays_to_the_same_kinds(real_log: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    out = cli("import", str(real_log), "--as-trace", str(trace))
    assert out.returncode == 0, out.stderr
    assert len(trace.read_text(encoding="utf-8").splitlines()) == 121
    replayed = json.loads(cli("replay", str(trace), "--json").stdout)
    db = tmp_path / "o.db"
    cli("import", str(real_log), "--db", str(db))
    with open_store(f"sqlite:///{db}") as store:
        stored = [s.record.kind for s in store.iter_records() if s.record.type == "step.proposed"]
    assert [s["kind"] for s in replayed["steps"]] == stored
    assert all(s["scenario"] != 1 for s in replayed["sessions"].values())


def test_imported_records_validate_to_themselves(
    realdata: Callable[[str, str], Path],
) -> None:
    """Imported step records survive a dump and validation unchanged, body for body: what is
    stored reads back as the same record."""
    from oversight.classify import Classifier
    from oversight.importing.formats.inspect_log import FORMAT
    from oversight.importing.model import ImportedSession
    from oversight.importing.run import classify_session
    from oversight.importing.to_store import session_records
    from oversight.records import record_body

    sessions = [s for s in FORMAT.read(realdata(*LOG)) if isinstance(s, ImportedSession)]
    checked = 0
    for session in sessions:
        steps = classify_session(session, Classifier(), max_arg_chars=65_536)
        for record in session_records(session, steps):
            again = type(record).model_validate(record.model_dump())
            assert record_body(again) == record_body(record)
            checked += 1
    assert checked == 2 * 121 + 2 * len(sessions)


def test_the_help_text_names_every_format_in_sniffing_order() -> None:
    """`FORMAT_NAMES` is written out so `--help` need not import every reader; it must not
    drift from the readers themselves."""
    from oversight.importing.detect import FORMAT_NAMES, formats

    assert FORMAT_NAMES == ", ".join(f.name for f in formats())
