"""Commands that read (or act on) what is recorded open an existing store and never create one:
a typo in --db must fail naming the path, not print "intact: 0 records"."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from reviewing import cli as oversight
from sqlalchemy import create_engine, inspect

from oversight import Monitor

MISSING = "new/dir/typo.db"
READERS = [
    ["sessions"],
    ["show", "s"],
    ["verify"],
    ["export", "s"],
    ["report", "s"],
    ["trends"],
    ["approvals"],
    ["reviewer", "list"],
    ["grants"],
    ["approve", "id", "--as", "alice", "--key", "alice.pem"],
    ["deny", "id", "--as", "alice", "--key", "alice.pem"],
    ["grant", "--kind", "train.launch", "--as", "alice", "--key", "alice.pem"],
    ["resume", "s", "--as", "root", "--key", "root.pem"],
]


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c[:2]))
def test_a_command_on_a_missing_store_fails_naming_it_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    out = oversight(*command, "--db", MISSING, cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    message = one_line(out.stderr)
    assert f"no oversight store at {tmp_path / MISSING}: the file does not exist" in message
    assert "the location came from --db" in message
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == [], "nothing may be created"


def test_the_default_store_is_named_as_the_default_when_it_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OVERSIGHT_DB"}
    out = oversight("verify", cwd=tmp_path, env=env)
    assert out.returncode == 2
    message = one_line(out.stderr)
    assert f"no oversight store at {tmp_path}/.oversight/oversight.db" in message
    assert "that is the default store" in message and "--db or OVERSIGHT_DB" in message
    assert not (tmp_path / ".oversight").exists()


def test_a_store_named_by_the_environment_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "OVERSIGHT_DB": str(tmp_path / "env.db")}
    out = oversight("sessions", cwd=tmp_path, env=env)
    assert out.returncode == 2
    assert "the location came from $OVERSIGHT_DB" in one_line(out.stderr)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_is_not_a_store_and_is_left_untouched(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    out = oversight("verify", "--db", "empty.db", cwd=tmp_path)
    assert out.returncode == 2
    assert "the file has no oversight tables" in one_line(out.stderr)
    assert (tmp_path / "empty.db").read_bytes() == b""
    assert [p.name for p in tmp_path.iterdir()] == ["empty.db"]


def test_reading_commands_work_on_an_existing_store(tmp_path: Path) -> None:
    with (
        Monitor(db=str(tmp_path / "o.db"), policy="record-only", log="none") as mon,
        mon.session("s", agent="bot"),
    ):
        pass
    verified = oversight("verify", "--db", "o.db", "--json", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["ok"] is True
    listed = oversight("sessions", "--db", "o.db", "--json", cwd=tmp_path)
    assert [row["session_id"] for row in json.loads(listed.stdout)] == ["s"]


def test_registering_the_first_reviewer_creates_the_store(tmp_path: Path) -> None:
    out = oversight(
        "reviewer", "add", "root", "--role", "admin", "--key-out", "root.pem", "--db", MISSING,
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / MISSING).is_file()
    listed = oversight("reviewer", "list", "--db", MISSING, "--json", cwd=tmp_path)
    assert json.loads(listed.stdout)["trusted"] == {"root": "admin"}


def test_importing_spilled_records_creates_the_store_they_belong_in(tmp_path: Path) -> None:
    spilled = tmp_path / "unwritten-1.jsonl"
    with (
        Monitor(db=str(tmp_path / "source.db"), policy="record-only", log="none") as mon,
        mon.session("s", agent="bot"),
    ):
        pass
    exported = oversight("export", "s", "--db", "source.db", cwd=tmp_path)
    spilled.write_text(
        "".join(
            json.dumps(json.loads(line)["record"]) + "\n" for line in exported.stdout.splitlines()
        )
    )
    out = oversight("import", str(spilled), "--db", MISSING, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / MISSING).is_file()


@pytest.mark.postgres
def test_an_empty_postgresql_database_is_no_store_for_reading(pg_url: str, tmp_path: Path) -> None:
    out = oversight("verify", "--db", pg_url, cwd=tmp_path)
    assert out.returncode == 2, out.stdout
    assert "the database has no oversight tables" in one_line(out.stderr)
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def test_a_halt_may_go_into_a_new_store_and_says_that_it_is_new(tmp_path: Path) -> None:
    """Stopping is always safe: halting an agent that has not started yet records the halt in
    a new store, and says so, as the path may be a typo."""
    out = oversight("halt", "s", "--reason", "stop", "--db", MISSING, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / MISSING).is_file()
    said = one_line(out.stdout)
    assert f"note: there was no store at sqlite:///{tmp_path / MISSING}" in said
    with Monitor(db=str(tmp_path / MISSING), policy="record-only", log="none") as mon:
        assert mon.halt_reason("s") == "stop"
    again = oversight("halt", "s", "--reason", "still", "--db", MISSING, cwd=tmp_path)
    assert again.returncode == 0 and "note:" not in again.stdout
