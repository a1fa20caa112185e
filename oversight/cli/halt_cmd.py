"""`oversight halt` and `oversight resume`: the halt switch, from any process."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.markup import escape

from oversight.cli import app
from oversight.cli.common import DbOption, console, open_cli_store
from oversight.errors import ConfigError

SessionArg = Annotated[
    str | None, typer.Argument(metavar="[SESSION]", help="Session id (or use --all).")
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
    with open_cli_store(db) as store:
        store.halt(scope, reason, getpass.getuser())
    target = "every session" if scope == "*" else f"session {escape(scope)}"
    console.print(f"[bold red]halted[/] {target}: {escape(reason)}")


@app.command()
def resume(
    session_id: SessionArg = None,
    every: AllOption = False,
    db: DbOption = None,
) -> None:
    """Lift a halt. A running agent's halted session stays stopped; new ones may start."""
    scope = _scope(session_id, every)
    with open_cli_store(db) as store:
        lifted = store.resume(scope, getpass.getuser())
    if lifted == 0:
        raise ConfigError(f"no active halt on {'--all' if scope == '*' else repr(scope)}")
    console.print(
        f"resumed {'every session' if scope == '*' else escape(scope)} ({lifted} halt(s) lifted)"
    )
