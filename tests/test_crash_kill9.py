"""Crashes (issue 12 item 6): an agent killed with SIGKILL at a random point. Every
consequential step that ran has its proposal and decision stored (write-ahead), a step with a
proposal and no outcome shows as interrupted, and the chain verifies. The reduced form runs 12
kills; `python -m benchmarks crash` runs 100."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from oversight.records import StepFinished, StepProposed
from oversight.store import open_store
from oversight.timeline import build_session

AGENT = Path(__file__).resolve().parent / "crash" / "killed_agent.py"


@dataclass
class KillRun:
    effects: int
    """Consequential steps that ran (the agent's own record of what it did)."""
    missing: list[str]
    """Steps that ran without a stored proposal and decision: must be none."""
    unfinished: int
    """Steps with a proposal and no outcome (killed mid-step)."""
    not_shown_interrupted: list[str]
    """Unfinished steps the timeline does not show as interrupted: must be none."""
    verified: bool


def kill_once(root: Path, run: int, delay_s: float) -> KillRun:
    db, effects = root / "o.db", root / f"effects-{run}.txt"
    session = f"run-{run}"
    agent = subprocess.Popen([sys.executable, str(AGENT), str(db), str(effects), session])
    time.sleep(delay_s)
    agent.send_signal(signal.SIGKILL)
    agent.wait()
    ran = [line for line in effects.read_text().splitlines() if line] if effects.exists() else []
    with open_store(f"sqlite:///{db}") as store:
        records = [s.record for s in store.iter_records(session)]
        verified = store.verify().ok
    proposed = {r.step_id: r for r in records if isinstance(r, StepProposed) and r.name == "Bash"}
    finished = {r.step_id for r in records if isinstance(r, StepFinished)}
    status = {s.proposed.step_id: s.status for s in build_session(session, records).steps}
    unfinished = [sid for sid in proposed if sid not in finished]
    missing = [step for step in ran if step not in proposed or proposed[step].decision != "allow"]
    hidden = [sid for sid in unfinished if status.get(sid) != "interrupted"]
    return KillRun(len(ran), missing, len(unfinished), hidden, verified)


def test_kill_9_at_random_points_loses_no_consequential_step(tmp_path: Path) -> None:
    rng = random.Random(12)
    runs = [kill_once(tmp_path, run, rng.uniform(0.8, 2.5)) for run in range(12)]
    assert sum(r.effects for r in runs) > 100, "the agents really acted before being killed"
    assert sum(r.unfinished for r in runs) > 0, "some kills landed mid-step (the check ran)"
    for run in runs:
        assert run.missing == [], "a step that ran has its proposal and decision stored"
        assert run.not_shown_interrupted == [], "a step killed mid-way shows as interrupted"
        assert run.verified, "the chain verifies after every kill"
