"""Autonomy per agent per day: is review thinning out as people grow used to approving?

Drift shows as a rising mean score and scenario, a falling share of steps a person reviewed, an
approval rate creeping to 100% and review waits shrinking toward zero. Each row aggregates the
sessions an agent started that day (UTC).
"""

from __future__ import annotations

import datetime as _dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from oversight.autonomy.metric import step_weight
from oversight.autonomy.observation import StepObservation
from oversight.autonomy.tracker import AutonomySnapshot

UNKNOWN_AGENT = "-"


@dataclass(frozen=True, slots=True)
class ScoredSession:
    session_id: str
    agent: str | None
    started: _dt.datetime
    observations: Sequence[StepObservation]
    snapshot: AutonomySnapshot


@dataclass(frozen=True, slots=True)
class DayTrend:
    agent: str
    day: _dt.date
    sessions: int
    mean_score: float
    max_scenario: int
    consequential_steps: int
    """Consequential steps that ran or that a person decided."""
    human_reviewed_share: float | None
    """Share of those a person approved or denied; None when there were none."""
    human_decisions: int
    human_approval_rate: float | None
    median_review_wait_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "day": self.day.isoformat(),
            "sessions": self.sessions,
            "mean_score": self.mean_score,
            "max_scenario": self.max_scenario,
            "consequential_steps": self.consequential_steps,
            "human_reviewed_share": self.human_reviewed_share,
            "human_decisions": self.human_decisions,
            "human_approval_rate": self.human_approval_rate,
            "median_review_wait_s": self.median_review_wait_s,
        }


@dataclass
class _Day:
    scores: list[float]
    max_scenario: int = 1
    consequential: int = 0
    reviewed: int = 0
    approvals: int = 0
    decisions: int = 0
    waits: list[float] | None = None


def daily_trends(sessions: Iterable[ScoredSession]) -> list[DayTrend]:
    """One row per (agent, UTC day of the session's start), sorted by agent then day."""
    days: dict[tuple[str, _dt.date], _Day] = {}
    for s in sessions:
        key = (s.agent or UNKNOWN_AGENT, s.started.astimezone(_dt.UTC).date())
        day = days.setdefault(key, _Day(scores=[], waits=[]))
        day.scores.append(s.snapshot.score)
        day.max_scenario = max(day.max_scenario, s.snapshot.scenario)
        for obs in s.observations:
            if obs.review == "human":
                day.decisions += 1
                day.approvals += 0 if obs.human_denied else 1
                if obs.review_wait_s is not None and day.waits is not None:
                    day.waits.append(obs.review_wait_s)
            if step_weight(obs.kind, obs.flags) > 0 and (obs.ran or obs.review == "human"):
                day.consequential += 1
                day.reviewed += obs.review == "human"
    return [
        DayTrend(
            agent=agent,
            day=date,
            sessions=len(d.scores),
            mean_score=statistics.fmean(d.scores),
            max_scenario=d.max_scenario,
            consequential_steps=d.consequential,
            human_reviewed_share=d.reviewed / d.consequential if d.consequential else None,
            human_decisions=d.decisions,
            human_approval_rate=d.approvals / d.decisions if d.decisions else None,
            median_review_wait_s=statistics.median(d.waits) if d.waits else None,
        )
        for (agent, date), d in sorted(days.items())
    ]
