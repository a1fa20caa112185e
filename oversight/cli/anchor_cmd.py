"""`oversight anchor`: sign the store's chain head as an admin and keep it elsewhere."""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from oversight.cli import app
from oversight.cli.common import DbOption, console, load_reviewer_key, open_cli_store, root_key
from oversight.errors import ConfigError


@app.command()
def anchor(
    as_name: Annotated[str, typer.Option("--as", help="The admin signing the head.")],
    key: Annotated[Path, typer.Option(help="The admin's private key file.")],
    to: Annotated[
        Path | None,
        typer.Option(
            help="Append the signed head to this file (somewhere the agent cannot write)."
        ),
    ] = None,
    command: Annotated[
        str | None,
        typer.Option(help="Or give the signed head, as one JSON line on stdin, to this command."),
    ] = None,
    every: Annotated[
        float | None,
        typer.Option(
            help="Keep running: sign the head again every SECONDS when it has moved (run it "
            "as a service of the admin's, where the agent cannot stop it).",
            min=0.1,
        ),
    ] = None,
    times: Annotated[
        int | None, typer.Option(help="With --every: stop after this many rounds.", min=1)
    ] = None,
    db: DbOption = None,
) -> None:
    """Sign the current chain head; `oversight verify --anchors FILE` checks the store against
    every head kept this way (catches truncation, rewrites, emptying and a swapped file)."""
    from oversight.anchors import make_anchor
    from oversight.approvals.registry import authenticate

    if (to is None) == (command is None):
        raise ConfigError("give one of --to FILE or --command CMD")
    private = load_reviewer_key(key)
    last: tuple[int, str] | None = None
    rounds = 0
    while True:
        with open_cli_store(db) as store:
            authenticate(store.reviewers(), as_name, private, admin=True, root_key=root_key())
            signed = make_anchor(store, as_name, private)
        if (signed.seq, signed.hash) != last:
            where = _ship(signed.line() + "\n", to, command)
            last = (signed.seq, signed.hash)
            console.print(
                f"anchored seq {signed.seq} ({signed.hash[:16]}…) signed by {escape(as_name)} → "
                f"{escape(where)}"
            )
        rounds += 1
        if every is None or (times is not None and rounds >= times):
            return
        time.sleep(every)


def _ship(line: str, to: Path | None, command: str | None) -> str:
    """Append the signed head to `to`, or hand it to `command`; where it went."""
    if to is not None:
        to.parent.mkdir(parents=True, exist_ok=True)
        with to.open("a", encoding="utf-8") as fh:
            fh.write(line)
        return str(to)
    assert command is not None
    done = subprocess.run(
        shlex.split(command), input=line, text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise ConfigError(
            f"the anchor command failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        )
    return f"`{command}`"
