"""`oversight replay`: classify a recorded trace as oversight would have."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from oversight.autonomy import SCENARIO_NAMES, AutonomySnapshot
from oversight.cli import app
from oversight.cli.common import JsonOption, console, err_console
from oversight.cli.report_cmd import SCENARIO_STYLE
from oversight.cli.review_cmd import KIND_STYLE
from oversight.errors import ConfigError, TraceFormatError
from oversight.policy import load_policy
from oversight.settings import Settings

if TYPE_CHECKING:
    from oversight.replay import ReplayedSession, ReplayedStep

DECISION_STYLE = {
    "allow": "green",
    "require_approval": "bold yellow",
    "deny": "bold red",
    "halt": "bold red",
}


@app.command(name="replay")
def replay_command(
    trace: Annotated[Path, typer.Argument(metavar="TRACE.jsonl", help="One tool call per line.")],
    as_json: JsonOption = False,
    classify_config: Annotated[
        Path | None,
        typer.Option("--classify-config", help="YAML extending classification patterns."),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Also decide each step with this pack (name or path): a what-if, shown next "
            "to what the trace records; the autonomy score stays the recorded one.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            metavar="N",
            help="Processes to classify on (sessions are split between them; the result is "
            "the same). Default: every core for traces of 2,000 lines or more.",
        ),
    ] = None,
) -> None:
    """Replay a JSONL trace through classification (and a policy); print kinds, what happened
    to each step, decisions and each session's autonomy."""
    # The classifier and replay are loaded for this command, not for every `oversight` command.
    from oversight._sharded import default_jobs, replay_sharded
    from oversight.classify import Classifier, load_classifier_config
    from oversight.classify.config import with_protected_paths
    from oversight.replay import outcome_text, replay, replay_document

    settings = Settings.from_env()
    decider = load_policy(policy) if policy else None
    config_path = str(classify_config) if classify_config else settings.classify_config
    config = load_classifier_config(config_path) if config_path else None
    protected = decider.protected_paths if decider is not None else ()
    classifier = Classifier(with_protected_paths(config, protected))
    total = sum(1 for _ in trace.open("rb")) if trace.is_file() else None
    with Progress(
        TextColumn("replaying"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} lines"),
        console=err_console,
        transient=True,
        disable=as_json or not err_console.is_terminal,
    ) as progress:
        task = progress.add_task("replay", total=total)
        try:
            workers = jobs if jobs is not None else default_jobs(total or 0)
            if workers > 1:
                steps, sessions = replay_sharded(
                    trace,
                    classifier,
                    decider=decider,
                    max_arg_chars=settings.max_arg_chars,
                    jobs=workers,
                    progress=lambda done: progress.update(task, completed=done),
                )
            else:
                steps, sessions = replay(
                    trace,
                    classifier,
                    decider=decider,
                    max_arg_chars=settings.max_arg_chars,
                    progress=lambda line: progress.update(task, completed=line),
                )
        except TraceFormatError as exc:
            raise ConfigError(f"{trace}: {exc}") from None  # the file, then the line
    if as_json:
        document = replay_document(steps, sessions, what_if_policy=policy)
        print(json.dumps(document, indent=None, ensure_ascii=False))
        return
    console.print(_steps_table(steps, sessions, what_if=policy))
    stopped = [step for step in steps if not step.ran]
    if stopped:
        console.print(Text(f"{len(stopped)} step(s) did not run:", style="bold"))
        for step in stopped:
            outcome = step.trace.outcome
            why = f" ({outcome.reason})" if outcome is not None and outcome.reason else ""
            console.print(
                Text(f"  #{step.index} {step.trace.tool} ({step.kind}): ")
                + Text(outcome_text(step.trace), style="bold red")
                + Text(why)
            )
    scored = [(sid, s.autonomy) for sid, s in sessions.items() if s.autonomy is not None]
    if scored:
        console.print(_autonomy_table(scored, sessions, what_if=policy))


def _steps_table(
    steps: list[ReplayedStep], sessions: dict[str, ReplayedSession], *, what_if: str | None
) -> Table:
    from oversight.replay import outcome_text

    recorded = any(s.trace.outcome is not None or s.trace.approval is not None for s in steps)
    table = Table(
        title=f"{len(steps)} steps in {len(sessions)} sessions",
        title_justify="left",
        caption=(
            f"decision, rule: what {what_if} would decide (a what-if; nothing was re-run, and "
            "the autonomy below is from what the trace records)"
            if what_if
            else None
        ),
        caption_justify="left",
    )
    columns = ["#", "session", "tool", "kind", "why"]
    columns += ["what happened"] if recorded else []
    columns += ["decision", "rule"] if what_if else []
    for col in columns:
        table.add_column(col, overflow="fold")
    for step in steps:
        happened = Text(outcome_text(step.trace), style="" if step.ran else "bold red")
        table.add_row(
            str(step.index),
            Text(step.trace.session),
            Text(step.trace.tool),
            Text(step.kind, style=KIND_STYLE.get(step.kind, "")),
            Text(step.reason + (f" [{', '.join(step.flags)}]" if step.flags else "")),
            *([happened] if recorded else []),
            *(
                [
                    Text(step.decision or "", style=DECISION_STYLE.get(step.decision or "", "")),
                    Text(step.rule or ""),
                ]
                if what_if
                else []
            ),
        )
    return table


def _autonomy_table(
    scored: list[tuple[str, AutonomySnapshot]],
    sessions: dict[str, ReplayedSession],
    *,
    what_if: str | None,
) -> Table:
    title = "autonomy, from the outcomes and approvals the trace records"
    if what_if:
        title += f" (not from {what_if}'s what-if decisions)"
    autonomy = Table(title=title, title_justify="left")
    for col in ("session", "steps", "did not run", "score", "scenario", "why"):
        autonomy.add_column(col, overflow="fold")
    for sid, snap in scored:
        autonomy.add_row(
            Text(sid),
            str(sessions[sid].steps),
            str(sessions[sid].not_run),
            f"{snap.score:.2f}",
            Text(
                f"{snap.scenario} ({SCENARIO_NAMES[snap.scenario]})",
                style=SCENARIO_STYLE[snap.scenario],
            ),
            Text("; ".join(snap.reasons)),
        )
    return autonomy
