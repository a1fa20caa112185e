"""Replay recorded tool-call traces through classification, without running anything.

A team points this at last month's traces to see what oversight would have seen: each step's
kind and reason, and per-session totals. Input is JSONL, one tool call per line; a line may say
what became of the call (`outcome`) and who decided it (`approval`), as `oversight export
--as-trace` writes them, so a replayed session scores the autonomy that actually happened.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from oversight._batch_gc import collect_rarely
from oversight._facts import FactsTracker
from oversight._stages import checked_verdict, classify_whole, proposal_for
from oversight._whole_call import MAX_CLASSIFIED_CHARS
from oversight.autonomy import AutonomySnapshot, AutonomyTracker, StepObservation
from oversight.autonomy.observation import RAN_STATUSES, Decided, observation_of, who_decided
from oversight.classify import Classifier
from oversight.classify.caching import MAX_CACHED_TEXT, text_cache
from oversight.classify.workspace import SessionView
from oversight.decide import Decider
from oversight.errors import TraceFormatError
from oversight.kinds import CONSEQUENTIAL, Kind, parse_kind
from oversight.normalise import normalise_call, shown_targets
from oversight.records import Decision, StepFinished, StepProposed, StepStatus
from oversight.redact import redact_text

TraceStatus = Literal[StepStatus, "interrupted"]
"""A recorded step status, or `interrupted`: it started and no outcome was ever recorded."""


class TraceApproval(BaseModel):
    """Who decided a traced step before it ran: a person (`auto: false`, `by` their name) or a
    rule or grant (`auto: true`); `latency_s` is how long the decision took. `modify` is a
    person's edit of the call (the edited call is the next line). A line without one ran with
    nobody looking, unless its outcome says otherwise. Autonomy scores are computed from these,
    as recorded."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "deny", "modify"]
    by: str
    auto: bool
    latency_s: float | None = Field(None, ge=0)


class TraceOutcome(BaseModel):
    """What became of a traced step, as recorded. `ok`, `error`, `cancelled` and `interrupted`
    ran (the call started); `denied`, `timed_out`, `halted`, `not_run`, `modified` and
    `deferred` did not. `decision` and `rule` are what the recording's policy decided before it
    ran; `reason` is why it did not run."""

    model_config = ConfigDict(extra="forbid")

    status: TraceStatus
    decision: Decision | None = None
    rule: str | None = None
    reason: str | None = None

    @property
    def ran(self) -> bool:
        return self.status in RAN_STATUSES or self.status == "interrupted"


class TraceLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: str = Field(min_length=1)
    tool: str = Field(min_length=1)
    args: dict[str, Any]
    actor: Literal["agent", "human"] = "agent"
    ts: _dt.datetime | None = None
    kind: str | None = None
    approval: TraceApproval | None = None
    outcome: TraceOutcome | None = None

    @model_validator(mode="after")
    def _approval_matches_outcome(self) -> TraceLine:
        """A denial leaves a step `denied` and an edit leaves it `modified`: anything else
        would score a refused call as work that ran, or the reverse."""
        approval, outcome = self.approval, self.outcome
        if approval is None or outcome is None:
            return self
        expected = {"deny": "denied", "modify": "modified"}.get(approval.decision)
        if expected is not None and outcome.status != expected:
            raise ValueError(
                f"approval.decision {approval.decision!r} needs outcome.status {expected!r}, "
                f"got {outcome.status!r}"
            )
        return self

    @property
    def ran(self) -> bool:
        """The recorded outcome says; without one, the call ran unless a person refused or
        edited it."""
        if self.outcome is not None:
            return self.outcome.ran
        return self.approval is None or self.approval.decision == "approve"


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
    args: dict[str, Any] = field(default_factory=dict)
    """The arguments as stored: redacted, long values cut (`args_digest` covers them whole)."""
    decision: str | None = None
    rule: str | None = None
    decision_reason: str | None = None

    @property
    def ran(self) -> bool:
        return self.trace.ran

    def to_json(self) -> dict[str, Any]:
        """`decision`, `rule`, `decision_reason`: what `--policy` would decide (a what-if);
        `ran`, `outcome`, `approval`: what the trace records happened."""
        decided = (
            {"decision": self.decision, "rule": self.rule, "decision_reason": self.decision_reason}
            if self.decision is not None
            else {}
        )
        line = self.trace
        return {
            **decided,
            "index": self.index,
            "session": line.session,
            "tool": line.tool,
            "actor": line.actor,
            "ts": line.ts.isoformat() if line.ts else None,
            "kind": self.kind,
            "reason": self.reason,
            "flags": self.flags,
            "targets": self.targets,
            "args_digest": self.args_digest,
            "ran": line.ran,
            "outcome": line.outcome.model_dump() if line.outcome else None,
            "approval": line.approval.model_dump() if line.approval else None,
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
    not_run: int = 0
    autonomy: AutonomySnapshot | None = None

    def add(self, step: ReplayedStep) -> None:
        self.steps += 1
        self.kinds[step.kind] = self.kinds.get(step.kind, 0) + 1
        ts = step.trace.ts
        if ts is not None:
            self.first_ts = ts if self.first_ts is None or ts < self.first_ts else self.first_ts
            self.last_ts = ts if self.last_ts is None or ts > self.last_ts else self.last_ts
        if not step.ran:
            self.not_run += 1
        approval = step.trace.approval
        if approval is not None:
            if approval.decision == "deny":
                self.denials += 1
            elif approval.auto:
                self.auto_approvals += 1
            else:  # a person's approval or edit, as the autonomy signals count them
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
            "not_run": self.not_run,
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
        fh = path.open("rb")
    except OSError as exc:
        raise TraceFormatError(0, f"cannot open trace {str(path)!r}: {exc.strerror}") from None
    with fh:
        for number, data in enumerate(fh, start=1):
            if not data.strip():
                continue
            raw = _json_line(number, data)
            if not isinstance(raw, dict):
                raise TraceFormatError(number, f"expected a JSON object, got {type(raw).__name__}")
            surrogate = _surrogate_field(raw)
            if surrogate is not None:
                raise TraceFormatError(
                    number, f"{surrogate}: a lone surrogate (\\ud800-\\udfff) is not text"
                )
            try:
                line = TraceLine.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}"
                    for e in exc.errors()
                )
                raise TraceFormatError(
                    number,
                    f"{problems} (fields: session, tool, args, actor?, ts?, kind?, approval?, "
                    "outcome?)",
                ) from None
            if line.kind is not None:
                try:
                    parse_kind(line.kind)
                except ValueError as exc:
                    raise TraceFormatError(number, f"kind: {exc}") from None
            yield number, line


