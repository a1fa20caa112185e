"""`oversight demo`: a scripted research agent doing real work under oversight."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from rich.console import Console
from rich.text import Text

from oversight.demo.agent import ResearchAgent
from oversight.demo.workspace import create_workspace
from oversight.monitor import Monitor
from oversight.records import Record, StepFinished
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


DEMO_DB = Path(".oversight") / "demo.db"
REVIEWER = "demo-reviewer"


def _demo_reviewers(db_path: Path) -> Path:
    """Register a root admin and the demo's reviewer (once per demo store); return the
    reviewer's key file. Keys sit next to the demo store: this is a demo, not a deployment."""
    from oversight.approvals.registry import trusted_reviewers
    from oversight.approvals.signing import (
        endorsement_payload,
        load_private_key,
        new_private_key,
        public_hex,
        sign,
        write_private_key,
    )
    from oversight.errors import ConfigError
    from oversight.store import open_store

    keys = db_path.parent / f"{db_path.stem}-keys"
    reviewer_key = keys / f"{REVIEWER}.pem"
    with open_store(f"sqlite:///{db_path}") as store:
        trusted, _ = trusted_reviewers(store.reviewers())
        if trusted:
            entry = trusted.get(REVIEWER)
            if (
                entry is None
                or not reviewer_key.is_file()
                or public_hex(load_private_key(reviewer_key)) != entry.public_key
            ):
                raise ConfigError(
                    f"the demo store {db_path} has reviewers but not the demo's own key in "
                    f"{keys}; give the demo another --db"
                )
            return reviewer_key
        root = new_private_key()
        reviewer = new_private_key()
        for name, role, key, endorser in (
            ("demo-admin", "admin", root, root),
            (REVIEWER, "approver", reviewer, root),
        ):
            public = public_hex(key)
            store.add_reviewer(
                {
                    "name": name,
                    "role": role,
                    "public_key": public,
                    "endorsed_by": "demo-admin",
                    "endorsement": sign(endorser, endorsement_payload(name, role, public)),
                }
            )
        write_private_key(root, keys / "demo-admin.pem")
        write_private_key(reviewer, reviewer_key)
    return reviewer_key


def _ask_person(console: Console, db_path: Path, key_file: Path, stop: threading.Event) -> None:
    """In a terminal, the person at the keyboard answers the training launch."""
    from oversight.approvals.signing import load_private_key
    from oversight.approvals.votes import cast_vote
    from oversight.store import open_store

    key = load_private_key(key_file)
    answered: set[str] = set()
    with open_store(f"sqlite:///{db_path}") as store:
        while not stop.is_set():
            for approval in store.approvals(status="pending"):
                if approval["kind"] != "train.launch" or approval["id"] in answered:
                    continue
                answered.add(str(approval["id"]))
                console.print(
                    f"\n[bold yellow]Checkpoint:[/] the agent wants to run "
                    f"{approval['name']} {approval['args']}"
                )
                answer = console.input("[bold]Approve this training launch? [y/N][/] ").strip()
                decision = "approve" if answer.lower().startswith("y") else "deny"
                reason = "" if decision == "approve" else "declined at the keyboard"
                cast_vote(store, approval, REVIEWER, key, decision, reason)
            stop.wait(0.1)


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
    db_path = Path(db) if db else DEMO_DB
    settings = Settings.from_env(db=str(db_path)).model_copy(
        update={
            "policy": "research-default",
            "approval_timeout": 60.0 if interactive else 4.0,
        }
    )
    url = settings.store_url()
    events = Path(".oversight") / "events.jsonl"
    root = Path(tempfile.mkdtemp(prefix="oversight-demo-"))
    console.rule("[bold]agent-oversight demo")
    console.print(
        "A scripted research agent (offline model, real tools) reads code, runs a sweep and an\n"
        "evaluation, edits its config and its metric, pushes to main and proposes a 64-GPU\n"
        "training run. Every step goes through the monitor before it runs, under the\n"
        "research-default policy: applying code, editing evaluation code and launching training\n"
        "wait for a reviewer. "
        + (
            "You answer the training launch; a scripted reviewer (a separate process with its "
            "own key) answers the rest.\n"
            if interactive
            else "A scripted reviewer (a separate process with its own key) approves the push,\n"
            "denies the metric edit and lets the training launch time out.\n"
        )
    )
    try:
        repo = create_workspace(root)
        console.print(
            f"workspace: {repo}\nstore:     {url}\nevents:    {events} (structlog JSON)\n"
        )
        db_path.parent.mkdir(parents=True, exist_ok=True)
        key_file = _demo_reviewers(db_path)
        reviewer = subprocess.Popen(
            [sys.executable, "-m", "oversight.demo.reviewer", str(db_path), str(key_file), REVIEWER]
            + (["--leave-training"] if interactive else []),
        )
        stop = threading.Event()
        person = (
            threading.Thread(
                target=_ask_person, args=(console, db_path, key_file, stop), daemon=True
            )
            if interactive
            else None
        )
        if person is not None:
            person.start()
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
            stop.set()
            reviewer.terminate()
            reviewer.wait(timeout=10)
        console.print()
        view = build_session(session_id, records)
        render_timeline(view)
        console.print()
        _summarise(console, view, url, str(db_path))
        console.print("[bold]What the agent experienced at its checkpoints:[/]")
        for step in view.steps:
            finished = step.finished
            if step.proposed.decision != "require_approval" or finished is None:
                continue
            if finished.status == "ok":
                said = f"approved by {', '.join(finished.approved_by)}, then it ran"
            elif finished.status == "timed_out":
                said = f"timed out, so it did not run ({finished.error})"
            else:
                said = f"{finished.status}: {finished.error}"
            console.print(Text(f"  {step.proposed.name} ({step.proposed.kind}): {said}"))
        console.print()
        _autonomy(console, session_id, records)
        console.print()
        console.print("[bold]Inspect it yourself:[/]")
        db_flag = f" --db {db_path}"
        for cmd in (
            f"oversight sessions{db_flag}",
            f"oversight show {session_id}{db_flag}",
            f"oversight verify{db_flag}",
            f"oversight export {session_id}{db_flag}",
            f"oversight report {session_id}{db_flag}   # autonomy chart (SVG) and evidence",
        ):
            console.print(f"  {cmd}")
        return session_id
    finally:
        if not keep_workspace:
            shutil.rmtree(root, ignore_errors=True)


def _autonomy(console: Console, session_id: str, records: list[Record]) -> None:
    """How much of the loop ran without people: the score the monitor stored, and why."""
    from oversight.autonomy import SCENARIO_NAMES, score_records

    snap = score_records(records).get(session_id)
    if snap is None:
        return
    stamped = [
        r.autonomy_scenario
        for r in records
        if isinstance(r, StepFinished) and r.autonomy_scenario is not None
    ]
    console.print(
        Text.assemble(
            ("Autonomy: ", "bold"),
            f"score {snap.score:.2f}, scenario {snap.scenario} ({SCENARIO_NAMES[snap.scenario]})",
            f"; as stored live with the steps: scenario {stamped[-1]}" if stamped else "",
        )
    )
    for reason in snap.reasons:
        console.print(Text(f"  why: {reason}"))
    for item in snap.evidence[:5]:
        console.print(Text(f"  #{item.seq} {item.name} ({item.kind}): {item.text}"))
