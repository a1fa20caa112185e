"""Replay recorded tool-call traces through classification, without running anything.

A team points this at last month's traces to see what oversight would have seen: each step's
kind and reason, and per-session totals. Input is JSONL, one tool call per line.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oversight.autonomy import AutonomySnapshot, AutonomyTracker, Review, StepObservation
from oversight.autonomy.observation import with_arg_paths
from oversight.classify import Classifier
from oversight.decide import Decider, Proposal
from oversight.errors import TraceFormatError
from oversight.facts import FactsTracker
from oversight.kinds import Kind, parse_kind
from oversight.normalise import normalise_args
from oversight.policy.compute import derive


class TraceApproval(BaseModel):
    """Who decided a traced step before it ran: a person (`auto: false`, `by` their name) or a
    rule or grant (`auto: true`); `latency_s` is how long the decision took. A line without
    one ran and nobody looked. Autonomy scores are computed from these, as recorded."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "deny"]
    by: str
    auto: bool
    latency_s: float | None = Field(None, ge=0)


class TraceLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: str = Field(min_length=1)
    tool: str = Field(min_length=1)
    args: dict[str, Any]
    actor: Literal["agent", "human"] = "agent"
    ts: _dt.datetime | None = None
    kind: str | None = None
    approval: TraceApproval | None = None


@dataclass
class ReplayedStep:
    index: int
    line: int
    trace: TraceLine
    kind: str
    reason: str
    flags: list[str]
    targets: list[str]
    args_digest: str
    decision: str | None = None
    rule: str | None = None
    decision_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        decided = (
            {"decision": self.decision, "rule": self.rule, "decision_reason": self.decision_reason}
            if self.decision is not None
            else {}
        )
        return {
            **decided,
            "index": self.index,
            "session": self.trace.session,
            "tool": self.trace.tool,
            "actor": self.trace.actor,
            "ts": self.trace.ts.isoformat() if self.trace.ts else None,
            "kind": self.kind,
            "reason": self.reason,
            "flags": self.flags,
            "targets": self.targets,
            "args_digest": self.args_digest,
        }


@dataclass
class ReplayedSession:
    session: str
    steps: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    first_ts: _dt.datetime | None = None
    last_ts: _dt.datetime | None = None
    human_approvals: int = 0
    auto_approvals: int = 0
    denials: int = 0
    autonomy: AutonomySnapshot | None = None

    def add(self, step: ReplayedStep) -> None:
        self.steps += 1
        self.kinds[step.kind] = self.kinds.get(step.kind, 0) + 1
        ts = step.trace.ts
        if ts is not None:
            self.first_ts = ts if self.first_ts is None or ts < self.first_ts else self.first_ts
            self.last_ts = ts if self.last_ts is None or ts > self.last_ts else self.last_ts
        approval = step.trace.approval
        if approval is not None:
            if approval.decision == "deny":
                self.denials += 1
            elif approval.auto:
                self.auto_approvals += 1
            else:
                self.human_approvals += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "kinds": dict(sorted(self.kinds.items())),
            "first_ts": self.first_ts.isoformat() if self.first_ts else None,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "human_approvals": self.human_approvals,
            "auto_approvals": self.auto_approvals,
            "denials": self.denials,
            **(
                {
                    "scenario": self.autonomy.scenario,
                    "score": self.autonomy.score,
                    "signals": dict(self.autonomy.signals),
                }
                if self.autonomy is not None
                else {}
            ),
        }


def read_trace(path: Path) -> Iterator[tuple[int, TraceLine]]:
    """Yield (line number, parsed line); raise TraceFormatError naming the first bad line."""
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise TraceFormatError(0, f"cannot open trace {str(path)!r}: {exc.strerror}") from None
    with fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise TraceFormatError(
                    number, f"not valid JSON: {exc.msg} (column {exc.colno})"
                ) from None
            if not isinstance(raw, dict):
                raise TraceFormatError(number, f"expected a JSON object, got {type(raw).__name__}")
            try:
                line = TraceLine.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}"
                    for e in exc.errors()
                )
                raise TraceFormatError(
                    number,
                    f"{problems} (fields: session, tool, args, actor?, ts?, kind?, approval?)",
                ) from None
            if line.kind is not None:
                try:
                    parse_kind(line.kind)
                except ValueError as exc:
                    raise TraceFormatError(number, f"kind: {exc}") from None
            yield number, line


