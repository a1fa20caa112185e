"""What an agent that can write the SQLite file does to its log, for tests that must catch it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oversight.store.chain import GENESIS_HASH, record_hash


def rewrite_whole_chain(db: Path, old: str, new: str, *, record_type: str | None = None) -> None:
    """Replace `old` with `new` in the bodies of the store's records (of `record_type` only,
    when given), then recompute every hash and the head: a rewrite the chain alone cannot see."""
    raw = sqlite3.connect(db)
    rows = raw.execute(
        "SELECT seq, record_id, type, session_id, step_id, kind, decision, ts, body "
        "FROM oversight_records ORDER BY seq"
    ).fetchall()
    prev = GENESIS_HASH
    for seq, rid, type_, sid, step, kind, decision, ts, body in rows:
        if record_type is None or type_ == record_type:
            body = body.replace(old, new)
        h = record_hash(prev, seq, rid, type_, sid, step, kind, decision, ts, body)
        raw.execute(
            "UPDATE oversight_records SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (body, prev, h, seq),
        )
        prev = h
    raw.execute("UPDATE oversight_chain_head SET hash = ?", (prev,))
    raw.commit()
    raw.close()
