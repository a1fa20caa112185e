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
from oversight.records import Record, StepFinished, StepProposed, record_body
from oversight.replay import trace_line


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
            help="Write replay-trace lines (session, tool, args, actor, ts, kind, approval, "
            "outcome) instead of records, for `oversight replay`: each step with what became "
            "of it and who decided it, so the replay scores what `oversight report` scores.",
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
            trace = _TraceLines()
            for stored in store.iter_records(session_id=session_id):
                if written % 1000 == 0:
                    progress.update(task, completed=written)
                record = stored.record
                if as_trace:
                    lines = trace.add(record)
                else:
                    lines = [
                        (
                            f'{{"seq":{stored.seq},"hash":"{stored.hash}",'
                            f'"prev_hash":"{stored.prev_hash}","record":{record_body(record)}}}'
                        )
                    ]
                for line in lines:
                    fh.write(line + "\n")
                    written += 1
            for line in trace.rest():
                fh.write(line + "\n")
                written += 1
    finally:
        if output:
            fh.close()
    if written == 0:
        raise OversightError(f"no session {session_id!r} in the store")
    if output:
        err_console.print(f"wrote {written} lines to {output}")


class _TraceLines:
    """Trace lines in proposal order, each with its recorded outcome and who decided it, so a
    replay scores the autonomy that actually happened. A proposal waits for its outcome; those
    that never got one (interrupted) are written at the end, in order."""

    def __init__(self) -> None:
        self._waiting: dict[str, StepProposed] = {}
        self._outcomes: dict[str, StepFinished] = {}

    def add(self, record: Record) -> list[str]:
        if isinstance(record, StepProposed):
            self._waiting[record.step_id] = record
        elif isinstance(record, StepFinished) and record.step_id in self._waiting:
            self._outcomes[record.step_id] = record
        return self._ready()

    def _ready(self) -> list[str]:
        out: list[str] = []
        while self._waiting:
            step_id, proposal = next(iter(self._waiting.items()))
            if step_id not in self._outcomes:
                break
            del self._waiting[step_id]
            out.append(_trace_line(proposal, self._outcomes.pop(step_id)))
        return out

    def rest(self) -> list[str]:
        lines = [_trace_line(p, self._outcomes.pop(s, None)) for s, p in self._waiting.items()]
        self._waiting.clear()
        return lines


def _trace_line(proposal: StepProposed, outcome: StepFinished | None) -> str:
    return json.dumps(trace_line(proposal, outcome), ensure_ascii=False)
