"""Realistic step records for store benchmarks, built once before timing."""

from __future__ import annotations

import datetime as _dt

from oversight.canonical import new_id
from oversight.records import Record, StepFinished, StepProposed


def step_records(n_steps: int, session_id: str = "bench-session") -> list[Record]:
    """Two records per step (proposal + outcome), as the monitor writes them."""
    out: list[Record] = []
    now = _dt.datetime.now(_dt.UTC)
    for i in range(n_steps):
        step_id = new_id()
        out.append(
            StepProposed(
                session_id=session_id,
                step_id=step_id,
                seq=i + 1,
                kind="shell.exec",
                name="Bash",
                args={"command": f"python experiments/sweep.py --seed {i}"},
                args_digest="0" * 64,
                reason="shell: `python experiments/sweep.py` runs an experiment script",
                ts=now,
            )
        )
        out.append(
            StepFinished(
                session_id=session_id,
                step_id=step_id,
                seq=i + 1,
                kind="shell.exec",
                status="ok",
                started_at=now,
                duration_ms=12.5,
                result_digest="1" * 64,
                result_summary="sweep done",
                ts=now,
            )
        )
    return out
