"""What autonomy scoring sees of a step: one `StepObservation`, from records or a live monitor.

The metric looks only at what is observable: the step's kind, flags and targets, whether it ran,
and who (if anyone) decided it before it ran. Everything else (arguments, results) stays in the
records. `observations_from_records` pairs each `step.proposed` with its `step.finished`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from oversight.kinds import Kind, parse_kind
from oversight.policy.compute import derive
from oversight.records import DecidedBy, Record, StepFinished, StepProposed

Review = Literal["human", "automatic", "none"]
REVIEWS: tuple[str, ...] = ("human", "automatic", "none")

# A step that started running, even if it then failed or was cancelled, acted on the world.
RAN_STATUSES = frozenset({"ok", "error", "cancelled"})

# Denials with these errors were made by the pipeline for want of reviewers, not by a person.
_NOBODY_DENIED = re.compile(r"no approval channel|needs \d+ reviewer\(s\)")
_DENIED_BY = re.compile(r"\(([^()]+)\)\s*$")
_EDITED_BY = re.compile(r"^edited by (.+?):")
_PATH_SUFFIX = re.compile(r"\.[A-Za-z0-9_]{1,10}$")
# Argument values of launches that name what they run (config files, scripts).
_ARG_PATH_KINDS = frozenset(
    {Kind.TRAIN_LAUNCH, Kind.DEPLOY, Kind.EXPERIMENT_RUN, Kind.EVAL_RUN, Kind.CODE_APPLY}
)
_MAX_ARG_PATHS = 16


@dataclass(frozen=True, slots=True)
class StepObservation:
    """One step as the autonomy metric sees it."""

    seq: int
    ts: float
    """Unix seconds when the step was proposed."""
    kind: Kind
    name: str
    flags: frozenset[str]
    targets: tuple[str, ...]
    ran: bool
    """False if the step was refused, denied, timed out, halted or otherwise not run."""
    review: Review
    """"human": a person approved, denied or edited this step before it ran; "automatic": a
    policy rule or standing grant let it through; "none": nobody looked."""
    approvers: tuple[str, ...]
    review_wait_s: float | None
    """How long the person took to decide, when known."""
    gpu_hours: float | None
    human_denied: bool = False

    def __post_init__(self) -> None:
        if self.review not in REVIEWS:
            raise ValueError(
                f"review must be one of {', '.join(REVIEWS)}, got {self.review!r} (step {self.seq})"
            )
        if self.human_denied and self.review != "human":
            raise ValueError(f"step {self.seq}: human_denied needs review='human'")


def observations_from_records(records: Iterable[Record]) -> dict[str, list[StepObservation]]:
    """Per session id, the agent's steps in the order they were proposed.

    Review: "human" when the outcome names approvers, when a person edited the call (status
    `modified`), or when a step that required approval was denied by someone (not by the
    pipeline for want of a channel or of reviewers); "automatic" when a standing grant covered
    it or a policy rule allowed it; otherwise "none". A proposal with no outcome (the agent
    crashed mid-step) counts as run with no review: the write-ahead record proves it started.
    Steps a person took themselves (`actor="human"`) are not the agent's and are left out.
    """
    proposals: dict[str, dict[str, StepProposed]] = {}
    finished: dict[str, StepFinished] = {}
    order: dict[str, list[str]] = {}
    for record in records:
        if isinstance(record, StepProposed):
            if record.actor != "agent":
                continue
            proposals.setdefault(record.session_id, {})[record.step_id] = record
            order.setdefault(record.session_id, []).append(record.step_id)
        elif isinstance(record, StepFinished):
            finished[record.step_id] = record
    out: dict[str, list[StepObservation]] = {}
    for session_id, step_ids in order.items():
        by_id = proposals[session_id]
        out[session_id] = [observe_step(by_id[s], finished.get(s)) for s in step_ids]
    return out


@dataclass(frozen=True, slots=True)
class Decided:
    """Who decided a recorded step before it ran, as far as its records tell."""

    ran: bool
    review: Review
    approvers: tuple[str, ...]
    human_denied: bool
    wait_s: float | None


def who_decided(proposal: StepProposed, outcome: StepFinished | None) -> Decided:
    """A person (approvers, an editor, a denier), a grant or rule ("automatic"), or nobody."""
    if outcome is None:  # crashed mid-step: the write-ahead record proves it started
        return Decided(True, unattended_review(None, True, proposal.decision, proposal.rule),
                       (), False, None)  # fmt: skip
    ran = outcome.status in RAN_STATUSES
    wait_ms = outcome.review_wait_ms
    wait_s = float(wait_ms) / 1000.0 if wait_ms is not None else None
    if outcome.decided_by is not None:
        review = review_by(
            outcome.decided_by, ran, outcome.approval_id, proposal.decision, proposal.rule
        )
        if review != "human":
            return Decided(ran, review, (), False, None)
        denied = outcome.status == "denied"
        return Decided(ran, "human", tuple(outcome.reviewers), denied, wait_s)
    # Records written before `decided_by` existed: read the outcome as it always was.
    approvers: tuple[str, ...] = ()
    human_denied = False
    if outcome.approved_by:
        approvers = tuple(outcome.approved_by)
    elif outcome.status == "modified":
        edited = _EDITED_BY.match(outcome.error or "")
        approvers = _names(edited.group(1)) if edited else ()
    elif _denied_by_a_person(proposal, outcome):
        human_denied = True
        named = _DENIED_BY.search(outcome.error or "")
        approvers = _names(named.group(1)) if named else ()
    else:
        review = unattended_review(outcome.approval_id, ran, proposal.decision, proposal.rule)
        return Decided(ran, review, (), False, None)
    return Decided(ran, "human", approvers, human_denied, wait_s)


def observe_step(proposal: StepProposed, outcome: StepFinished | None) -> StepObservation:
    """The observation of one step from its proposal and (if any) its outcome."""
    return observation_of(
        proposal.seq,
        proposal.ts.timestamp(),
        parse_kind(proposal.kind),
        proposal.name,
        frozenset(proposal.flags),
        tuple(proposal.targets),
        proposal.args,
        who_decided(proposal, outcome),
    )


COMPUTE_KINDS = frozenset(
    {Kind.TRAIN_LAUNCH, Kind.EXPERIMENT_RUN, Kind.EVAL_RUN, Kind.SHELL_EXEC, Kind.DEPLOY}
)
"""The kinds whose arguments can spend compute (`gpus`, `hours`, a launcher's options); reading
a file or calling a model spends none, whatever its arguments say."""


def observation_of(
    seq: int,
    ts: float,
    kind: Kind,
    name: str,
    flags: frozenset[str],
    targets: tuple[str, ...],
    args: Mapping[str, Any],
    decided: Decided,
) -> StepObservation:
    """A step and who decided it, as the metric sees them. Records (`observe_step`) and replayed
    traces both come through here, so a session and its exported trace score the same."""
    return StepObservation(
        seq=seq,
        ts=ts,
        kind=kind,
        name=name,
        flags=flags,
        targets=with_arg_paths(kind, targets, args),
        ran=decided.ran,
        review=decided.review,
        approvers=decided.approvers,
        review_wait_s=decided.wait_s,
        gpu_hours=derive(args).gpu_hours if kind in COMPUTE_KINDS else None,
        human_denied=decided.human_denied,
    )


def review_by(
    decided_by: DecidedBy, ran: bool, approval_id: str | None, decision: str, rule: str | None
) -> Review:
    """What a typed decision means for the metric: people reviewed it, a grant or a rule let
    it through ("automatic"), or nobody looked (refused for want of a person, by the deadline,
    the halt switch or the system)."""
    if decided_by == "reviewers":
        return "human"
    if decided_by in ("policy", "grant"):
        return unattended_review(approval_id, ran, decision, rule)
    return "none"


def unattended_review(
    approval_id: str | None, ran: bool, decision: str, rule: str | None
) -> Review:
    """For a step no person decided: "automatic" when a standing grant covered it or a policy
    rule looked at it and let it through, otherwise "none" (nobody looked)."""
    if (approval_id or "").startswith("grant:") or (
        ran and decision == "allow" and rule is not None
    ):
        return "automatic"
    return "none"


def _denied_by_a_person(proposal: StepProposed, outcome: StepFinished) -> bool:
    return (
        outcome.status == "denied"
        and proposal.decision == "require_approval"
        and _NOBODY_DENIED.search(outcome.error or "") is None
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def is_path_like(value: str) -> bool:
    """A target that names a file (has a folder or an extension), not a program or a branch."""
    return (
        0 < len(value) < 1024
        and not any(c.isspace() for c in value)
        and "://" not in value
        and ("/" in value or _PATH_SUFFIX.search(value) is not None)
    )


def normalise_path(value: str) -> str:
    path = posixpath.normpath(value.replace("\\", "/"))
    return path.removeprefix("./")


def with_arg_paths(
    kind: Kind, targets: tuple[str, ...], args: Mapping[str, Any]
) -> tuple[str, ...]:
    """A launch's, run's or push's targets plus the paths named in its arguments."""
    if kind not in _ARG_PATH_KINDS:
        return targets
    return targets + tuple(p for p in arg_paths(args) if p not in targets)


def arg_paths(args: Mapping[str, Any]) -> list[str]:
    """Path-like strings among an argument dict's top-level values (and lists of them): a
    launch's `config="configs/rl.yaml"` names what it runs even when the classifier gave no
    target for it."""
    found: list[str] = []
    for value in args.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and is_path_like(item) and item not in found:
                found.append(item)
                if len(found) >= _MAX_ARG_PATHS:
                    return found
    return found
