"""Opening the audit store: migrations, and the errors for places that are not a usable store."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from oversight.errors import (
    ConfigError,
    MissingExtraError,
    SchemaVersionError,
    StoreCorruptError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from oversight.records import SessionStarted
from oversight.store import open_store
from oversight.store.migrations import LATEST_VERSION, MIGRATIONS
from oversight.store.schema import metadata


def started(session_id: str = "s") -> SessionStarted:
    return SessionStarted(session_id=session_id, pid=1, host="h", oversight_version="0.1.0")


@contextlib.contextmanager
def raw_engine(url: str) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on the store's database, bypassing oversight."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def versions(url: str) -> list[tuple[int, str]]:
    with raw_engine(url) as engine, engine.connect() as conn:
        rows = conn.execute(text("SELECT version, name FROM oversight_schema_version ORDER BY 1"))
        return [(int(v), str(n)) for v, n in rows]


def test_a_fresh_store_is_migrated_to_the_latest_version(store_url: str) -> None:
    with open_store(store_url) as store:
        assert store.head() == (0, "0" * 64)
    assert versions(store_url) == [(m.version, m.name) for m in MIGRATIONS]
    assert versions(store_url)[-1][0] == LATEST_VERSION


def test_reopening_keeps_data_and_does_not_migrate_again(store_url: str) -> None:
    with open_store(store_url) as store:
        store.append([started()])
    before = versions(store_url)
    with open_store(store_url) as store:
        assert store.count() == 1
        store.append([started("t")])
        assert store.verify().ok
    assert versions(store_url) == before


def test_migrated_schema_matches_the_declared_tables(store_url: str) -> None:
    open_store(store_url).close()
    with raw_engine(store_url) as engine, engine.connect() as conn:
        found = inspect(conn)
        for table in metadata.sorted_tables:
            assert found.has_table(table.name), table.name
            columns = {c["name"]: c for c in found.get_columns(table.name)}
            assert list(columns) == [c.name for c in table.columns]
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, column.name
            indexes = {
                i["name"]: i["column_names"]
                for i in found.get_indexes(table.name)
                if not i.get("duplicates_constraint")
            }
            assert indexes == {i.name: [c.name for c in i.columns] for i in table.indexes}
        uniques = found.get_unique_constraints("oversight_records")
        assert [u["column_names"] for u in uniques] == [["record_id"]]


def test_all_tables_are_prefixed(store_url: str) -> None:
    open_store(store_url).close()
    with raw_engine(store_url) as engine, engine.connect() as conn:
        names = inspect(conn).get_table_names()
    assert sorted(names) == [
        "oversight_approvals",
        "oversight_chain_head",
        "oversight_grants",
        "oversight_halts",
        "oversight_records",
        "oversight_reviewers",
        "oversight_schema_version",
        "oversight_votes",
    ]


def test_a_store_from_a_newer_version_is_refused_naming_both_versions(store_url: str) -> None:
    open_store(store_url).close()
    with raw_engine(store_url) as engine, engine.begin() as conn:
        conn.execute(
            text("INSERT INTO oversight_schema_version VALUES (:v, 'from the future', 'now')"),
            {"v": LATEST_VERSION + 41},
        )
    with pytest.raises(SchemaVersionError) as caught:
        open_store(store_url)
    message = str(caught.value)
    assert f"schema version {LATEST_VERSION + 41}" in message
    assert f"up to {LATEST_VERSION}" in message


def test_an_existing_database_with_other_tables_gains_the_oversight_schema(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    with open_store(f"sqlite:///{path}") as store:
        store.append([started()])
        assert store.verify().ok
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT text FROM notes").fetchall() == [("keep me",)]


def test_oversight_tables_without_a_schema_version_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE oversight_records (x TEXT)")
    with pytest.raises(StoreCorruptError, match="not an oversight store.*oversight_records"):
        open_store(f"sqlite:///{path}")


@pytest.mark.parametrize(
    "content",
    [os.urandom(8192), b"just some notes, not a database\n" * 200, b"hello\n"],
    ids=["random-bytes", "text-file", "short-text-file"],
)
def test_a_file_that_is_not_sqlite_is_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "oversight.db"
    path.write_bytes(content)
    with pytest.raises(StoreCorruptError) as caught:
        open_store(f"sqlite:///{path}")
    assert str(path) in str(caught.value)
    assert "not an oversight store" in str(caught.value)
    assert path.read_bytes() == content


def test_the_parent_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "oversight.db"
    with open_store(f"sqlite:///{path}") as store:
        store.append([started()])
    assert path.is_file()


def test_a_relative_path_is_fixed_at_open_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///.oversight/oversight.db") as store:
        assert store.url_for_display == f"sqlite:///{tmp_path}/.oversight/oversight.db"
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        store.append([started()])
    assert (tmp_path / ".oversight" / "oversight.db").is_file()
    assert not (elsewhere / ".oversight").exists()


def test_a_parent_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    path = blocker / "sub" / "oversight.db"
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"sqlite:///{path}")
    assert str(path) in str(caught.value)


def test_a_folder_that_is_not_writable_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            # Root ignores permission bits; /proc/sys exists and refuses writes even to root.
            folder = Path("/proc/sys")
            assert not os.access(folder, os.W_OK)
        path = folder / "oversight.db"
        with pytest.raises(StoreUnavailableError) as caught:
            open_store(f"sqlite:///{path}")
        assert str(path) in str(caught.value)
        assert "not writable" in str(caught.value)
    finally:
        (tmp_path / "read-only").chmod(0o755)


def test_a_path_that_is_a_folder_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="it is a folder"):
        open_store(f"sqlite:///{tmp_path}")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://oversight:s3cret-pw@127.0.0.1:1/oversight?connect_timeout=2",
        "postgresql+psycopg://oversight:s3cret-pw@192.0.2.1:5432/oversight?connect_timeout=2",
    ],
    ids=["refused", "unroutable"],
)
def test_an_unreachable_postgresql_is_unavailable_quickly(url: str) -> None:
    began = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(url)
    assert time.monotonic() - began < 15
    message = str(caught.value)
    host = url.split("@")[1].split(":")[0]
    assert host in message
    assert "s3cret-pw" not in message
    assert "***" in message


def test_postgresql_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtraError) as caught:
        open_store("postgresql+psycopg://u:p@localhost/db")
    assert "agent-oversight[postgres]" in str(caught.value)
    assert "psycopg" in str(caught.value)


def test_url_for_display_hides_the_password(pg_url: str) -> None:
    with open_store(pg_url) as store:
        shown = store.url_for_display
    assert "***" in shown
    password = pg_url.split("//")[1].split("@")[0].split(":")[1]
    assert f":{password}@" not in shown


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mysql://u:p@host/db", "accepted: sqlite, postgresql"),
        ("not a url", "not a URL"),
        ("sqlite+aiosqlite:///x.db", "unsupported SQLite driver"),
        ("postgresql+asyncpg://u:p@localhost/db", "unsupported PostgreSQL driver"),
    ],
)
def test_an_unsupported_url_is_a_config_error(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        open_store(url)


def test_an_unknown_synchronous_mode_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'OFF' is not accepted"):
        open_store(f"sqlite:///{tmp_path}/o.db", sqlite_synchronous="OFF")


def test_sqlite_connections_use_wal_and_the_requested_pragmas(tmp_path: Path) -> None:
    with open_store(
        f"sqlite:///{tmp_path}/o.db", sqlite_synchronous="NORMAL", busy_timeout_s=2.5
    ) as store:
        engine = store._engine  # the pragmas are per connection
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 2500,
        "foreign_keys": 1,
    }


# -- opening only an existing store (create=False), as every reading command does -------------


def test_opening_a_missing_file_for_reading_names_it_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "typo.db"
    with pytest.raises(StoreNotFoundError) as caught:
        open_store(f"sqlite:///{path}", create=False)
    assert str(path) in str(caught.value) and "does not exist" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_opening_an_empty_file_for_reading_is_not_a_store_and_leaves_it_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(StoreNotFoundError, match="no oversight tables"):
        open_store(f"sqlite:///{path}", create=False)
    assert path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_an_existing_store_opens_for_reading(store_url: str) -> None:
    with open_store(store_url) as store:
        store.append([started("kept")])
    with open_store(store_url, create=False) as store:
        assert [r.record.session_id for r in store.iter_records()] == ["kept"]


@pytest.mark.postgres
def test_an_empty_postgresql_schema_is_no_store_for_reading(pg_url: str) -> None:
    with pytest.raises(StoreNotFoundError, match="the database has no oversight tables"):
        open_store(pg_url, create=False)
    with raw_engine(pg_url) as engine, engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
