"""The review app's own reviewer actions, chained in the store like every review write.

Votes, grants, halts and endorsements write review-table rows, and the store chains a
`ReviewEvent` with each. Signing in, signing out, registering a passkey and declining a
registration write no row, so they are chained here as `ReviewEvent`s of their own actions
(`reviewer.signed_in`, `reviewer.signed_out`, `reviewer.registered`, `reviewer.declined`), in
the review session: `ref` names the browser session (by its audit id, never its cookie) or the
registration, `by` the reviewer, and `row_digest` is SHA-256 of the canonical JSON of the facts
listed here, so the record binds them.
"""

from __future__ import annotations

from typing import Any

from oversight.canonical import digest
from oversight.records import REVIEW_SESSION, ReviewAction, ReviewEvent
from oversight.store import SQLStore


def record(
    store: SQLStore, action: ReviewAction, ref: str, by: str | None, facts: dict[str, Any]
) -> ReviewEvent:
    """Append one reviewer action to the chain (durably: it is an audit record)."""
    event = ReviewEvent(
        session_id=REVIEW_SESSION, action=action, ref=ref, by=by, row_digest=digest(facts)
    )
    store.append([event])
    return event


def signed_in(store: SQLStore, reviewer: str, audit_id: str, credential_id: str) -> ReviewEvent:
    return record(
        store,
        "reviewer.signed_in",
        audit_id,
        reviewer,
        {"reviewer": reviewer, "session": audit_id, "credential_id": credential_id},
    )


def signed_out(store: SQLStore, reviewer: str, audit_id: str) -> ReviewEvent:
    return record(
        store,
        "reviewer.signed_out",
        audit_id,
        reviewer,
        {"reviewer": reviewer, "session": audit_id},
    )


def registered(
    store: SQLStore, registration_id: str, name: str, role: str, public_key: str
) -> ReviewEvent:
    return _registration(
        store, "reviewer.registered", registration_id, None, name, public_key, role=role
    )


def declined(
    store: SQLStore, registration_id: str, admin: str, name: str, public_key: str
) -> ReviewEvent:
    return _registration(store, "reviewer.declined", registration_id, admin, name, public_key)


def _registration(
    store: SQLStore,
    action: ReviewAction,
    registration_id: str,
    by: str | None,
    name: str,
    public_key: str,
    **facts: str,
) -> ReviewEvent:
    """An event about a registration: `ref` is its id, and the facts always bind the name and
    the key registered (with any others the action adds)."""
    return record(
        store, action, registration_id, by, {"name": name, **facts, "public_key": public_key}
    )
