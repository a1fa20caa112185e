"""`oversight sessions` and `oversight show`: what the agents did."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from oversight.cli import app
from oversight.cli.common import DbOption, JsonOption, console, fmt_time, open_cli_store
from oversight.errors import OversightError
from oversight.timeline import SessionView, build_session

STATUS_STYLE = {
    "ok": "green",
    "completed": "green",
    "error": "red",
    "failed": "red",
    "denied": "bold red",
    "halted": "bold red",
    "timed_out": "red",
    "interrupted": "bold yellow",
    "running": "cyan",
    "cancelled": "yellow",
    "modified": "bold magenta",
    "deferred": "cyan",
}
KIND_STYLE = {
    "train.launch": "bold magenta",
    "deploy": "bold magenta",
    "code.apply": "bold blue",
    "oversight.tamper": "bold red",
    "eval.run": "blue",
    "experiment.run": "blue",
}


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


def load_session(db: str | None, session_id: str) -> SessionView:
    with open_cli_store(db) as store:
        records = [stored.record for stored in store.iter_records(session_id=session_id)]
    if not records:
        raise OversightError(
            f"no session {session_id!r} in the store; `oversight sessions` lists what is there"
        )
    return build_session(session_id, records)


@app.command()
def show(
    session_id: Annotated[str, typer.Argument(metavar="SESSION", help="Session id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    args: Annotated[bool, typer.Option("--args", help="Show each step's arguments.")] = False,
) -> None:
    """Show one session as a readable timeline."""
    view = load_session(db, session_id)
    if as_json:
        print(json.dumps(_view_json(view), indent=2))
        return
    render_timeline(view, show_args=args)


def render_timeline(view: SessionView, *, show_args: bool = False) -> None:
    head = Text.assemble(
        ("Session ", "bold"),
        (view.session_id, "bold cyan"),
        f"  agent={view.agent or '-'}  started={fmt_time(view.started_at)}  ",
        ("status=", ""),
        (view.status, STATUS_STYLE.get(view.status, "yellow")),
    )
    console.print(head)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold dim")
    table.add_column("#", justify="right", style="dim")
    table.add_column("time", style="dim")
    table.add_column("kind")
    table.add_column("step")
    table.add_column("decision")
    table.add_column("status")
    table.add_column("ms", justify="right", style="dim")
    table.add_column("why / outcome", overflow="fold", max_width=70)
    for step in view.steps:
        p = step.proposed
        detail = p.reason
        if p.flags:
            detail += f"  [{', '.join(p.flags)}]"
        if step.finished is not None and step.finished.approved_by:
            detail += f"\n✓ approved by {', '.join(step.finished.approved_by)}"
        elif step.finished is not None and (step.finished.approval_id or "").startswith("grant:"):
            detail += f"\n✓ covered by {step.finished.approval_id}"
        if step.finished is not None and step.finished.error:
            detail += f"\n→ {step.finished.error}"
        elif step.finished is not None and step.finished.result_summary:
            first_line = step.finished.result_summary.strip().splitlines()[:1] or [""]
            detail += f"\n→ {first_line[0][:100]}"
        if show_args:
            detail += "\n" + json.dumps(p.args, ensure_ascii=False)[:400]
        table.add_row(
            str(p.seq),
            p.ts.astimezone().strftime("%H:%M:%S.%f")[:-3],
            Text(p.kind, style=KIND_STYLE.get(p.kind, "")),
            Text("  " * step.depth + p.name),
            Text(p.decision, style="green" if p.decision == "allow" else "bold red"),
            Text(step.status, style=STATUS_STYLE.get(step.status, "")),
            f"{step.duration_ms:.1f}" if step.duration_ms is not None else "-",
            Text(detail),  # agent-supplied text: never interpreted as rich markup
        )
    console.print(table)
    for alert in view.alerts:
        console.print(
            Text(
                f"ALERT {alert.ts:%H:%M:%S} step {alert.step_id}: {alert.reason}", style="bold red"
            )
        )
    counts = view.counts()
    console.print(
        "steps: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        if counts
        else "no steps"
    )


def _view_json(view: SessionView) -> dict[str, object]:
    return {
        "session": view.session_id,
        "agent": view.agent,
        "status": view.status,
        "started": view.started.model_dump(mode="json") if view.started else None,
        "ended": view.ended.model_dump(mode="json") if view.ended else None,
        "steps": [
            {
                "status": s.status,
                "depth": s.depth,
                "proposed": s.proposed.model_dump(mode="json"),
                "finished": s.finished.model_dump(mode="json") if s.finished else None,
            }
            for s in view.steps
        ],
    }