def replay(
    path: Path,
    classifier: Classifier | None = None,
    *,
    decider: Decider | None = None,
    max_arg_chars: int = 65_536,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ReplayedStep], dict[str, ReplayedSession]]:
    """Classify (and, with a decider, decide) every line of a trace, as the monitor would.

    The whole file is validated before any result is used. Decisions are counterfactual: what
    the decider would have said, with each session's facts built from the trace itself (a step
    counts as reviewed when its recorded approval was a person's approve). Each session's
    autonomy score is not counterfactual: it is computed from the approvals the trace records,
    that is, from what actually happened.
    """
    classifier = classifier or Classifier()
    steps: list[ReplayedStep] = []
    sessions: dict[str, ReplayedSession] = {}
    trackers: dict[str, FactsTracker] = {}
    autonomy: dict[str, AutonomyTracker] = {}
    trace_time = _TraceClock()
    for number, line in read_trace(path):
        if line.ts is not None:
            trace_time.now = line.ts.timestamp()
        args, args_digest = normalise_args(line.args, max_chars=max_arg_chars)
        result = classifier.classify(line.tool, args, line.kind)
        verdict = None
        if decider is not None:
            tracker = trackers.setdefault(line.session, FactsTracker(clock=trace_time))
            proposal = Proposal(
                session_id=line.session,
                step_id=f"line-{number}",
                seq=len(steps) + 1,
                name=line.tool,
                kind=result.kind,
                actor=line.actor,
                args=args,
                args_digest=args_digest,
                flags=result.flags,
                targets=result.targets,
            )
            verdict = decider.decide(proposal, tracker.facts())
            approval = line.approval
            reviewed = approval is not None and approval.decision == "approve" and not approval.auto
            tracker.observe(proposal, reviewed=reviewed)
        step = ReplayedStep(
            index=len(steps),
            line=number,
            trace=line,
            kind=result.kind.value,
            reason=result.reason,
            flags=sorted(result.flags),
            targets=list(result.targets),
            args_digest=args_digest,
            decision=verdict.decision if verdict else None,
            rule=verdict.rule if verdict else None,
            decision_reason=verdict.reason if verdict else None,
        )
        steps.append(step)
        sessions.setdefault(line.session, ReplayedSession(line.session)).add(step)
        if line.actor == "agent":
            tracker_ = autonomy.setdefault(line.session, AutonomyTracker())
            tracker_.update(
                traced_observation(
                    len(steps),
                    line,
                    result.kind,
                    result.flags,
                    result.targets,
                    args,
                    trace_time.now,
                )
            )
        if progress is not None:
            progress(number)
    for session_id, tracker_ in autonomy.items():
        sessions[session_id].autonomy = tracker_.snapshot()
    return steps, sessions


def traced_observation(
    seq: int,
    line: TraceLine,
    kind: Kind,
    flags: frozenset[str],
    targets: tuple[str, ...],
    args: dict[str, Any],
    ts: float,
) -> StepObservation:
    """What autonomy scoring sees of a trace line: its recorded approval, not a policy's.

    A person's approve or deny is a human review (a deny means the step did not run); an
    automatic approval (rule or grant) is not a person; no approval means nobody looked. A line
    without `ts` takes the last timestamp seen.
    """
    approval = line.approval
    review: Review = "none"
    if approval is not None:
        review = "automatic" if approval.auto else "human"
    denied = approval is not None and approval.decision == "deny"
    return StepObservation(
        seq=seq,
        ts=ts,
        kind=kind,
        name=line.tool,
        flags=flags,
        targets=with_arg_paths(kind, targets, args),
        ran=not denied,
        review=review,
        approvers=(approval.by,) if approval is not None and not approval.auto else (),
        review_wait_s=approval.latency_s if review == "human" and approval is not None else None,
        gpu_hours=derive(args).gpu_hours,
        human_denied=denied and review == "human",
    )


class _TraceClock:
    """The hourly-rate window runs on the trace's own timestamps, not on replay time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def replay_document(
    steps: list[ReplayedStep], sessions: dict[str, ReplayedSession]
) -> dict[str, Any]:
    return {
        "steps": [s.to_json() for s in steps],
        "sessions": {sid: s.to_json() for sid, s in sessions.items()},
    }
