"""Autonomy depth: how much of an agent's research loop runs with no person reviewing it.

Scenario 1 (AI-assisted): a person reviews every consequential step before it happens.
Scenario 2 (substantial AI contribution): the agent designs, runs and evaluates on its own;
people review at checkpoints (code applied, training launched).
Scenario 3 (autonomous loop): the agent closes the loop (edits, experiments, evaluates, applies
code, launches training) with no person in it. Automatic approvals are not a person.

`AutonomyTracker` scores step by step in O(1); `score_session` / `score_records` score what is
recorded. The mapping from signals to scenario and score is in `metric` and docs/autonomy.md.
"""

from oversight.autonomy.metric import SCENARIO_NAMES, step_weight
from oversight.autonomy.observation import (
    Review,
    StepObservation,
    observations_from_records,
    observe_step,
)
from oversight.autonomy.score import score_records, score_series, score_session
from oversight.autonomy.tracker import AutonomySnapshot, AutonomyTracker, Evidence, Stretch

__all__ = [
    "SCENARIO_NAMES",
    "AutonomySnapshot",
    "AutonomyTracker",
    "Evidence",
    "Review",
    "StepObservation",
    "Stretch",
    "observations_from_records",
    "observe_step",
    "score_records",
    "score_series",
    "score_session",
    "step_weight",
]
