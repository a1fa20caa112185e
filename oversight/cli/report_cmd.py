"""`oversight report SESSION`: how autonomously one session ran, step by step, with a chart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from oversight.autonomy import (
    SCENARIO_NAMES,
    AutonomySnapshot,
    StepObservation,
    observations_from_records,
    score_series,
    score_session,
)
from oversight.autonomy.chart import render_chart
from oversight.cli import app
from oversight.cli.common import DbOption, JsonOption, console, err_console, open_cli_store
from oversight.cli.timeline_rows import KIND_STYLE
from oversight.errors import ConfigError
from oversight.records import Record, SessionStarted

SCENARIO_STYLE = {1: "bold green", 2: "bold yellow", 3: "bold red"}
# Signals shown in the text report, in reading order (the JSON has all of them).
SHOWN_SIGNALS = (
    ("review_coverage", "share of consequential weight a person decided", "pct"),
    ("real_review_coverage", "... not counting approvals under 2 s", "pct"),
    ("change_review_coverage", "share of changes (not plain commands) a person reviewed", "pct"),
    ("unsupervised_horizon_steps", "longest run of steps with no person", "int"),
    ("unsupervised_horizon_s", "... its wall time", "dur"),
    ("unsupervised_horizon_gpu_hours", "... its GPU-hours (where known)", "num"),
    ("loop_closures", "edit → evaluate → apply/launch loops with no person", "int"),
    ("unreviewed_checkpoints", "code apply / launch / deploy with no person", "int"),
    ("self_modification", "unreviewed changes to eval / metric / reward code", "int"),
    ("eval_changes_feeding_launch", "checkpoints after unreviewed eval changes", "int"),
    ("oversight_attempts", "steps against the oversight itself", "int"),
    ("unreviewed_provenance", "launches running unreviewed agent-written files", "int"),
    ("consequential_per_hour", "consequential steps per hour", "num"),
    ("human_decisions_per_hour", "human decisions per hour", "num"),
    ("pace_ratio", "consequential steps per human decision", "num"),
    ("approval_rate", "share of human decisions that approved", "pct"),
    ("fast_approvals", "approvals decided in under 2 s", "int"),
    ("rubber_stamp", "rubber-stamp signal", "num"),
    ("automatic_reviews", "steps let through by a rule or grant", "int"),
)


def safe_file_part(session_id: str) -> str:
    """A session id as a file-name fragment: anything but letters, digits, `.`, `_`, `-` → `_`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", session_id)[:120] or "session"


def load_records(db: str | None, session_id: str) -> list[Record]:
    with open_cli_store(db) as store:
        records = [stored.record for stored in store.iter_records(session_id=session_id)]
    if not records:
        raise ConfigError(
            f"no session {session_id!r} in the store; `oversight sessions` lists what is there"
        )
    return records


@app.command()
def report(
    session_id: Annotated[str, typer.Argument(metavar="SESSION", help="Session id.")],
    db: DbOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the score-over-time chart (SVG). "
            "Default: oversight-report-SESSION.svg in the current directory.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Score a session's autonomy step by step: score, scenario, signals, evidence, chart."""
    records = load_records(db, session_id)
    agent = next((r.agent for r in records if isinstance(r, SessionStarted)), None)
    observations = observations_from_records(records).get(session_id, [])
    series = score_series(observations)
    final = series[-1][1] if series else score_session([])
    # Absolute, so the message below says exactly where the chart went.
    path = (out or Path(f"oversight-report-{safe_file_part(session_id)}.svg")).absolute()
    if path.suffix.lower() != ".svg":
        raise ConfigError(f"--out must name an .svg file, got {str(path)!r}")
    try:
        path.write_text(render_chart(session_id, series, agent=agent), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the chart to {str(path)!r}: {exc.strerror}") from None
    if as_json:
        print(json.dumps(report_document(session_id, agent, series, final, path)))
        err_console.print(f"chart written to {path}")
        return
    render_report(session_id, agent, final, len(observations))
    console.print(Text(f"chart written to {path}"))


def report_document(
    session_id: str,
    agent: str | None,
    series: list[tuple[StepObservation, AutonomySnapshot]],
    final: AutonomySnapshot,
    chart: Path,
) -> dict[str, Any]:
    return {
        "session": session_id,
        "agent": agent,
        "steps": len(series),
        **final.to_json(),
        "series": [
            {
                "seq": obs.seq,
                "ts": obs.ts,
                "kind": obs.kind.value,
                "review": obs.review,
                "ran": obs.ran,
                "score": snap.score,
                "scenario": snap.scenario,
            }
            for obs, snap in series
        ],
        "chart": str(chart),
    }


def render_report(session_id: str, agent: str | None, snap: AutonomySnapshot, steps: int) -> None:
    console.print(
        Text.assemble(
            ("Session ", "bold"),
            (session_id, "bold cyan"),
            f"  agent={agent or '-'}  steps={steps}",
        )
    )
    console.print(
        Text.assemble(
            "autonomy score ",
            (f"{snap.score:.2f}", "bold"),
            "  scenario ",
            (f"{snap.scenario} ({SCENARIO_NAMES[snap.scenario]})", SCENARIO_STYLE[snap.scenario]),
        )
    )
    for reason in snap.reasons:
        console.print(Text(f"  • {reason}"))

    signals = Table(title="signals", title_justify="left", show_edge=False, box=None)
    signals.add_column("signal", style="dim")
    signals.add_column("value", justify="right")
    signals.add_column("meaning", style="dim")
    for name, meaning, fmt in SHOWN_SIGNALS:
        signals.add_row(name, _fmt(snap.signals.get(name, 0.0), fmt), meaning)
    console.print(signals)

    if snap.evidence:
        evidence = Table(title="evidence", title_justify="left")
        for col in ("#", "kind", "step", "signal", "why"):
            evidence.add_column(col, overflow="fold")
        for e in snap.evidence:
            evidence.add_row(
                str(e.seq),
                Text(e.kind, style=KIND_STYLE.get(e.kind, "")),
                Text(e.name),
                e.signal,
                Text(e.text),  # may quote agent-written paths: never rich markup
            )
        console.print(evidence)

    if snap.stretches:
        stretches = Table(
            title="unsupervised stretches (longest first)", title_justify="left", box=None
        )
        for col in ("from", "to", "steps", "wall time", "GPU-h", ""):
            stretches.add_column(col, justify="right")
        for s in snap.stretches:
            stretches.add_row(
                f"#{s.start_seq}",
                f"#{s.end_seq}",
                str(s.steps),
                _fmt(s.seconds, "dur"),
                f"{s.gpu_hours:g}" if s.gpu_hours else "-",
                Text("still open", style="bold yellow") if s.open else "",
            )
        console.print(stretches)
    else:
        console.print(Text("no consequential step ran without a person", style="green"))


def _fmt(value: float, fmt: str) -> str:
    if fmt == "pct":
        return f"{value:.0%}"
    if fmt == "int":
        return f"{value:.0f}"
    if fmt == "dur":
        if value < 90:
            return f"{value:.0f} s"
        if value < 7200:
            return f"{value / 60:.0f} min"
        return f"{value / 3600:.1f} h"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"
