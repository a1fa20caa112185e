"""Scoring whole sessions: fold a tracker over their observations.

The monitor scores live, one step at a time; these are for what is already recorded (reports,
replay, trends), and give exactly what the live tracker gave at the same step.
"""

from __future__ import annotations

from collections.abc import Iterable

from oversight.autonomy.observation import StepObservation, observations_from_records
from oversight.autonomy.tracker import AutonomySnapshot, AutonomyTracker
from oversight.records import Record


def score_session(
    observations: Iterable[StepObservation], *, window_s: float | None = None
) -> AutonomySnapshot:
    """The snapshot after the last step (an empty session scores 0, scenario 1)."""
    tracker = AutonomyTracker(window_s=window_s)
    for obs in observations:
        tracker.update(obs)
    return tracker.snapshot()


def score_series(
    observations: Iterable[StepObservation], *, window_s: float | None = None
) -> list[tuple[StepObservation, AutonomySnapshot]]:
    """Each step with the snapshot as of it: the score over time, as a monitor saw it."""
    tracker = AutonomyTracker(window_s=window_s)
    return [(obs, tracker.observe(obs)) for obs in observations]


def score_records(records: Iterable[Record]) -> dict[str, AutonomySnapshot]:
    """Per session id, the final snapshot of the agent's steps among `records`."""
    return {sid: score_session(obs) for sid, obs in observations_from_records(records).items()}