def _surrogate_field(raw: dict[str, Any]) -> str | None:
    """The first field outside `args` holding a lone surrogate, which no store, log or terminal
    can write; `args` may hold them (they are what ran, and are digested and shown escaped)."""
    for key, value in raw.items():
        if _SURROGATE.search(key):
            return "line"
        if key == "args":
            continue
        items = value.items() if isinstance(value, dict) else [("", value)]
        for sub, item in items:
            if any(isinstance(t, str) and _SURROGATE.search(t) for t in (sub, item)):
                return f"{key}.{sub}" if sub and not _SURROGATE.search(sub) else key
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_line(number: int, data: bytes) -> Any:
    """One trace line's JSON value, or a TraceFormatError saying why the line has none."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceFormatError(
            number, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {exc.start + 1}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceFormatError(number, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise TraceFormatError(number, "not readable: JSON nested too deeply") from None
    except ValueError as exc:  # an integer too long to convert (Python's digit limit)
        raise TraceFormatError(number, f"not readable: {exc}") from None


def replay(
    path: Path,
    classifier: Classifier | None = None,
    *,
    decider: Decider | None = None,
    max_arg_chars: int = 65_536,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ReplayedStep], dict[str, ReplayedSession]]:
    """Classify (and, with a decider, decide) every line of a trace file, as the monitor would.
    The whole file is validated before any result is used (see `replay_lines`)."""
    return replay_lines(
        read_trace(path),
        classifier,
        decider=decider,
        max_arg_chars=max_arg_chars,
        progress=progress,
    )


def replay_lines(
    lines: Iterable[tuple[int, TraceLine]],
    classifier: Classifier | None = None,
    *,
    decider: Decider | None = None,
    max_arg_chars: int = 65_536,
    progress: Callable[[int], None] | None = None,
    people_review_gates: bool = False,
    score_autonomy: bool = True,
) -> tuple[list[ReplayedStep], dict[str, ReplayedSession]]:
    """Classify (and, with a decider, decide) numbered trace lines, as the monitor would.

    `score_autonomy=False` (import, which scores what it stores later, from the records)
    skips the sessions' autonomy; a decider still gets it, since policies read it.

    `people_review_gates` plays the what-if through: every step the decider would gate is taken
    as reviewed by a person before it ran (as it would have been), so later decisions and the
    sessions' autonomy follow from the policy being in the loop rather than from the recording.

    Decisions are counterfactual (a what-if): what the decider would have said, with each
    session's facts built from the trace itself as a monitor builds them (a step a person decided counts as reviewed, and the
    session's autonomy as of the previous step). Each session's autonomy score is not
    counterfactual: it is computed from the outcomes and approvals the trace records, that is,
    from what actually happened, the same way `oversight report` scores the stored session.
    """
    with collect_rarely():
        return _replay_lines(
            lines,
            classifier or Classifier(),
            decider,
            max_arg_chars,
            progress,
            people_review_gates=people_review_gates,
            score_autonomy=score_autonomy,
        )


def _replay_lines(
    lines: Iterable[tuple[int, TraceLine]],
    classifier: Classifier,
    decider: Decider | None,
    max_arg_chars: int,
    progress: Callable[[int], None] | None,
    *,
    people_review_gates: bool,
    score_autonomy: bool,
) -> tuple[list[ReplayedStep], dict[str, ReplayedSession]]:
    steps: list[ReplayedStep] = []
    sessions: dict[str, ReplayedSession] = {}
    facts: dict[str, FactsTracker] = {}
    views: dict[str, SessionView] = {}
    autonomy: dict[str, AutonomyTracker] = {}
    trace_time = _TraceClock()
    for number, line in lines:
        if line.ts is not None:
            trace_time.now = line.ts.timestamp()
        session = sessions.get(line.session)  # built once a session, not once a line
        if session is None:
            session = sessions[line.session] = ReplayedSession(line.session)
        seq = session.steps + 1
        call = normalise_call(line.args, max_chars=max_arg_chars)
        args = call.args
        # The session's own writes give `python X.py` its meaning; replay never reads the disk.
        view = views.get(line.session)
        if view is None:
            view = views[line.session] = SessionView(root=None)
        result = classify_whole(classifier, line.tool, call, line.kind, view, MAX_CLASSIFIED_CHARS)
        view.observe(line.tool, args)
        decided = traced_decision(line)
        verdict = None
        if decider is not None:
            session_facts = facts.get(line.session)
            if session_facts is None:  # built once a session: `setdefault` would build one a line
                session_facts = facts[line.session] = FactsTracker(clock=trace_time)
            proposal = proposal_for(
                call,
                result,
                session_id=line.session,
                step_id=f"line-{number}",
                seq=seq,
                name=line.tool,
                actor=line.actor,
            )
            verdict = checked_verdict(decider, proposal, session_facts.facts(), result)
            if people_review_gates and verdict.decision in ("require_approval", "halt"):
                decided = WHAT_IF_REVIEW  # a person approved it, or resumed the halted session
            elif people_review_gates and verdict.decision == "deny":
                decided = WHAT_IF_DENIED
            session_facts.observe(proposal, reviewed=decided.review == "human")
        step = ReplayedStep(
            index=len(steps),
            line=number,
            trace=line,
            kind=result.kind.value,
            reason=_shown_reason(result.reason),
            flags=sorted(result.flags),
            targets=_shown_targets(result.targets),
            args_digest=call.digest,
            args=call.stored,
            decision=verdict.decision if verdict else None,
            rule=verdict.rule if verdict else None,
            decision_reason=verdict.reason if verdict else None,
        )
        steps.append(step)
        session.add(step)
        if line.actor == "agent" and (score_autonomy or decider is not None):
            tracker = autonomy.get(line.session)
            if tracker is None:
                tracker = autonomy[line.session] = AutonomyTracker()
            observation = observation_of(
                seq,
                trace_time.now,
                result.kind,
                line.tool,
                result.flags,
                result.targets,
                args,
                decided,
            )
            tracker.update(observation)
            if decider is not None and _can_move_the_score(observation):
                facts[line.session].set_autonomy(*tracker.standing())
        if progress is not None:
            progress(number)
    for session_id, tracker in autonomy.items():
        sessions[session_id].autonomy = tracker.snapshot()
    return steps, sessions


@text_cache(4096)
def _shown_reason(reason: str) -> str:
    """A step's reason as stored: redacted. Kept, since the same reasons come back call after
    call (`ls` lists a folder) and redacting one costs more than looking it up."""
    return redact_text(reason)


def _shown_targets(targets: tuple[str, ...]) -> list[str]:
    """`shown_targets`, kept for targets short enough to keep (the same paths recur)."""
    if sum(len(target) for target in targets) > MAX_CACHED_TEXT:
        return shown_targets(targets)
    return list(_kept_targets(targets))


@functools.lru_cache(maxsize=4096)
def _kept_targets(targets: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(shown_targets(targets))


WHAT_IF_REVIEW = Decided(True, "human", ("what-if reviewer",), False, None)
"""A gated step in a played-through what-if: a person reviewed it (or resumed the session it
halted), then it ran."""
WHAT_IF_DENIED = Decided(False, "automatic", (), False, None)
"""A step the what-if policy denies outright: it did not run."""


def traced_decision(line: TraceLine) -> Decided:
    """Who decided a trace line and whether it ran: the inverse of `trace_line`.

    A person's approve, edit or deny is a human review; an automatic approval (rule or grant) is
    not a person; no approval means nobody looked. Whether it ran is the recorded outcome's
    status; a line without one ran unless a person refused or edited it.
    """
    approval = line.approval
    if approval is None:
        return Decided(line.ran, "none", (), False, None)
    if approval.auto:
        return Decided(line.ran, "automatic", (), False, None)
    denied = approval.decision == "deny"
    return Decided(line.ran, "human", _names(approval.by), denied, approval.latency_s)


def traced_observation(
    seq: int,
    line: TraceLine,
    kind: Kind,
    flags: frozenset[str],
    targets: tuple[str, ...],
    args: dict[str, Any],
    ts: float,
) -> StepObservation:
    """What autonomy scoring sees of a trace line: its recorded outcome and approval, not a
    policy's decision. A line without `ts` takes the last timestamp seen."""
    return observation_of(seq, ts, kind, line.tool, flags, targets, args, traced_decision(line))


