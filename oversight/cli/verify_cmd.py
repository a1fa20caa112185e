"""`oversight verify`: recompute the hash chain and name the first bad record; with
`--anchors`, check the store against heads an admin signed and kept elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oversight.cli import app
from oversight.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_cli_store,
    root_key,
)
from oversight.errors import ConfigError

AnchorsOption = Annotated[
    Path | None,
    typer.Option(
        "--anchors",
        help="A file of signed chain heads (`oversight anchor --to FILE`): the store must "
        "still hold every anchored record.",
    ),
]


@app.command()
def verify(db: DbOption = None, as_json: JsonOption = False, anchors: AnchorsOption = None) -> None:
    """Check that no record was edited, deleted, inserted or reordered. Exit 1 if any was."""
    from oversight.anchors import check_anchors, read_anchors
    from oversight.approvals.registry import trusted_reviewers

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
        anchor_problems: list[str] = []
        if anchors is not None:
            try:
                text = anchors.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read anchors {str(anchors)!r}: {exc}") from None
            found, unreadable = read_anchors(text.splitlines())
            trusted, _ = trusted_reviewers(store.reviewers(), root_key=root_key())
            admins = {r.name: r.public_key for r in trusted.values() if r.role == "admin"}
            anchor_problems = unreadable + check_anchors(store, found, admins)
            if not found and not unreadable:
                anchor_problems.append(f"{anchors} holds no anchors")
    ok = report.ok and not anchor_problems
    if as_json:
        problem = report.first_problem
        print(
            json.dumps(
                {
                    "ok": ok,
                    "checked": report.checked,
                    "first_problem": None
                    if problem is None
                    else {
                        "seq": problem.seq,
                        "record_id": problem.record_id,
                        "reason": problem.reason,
                    },
                    "anchor_problems": anchor_problems,
                }
            )
        )
    else:
        if report.ok:
            console.print(
                f"[green]intact[/]: {report.checked} records in {url}, hash chain verified"
                + (" against every anchor" if anchors is not None and not anchor_problems else "")
            )
        else:
            problem = report.first_problem
            assert problem is not None
            console.print(
                f"[bold red]TAMPERED[/]: first bad record seq={problem.seq} "
                f"id={escape(problem.record_id or '-')}: {escape(problem.reason)} "
                f"({report.checked} records checked in {escape(url)})"
            )
        for line in anchor_problems:
            console.print(f"[bold red]TAMPERED[/]: {escape(line)}")
    if not ok:
        raise typer.Exit(1)
