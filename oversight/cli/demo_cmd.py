"""`oversight demo`: watch a research agent run under oversight."""

from __future__ import annotations

from typing import Annotated

import typer

from oversight.cli import app
from oversight.cli.common import DbOption, console


@app.command()
def demo(
    db: DbOption = None,
    pace: Annotated[
        float | None,
        typer.Option(help="Seconds between agent turns (default 0.4 in a terminal, else 0)."),
    ] = None,
    keep_workspace: Annotated[
        bool, typer.Option("--keep-workspace", help="Keep the demo's git workspace.")
    ] = False,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="Start afresh: delete the demo store and its reviewer keys first (only a store "
            "the demo created).",
        ),
    ] = False,
) -> None:
    """Run a scripted, offline research agent under oversight and show its timeline."""
    from oversight.demo import run_demo

    run_demo(db, console=console, pace_s=pace, keep_workspace=keep_workspace, reset=reset)
