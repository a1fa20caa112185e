"""The store's schema history: numbered migrations, applied in order under one lock.

Each migration keeps its own frozen table definitions, so changing `schema.py` later never
changes what an old migration did; a new migration alters what the previous ones built. Every
applied migration leaves a row in `oversight_schema_version`, and the store's version is the
highest one. Migrating takes the database's write lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a
transaction-scoped advisory lock keyed on the schema) and re-reads the version under it, so
several processes opening a fresh store at once migrate it exactly once.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    text,
)

from oversight.errors import SchemaVersionError, StoreCorruptError
from oversight.store.chain import GENESIS_HASH
from oversight.store.engine import READ_ONLY
from oversight.store.schema import PREFIX, new_halt_id, schema_version


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None]


def _v1_records_and_chain(conn: Connection) -> None:
    md = MetaData()
    seq_type = BigInteger().with_variant(Integer(), "sqlite")
    records = Table(
        "oversight_records",
        md,
        Column("seq", seq_type, primary_key=True, autoincrement=False),
        Column("record_id", String, nullable=False, unique=True),
        Column("type", String, nullable=False),
        Column("session_id", String, nullable=False),
        Column("step_id", String),
        Column("kind", String),
        Column("decision", String),
        Column("ts", String().with_variant(String(collation="C"), "postgresql"), nullable=False),
        Column("prev_hash", String, nullable=False),
        Column("hash", String, nullable=False),
        Column("body", Text, nullable=False),
    )
    # Review queries: a session's records in order; records of a type (sessions, steps) by time;
    # steps of a kind by time; and the rare decisions that are not `allow`. Partial indexes keep
    # the write cost of the common case (cheap, allowed steps) low.
    Index("ix_oversight_records_session_seq", records.c.session_id, records.c.seq)
    Index("ix_oversight_records_type_ts", records.c.type, records.c.ts)
    _kind_present = records.c.kind.isnot(None)
    Index(
        "ix_oversight_records_kind_ts",
        records.c.kind,
        records.c.ts,
        sqlite_where=_kind_present,
        postgresql_where=_kind_present,
    )
    _gated = records.c.decision.isnot(None) & (records.c.decision != "allow")
    Index(
        "ix_oversight_records_decision_ts",
        records.c.decision,
        records.c.ts,
        sqlite_where=_gated,
        postgresql_where=_gated,
    )
    head = Table(
        "oversight_chain_head",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", BigInteger, nullable=False),
        Column("hash", String, nullable=False),
        CheckConstraint("id = 1", name="ck_oversight_chain_head_single_row"),
    )
    md.create_all(conn)
    conn.execute(insert(head).values(id=1, seq=0, hash=GENESIS_HASH))


def _v2_halts(conn: Connection) -> None:
    md = MetaData()
    halts = Table(
        "oversight_halts",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("scope", String, nullable=False),
        Column("reason", Text, nullable=False),
        Column("requested_by", String, nullable=False),
        Column("created_at", String, nullable=False),
        Column("resumed_at", String),
        Column("resumed_by", String),
        Column("resume_signature", String),
    )
    _active = halts.c.resumed_at.is_(None)
    Index(
        "ix_oversight_halts_active_scope",
        halts.c.scope,
        sqlite_where=_active,
        postgresql_where=_active,
    )
    md.create_all(conn)


def _v3_approvals(conn: Connection) -> None:
    md = MetaData()
    Table(
        "oversight_reviewers",
        md,
        Column("name", String, primary_key=True),
        Column("role", String, nullable=False),
        Column("public_key", String, nullable=False),
        Column("endorsed_by", String, nullable=False),
        Column("endorsement", String, nullable=False),
        Column("created_at", String, nullable=False),
    )
    approvals = Table(
        "oversight_approvals",
        md,
        Column("id", String, primary_key=True),
        Column("session_id", String, nullable=False),
        Column("step_id", String, nullable=False),
        Column("args_digest", String, nullable=False),
        Column("kind", String, nullable=False),
        Column("name", String, nullable=False),
        Column("args", Text, nullable=False),
        Column("reason", Text, nullable=False),
        Column("rule", String),
        Column("role", String, nullable=False),
        Column("quorum", Integer, nullable=False),
        Column("deadline", String, nullable=False),
        Column("status", String, nullable=False),
        Column("outcome", Text),
        Column("created_at", String, nullable=False),
        Column("decided_at", String),
    )
    Index("ix_oversight_approvals_status", approvals.c.status, approvals.c.created_at)
    votes = Table(
        "oversight_votes",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("approval_id", String, nullable=False),
        Column("reviewer", String, nullable=False),
        Column("decision", String, nullable=False),
        Column("reason", Text, nullable=False),
        Column("signature", String, nullable=False),
        Column("created_at", String, nullable=False),
    )
    Index("ix_oversight_votes_approval", votes.c.approval_id, votes.c.id)
    md.create_all(conn)


def _v4_grants(conn: Connection) -> None:
    md = MetaData()
    Table(
        "oversight_grants",
        md,
        Column("id", String, primary_key=True),
        Column("kind", String, nullable=False),
        Column("session_id", String),
        Column("max_gpu_hours", Float),
        Column("expires_at", Float, nullable=False),
        Column("granted_by", String, nullable=False),
        Column("reason", Text, nullable=False),
        Column("signature", String, nullable=False),
        Column("created_at", String, nullable=False),
    )
    md.create_all(conn)


def _v5_modify_and_consume(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE oversight_approvals ADD COLUMN consumed_by VARCHAR"))
    conn.execute(text("ALTER TABLE oversight_approvals ADD COLUMN consumed_at VARCHAR"))
    conn.execute(text("ALTER TABLE oversight_votes ADD COLUMN args_patch TEXT"))


def _v6_random_halt_ids(conn: Connection) -> None:
    """Halt ids become random (`new_halt_id`): a resume signs the id, and a counter's ids come
    back. Halts still in force get a random id now, so no resume signed before the upgrade
    fits them; resumed halts keep theirs, and so their admins' signatures. New ids are at least
    2**32, above every id the counter gave, so no later halt can take an old one."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE oversight_halts ALTER COLUMN id TYPE BIGINT"))
        conn.execute(text("ALTER TABLE oversight_halts ALTER COLUMN id DROP DEFAULT"))
    active = conn.execute(
        text("SELECT id FROM oversight_halts WHERE resumed_at IS NULL ORDER BY id")
    ).all()
    for (old_id,) in active:
        conn.execute(
            text("UPDATE oversight_halts SET id = :new WHERE id = :old"),
            {"new": new_halt_id(), "old": old_id},
        )


