"""Shared CLI pieces: consoles, the --db option, opening the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

from oversight.settings import Settings
from oversight.store import SQLStore, open_store


def _width(stream: object) -> int | None:
    # Piped output (CI, `| less`, files) gets a wide page instead of rich's 80-column default.
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return None
    return 160


console = Console(highlight=False, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, width=_width(sys.stderr))

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
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


def open_cli_store(db: str | None) -> SQLStore:
    settings = Settings.from_env(db=db)
    return open_store(
        settings.store_url(),
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_s=settings.busy_timeout_s,
    )


def fmt_time(value: object) -> str:
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return "-" if value is None else str(value)
