"""A page of steps as the timeline shows them: who decided each, what it changed, what it
weighed in the autonomy score, and where the unsupervised stretches run."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oversight.autonomy import Evidence, Stretch
from oversight.timeline import StepView
from oversight.web.autonomy_view import ScorePoint, SessionAutonomy
from oversight.web.diffs import FileDiff, edit_diffs
from oversight.web.render import pretty
from oversight.web.review_queries import ApprovalRow

MAX_DEPTH = 8
"""Deeper steps are indented as much as this one (the depth is still written out)."""

_DECIDED = {
    "policy": "policy",
    "grant": "a standing grant",
    "no_reviewers": "nobody: it needed a person and there was none to ask",
    "deadline": "nobody: no person answered before the deadline",
    "halt": "the halt switch",
    "waiting": "waiting for people (in another process)",
    "system": "oversight itself (refused)",
}


@dataclass(frozen=True, slots=True)
class ResultView:
    """A step's result summary laid out for reading: a command's exit code and its output
    apart, JSON indented, anything else as it was recorded."""

    text: str
    exit_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


def result_view(summary: str | None) -> ResultView | None:
    if not summary:
        return None
    try:
        parsed = json.loads(summary)
    except ValueError:
        return ResultView(summary)
    if isinstance(parsed, dict) and isinstance(parsed.get("exit_code"), int):
        out, err = parsed.get("stdout"), parsed.get("stderr")
        return ResultView(
            summary,
            exit_code=parsed["exit_code"],
            stdout=out if isinstance(out, str) else None,
            stderr=err if isinstance(err, str) else None,
        )
    if isinstance(parsed, dict | list):
        return ResultView(pretty(parsed))
    return ResultView(summary)


@dataclass(frozen=True)
class StepItem:
    view: StepView
    depth_class: int
    since_start_s: float | None
    decided: str
    decided_kind: str
    """A CSS hook: "people", "policy", "grant", "nobody", "halt", "system", "none"."""
    diffs: tuple[FileDiff, ...]
    approval: ApprovalRow | None
    evidence: tuple[Evidence, ...]
    stretch: Stretch | None
    stretch_starts: bool
    score: ScorePoint | None
    result: ResultView | None
    args_text: str
    attributes_text: str | None
    opened: bool
    """Shown unfolded: anything a reviewer should see without clicking."""

    @property
    def seq(self) -> int:
        return self.view.proposed.seq


def step_items(
    steps: Sequence[StepView],
    *,
    started_at: _dt.datetime | None,
    approvals: Mapping[str, ApprovalRow],
    autonomy: SessionAutonomy | None,
) -> list[StepItem]:
    points = {p.seq: p for p in autonomy.points} if autonomy else {}
    evidence: dict[int, list[Evidence]] = {}
    stretches: tuple[Stretch, ...] = ()
    if autonomy is not None:
        for item in autonomy.final.evidence:
            evidence.setdefault(item.seq, []).append(item)
        stretches = autonomy.final.stretches
    out = []
    for step in steps:
        p, finished = step.proposed, step.finished
        seq = p.seq
        stretch = next((s for s in stretches if s.start_seq <= seq <= s.end_seq), None)
        decided, decided_kind = decided_by(step)
        diffs = tuple(edit_diffs(p.kind, p.args))
        approval = approvals.get(finished.approval_id or "") if finished else None
        attributes = finished.attributes if finished else None
        notable = (
            p.decision != "allow"
            or step.status not in ("ok", "running")
            or bool(p.flags)
            or bool(diffs)
            or seq in evidence
        )
        out.append(
            StepItem(
                view=step,
                depth_class=min(step.depth, MAX_DEPTH),
                since_start_s=(p.ts - started_at).total_seconds() if started_at else None,
                decided=decided,
                decided_kind=decided_kind,
                diffs=diffs,
                approval=approval,
                evidence=tuple(evidence.get(seq, ())),
                stretch=stretch,
                stretch_starts=stretch is not None and stretch.start_seq == seq,
                score=points.get(seq),
                result=result_view(finished.result_summary if finished else None),
                args_text=pretty(p.args),
                attributes_text=pretty(attributes) if attributes else None,
                opened=notable,
            )
        )
    return out


def decided_by(step: StepView) -> tuple[str, str]:
    """Who or what decided the step before it ran, in words, and its CSS hook."""
    finished = step.finished
    if finished is None:
        if step.status == "interrupted":
            return "no outcome recorded: the process stopped during this step", "none"
        return "not decided yet", "none"
    how = finished.decided_by
    people = finished.reviewers or finished.approved_by
    if how == "reviewers" or (how is None and people):
        return f"people: {', '.join(people) or 'a reviewer'}", "people"
    if how == "policy":
        rule = step.proposed.rule
        return (f"policy rule {rule}" if rule else "policy default"), "policy"
    if how == "grant":
        return f"a standing grant ({finished.approval_id})", "grant"
    if how in ("no_reviewers", "deadline"):
        return _DECIDED[how], "nobody"
    if how is not None:
        return _DECIDED.get(how, how), "halt" if how == "halt" else "system"
    return "not recorded (written before oversight recorded who decided)", "none"


def step_link(seq: int, *, per_page: int, current_offset: int, base: str) -> str:
    """Where step `seq` is shown: an anchor on this page, or the page that holds it (steps are
    numbered from 1 in the order they were proposed)."""
    offset = max(0, (seq - 1) // per_page * per_page)
    if offset == current_offset:
        return f"#step-{seq}"
    return f"{base}?offset={offset}#step-{seq}"
