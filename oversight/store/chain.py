"""The hash chain that makes the audit store tamper-evident, and what it cannot promise.

Every stored record carries `hash = sha256(prev_hash + "\\n" + fields)`, where `fields` joins with
the unit separator (0x1F) every column of its row: seq, record_id, type, session_id, step_id,
kind, decision, ts and the body text. The first record links to `GENESIS_HASH`. A one-row chain
head holds the seq and hash of the last record. `SQLStore.verify` recomputes the chain in seq
order and so detects, without any secret:

- an edited row (any column, the body or an index column): its hash no longer matches;
- a deleted row: a gap in seq;
- an inserted or reordered row: a prev_hash that does not link to the row before it;
- a truncated tail, or rows appended behind the store's back: the table and the head disagree;
- index columns that contradict the body they were written from (record_id, type, session_id,
  ts and step_id are compared with the body on every row).

What a plain hash chain cannot catch: the algorithm is public and unkeyed, so anyone who can
write to the database can rewrite the whole chain from any point onwards (recomputing every
later hash) together with the head, and the result verifies. Equally, anyone with write access
can append new, well-formed records that lie; the chain proves history was not changed, not that
it was true. Defending against such an adversary needs a secret or an outside witness (keyed
hashes, signing the head, or anchoring head hashes somewhere the agent cannot write); that is a
later hardening step, not something this module claims.

The empty-vs-NULL distinction of step_id, kind and decision is not hashed (both hash as ""):
those columns are NULL exactly when the body has no such field, which verify checks for step_id.
"""

from __future__ import annotations

from hashlib import sha256

GENESIS_HASH = "0" * 64
FIELD_SEPARATOR = "\x1f"


def record_hash(
    prev_hash: str,
    seq: int,
    record_id: str,
    type_: str,
    session_id: str,
    step_id: str | None,
    kind: str | None,
    decision: str | None,
    ts: str,
    body: str,
) -> str:
    """Hex SHA-256 linking one row to the previous one; the only definition of the chain."""
    return sha256(
        f"{prev_hash}\n{seq}\x1f{record_id}\x1f{type_}\x1f{session_id}\x1f{step_id or ''}"
        f"\x1f{kind or ''}\x1f{decision or ''}\x1f{ts}\x1f{body}".encode()
    ).hexdigest()
