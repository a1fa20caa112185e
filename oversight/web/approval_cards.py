"""What a reviewer sees of each waiting approval before deciding it.

The approval row (W2's `review_queries`) gives the exact call, the rule and reason that gated
it, the quorum and deadline. Added here: the step as the classifier saw it (targets, flags, why
it got its kind), what it may use in the sandbox (recorded with the step's outcome once it runs;
before that, what the default capabilities give its kind once a person approves), and the votes
counted exactly as the waiting monitor counts them (`tally_votes`, signatures verified), so the
quorum shown is the quorum the agent sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from oversight.approvals.broker import tally_votes
from oversight.approvals.registry import Reviewer
from oversight.policy.capabilities import DEFAULT_SECTION, CapabilityGrant, grant_for
from oversight.records import StepFinished, StepProposed
from oversight.store import SQLStore
from oversight.store.schema import approvals, votes
from oversight.web.queries import StoreReader
from oversight.web.review_queries import ApprovalRow


@dataclass(frozen=True)
class ApprovalCard:
    row: ApprovalRow
    approvers: tuple[str, ...]
    """Reviewers whose approval verifies and counts toward the quorum now."""
    not_counted: tuple[str, ...]
    """Votes recorded that the monitor will not count, each with why."""
    decided: str | None
    """"denied" or "modified" when a verified vote already decided it (the agent has not
    come back for it yet), else None."""
    step: StepProposed | None
    capabilities: tuple[str, ...] | None
    """What the sandbox granted, when recorded with the step's outcome."""
    default_grant: tuple[str, ...] = field(default=())
    """What the default capabilities give this kind of step once a person approves it."""

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def version(self) -> str:
        """Changes whenever a vote is recorded or the approval closes (for live updates)."""
        return f"{len(self.row.votes)}:{self.row.status}"


def build_cards(
    reader: StoreReader,
    store: SQLStore,
    rows: Sequence[ApprovalRow],
    trusted: dict[str, Reviewer],
) -> list[ApprovalCard]:
    """Cards for these approval rows: votes verified, the step and its capabilities read."""
    raw, voted = _raw(reader, [row.id for row in rows])
    cards = []
    for row in rows:
        stored = raw.get(row.id)
        tally = tally_votes(stored, voted.get(row.id, []), trusted) if stored else None
        step = _proposed(store, row.session_id, row.step_id)
        decided = tally.status if tally and tally.status in ("denied", "modified") else None
        cards.append(
            ApprovalCard(
                row=row,
                approvers=tuple(tally.approvers if tally and not decided else ()),
                not_counted=tuple(tally.rejected_votes if tally else ()),
                decided=decided,
                step=step,
                capabilities=_recorded_capabilities(store, row.session_id, row.step_id),
                default_grant=describe(
                    grant_for(
                        DEFAULT_SECTION,
                        row.kind,
                        frozenset(step.flags if step else ()),
                        approved_by_person=True,
                    )
                ),
            )
        )
    return cards


def describe(grant: CapabilityGrant) -> tuple[str, ...]:
    """A grant in a few words per capability."""
    said = [f"network: {grant.network or 'none'}"]
    if grant.hosts:
        said.append("hosts: " + ", ".join(grant.hosts))
    said.append("GPUs" if grant.gpu else "no GPUs")
    if grant.credentials:
        said.append("credentials: " + ", ".join(grant.credentials))
    if grant.writable:
        said.append("also writable: " + ", ".join(grant.writable))
    return tuple(said)


def pending_versions(
    reader: StoreReader, deadline_after: str, limit: int = 500
) -> list[tuple[str, str]]:
    """(id, version) of every approval waiting now, oldest first: what the live stream sends.
    One short read; no connection is kept."""
    a, v = approvals.c, votes.c
    counted = (
        select(v.approval_id, func.count().label("n")).group_by(v.approval_id).subquery("counted")
    )
    query = (
        select(a.id, a.status, func.coalesce(counted.c.n, 0))
        .select_from(approvals.outerjoin(counted, counted.c.approval_id == a.id))
        .where(a.status == "pending", a.deadline > deadline_after)
        .order_by(a.created_at, a.id)
        .limit(limit)
    )
    with reader.connect() as conn:
        return [(str(i), f"{int(n)}:{status}") for i, status, n in conn.execute(query)]


def _raw(
    reader: StoreReader, ids: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The approval rows and their vote rows (with signatures) as stored, by approval id."""
    if not ids:
        return {}, {}
    with reader.connect() as conn:
        rows = {
            str(r.id): dict(r._mapping)
            for r in conn.execute(select(approvals).where(approvals.c.id.in_(ids)))
        }
        found: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        query = select(votes).where(votes.c.approval_id.in_(ids)).order_by(votes.c.id)
        for vote in conn.execute(query):
            found[str(vote.approval_id)].append(dict(vote._mapping))
    return rows, found


def _proposed(store: SQLStore, session_id: str, step_id: str) -> StepProposed | None:
    for stored in store.iter_records(
        session_id, types=("step.proposed",), step_ids=[step_id], batch=1
    ):
        if isinstance(stored.record, StepProposed):
            return stored.record
    return None


def _recorded_capabilities(
    store: SQLStore, session_id: str, step_id: str
) -> tuple[str, ...] | None:
    for stored in store.iter_records(
        session_id, types=("step.finished",), step_ids=[step_id], batch=4
    ):
        record = stored.record
        if isinstance(record, StepFinished) and record.attributes:
            sandbox = record.attributes.get("sandbox")
            if isinstance(sandbox, dict):
                return describe_recorded(sandbox)
    return None


def describe_recorded(sandbox: dict[str, Any]) -> tuple[str, ...]:
    """The capabilities a sandboxed step was given (`Capabilities.model_dump`), in words."""
    said = [f"network: {sandbox.get('network') or 'none'}"]
    for name, label in (
        ("hosts", "hosts"),
        ("credentials", "credentials"),
        ("writable", "writable"),
    ):
        values = sandbox.get(name)
        if isinstance(values, list) and values:
            said.append(f"{label}: " + ", ".join(str(v) for v in values))
    said.append("GPUs" if sandbox.get("gpu") else "no GPUs")
    return tuple(said)
