"""`oversight verify`: recompute the hash chain and name the first bad record."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oversight.cli import app
from oversight.cli.common import DbOption, JsonOption, console, err_console, open_cli_store


@app.command()
def verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check that no record was edited, deleted, inserted or reordered. Exit 1 if any was."""
    with open_cli_store(db) as store:
        url = store.url_for_display
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("verify", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = store.verify(progress=advance)
    if as_json:
        problem = report.first_problem
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "first_problem": None
                    if problem is None
                    else {
                        "seq": problem.seq,
                        "record_id": problem.record_id,
                        "reason": problem.reason,
                    },
                }
            )
        )
    elif report.ok:
        console.print(f"[green]intact[/]: {report.checked} records in {url}, hash chain verified")
    else:
        problem = report.first_problem
        assert problem is not None
        console.print(
            f"[bold red]TAMPERED[/]: first bad record seq={problem.seq} "
            f"id={escape(problem.record_id or '-')}: {escape(problem.reason)} "
            f"({report.checked} records checked in {escape(url)})"
        )
    if not report.ok:
        raise typer.Exit(1)
