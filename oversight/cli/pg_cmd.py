"""`oversight pg setup`: PostgreSQL roles for a deployment where the agent may reach the store."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from oversight.cli import app
from oversight.cli.common import JsonOption, console

pg_app = typer.Typer(help="PostgreSQL deployment: roles and privileges.", no_args_is_help=True)
app.add_typer(pg_app, name="pg")


@pg_app.command()
def setup(
    db: Annotated[
        str,
        typer.Option(
            help="A postgresql+psycopg:// URL of a role with CREATEROLE that may create schemas "
            "(the database owner, or a superuser)."
        ),
    ],
    schema: Annotated[str, typer.Option(help="Schema the store lives in.")] = "oversight",
    prefix: Annotated[
        str, typer.Option(help="Role names: PREFIX_admin, PREFIX_agent, PREFIX_reviewer.")
    ] = "oversight",
    as_json: JsonOption = False,
) -> None:
    """Create an admin, an agent and a reviewer role on one schema, and print each one's URL.

    The agent role (give it to monitors) can append records and request approvals, and cannot
    UPDATE, DELETE, TRUNCATE or change the schema; the reviewer role casts votes and gives
    grants; the admin role owns everything. Running it again gives every role a new password.
    """
    from oversight.store.pg_roles import setup_roles

    roles = setup_roles(db, schema=schema, prefix=prefix)
    if as_json:
        print(json.dumps(dataclasses.asdict(roles), indent=2))
        return
    console.print(f"schema {roles.schema}: three roles, new passwords (keep these like keys)")
    for role, text in (
        ("admin", "admin: migrations, resume, reviewer add (keep off agent machines)"),
        ("agent", "agent: OVERSIGHT_DB for monitors; append-only"),
        ("reviewer", "reviewer: `oversight approve`, `grant`, `halt`"),
    ):
        console.print(f"  {text}")
        print(f"    {getattr(roles, role)}")
