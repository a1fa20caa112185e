"""Shared CLI pieces: consoles, the --db option, opening the store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

from oversight.errors import StoreNotFoundError
from oversight.settings import DEFAULT_DB_FILE, DEFAULT_DIR, Settings
from oversight.store import SQLStore, open_store


def _width(stream: object) -> int | None:
    # Piped output (CI, `| less`, files) gets a wide page instead of rich's 80-column default.
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return None
    return 160


class _StdoutConsole(Console):
    def on_broken_pipe(self) -> None:
        # rich's default exits 1, which reads as a failure; `| head` is not one.
        self.quiet = True
        exit_on_closed_pipe()


console = _StdoutConsole(highlight=False, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, width=_width(sys.stderr))

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="Store URL or SQLite path. Default: $OVERSIGHT_DB, else .oversight/oversight.db.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def store_url(db: str | None) -> str:
    return Settings.from_env(db=db).store_url()


def load_reviewer_key(path: Path) -> Ed25519PrivateKey:
    """A reviewer's key; a passphrase-protected one asks for its passphrase on the terminal
    (never from an argument or the environment, where an agent could read it)."""
    from oversight.approvals.signing import key_is_encrypted, load_private_key

    if not key_is_encrypted(path):
        return load_private_key(path)
    secret = typer.prompt(f"passphrase for {path}", hide_input=True, err=True)
    return load_private_key(path, passphrase=secret.encode("utf-8"))


def root_key() -> str | None:
    """The pinned root admin key (OVERSIGHT_ROOT_KEY), so the CLI trusts what monitors trust."""
    return Settings.from_env().root_key


def open_cli_store(db: str | None, *, create: bool = False) -> SQLStore:
    """The store named by --db, else $OVERSIGHT_DB, else the default.

    Only a store that exists is opened: reading, voting on or halting a store that a typo names
    must fail, not create an empty one that reads as "nothing happened" (exit 2, naming the
    path). `create=True` is for the commands that set a store up.
    """
    settings = Settings.from_env(db=db)
    try:
        return open_store(
            settings.store_url(),
            sqlite_synchronous=settings.sqlite_synchronous,
            busy_timeout_s=settings.busy_timeout_s,
            create=create,
        )
    except StoreNotFoundError as exc:
        raise StoreNotFoundError(f"{exc}; {_named_by(db)}") from None


def _named_by(db: str | None) -> str:
    """Where the store's location came from, and how a store comes to exist."""
    if db:
        source = "the location came from --db"
    elif os.environ.get("OVERSIGHT_DB"):
        source = "the location came from $OVERSIGHT_DB"
    else:
        source = (
            f"that is the default store ({DEFAULT_DIR}/{DEFAULT_DB_FILE} under the current "
            "folder); choose another with --db or OVERSIGHT_DB"
        )
    return (
        f"{source}. A monitor creates its store when it first records a step "
        "(`oversight demo` and `oversight reviewer add` create one too)"
    )


def exit_on_closed_pipe() -> NoReturn:
    """Our reader went away (`oversight show S | head`): stop now, quietly, as `yes | head`
    does. Later writes (and the flush at exit) go to /dev/null; the exit code is 141, what a
    shell reports for a process that SIGPIPE ended."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    raise typer.Exit(141)


def fmt_time(value: object) -> str:
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return "-" if value is None else str(value)