def trace_line(proposal: StepProposed, outcome: StepFinished | None) -> dict[str, Any]:
    """A recorded step as a trace line: the call, what became of it and who decided it, so
    that replaying it scores exactly what `oversight report` scores for the stored step."""
    line: dict[str, Any] = {
        "session": proposal.session_id,
        "tool": proposal.name,
        "args": proposal.args,
        "actor": proposal.actor,
        "ts": proposal.ts.isoformat(),
        "kind": proposal.kind,
    }
    decided = who_decided(proposal, outcome)
    if decided.review == "human":
        edited = outcome is not None and outcome.status == "modified"
        line["approval"] = {
            "decision": "deny" if decided.human_denied else "modify" if edited else "approve",
            "by": ", ".join(decided.approvers) or "a reviewer",
            "auto": False,
            "latency_s": decided.wait_s,
        }
    elif decided.review == "automatic":
        grant = outcome.approval_id if outcome is not None else None
        line["approval"] = {
            "decision": "approve",
            "by": grant if grant and grant.startswith("grant:") else f"rule {proposal.rule}",
            "auto": True,
        }
    recorded: dict[str, Any] = {
        "status": outcome.status if outcome is not None else "interrupted",
        "decision": proposal.decision,
        "rule": proposal.rule,
    }
    if not decided.ran and outcome is not None and outcome.error:
        recorded["reason"] = outcome.error
    line["outcome"] = recorded
    return line


