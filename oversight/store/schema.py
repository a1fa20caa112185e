"""The current shape of the store's tables, as SQLAlchemy Core objects used by queries.

Migrations (`migrations.py`) create and change these tables; a test checks that a freshly
migrated database matches what is declared here.
"""

from __future__ import annotations

import secrets

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

PREFIX = "oversight_"

metadata = MetaData()

# INTEGER PRIMARY KEY makes seq SQLite's rowid: no separate key index, appends stay in order.
SeqType = BigInteger().with_variant(Integer(), "sqlite")
# Byte order for timestamps in PostgreSQL, whatever the database's default collation.
TsType = String().with_variant(String(collation="C"), "postgresql")

schema_version = Table(
    "oversight_schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("applied_at", String, nullable=False),
)

records = Table(
    "oversight_records",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=False),
    Column("record_id", String, nullable=False, unique=True),
    Column("type", String, nullable=False),
    Column("session_id", String, nullable=False),
    Column("step_id", String),
    Column("kind", String),
    Column("decision", String),
    Column("ts", TsType, nullable=False),
    Column("prev_hash", String, nullable=False),
    Column("hash", String, nullable=False),
    # Last, so SQLite reads no body overflow pages for queries that only touch index columns.
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

chain_head = Table(
    "oversight_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String, nullable=False),
    CheckConstraint("id = 1", name="ck_oversight_chain_head_single_row"),
)

# The halt switch: a row per halt; `scope` is a session id or "*" for every session. A halt
# stays active until resumed (resumed_at set); monitors poll the active ones. Its id is random
# (`new_halt_id`, v6), never a counter: an admin's resume signs the id, and a counter's ids come
# back (SQLite reuses the largest rowid once it is deleted), so a saved resume of an old halt
# would lift a new one.
halts = Table(
    "oversight_halts",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=False),
    Column("scope", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String, nullable=False),
    Column("created_at", String, nullable=False),
    Column("resumed_at", String),
    Column("resumed_by", String),
    Column("resume_signature", String),
)
_halt_active = halts.c.resumed_at.is_(None)
Index(
    "ix_oversight_halts_active_scope",
    halts.c.scope,
    sqlite_where=_halt_active,
    postgresql_where=_halt_active,
)

HALT_ID_MIN = 2**32
"""Halt ids from v6 on are at least this: above every counter id an older store handed out."""


def new_halt_id() -> int:
    """A fresh halt id: random in [2**32, 2**63), so no halt ever gets another's id."""
    return HALT_ID_MIN + secrets.randbelow(2**63 - HALT_ID_MIN)


# Approvals: reviewers (public keys, each endorsed by an admin's signature), pending and decided
# approvals, and the signed votes reviewers cast from their own processes.
reviewers = Table(
    "oversight_reviewers",
    metadata,
    Column("name", String, primary_key=True),
    Column("role", String, nullable=False),
    Column("public_key", String, nullable=False),
    Column("endorsed_by", String, nullable=False),
    Column("endorsement", String, nullable=False),
    Column("created_at", String, nullable=False),
)
approvals = Table(
    "oversight_approvals",
    metadata,
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
    # Set once, atomically, by the step that ran on this approval: at most one step per approval,
    # across processes and restarts (v5).
    Column("consumed_by", String),
    Column("consumed_at", String),
)
Index("ix_oversight_approvals_status", approvals.c.status, approvals.c.created_at)
votes = Table(
    "oversight_votes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("approval_id", String, nullable=False),
    Column("reviewer", String, nullable=False),
    Column("decision", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("signature", String, nullable=False),
    Column("created_at", String, nullable=False),
    # A reviewer's edit of the call (canonical JSON of {argument: new value}); signed (v5).
    Column("args_patch", Text),
    # Ids never come back (v8): deleting the newest vote must not hand its id to the next.
    sqlite_autoincrement=True,
)
Index("ix_oversight_votes_approval", votes.c.approval_id, votes.c.id)

# Scoped grants: a reviewer's signed standing approval for a class of steps, until expires_at
# (Unix time). Steps a grant covers run without waiting; they do not count as reviewed.
grants = Table(
    "oversight_grants",
    metadata,
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

RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in records.columns)