def _v7_review_rows_chained(conn: Connection) -> None:
    """Every write to the review tables now chains a `ReviewEvent` (`review_log`); rows written
    before get theirs here, as they stand, so the upgraded store verifies and every row is
    covered from now on. (Uses today's record model: it is data, not a table shape.)"""
    from oversight.store.review_log import append_on, backfill_events, table_rows

    append_on(conn, backfill_events(table_rows(conn)))


def _v8_vote_ids_never_reused(conn: Connection) -> None:
    """SQLite gives a new row the largest rowid + 1, so deleting the newest vote hands its id
    to the next one; AUTOINCREMENT never reuses an id. The table is rebuilt with it (SQLite
    cannot alter a key), rows and ids kept. PostgreSQL's sequence never reused one."""
    if conn.dialect.name != "sqlite":
        return
    columns = "id, approval_id, reviewer, decision, reason, signature, created_at, args_patch"
    conn.execute(text("ALTER TABLE oversight_votes RENAME TO oversight_votes_v7"))
    conn.execute(text("DROP INDEX IF EXISTS ix_oversight_votes_approval"))
    conn.execute(
        text(
            "CREATE TABLE oversight_votes (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "
            "approval_id VARCHAR NOT NULL, reviewer VARCHAR NOT NULL, decision VARCHAR NOT NULL, "
            "reason TEXT NOT NULL, signature VARCHAR NOT NULL, created_at VARCHAR NOT NULL, "
            "args_patch TEXT)"
        )
    )
    conn.execute(
        text(f"INSERT INTO oversight_votes ({columns}) SELECT {columns} FROM oversight_votes_v7")
    )
    conn.execute(text("DROP TABLE oversight_votes_v7"))
    conn.execute(
        text("CREATE INDEX ix_oversight_votes_approval ON oversight_votes (approval_id, id)")
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "records, chain head and review indexes", _v1_records_and_chain),
    Migration(2, "halt switch", _v2_halts),
    Migration(3, "reviewers, approvals and signed votes", _v3_approvals),
    Migration(4, "scoped grants", _v4_grants),
    Migration(5, "modified calls and approvals used at most once", _v5_modify_and_consume),
    Migration(6, "random halt ids, so a resume never fits another halt", _v6_random_halt_ids),
    Migration(7, "review rows chained: verify checks the review tables", _v7_review_rows_chained),
    Migration(8, "vote ids never reused (SQLite AUTOINCREMENT)", _v8_vote_ids_never_reused),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection, where: str) -> int | None:
    """The store's schema version, or None when it has no oversight schema yet."""
    names = inspect(conn).get_table_names()
    if schema_version.name not in names:
        ours = sorted(n for n in names if n.startswith(PREFIX))
        if ours:
            raise StoreCorruptError(
                f"{where} is not an oversight store: it has tables {', '.join(ours)} "
                f"but no {schema_version.name} table"
            )
        return None
    value = conn.execute(select(func.max(schema_version.c.version))).scalar()
    if value is None:
        return None
    if not isinstance(value, int):
        raise StoreCorruptError(
            f"{where} is not an oversight store: schema version {value!r} is not a number"
        )
    return value


def _refuse_newer(version: int | None, where: str) -> None:
    if version is not None and version > LATEST_VERSION:
        raise SchemaVersionError(
            f"the store at {where} has schema version {version}, but this agent-oversight "
            f"only knows versions up to {LATEST_VERSION}; upgrade agent-oversight to open it"
        )


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :key))"),
            {"key": ".oversight_migrate"},
        )
    # SQLite: the transaction already began with BEGIN IMMEDIATE, which is the lock.


def migrate(engine: Engine, where: str) -> int:
    """Bring the store up to `LATEST_VERSION`; returns the version it ends at."""
    with engine.execution_options(**READ_ONLY).connect() as conn:
        version = current_version(conn, where)
        conn.rollback()
    _refuse_newer(version, where)
    if version == LATEST_VERSION:
        return version
    with engine.connect() as conn, conn.begin():
        _lock(conn)
        version = current_version(conn, where)
        _refuse_newer(version, where)
        schema_version.create(conn, checkfirst=True)
        for migration in MIGRATIONS:
            if version is not None and migration.version <= version:
                continue
            migration.upgrade(conn)
            conn.execute(
                insert(schema_version).values(
                    version=migration.version,
                    name=migration.name,
                    applied_at=_dt.datetime.now(_dt.UTC).isoformat(),
                )
            )
    return LATEST_VERSION
