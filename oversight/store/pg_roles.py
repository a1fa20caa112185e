"""PostgreSQL roles for a deployment where the agent under watch may reach the database.

`oversight pg setup` makes three login roles on one schema:

- **admin** owns the schema and every table: migrations, resumes, registering reviewers.
- **agent** (what monitors connect as) may read, append records, move the chain head forward,
  request approvals and record their outcome, and halt; no UPDATE of anything else, no
  DELETE, no TRUNCATE, no DDL. It cannot cast votes, give grants or register reviewers.
- **reviewer** may read, cast votes, give grants and halt (each write chained as a record).

Two rules privileges cannot say are triggers the admin owns (`pg_guards`): the head only moves
forward onto a stored record, and a used approval stays used. Re-running setup is idempotent
and gives each role a new password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL, make_url

from oversight.errors import ConfigError, StoreUnavailableError
from oversight.store.pg_guards import GUARDS, Guard
from oversight.store.schema import (
    approvals,
    chain_head,
    grants,
    halts,
    records,
    reviewers,
    schema_version,
    votes,
)

ALL_TABLES = (schema_version, records, chain_head, halts, reviewers, approvals, votes, grants)

AGENT_WRITES: dict[str, str] = {
    records.name: "INSERT",
    chain_head.name: "UPDATE (seq, hash)",
    approvals.name: "INSERT, UPDATE (status, outcome, decided_at, consumed_by, consumed_at)",
    halts.name: "INSERT",
}
REVIEWER_WRITES: dict[str, str] = {
    records.name: "INSERT",
    chain_head.name: "UPDATE (seq, hash)",
    votes.name: "INSERT",
    grants.name: "INSERT",
    halts.name: "INSERT",
}


@dataclass(frozen=True)
class Roles:
    """The URL each role connects with (passwords included: keep them like keys)."""

    schema: str
    admin: str
    agent: str
    reviewer: str


def _identifier(text: str, what: str) -> str:
    if not text or len(text) > 48 or not text.replace("_", "").isalnum() or not text.isascii():
        raise ConfigError(f"{what} {text!r} must be 1-48 ASCII letters, digits or underscores")
    if text[0].isdigit():
        raise ConfigError(f"{what} {text!r} must not start with a digit")
    return text.lower()


def setup_roles(setup_url: str, *, schema: str = "oversight", prefix: str = "oversight") -> Roles:
    """Create (or update) the three roles and the schema; returns each role's URL.

    `setup_url` connects as a role with CREATEROLE that may create schemas in the database
    (its owner, or a superuser). The store's tables are created by the admin role itself.
    """
    import psycopg
    from psycopg import sql

    schema = _identifier(schema, "schema")
    prefix = _identifier(prefix, "role prefix")
    base = make_url(setup_url)
    if base.get_backend_name() != "postgresql":
        raise ConfigError(f"`oversight pg setup` needs a PostgreSQL URL, not {base.drivername!r}")
    names = {role: f"{prefix}_{role}" for role in ("admin", "agent", "reviewer")}
    passwords = {role: secrets.token_urlsafe(24) for role in names}
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            me = str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
            for role, name in names.items():
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                # A new role gets no powers beyond login; an existing one a new password.
                statement = (
                    "ALTER ROLE {} LOGIN PASSWORD {}"
                    if exists.fetchone()
                    else "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}"
                )
                conn.execute(
                    sql.SQL(statement).format(sql.Identifier(name), sql.Literal(passwords[role]))
                )
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET search_path = {}").format(
                        sql.Identifier(name), sql.Identifier(schema)
                    )
                )
            admin = sql.Identifier(names["admin"])
            # To hand the schema and its tables to the admin role, the setup role must be in it.
            conn.execute(sql.SQL("GRANT {} TO {}").format(admin, sql.Identifier(me)))
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                    sql.Identifier(schema), admin
                )
            )
            conn.execute(
                sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), admin)
            )
            _hand_tables_to(conn, schema, admin)
    except psycopg.Error as exc:
        raise StoreUnavailableError(
            f"could not set up roles at {base.render_as_string(hide_password=True)}: "
            f"{str(exc).strip()} (the setup role needs CREATEROLE and the right to create "
            "schemas in this database)"
        ) from exc
    urls = {role: _role_url(base, names[role], passwords[role]) for role in names}
    _migrate_as_admin(urls["admin"])
    _grant(conninfo, schema, names)
    return Roles(schema=schema, **urls)


def _role_url(base: URL, user: str, password: str) -> str:
    url = base.set(username=user, password=password)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _hand_tables_to(conn: Any, schema: str, admin: Any) -> None:
    """Tables made before setup (by the setup role) change owner; new ones the admin makes."""
    from psycopg import sql

    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'oversight%%'",
        (schema,),
    ).fetchall()
    for (table,) in rows:
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(
                sql.Identifier(schema), sql.Identifier(table), admin
            )
        )


def _migrate_as_admin(admin_url: str) -> None:
    from oversight.store.sql import open_store

    open_store(admin_url).close()


def _grant(conninfo: str, schema: str, names: dict[str, str]) -> None:
    """Privileges and guard triggers, as the admin role (the owner), in one transaction."""
    import psycopg
    from psycopg import sql

    s = sql.Identifier(schema)
    admin, agent, reviewer = (sql.Identifier(names[r]) for r in ("admin", "agent", "reviewer"))
    try:
        with psycopg.connect(conninfo) as conn, conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(admin))
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(s))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(s, agent, reviewer))
            for table in ALL_TABLES:
                t = sql.SQL("{}.{}").format(s, sql.Identifier(table.name))
                conn.execute(
                    sql.SQL("REVOKE ALL ON {} FROM PUBLIC, {}, {}").format(t, agent, reviewer)
                )
                conn.execute(sql.SQL("GRANT SELECT ON {} TO {}, {}").format(t, agent, reviewer))
                for role, writes in ((agent, AGENT_WRITES), (reviewer, REVIEWER_WRITES)):
                    if table.name in writes:
                        conn.execute(
                            sql.SQL("GRANT {} ON {} TO {}").format(
                                sql.SQL(writes[table.name]), t, role
                            )
                        )
            conn.execute(
                sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, reviewer)
            )
            # Tables a later version adds: readable by both until setup runs again.
            conn.execute(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}, {}"
                ).format(admin, s, agent, reviewer)
            )
            for guard in GUARDS:
                _install_guard(conn, s, guard)
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"could not grant the roles' privileges: {exc}") from exc


def _install_guard(conn: Any, schema: Any, guard: Guard) -> None:
    from psycopg import sql

    name = sql.Identifier(guard.name)
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}.{}() RETURNS trigger LANGUAGE plpgsql "
            "SET search_path = {} AS {}"
        ).format(schema, name, schema, sql.Literal(guard.body))
    )
    conn.execute(sql.SQL("REVOKE ALL ON FUNCTION {}.{}() FROM PUBLIC").format(schema, name))
    conn.execute(
        sql.SQL("DROP TRIGGER IF EXISTS {} ON {}.{}").format(
            name, schema, sql.Identifier(guard.table)
        )
    )
    conn.execute(
        sql.SQL(
            "CREATE TRIGGER {} BEFORE UPDATE ON {}.{} FOR EACH ROW EXECUTE FUNCTION {}.{}()"
        ).format(name, schema, sql.Identifier(guard.table), schema, name)
    )
