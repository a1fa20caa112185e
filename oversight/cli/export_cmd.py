"""`oversight export`: a session's records as JSONL, with their chain hashes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from oversight.cli import app
from oversight.cli.common import DbOption, err_console, open_cli_store
from oversight.errors import OversightError
from oversight.records import StepProposed, record_body


@app.command()
def export(
    session_id: Annotated[str, typer.Argument(metavar="SESSION", help="Session id.")],
    db: DbOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of standard output."),
    ] = None,
    as_trace: Annotated[
        bool,
        typer.Option(
            "--as-trace",
            help="Write replay-trace lines (session, tool, args, actor, ts, kind) instead of "
            "records, for `oversight replay`.",
        ),
    ] = False,
) -> None:
    """Export one session as JSON lines: {seq, hash, prev_hash, record} per record."""
    fh: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
    written = 0
    progress = Progress(
        TextColumn("exporting"),
        SpinnerColumn(),
        TextColumn("{task.completed} records"),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    try:
        with open_cli_store(db) as store, progress:
            task = progress.add_task("export", total=None)
            for stored in store.iter_records(session_id=session_id):
                if written % 1000 == 0:
                    progress.update(task, completed=written)
                record = stored.record
                if as_trace:
                    if not isinstance(record, StepProposed):
                        continue
                    line = json.dumps(
                        {
                            "session": record.session_id,
                            "tool": record.name,
                            "args": record.args,
                            "actor": record.actor,
                            "ts": record.ts.isoformat(),
                            "kind": record.kind,
                        },
                        ensure_ascii=False,
                    )
                else:
                    line = (
                        f'{{"seq":{stored.seq},"hash":"{stored.hash}",'
                        f'"prev_hash":"{stored.prev_hash}","record":{record_body(record)}}}'
                    )
                fh.write(line + "\n")
                written += 1
    finally:
        if output:
            fh.close()
    if written == 0:
        raise OversightError(f"no session {session_id!r} in the store")
    if output:
        err_console.print(f"wrote {written} lines to {output}")