def outcome_text(line: TraceLine) -> str:
    """One phrase for what became of a traced step, saying plainly when it did not run."""
    approval, outcome = line.approval, line.outcome
    who = f" by {approval.by}" if approval is not None else ""
    if not line.ran:
        if outcome is not None:
            status: str = outcome.status
        else:  # no outcome: only a person's deny or edit stops a line
            status = "modified" if approval and approval.decision == "modify" else "denied"
        if status == "modified":
            return f"did not run: edited{who}; the edited call is a later step"
        if status == "denied" and approval is not None and approval.decision == "deny":
            return f"did not run: denied{who}"
        if status == "denied":
            rule = f" (rule {outcome.rule})" if outcome is not None and outcome.rule else ""
            return f"did not run: denied{rule}"
        return f"did not run: {_NOT_RUN_WORDS.get(status, status)}"
    text = _RAN_WORDS.get(outcome.status if outcome is not None else "ok", "ran")
    if approval is None:
        return text
    if approval.auto:
        return f"{text}, automatic ({approval.by})"
    wait = f" in {approval.latency_s:.1f} s" if approval.latency_s is not None else ""
    return f"{text}, approved{who}{wait}"


_NOT_RUN_WORDS = {
    "timed_out": "timed out waiting for a reviewer",
    "halted": "halted",
    "not_run": "not run (oversight could not record it)",
    "deferred": "deferred to a later claim of its approval",
}
_RAN_WORDS = {
    "ok": "ran",
    "error": "ran, failed",
    "cancelled": "ran, cancelled",
    "interrupted": "ran, interrupted (no outcome recorded)",
}


def _can_move_the_score(observation: StepObservation) -> bool:
    """The steps after which a live monitor refreshes its session's autonomy facts."""
    return (
        observation.kind in CONSEQUENTIAL
        or observation.review == "human"
        or not observation.ran
        or bool(observation.flags)
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


class _TraceClock:
    """The hourly-rate window runs on the trace's own timestamps, not on replay time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def replay_document(
    steps: list[ReplayedStep],
    sessions: dict[str, ReplayedSession],
    *,
    what_if_policy: str | None = None,
) -> dict[str, Any]:
    """The replay as JSON; `what_if_policy` names the pack whose decisions the steps carry
    (they are a what-if; the sessions' autonomy is from what the trace records)."""
    return {
        **({"what_if_policy": what_if_policy} if what_if_policy is not None else {}),
        "steps": [s.to_json() for s in steps],
        "sessions": {sid: s.to_json() for sid, s in sessions.items()},
    }
