"""The labelled autonomy cases: realistic sessions, each with the scenario a person would give it.

Each file in tests/autonomy_cases/ is one session (see that folder's README.md for the format).
A case fails if the metric puts the session in another scenario, or outside the optional score
and signal bounds, so changing a threshold in oversight/autonomy/metric.py shows which labelled
sessions it moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from oversight.autonomy import AutonomyTracker, StepObservation, score_session
from oversight.kinds import parse_kind

CASES = Path(__file__).parent / "autonomy_cases"
DEFAULT_GAP_S = 30.0
START_TS = 1_790_000_000.0  # a fixed instant: cases are about offsets, not dates

_CASE_KEYS = {"description", "expect", "steps"}
_EXPECT_KEYS = {"scenario", "score", "signals"}
_STEP_KEYS = {
    "kind", "name", "flags", "targets", "review", "denied", "ran", "at", "after",
    "wait", "approvers", "gpu_hours", "repeat", "every",
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    scenario: int
    score: tuple[float, float] | None
    signals: dict[str, Any]
    steps: list[StepObservation]


def _strict(where: str, raw: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TypeError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed {sorted(allowed)}")
    return raw


def load_case(path: Path) -> Case:
    """Parse one case file; unknown fields are errors, so a typo cannot pass silently."""
    raw = _strict(path.name, yaml.safe_load(path.read_text()), _CASE_KEYS)
    expect = _strict(f"{path.name}: expect", raw["expect"], _EXPECT_KEYS)
    steps: list[StepObservation] = []
    clock = START_TS - DEFAULT_GAP_S
    for i, item in enumerate(raw["steps"]):
        step = _strict(f"{path.name}: steps[{i}]", item, _STEP_KEYS)
        every = float(step.get("every", DEFAULT_GAP_S))
        for n in range(int(step.get("repeat", 1))):
            if n == 0 and "at" in step:
                clock = START_TS + float(step["at"])
            elif n == 0 and "after" in step:
                clock += float(step["after"])
            else:
                clock += every if n else DEFAULT_GAP_S
            denied = bool(step.get("denied", False))
            review = "human" if denied else str(step.get("review", "none"))
            steps.append(
                StepObservation(
                    seq=len(steps) + 1,
                    ts=clock,
                    kind=parse_kind(step["kind"]),
                    name=str(step.get("name", step["kind"])),
                    flags=frozenset(step.get("flags", ())),
                    targets=tuple(step.get("targets", ())),
                    ran=bool(step.get("ran", not denied)),
                    review=review,  # type: ignore[arg-type]  # validated by StepObservation
                    approvers=tuple(step.get("approvers", ("alice",) if review == "human" else ())),
                    review_wait_s=float(step["wait"]) if "wait" in step else None,
                    gpu_hours=float(step["gpu_hours"]) if "gpu_hours" in step else None,
                    human_denied=denied,
                )
            )
    score = expect.get("score")
    return Case(
        name=path.stem,
        description=str(raw["description"]).strip(),
        scenario=int(expect["scenario"]),
        score=(float(score[0]), float(score[1])) if score else None,
        signals=dict(expect.get("signals", {})),
        steps=steps,
    )


CASE_FILES = sorted(CASES.glob("*.yaml"))


def test_the_labelled_set_covers_every_scenario() -> None:
    scenarios = [load_case(p).scenario for p in CASE_FILES]
    assert len(CASE_FILES) >= 12
    assert all(scenarios.count(s) >= 3 for s in (1, 2, 3)), scenarios


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case_is_scored_in_its_labelled_scenario(path: Path) -> None:
    case = load_case(path)
    snap = score_session(case.steps)
    detail = f"{case.name}: {case.description}\nreasons: {snap.reasons}\nsignals: {snap.signals}"
    assert snap.scenario == case.scenario, detail
    assert (snap.scenario - 1) / 3 <= snap.score < snap.scenario / 3 or snap.score == 1.0
    if case.score is not None:
        low, high = case.score
        assert low <= snap.score <= high, f"score {snap.score:.3f} not in {case.score}\n{detail}"
    for name, expected in case.signals.items():
        actual = snap.signals[name]
        if isinstance(expected, list):
            assert expected[0] <= actual <= expected[1], f"{name}={actual}\n{detail}"
        else:
            assert actual == pytest.approx(expected), f"{name}={actual}\n{detail}"


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case_scored_live_ends_where_the_whole_session_does(path: Path) -> None:
    """The step-by-step tracker (what a monitor runs) and the batch score agree."""
    case = load_case(path)
    tracker = AutonomyTracker()
    snaps = [tracker.observe(obs) for obs in case.steps]
    assert snaps[-1].scenario == case.scenario
    assert snaps[-1].score == score_session(case.steps).score


def test_a_case_with_an_unknown_field_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "description: x\nexpect: {scenario: 1}\nsteps:\n  - {kind: file.read, reveiw: human}\n"
    )
    with pytest.raises(ValueError, match="reveiw"):
        load_case(bad)
