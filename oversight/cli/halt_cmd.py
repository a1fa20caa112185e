"""`oversight halt` and `oversight resume`: the halt switch, from any process."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from oversight.approvals.halts import resume_payload
from oversight.approvals.registry import authenticate
from oversight.approvals.signing import sign
from oversight.cli import app
from oversight.cli.common import DbOption, console, load_reviewer_key, open_cli_store, root_key
from oversight.errors import ConfigError, StoreNotFoundError

SessionArg = Annotated[
    str | None, typer.Argument(metavar="SESSION", help="Session id (or use --all).")
]
AllOption = Annotated[bool, typer.Option("--all", help="Every session, current and future.")]


def _scope(session_id: str | None, every: bool) -> str:
    if every == (session_id is not None):
        raise ConfigError("name one SESSION or pass --all (not both, not neither)")
    return "*" if every else str(session_id)


@app.command()
def halt(
    session_id: SessionArg = None,
    every: AllOption = False,
    reason: Annotated[str, typer.Option(help="Why; the agent is told.")] = "halted by a reviewer",
    db: DbOption = None,
) -> None:
    """Stop a session's agent at its next step (consequential steps check at once)."""
    scope = _scope(session_id, every)
    # Stopping is always safe, so a halt may go into a store no agent has written yet (one
    # that is about to start); but a new store is said out loud, as it may be a typo.
    try:
        store, created = open_cli_store(db), False
    except StoreNotFoundError:
        store, created = open_cli_store(db, create=True), True
    with store:
        store.halt(scope, reason, getpass.getuser())
        url = store.url_for_display
    target = "every session" if scope == "*" else f"session {escape(scope)}"
    console.print(f"[bold red]halted[/] {target}: {escape(reason)}")
    if created:
        console.print(
            f"[bold yellow]note:[/] there was no store at {escape(url)}; a new one now holds "
            "this halt, and an agent recording there stops at its first step. If the agent "
            "records elsewhere, halt it with that --db."
        )


@app.command()
def resume(
    session_id: SessionArg = None,
    every: AllOption = False,
    admin: Annotated[str, typer.Option("--as", help="Your admin name.")] = "",
    key: Annotated[Path | None, typer.Option("--key", help="Your admin private key.")] = None,
    db: DbOption = None,
) -> None:
    """Lift a halt (admins only, signed). A running agent's halted session stays stopped."""
    scope = _scope(session_id, every)
    if not admin or key is None:
        raise ConfigError("only an admin can resume: pass --as ADMIN --key FILE")
    with open_cli_store(db) as store:
        private = load_reviewer_key(key)
        authenticate(store.reviewers(), admin, private, admin=True, root_key=root_key())
        active = [r for r in store.halts() if r["scope"] == scope and r["resumed_at"] is None]
        if not active:
            raise ConfigError(f"no active halt on {'--all' if scope == '*' else repr(scope)}")
        for row in active:
            signature = sign(private, resume_payload(int(row["id"]), scope))
            store.resume(int(row["id"]), admin, signature)
    target = "every session" if scope == "*" else escape(scope)
    console.print(f"resumed {target} ({len(active)} halt(s) lifted by {escape(admin)})")
