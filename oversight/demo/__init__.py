"""`oversight demo`: a scripted research agent doing real work under oversight."""

from __future__ import annotations

import json
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from oversight._known_stores import KnownStores
from oversight.approvals.broker import ApprovalRequest
from oversight.autonomy.metric import FAST_APPROVAL_S
from oversight.canonical import new_id
from oversight.demo.agent import ResearchAgent
from oversight.demo.commands import oversight_command
from oversight.demo.explain import checkpoint_lines, print_autonomy
from oversight.demo.keys import DEMO_DB, REVIEWER, demo_reviewer_key, reset_demo_store
from oversight.demo.workspace import create_workspace
from oversight.monitor import Monitor
from oversight.sandbox import available
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


READ_S = FAST_APPROVAL_S + 0.5
"""How long the scripted reviewer reads a call before answering. The autonomy metric counts an
approval given faster than FAST_APPROVAL_S as a rubber stamp, not a review (docs/autonomy.md);
a stand-in that answered instantly would make every demo look like an autonomous loop."""
PERSON_TIMEOUT_S = 60.0
SCRIPTED_TIMEOUT_S = 5.0
_PROMPT = escape("Approve this training launch? [y/n/s] ")
_ANSWERS = {"y": "approve", "n": "deny", "s": "skip"}


def _ask_person(
    console: Console,
    requests: queue.Queue[ApprovalRequest],
    db_path: Path,
    key_file: Path,
    stop: threading.Event,
) -> None:
    """In a terminal, the person at the keyboard answers this run's training launch (only
    this run's: requests come from this monitor, never from an earlier run's leftovers)."""
    from oversight.approvals.signing import load_private_key
    from oversight.approvals.votes import ApprovalClosed, cast_vote
    from oversight.store import open_store

    key = load_private_key(key_file)
    while not stop.is_set():
        try:
            request = requests.get(timeout=0.1)
        except queue.Empty:
            continue
        if request.kind != "train.launch":
            continue
        console.print(
            Text.assemble(
                ("\nCheckpoint: ", "bold yellow"),
                f"the agent wants to run {request.name} {json.dumps(request.args)} "
                f"(it waits up to {PERSON_TIMEOUT_S:.0f} s)",
            )
        )
        answer = _read_answer(console)
        if answer == "skip":
            console.print("  skipped: nobody decides, so its deadline will deny it")
            continue
        reason = "" if answer == "approve" else "declined at the keyboard"
        with open_store(f"sqlite:///{db_path}") as store:
            row = store.approval(request.approval_id)
            try:
                if row is None:
                    raise ApprovalClosed(f"approval {request.approval_id} is gone")
                cast_vote(store, row, REVIEWER, key, answer, reason)
            except ApprovalClosed as exc:
                console.print(Text(f"  not recorded: {exc}"))


def _read_answer(console: Console) -> str:
    """approve, deny or skip; Enter (or anything else) asks again, never decides."""
    while True:
        typed = console.input(f"[bold]{_PROMPT}[/]").strip().lower()[:1]
        if typed in _ANSWERS:
            return _ANSWERS[typed]
        console.print("  type y to approve, n to deny, or s to skip (its deadline will deny it)")


