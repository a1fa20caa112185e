"""Turning a store URL into a configured SQLAlchemy engine, and database failures into our errors.

SQLite: the driver's own transaction handling is switched off and every transaction is begun by
us (SQLAlchemy's documented pysqlite recipe). Writers begin with `BEGIN IMMEDIATE`, which takes
the database's single write lock up front, waiting up to the busy timeout, so two processes never
both read the chain head and then race to extend it. Readers opt into a plain deferred `BEGIN`
with `READ_ONLY` and never block writers (WAL). PostgreSQL needs none of this: writers lock the
chain head row with `SELECT ... FOR UPDATE`.

A PostgreSQL server that restarts under running monitors: stale pooled connections are replaced
on checkout (`pool_pre_ping`), and a new connection made while the server is down or starting up
is retried for up to `PG_RECONNECT_WAIT_S`, so a step during a restart waits for the server
instead of failing. Only once the engine has connected: a store that cannot be reached at open
still fails at once. An operation cut off mid-way still fails (StoreUnavailableError): a
consequential step whose record could not be written does not run.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from oversight.errors import (
    ConfigError,
    MissingExtraError,
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)

SYNCHRONOUS_MODES: tuple[str, ...] = ("FULL", "EXTRA", "NORMAL")
READ_ONLY: dict[str, Any] = {"oversight_read_only": True}
BATCHED: dict[str, Any] = {"oversight_batched": True}
DEFAULT_PG_CONNECT_TIMEOUT_S = 10
PG_RECONNECT_WAIT_S = 30.0
"""How long a new connection is retried while a server that was reachable restarts."""
_PG_RESTARTING = (
    "connection refused",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "server closed the connection unexpectedly",
    "the connection is lost",
    "consuming input failed",
    "no such file or directory",  # the Unix socket, between stop and start
)
"""What a failed connect says while the server restarts (psycopg gives these no SQLSTATE)."""

Dialect = Literal["sqlite", "postgresql"]


class StoreUnreachableError(StoreUnavailableError):
    """The database server could not be reached, or cut the connection mid-way (a restart):
    this operation did not happen, and the same one may succeed a moment later."""


_PG_CUT_OFF_STATES = frozenset({"57P01", "57P02", "57P03"})
"""admin_shutdown, crash_shutdown, cannot_connect_now: the server stopping or starting."""


@dataclass(frozen=True)
class StoreEngine:
    engine: Engine
    dialect: Dialect
    url_for_display: str
    where: str
    """What to name in error messages: the SQLite file path or the PostgreSQL host."""
    memory: bool
    db_errors: tuple[type[BaseException], ...]
    synchronous: str = "FULL"
    """SQLite's configured durability for write-ahead commits."""


def display_url(url: str | URL) -> str:
    """The URL with any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable store URL>"


def create_store_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    busy_timeout_s: float = 30.0,
    create: bool = True,
) -> StoreEngine:
    """An engine for the store at `url`. `create=False` is for reading an existing store: a
    SQLite file that is not there is a StoreNotFoundError, and nothing is created on disk."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"store URL {url!r} is not a URL; use sqlite:///path/to/oversight.db or "
            "postgresql+psycopg://user:password@host/database"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, sqlite_synchronous, busy_timeout_s, create)
    if backend == "postgresql":
        return _postgresql_engine(parsed)
    raise ConfigError(
        f"unsupported store URL scheme {parsed.drivername!r} in {display_url(parsed)}; "
        "accepted: sqlite, postgresql+psycopg"
    )


