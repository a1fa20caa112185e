"""The one typed record family: everything oversight stores, logs and exports is one of these.

Records are append-only facts. A step that runs produces `step.proposed` (the normalised call, its
classification and the decision taken before it ran) and later `step.finished` (its outcome). A
proposal without an outcome is an interrupted step: the agent crashed or was killed mid-call.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from oversight.canonical import new_id, utc_now

Actor = Literal["agent", "human"]
Decision = Literal["allow", "require_approval", "deny", "halt"]
StepStatus = Literal[
    "ok",
    "error",
    "denied",
    "halted",
    "timed_out",
    "cancelled",
    "not_run",
    # A reviewer edited the call: it did not run as proposed; the edited call is the step whose
    # `modifies` names this one.
    "modified",
    # Waiting for a decision outside this process (`check(wait=False)`): a later step claims it.
    "deferred",
]
SessionStatus = Literal["completed", "failed", "halted"]
DecidedBy = Literal[
    # The policy's rule (or its default) allowed, denied or halted the step.
    "policy",
    # People: they approved, denied or edited it (`reviewers` names them).
    "reviewers",
    # A reviewer's standing grant covered it: an automatic approval, not a review.
    "grant",
    # It needed a person and there was none to ask (no channel, too few reviewers).
    "no_reviewers",
    # It needed a person and nobody answered by the deadline.
    "deadline",
    # The halt switch, or the halt after repeated denials.
    "halt",
    # Waiting for people in another process (status `deferred`): the step that claims the
    # approval later carries the decision.
    "waiting",
    # The system refused it: an approval for another call or already used, an edit that does
    # not fit, a store that could not be written, a caller that stopped waiting.
    "system",
]

DECISIONS: tuple[str, ...] = ("allow", "require_approval", "deny", "halt")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    ts: _dt.datetime = Field(default_factory=utc_now)
    session_id: str


class SessionStarted(_Record):
    """A session began: which agent, on which host and process, under which policy."""

    type: Literal["session.started"] = "session.started"
    agent: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    pid: int
    host: str
    policy: str | None = None
    policy_hash: str | None = None
    oversight_version: str


class SessionEnded(_Record):
    """A session ended, how, and after how many steps."""

    type: Literal["session.ended"] = "session.ended"
    status: SessionStatus
    error: str | None = None
    steps: int = 0


class StepProposed(_Record):
    """A call the agent is about to make, as classified and decided before it runs."""

    type: Literal["step.proposed"] = "step.proposed"
    step_id: str
    parent_id: str | None = None
    seq: int
    kind: str
    name: str
    actor: Actor = "agent"
    args: dict[str, Any]
    args_digest: str
    reason: str
    flags: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    write_ahead: bool = False
    decision: Decision = "allow"
    rule: str | None = None
    policy_hash: str | None = None
    decision_reason: str | None = None
    modifies: str | None = None
    """The step whose call a reviewer edited into this one."""
    enforced: bool = True
    """False when the caller could not stop the call (an observer such as a callback handler):
    the decision is what the policy says, but the call ran whatever it was."""


class StepFinished(_Record):
    """What became of a step: its status, result digest, who decided it and how long it took."""

    type: Literal["step.finished"] = "step.finished"
    step_id: str
    seq: int
    kind: str
    status: StepStatus
    started_at: _dt.datetime
    duration_ms: float
    result_digest: str | None = None
    result_summary: str | None = None
    error: str | None = None
    approved_by: list[str] = Field(default_factory=list)
    decided_by: DecidedBy | None = None
    """Who or what decided the step before it ran; None in records written before it existed
    (scoring then reads the outcome as it always did)."""
    reviewers: list[str] = Field(default_factory=list)
    """The people who decided it when `decided_by` is "reviewers": who approved, denied or
    edited it (`approved_by` names only who let it run)."""
    approval_id: str | None = None
    review_wait_ms: float | None = None
    """How long people took to decide, for a step that waited for them."""
    attributes: dict[str, Any] | None = None
    """Extra facts an adapter reports, e.g. a model call's model name and token usage."""
    autonomy_score: float | None = None
    autonomy_scenario: int | None = None


class Alert(_Record):
    """Something that must not happen did: a forged vote, an untrusted reviewer's vote."""

    type: Literal["alert"] = "alert"
    step_id: str | None = None
    reason: str


ReviewAction = Literal[
    "reviewer.added",
    "approval.requested",
    "approval.closed",
    "approval.used",
    "vote.cast",
    "grant.given",
    "halt.requested",
    "halt.resumed",
    "reviewer.registered",
    "reviewer.declined",
    "reviewer.signed_in",
    "reviewer.signed_out",
]
"""The last four write no review-table row: a passkey registered in the review app (pending an
admin's endorsement) or declined by an admin, and a reviewer signing in to or out of the app
(`oversight/web/audit.py`). They are chained so every reviewer action is on the record."""

REVIEW_SESSION = "oversight:review"
"""The session id of review records that belong to no one session (a halt of every session,
a reviewer's registration, a grant for any session)."""


class ReviewEvent(_Record):
    """A row written to the review tables (reviewers, approvals, votes, grants, halts), or a
    reviewer's action in the review app that writes no row (see `ReviewAction`).

    Those tables are the mailbox between agents and reviewers, so they are plain rows; each
    write to them also appends one of these to the chain in the same transaction. `verify`
    checks the tables against these records, so a row deleted, edited or slipped in around
    oversight (an emptied halts table, a forged vote) is caught like an edited record.
    """

    type: Literal["review"] = "review"
    action: ReviewAction
    ref: str
    """The row's key: an approval, halt, grant or vote id, or a reviewer's name."""
    by: str | None = None
    row_digest: str
    """SHA-256 of the canonical JSON of the columns this action wrote (`store.review_log`),
    or, for an action that writes no row, of the facts it records (`web/audit.py`)."""


Record = Annotated[
    SessionStarted | SessionEnded | StepProposed | StepFinished | Alert | ReviewEvent,
    Field(discriminator="type"),
]

RECORD_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record)

RECORD_TYPES: tuple[str, ...] = (
    "session.started",
    "session.ended",
    "step.proposed",
    "step.finished",
    "alert",
    "review",
)


def parse_record(body: str | bytes) -> Record:
    """Parse a stored or exported record body back into its typed model."""
    return RECORD_ADAPTER.validate_json(body)


def record_body(record: _Record) -> str:
    """The exact text that is stored and hashed for a record (same as `model_dump_json`)."""
    return type(record).__pydantic_serializer__.to_json(record).decode("utf-8")


def record_index(record: _Record) -> tuple[str | None, str | None, str | None]:
    """(step_id, kind, decision): the columns review queries filter on."""
    step_id = getattr(record, "step_id", None)
    kind = getattr(record, "kind", None)
    decision = getattr(record, "decision", None)
    return step_id, kind, decision