def run_demo(
    db: str | None = None,
    *,
    console: Console | None = None,
    pace_s: float | None = None,
    keep_workspace: bool = False,
    reset: bool = False,
) -> str:
    """Run the demo agent in a fresh workspace; return the session id. `reset` first deletes
    the demo store and its keys (only a store the demo created)."""
    from oversight.cli.review_cmd import render_timeline
    from oversight.timeline import build_session

    console = console or Console(highlight=False)
    interactive = console.is_terminal
    pace = pace_s if pace_s is not None else (0.4 if interactive else 0.0)
    db_path = Path(db) if db else DEMO_DB
    if reset:
        removed = reset_demo_store(db_path)
        console.print(
            Text(
                f"reset: removed {', '.join(map(str, removed))}"
                if removed
                else "reset: nothing to remove"
            )
        )
    command, hint = oversight_command()
    db_flag = f" --db {shlex.quote(str(db_path))}" if db else ""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if not db_path.exists() and KnownStores().forget_file(db_path):
        # A demo store is the demo's own: one that was deleted starts afresh, said out loud
        # (a real store that vanished is refused: see `known_stores`).
        console.print(Text(f"{db_path} was deleted since the last demo: starting a new one"))
    key_file = demo_reviewer_key(db_path, reset_command=f"{command} demo --reset{db_flag}")
    settings = Settings.from_env(db=str(db_path)).model_copy(
        update={
            "policy": "research-default",
            "approval_timeout": PERSON_TIMEOUT_S if interactive else SCRIPTED_TIMEOUT_S,
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
        "wait for a reviewer.\n"
        + (
            "You answer the training launch; a scripted reviewer (a separate process with its\n"
            "own key) answers the rest."
            if interactive
            else "A scripted reviewer (a separate process with its own key) approves the push,\n"
            "denies the metric edit and lets the training launch time out."
        )
        + f"\nThe scripted reviewer takes {READ_S:g} s over each answer: the autonomy score "
        f"counts approvals\ngiven in under {FAST_APPROVAL_S:g} s as rubber stamps, not reviews.\n"
    )
    try:
        repo = create_workspace(root)
        sandbox = available()
        console.print(
            f"workspace: {repo}\nstore:     {url}\nevents:    {events} (structlog JSON)\n"
            + (
                f"sandbox:   {sandbox.version or 'bubblewrap'}: each shell step runs with only "
                "what its decision grants\n"
                if sandbox.available
                else f"sandbox:   NOT AVAILABLE ({sandbox.reason}): shell steps that act will be "
                f"refused; {sandbox.hint}\n"
            )
        )
        session_id = f"session-{new_id()}"
        reviewer = subprocess.Popen(
            [sys.executable, "-m", "oversight.demo.reviewer", str(db_path), str(key_file),
             REVIEWER, "--session", session_id, "--read-s", str(READ_S)]
            + (["--leave-training"] if interactive else []),
        )  # fmt: skip
        stop = threading.Event()
        requests: queue.Queue[ApprovalRequest] = queue.Queue()
        person = (
            threading.Thread(
                target=_ask_person, args=(console, requests, db_path, key_file, stop), daemon=True
            )
            if interactive
            else None
        )
        if person is not None:
            person.start()
        monitor = Monitor(
            # In a terminal the demo asks the person itself: no "how to answer" notice then.
            settings=settings.model_copy(
                update={"log": str(events), "notice": "none" if interactive else "stderr"}
            ),
            on_approval_request=requests.put if interactive else None,
        )
        try:
            agent = ResearchAgent(monitor, repo, sys.executable, pace_s=pace, narrate=console.print)
            with monitor.session(
                session_id, agent="research-bot", metadata={"demo": True, "repo": str(repo)}
            ):
                agent.run()
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
        for line in checkpoint_lines(view):
            console.print(Text(f"  {line}"))
        console.print()
        print_autonomy(console, session_id, records)
        console.print()
        console.print("[bold]Inspect it yourself:[/]")
        if hint is not None:
            console.print(Text(f"  ({hint})"))
        db_flag = f" --db {shlex.quote(str(db_path))}"  # always: the default is not the demo's
        for cmd in (
            f"{command} sessions{db_flag}",
            f"{command} show {session_id}{db_flag}",
            f"{command} verify{db_flag}",
            f"{command} export {session_id}{db_flag}",
            f"{command} report {session_id}{db_flag}   # autonomy chart (SVG) and evidence",
        ):
            console.print(Text(f"  {cmd}"))
        return session_id
    finally:
        if not keep_workspace:
            shutil.rmtree(root, ignore_errors=True)