def _sqlite_engine(url: URL, synchronous: str, busy_timeout_s: float, create: bool) -> StoreEngine:
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ConfigError(
            f"sqlite_synchronous {synchronous!r} is not accepted; use one of "
            f"{', '.join(SYNCHRONOUS_MODES)}"
        )
    if not busy_timeout_s > 0:
        raise ConfigError(f"busy_timeout_s must be positive, got {busy_timeout_s!r}")
    if url.drivername not in ("sqlite", "sqlite+pysqlite"):
        raise ConfigError(
            f"unsupported SQLite driver {url.drivername!r}; use sqlite:///path/to/oversight.db"
        )
    database = url.database
    memory = database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout_s},
    }
    if memory:
        where = ":memory:"
        shown = "sqlite://"
        kwargs["poolclass"] = StaticPool
    else:
        assert database is not None
        # Absolute, so a later chdir by the agent cannot point new connections elsewhere.
        path = Path(database).expanduser().absolute()
        where = str(path)
        shown = f"sqlite:///{path}"
        url = url.set(database=str(path))
        if create:
            _prepare_sqlite_path(path)
        else:
            _require_sqlite_file(path)
            kwargs["creator"] = _existing_file_connector(path, busy_timeout_s)
    engine = create_engine(url, **kwargs)
    busy_ms = max(1, int(busy_timeout_s * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            # A store is switched to WAL when it is created, and the mode persists; a reader
            # must not convert a file that may not be an oversight store at all.
            if create:
                _enable_wal(cursor, busy_timeout_s)
            cursor.execute(f"PRAGMA synchronous = {mode}")
            record.info["oversight_synchronous"] = mode
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("oversight_read_only", False):
            conn.exec_driver_sql("BEGIN")
            return
        # Batched (not write-ahead) records skip the fsync at commit: in WAL mode NORMAL is
        # still safe against the agent crashing, and the next write-ahead commit syncs the
        # whole log. Write-ahead transactions always get the configured mode.
        batched = options.get("oversight_batched", False)
        wanted = "NORMAL" if batched else mode
        info = conn.connection.info
        if info.get("oversight_synchronous") != wanted:
            conn.exec_driver_sql(f"PRAGMA synchronous = {wanted}")
            info["oversight_synchronous"] = wanted
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return StoreEngine(
        engine=engine,
        dialect="sqlite",
        url_for_display=shown,
        where=where,
        memory=memory,
        db_errors=(SQLAlchemyError, sqlite3.Error),
        synchronous=mode,
    )


def _enable_wal(cursor: Any, busy_timeout_s: float) -> None:
    """Switch to WAL, retrying while another process holds the lock the switch needs.

    SQLite does not apply busy_timeout to a journal-mode change, so several processes opening a
    fresh store at once would otherwise fail with "database is locked".
    """
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + busy_timeout_s
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _prepare_sqlite_path(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot create the folder {parent} for the oversight store {path}: "
            f"{exc.strerror or exc}"
        ) from exc
    if not parent.is_dir():
        raise StoreUnavailableError(f"cannot use {path}: {parent} is not a folder")
    if path.is_dir():
        raise StoreUnavailableError(f"cannot use {path} as the oversight store: it is a folder")
    # SQLite also needs to create the -wal and -shm files beside the database.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreUnavailableError(
            f"cannot write the oversight store {path}: the folder {parent} is not writable"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreUnavailableError(
            f"cannot write the oversight store {path}: the file is not readable and writable"
        )


def _require_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise StoreUnavailableError(f"cannot use {path} as the oversight store: it is a folder")
    if not path.exists():
        raise StoreNotFoundError(f"no oversight store at {path}: the file does not exist")
    if not os.access(path, os.R_OK):
        raise StoreUnavailableError(f"cannot read the oversight store {path}: permission denied")


def _existing_file_connector(path: Path, busy_timeout_s: float) -> Any:
    """Connections that SQLite itself refuses to open if the file has gone (`mode=rw`), so a
    reader never creates an empty store in its place."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=rw"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=busy_timeout_s)

    return connect


def _postgresql_engine(url: URL) -> StoreEngine:
    try:
        importlib.import_module("psycopg")
    except ImportError:
        raise MissingExtraError("PostgreSQL store", "postgres", "psycopg") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise ConfigError(
            f"unsupported PostgreSQL driver {url.drivername!r}; use postgresql+psycopg://"
        )
    if "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(DEFAULT_PG_CONNECT_TIMEOUT_S)})
    # A restarted server must not fail the next append on a stale pooled connection.
    engine = create_engine(url, pool_pre_ping=True)
    dbapi = engine.dialect.loaded_dbapi
    _reconnect_through_restarts(engine, dbapi.OperationalError, PG_RECONNECT_WAIT_S)
    host = url.host or "localhost"
    where = f"{host}:{url.port or 5432}/{url.database or ''}"
    return StoreEngine(
        engine=engine,
        dialect="postgresql",
        url_for_display=display_url(url),
        where=where,
        memory=False,
        db_errors=(SQLAlchemyError, dbapi.Error),
    )


def _reconnect_through_restarts(
    engine: Engine, refused: type[BaseException], wait_s: float
) -> None:
    """Retry new connections while the server restarts, once the engine has connected."""
    connected = threading.Event()

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = time.monotonic() + (wait_s if connected.is_set() else 0.0)
        delay = 0.05
        while True:
            try:
                connection = dialect.connect(*cargs, **cparams)
            except refused as exc:
                if not server_restarting(exc) or time.monotonic() + delay > deadline:
                    raise
            else:
                connected.set()
                return connection
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def server_restarting(exc: BaseException) -> bool:
    """Whether a failed PostgreSQL connect looks like a server stopping or starting (worth
    retrying), not a wrong password, host or database (which no wait fixes)."""
    if getattr(exc, "sqlstate", None) not in (None, "57P03"):
        return False
    text = str(exc).lower()
    return any(fragment in text for fragment in _PG_RESTARTING)


_SQLITE_CORRUPT_CODES = frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT})


def store_failure(exc: BaseException, store: StoreEngine, action: str) -> StoreError:
    """The typed error for a database failure while doing `action` ("open", "append to", ...)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = _first_line(str(cause)) or type(cause).__name__
    if getattr(cause, "sqlite_errorcode", None) in _SQLITE_CORRUPT_CODES:
        return StoreCorruptError(
            f"{store.where} is not an oversight store: it is not a readable SQLite database "
            f"({message})"
        )
    error = StoreUnreachableError if _unreachable(exc, cause, store) else StoreUnavailableError
    return error(
        f"cannot {action} the oversight store at {store.where} ({store.url_for_display}): "
        f"{type(cause).__name__}: {message}"
    )


def _unreachable(exc: BaseException, cause: BaseException, store: StoreEngine) -> bool:
    """Whether a PostgreSQL failure is the server going away (not a refused statement)."""
    if store.dialect != "postgresql":
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(cause, "sqlstate", None)
    if state in _PG_CUT_OFF_STATES or (isinstance(state, str) and state.startswith("08")):
        return True
    return state is None and server_restarting(cause)


def _first_line(text: str, limit: int = 500) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
