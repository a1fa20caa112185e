"""`oversight sessions` and `oversight show`: what the agents did."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from oversight.approvals.halts import halts_stopping
from oversight.cli import app, timeline_rows
from oversight.cli.common import (
    DbOption,
    JsonOption,
    console,
    fmt_time,
    open_cli_store,
    root_key,
)
from oversight.cli.timeline_rows import STATUS_STYLE, TimelineRows
from oversight.errors import ConfigError, OversightError
from oversight.store import SQLStore
from oversight.timeline import SessionPages, SessionView, StepView

KIND_STYLE = timeline_rows.KIND_STYLE
"""Also importable from here, where the other commands have always found it."""


@app.command()
def sessions(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List recorded sessions, newest first."""
    with open_cli_store(db) as store:
        rows = store.sessions(limit=limit)
        url = store.url_for_display
    if as_json:
        print(json.dumps([_summary_json(r) for r in rows], indent=2))
        return
    if not rows:
        console.print(f"No sessions recorded in {url}.")
        return
    table = Table(title=f"Sessions in {url}", title_justify="left")
    for col in ("session", "agent", "started", "ended", "status", "steps"):
        table.add_column(col, justify="right" if col == "steps" else "left")
    for r in rows:
        status = r.status or "no end record"
        table.add_row(
            Text(r.session_id),
            Text(r.agent or "-"),
            fmt_time(r.started_at),
            fmt_time(r.ended_at),
            Text(status, style=STATUS_STYLE.get(status, "yellow")),
            str(r.steps),
        )
    console.print(table)


def _summary_json(r: object) -> dict[str, object]:
    import dataclasses

    out = dataclasses.asdict(r)  # type: ignore[call-overload]
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in out.items()}


DEFAULT_LIMIT = 200


@app.command()
def show(
    session_id: Annotated[str, typer.Argument(metavar="SESSION", help="Session id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    args: Annotated[bool, typer.Option("--args", help="Show each step's arguments.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", help="Show at most N steps.")
    ] = DEFAULT_LIMIT,
    offset: Annotated[
        int, typer.Option("--offset", metavar="N", help="Skip the first N steps.")
    ] = 0,
    every: Annotated[
        bool, typer.Option("--all", help="Show every step (streamed; ignores --limit).")
    ] = False,
) -> None:
    """Show one session as a readable timeline, a page of steps at a time.

    Long sessions show their first 200 steps and say how many more there are; --offset and
    --limit page through them, --all streams every step.
    """
    if limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {limit}")
    if offset < 0:
        raise ConfigError(f"--offset must not be negative, got {offset}")
    with open_cli_store(db) as store:
        pages = SessionPages.open(store, session_id)
        if pages is None:
            raise OversightError(
                f"no session {session_id!r} in the store; `oversight sessions` lists what is there"
            )
        halt = halt_in_force(store, session_id)
        chunks = pages.steps(offset=offset, limit=None if every else limit)
        if as_json:
            _print_json(pages, chunks, halt, offset, None if every else limit)
            return
        print_header(pages.view, halt)
        table = TimelineRows(console, number_width=len(str(pages.total_steps)), show_args=args)
        counts: dict[str, int] = {}
        shown = 0
        for chunk in chunks:
            table.print(chunk)
            shown += len(chunk)
            for step in chunk:
                counts[step.status] = counts.get(step.status, 0) + 1
    if shown or not pages.total_steps:
        print_footer(pages.view, counts)
    _print_paging(pages.total_steps, offset, shown)


def halt_in_force(store: SQLStore, session_id: str) -> dict[str, Any] | None:
    """The halt stopping this session (its own or one of every session), unless an admin's
    signed resume lifted it; the same check a monitor makes."""
    stopping = halts_stopping(store.halts(), store.reviewers, session_id, root_key=root_key())
    return stopping[0] if stopping else None


def render_timeline(view: SessionView, *, show_args: bool = False) -> None:
    """A whole, already loaded session (the demo's): header, every step, footer."""
    print_header(view, None)
    seqs = [step.proposed.seq for step in view.steps]
    rows = TimelineRows(console, number_width=len(str(max(seqs, default=0))), show_args=show_args)
    rows.print(view.steps)
    print_footer(view, view.counts())


def print_header(view: SessionView, halt: dict[str, Any] | None) -> None:
    console.print(
        Text.assemble(
            ("Session ", "bold"),
            (view.session_id, "bold cyan"),
            f"  agent={view.agent or '-'}  started={fmt_time(view.started_at)}  ",
            ("status=", ""),
            (view.status, STATUS_STYLE.get(view.status, "yellow")),
        )
    )
    if view.ended is not None and view.ended.error:
        console.print(Text(f"  {view.ended.status}: {view.ended.error}", style="bold red"))
    if halt is not None:
        scope = "every session" if halt["scope"] == "*" else "this session"
        console.print(
            Text(
                f"  halt in force on {scope} since {_when(halt['created_at'])} "
                f"(by {halt['requested_by']}): {halt['reason']}",
                style="bold red",
            )
        )


def _when(stored: object) -> str:
    """A stored UTC timestamp in local time, as the rest of the timeline shows times."""
    try:
        return fmt_time(_dt.datetime.fromisoformat(str(stored)))
    except ValueError:
        return str(stored)


def print_footer(view: SessionView, counts: dict[str, int]) -> None:
    for alert in view.alerts:
        console.print(
            Text(
                f"ALERT {alert.ts:%H:%M:%S} step {alert.step_id}: {alert.reason}", style="bold red"
            )
        )
    console.print(
        "steps: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        if counts
        else "no steps"
    )


def _print_paging(total: int, offset: int, shown: int) -> None:
    """Say which steps were shown and how to see the rest, when that is not all of them."""
    if shown == total:
        return
    if shown == 0:
        console.print(Text(f"no steps after the first {offset}: the session has {total}"))
        return
    hints = []
    if offset + shown < total:
        hints.append(f"next: --offset {offset + shown}")
        if total - shown > offset + shown:
            hints.append(f"last: --offset {total - shown}")
    if offset > 0:
        hints.append(f"previous: --offset {max(offset - shown, 0)}")
    hints.append("every step: --all")
    note = f"showing steps {offset + 1}-{offset + shown} of {total}; " + ", ".join(hints)
    console.print(Text(note, style="bold yellow"))


def _print_json(
    pages: SessionPages,
    chunks: Iterator[list[StepView]],
    halt: dict[str, Any] | None,
    offset: int,
    limit: int | None,
) -> None:
    """The session document, its steps streamed one per line (a page, or every step)."""
    view = pages.view
    head = {
        "session": view.session_id,
        "agent": view.agent,
        "status": view.status,
        "started": view.started.model_dump(mode="json") if view.started else None,
        "ended": view.ended.model_dump(mode="json") if view.ended else None,
        "halt": halt,
        "alerts": [a.model_dump(mode="json") for a in view.alerts],
        "total_steps": pages.total_steps,
        "offset": offset,
        "limit": limit,
    }
    out = sys.stdout
    out.write(json.dumps(head, default=str)[:-1] + ', "steps": [')
    first = True
    for chunk in chunks:
        for step in chunk:
            out.write(("\n" if first else ",\n") + json.dumps(_step_json(step)))
            first = False
    out.write("\n]}\n")


def _step_json(step: StepView) -> dict[str, object]:
    return {
        "status": step.status,
        "depth": step.depth,
        "proposed": step.proposed.model_dump(mode="json"),
        "finished": step.finished.model_dump(mode="json") if step.finished else None,
    }
