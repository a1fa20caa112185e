"""What the demo's checkpoints meant, and why the session got its autonomy scenario.

The metric (docs/autonomy.md) does not count an approval decided in under `FAST_APPROVAL_S` as
a review: no diff or config can be read that fast. A viewer who just watched every checkpoint
get approved, denied or time out would otherwise read "scenario 3 (autonomous loop)" as a bug,
so each person's decision is shown with how long it took and whether the metric counted it.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from oversight.autonomy import SCENARIO_NAMES, score_records
from oversight.autonomy.metric import FAST_APPROVAL_S
from oversight.records import Record, StepFinished
from oversight.timeline import SessionView

SCENARIO_MEANING = {
    1: "a person reviewed every consequential step before it ran",
    2: "the agent ran its experiments and evaluation on its own; people decided at its "
    "checkpoints (applying code, editing evaluation code, launching training)",
    3: "consequential work ran with no person really reviewing it",
}


def checkpoint_lines(view: SessionView) -> list[str]:
    """One line per step that waited for a person: what happened, how fast, and whether the
    autonomy metric counts the decision as a review."""
    lines = []
    for step in view.steps:
        finished = step.finished
        if step.proposed.decision != "require_approval" or finished is None:
            continue
        lines.append(f"{step.proposed.name} ({step.proposed.kind}): {_decision(finished)}")
    return lines


def _decision(finished: StepFinished) -> str:
    wait_s = finished.review_wait_ms / 1000.0 if finished.review_wait_ms is not None else None
    took = f" after {wait_s:.1f} s" if wait_s is not None else ""
    if finished.status == "ok" and finished.approved_by:
        said = f"approved by {', '.join(finished.approved_by)}{took}, then it ran"
        if wait_s is not None and wait_s < FAST_APPROVAL_S:
            return f"{said}; under {FAST_APPROVAL_S:g} s is a rubber stamp, not a review"
        return f"{said}; counted as a person's review"
    if finished.status == "denied":
        said = f"denied{took}, so it did not run: {finished.error}"
        return f"{said}; a denial always counts as a decision" if wait_s is not None else said
    if finished.status == "timed_out":
        return f"nobody decided in time, so it did not run: {finished.error}"
    return f"{finished.status}: {finished.error}"


def print_autonomy(console: Console, session_id: str, records: list[Record]) -> None:
    """The score the monitor stored, what the scenario means, and the evidence behind it."""
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
    console.print(Text(f"  meaning: {SCENARIO_MEANING[snap.scenario]}"))
    for reason in snap.reasons:
        console.print(Text(f"  why: {reason}"))
    for item in snap.evidence[:5]:
        console.print(Text(f"  #{item.seq} {item.name} ({item.kind}): {item.text}"))
    fast = [
        f"{r.approved_by[0]} in {r.review_wait_ms / 1000.0:.1f} s"
        for r in records
        if isinstance(r, StepFinished)
        and r.approved_by
        and r.status == "ok"
        and r.review_wait_ms is not None
        and r.review_wait_ms < FAST_APPROVAL_S * 1000.0
    ]
    if fast:
        console.print(
            Text(
                f"  note: approvals given in under {FAST_APPROVAL_S:g} s count as rubber stamps, "
                f"not reviews (nobody reads a diff that fast): {'; '.join(fast)}. "
                "A step approved that fast counts as one no person reviewed."
            )
        )
