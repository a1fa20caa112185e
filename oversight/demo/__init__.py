"""`oversight demo`: a scripted research agent doing real work under oversight."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from oversight.demo.agent import ResearchAgent
from oversight.demo.workspace import create_workspace
from oversight.monitor import Monitor
from oversight.settings import Settings
from oversight.timeline import SessionView


def _summarise(console: Console, view: SessionView, url: str, db: str | None) -> None:
    """What oversight saw, in three lines, and proof the log is intact."""
    from collections import Counter

    from oversight.store import open_store

    steps = [s.proposed for s in view.steps]
    kinds = Counter(s.kind for s in steps)
    console.print(
        "[bold]What oversight saw:[/] "
        + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
    )
    durable = sum(1 for s in steps if s.write_ahead)
    flagged = [f"{s.name} ({', '.join(s.flags)})" for s in steps if s.flags]
    console.print(
        f"{durable} of {len(steps)} steps were durable in the store before they ran "
        f"(write-ahead); flagged: {'; '.join(flagged) or 'none'}"
    )
    with open_store(Settings.from_env(db=db).store_url()) as store:
        report = store.verify()
    state = "[green]intact[/]" if report.ok else "[bold red]TAMPERED[/]"
    console.print(f"hash chain over {report.checked} records in {url}: {state}")
    console.print(
        "[dim]This release records and classifies; checkpoints that stop a step for a person "
        "come next.[/]"
    )


def run_demo(
    db: str | None = None,
    *,
    console: Console | None = None,
    pace_s: float | None = None,
    keep_workspace: bool = False,
) -> str:
    """Run the demo agent in a fresh workspace; return the session id."""
    from oversight.cli.review_cmd import render_timeline
    from oversight.timeline import build_session

    console = console or Console(highlight=False)
    interactive = console.is_terminal
    pace = pace_s if pace_s is not None else (0.4 if interactive else 0.0)
    settings = Settings.from_env(db=db)
    url = settings.store_url()
    events = Path(".oversight") / "events.jsonl"
    root = Path(tempfile.mkdtemp(prefix="oversight-demo-"))
    console.rule("[bold]agent-oversight demo")
    console.print(
        "A scripted research agent (offline model, real tools) reads code, runs a sweep and an\n"
        "evaluation, edits its config and its metric, pushes to main and proposes a 64-GPU\n"
        "training run. Every step goes through the monitor before it runs.\n"
    )
    try:
        repo = create_workspace(root)
        console.print(
            f"workspace: {repo}\nstore:     {url}\nevents:    {events} (structlog JSON)\n"
        )
        monitor = Monitor(settings=settings.model_copy(update={"log": str(events)}))
        try:
            agent = ResearchAgent(monitor, repo, sys.executable, pace_s=pace, narrate=console.print)
            with monitor.session(
                agent="research-bot", metadata={"demo": True, "repo": str(repo)}
            ) as session:
                agent.run()
            session_id = session.id
            monitor.flush()
            records = [s.record for s in monitor.store.iter_records(session_id=session_id)]
        finally:
            monitor.close()
        console.print()
        view = build_session(session_id, records)
        render_timeline(view)
        console.print()
        _summarise(console, view, url, db)
        console.print()
        console.print("[bold]Inspect it yourself:[/]")
        db_flag = f" --db {db}" if db else ""
        for cmd in (
            f"oversight sessions{db_flag}",
            f"oversight show {session_id}{db_flag}",
            f"oversight verify{db_flag}",
            f"oversight export {session_id}{db_flag}",
        ):
            console.print(f"  {cmd}")
        return session_id
    finally:
        if not keep_workspace:
            shutil.rmtree(root, ignore_errors=True)
