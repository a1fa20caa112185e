"""A session's autonomy over time, scored from its records, for the chart and the timeline.

Imported sessions carry no live score, and a live one carries it only on steps that can move it,
so the score at every step is recomputed here with the same tracker a monitor uses (`score_series`
gives the same numbers). The records are streamed: a proposal is kept only until its outcome
arrives, and each step keeps a few numbers, not its records. Results are cached per session and
its last record, so a session that has not moved is scored once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from oversight.autonomy import AutonomySnapshot, AutonomyTracker, StepObservation, observe_step
from oversight.autonomy.metric import CHECKPOINT_KINDS, FAST_APPROVAL_S
from oversight.records import StepFinished, StepProposed
from oversight.store import SQLStore, StoredRecord

CACHE_SESSIONS = 64


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """The score as of one step, and what a person (or nobody) did about that step."""

    seq: int
    ts: float
    score: float
    scenario: int
    kind: str
    name: str
    marker: str | None
    """"approve", "deny", "fast" (approved too fast to be a reading), "unreviewed" (a
    checkpoint that ran with no person), or None."""
    label: str


@dataclass(frozen=True, slots=True)
class SessionAutonomy:
    points: tuple[ScorePoint, ...]
    final: AutonomySnapshot


def score_steps(stored: Iterable[StoredRecord]) -> SessionAutonomy:
    """Fold a session's step records (in seq order) into points, one per agent step."""
    tracker = AutonomyTracker()
    waiting: dict[str, tuple[int, StepProposed]] = {}
    observed: dict[int, StepObservation] = {}
    order = 0
    for item in stored:
        record = item.record
        if isinstance(record, StepProposed) and record.actor == "agent":
            waiting[record.step_id] = (order, record)
            order += 1
        elif isinstance(record, StepFinished) and record.step_id in waiting:
            index, proposal = waiting.pop(record.step_id)
            observed[index] = observe_step(proposal, record)
    for index, proposal in waiting.values():
        observed[index] = observe_step(proposal, None)
    points = []
    for index in sorted(observed):
        obs = observed[index]
        tracker.update(obs)
        score, scenario, _ = tracker.standing()
        marker, label = _marker(obs)
        points.append(
            ScorePoint(obs.seq, obs.ts, score, scenario, obs.kind.value, obs.name, marker, label)
        )
    return SessionAutonomy(tuple(points), tracker.snapshot())


def _marker(obs: StepObservation) -> tuple[str | None, str]:
    what = f"#{obs.seq} {obs.kind.value} {obs.name}"
    wait = f" in {obs.review_wait_s:.1f} s" if obs.review_wait_s is not None else ""
    who = ", ".join(obs.approvers) or "a person"
    if obs.review == "human":
        if obs.human_denied:
            return "deny", f"{what}: denied by {who}{wait}"
        if obs.review_wait_s is not None and obs.review_wait_s < FAST_APPROVAL_S:
            return "fast", f"{what}: approved by {who}{wait}, too fast to be a reading"
        return "approve", f"{what}: approved by {who}{wait}"
    if obs.ran and obs.kind in CHECKPOINT_KINDS:
        how = "automatically" if obs.review == "automatic" else "with no person"
        return "unreviewed", f"{what}: ran {how}"
    return None, what


class AutonomyCache:
    """Scored sessions, keyed by session and the seq of its last record (a session that grew
    is scored again); the least recently used are dropped beyond `CACHE_SESSIONS`."""

    def __init__(self, store: SQLStore, size: int = CACHE_SESSIONS) -> None:
        self._store = store
        self._size = size
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], SessionAutonomy] = OrderedDict()

    def get(self, session_id: str, last_seq: int) -> SessionAutonomy:
        key = (session_id, last_seq)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        scored = score_steps(
            self._store.iter_records(session_id, types=("step.proposed", "step.finished"))
        )
        with self._lock:
            self._cache[key] = scored
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return scored
