"""`oversight export`: a session's records as JSONL, with their chain hashes; or an audit bundle
(`oversight/bundle.py`) that an auditor verifies without the store."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from oversight.cli import app
from oversight.cli.common import DbOption, err_console, open_cli_store, store_url
from oversight.errors import ConfigError, OversightError
from oversight.records import Record, StepFinished, StepProposed, record_body

if TYPE_CHECKING:
    from oversight.anchors import Anchor


@app.command()
def export(
    session_id: Annotated[
        str | None,
        typer.Argument(metavar="SESSION", help="Session id (leave it out with --bundle --all)."),
    ] = None,
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
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            metavar="FILE",
            help="Write an audit bundle instead: every record from the session's first to the "
            "chain head (other sessions' records in between included, so every hash "
            "recomputes), the reviewers' endorsed keys and the anchors given with --anchors. "
            "An auditor checks it with `oversight verify --bundle FILE`, without the store.",
        ),
    ] = None,
    whole: Annotated[
        bool,
        typer.Option("--all", help="With --bundle: the whole store, from its first record."),
    ] = False,
    anchors: Annotated[
        Path | None,
        typer.Option(
            "--anchors",
            metavar="FILE",
            help="With --bundle: include the signed heads in FILE (`oversight anchor --to "
            "FILE`) that fall in or after the bundle's records.",
        ),
    ] = None,
) -> None:
    """Export one session as JSON lines: {seq, hash, prev_hash, record} per record; or, with
    --bundle, an audit bundle of a session or the whole store."""
    if bundle is not None:
        if as_trace or output is not None:
            raise ConfigError("--bundle writes its own file: leave out --as-trace and --output")
        if whole == (session_id is not None):
            raise ConfigError("give a SESSION or --all with --bundle, not both or neither")
        _write_bundle(db, session_id, bundle, anchors)
        return
    if whole or anchors is not None:
        raise ConfigError("--all and --anchors go with --bundle FILE")
    if session_id is None:
        raise ConfigError("give the SESSION to export (or --bundle FILE --all for the store)")
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


def _write_bundle(db: str | None, session_id: str | None, path: Path, anchors: Path | None) -> None:
    """Write the bundle next to `path` and move it into place once complete: a bundle that
    exists is whole (an interrupted export leaves only the `.partial` file)."""
    from oversight.anchors import read_anchors
    from oversight.bundle import bundle_lines, read_segment

    signed: list[Anchor] = []
    if anchors is not None:
        signed, unreadable = read_anchors(_read_text(anchors, "anchors").splitlines())
        if unreadable:
            raise ConfigError(f"anchors file {str(anchors)!r}: {'; '.join(unreadable[:3])}")
    open_cli_store(db).close()  # a missing store fails here, naming where its location came from
    partial = path.with_name(path.name + ".partial")
    try:
        with read_segment(store_url(db), session_id) as segment, partial.open("wb") as fh:
            for line in bundle_lines(segment, signed):
                fh.write(line)
            first, head = segment.first, segment.head_seq
        os.replace(partial, path)
    except OSError as exc:
        raise ConfigError(f"cannot write the bundle {str(path)!r}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    kept = sum(a.seq >= first - 1 for a in signed)
    err_console.print(
        f"wrote {escape(str(path))}: records seq {first}..{head}, "
        f"{kept} anchor{'' if kept == 1 else 's'}; "
        f"check it with `oversight verify --bundle {escape(str(path))}`"
    )


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {str(path)!r}: {exc}") from None


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
    from oversight.replay import trace_line  # the replay machinery, only for --as-trace

    return json.dumps(trace_line(proposal, outcome), ensure_ascii=False)
