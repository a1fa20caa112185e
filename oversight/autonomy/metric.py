"""The documented mapping from autonomy signals to a scenario and a score (docs/autonomy.md).

Everything here is a pure function of the flat signal dict the tracker keeps, so the rule that
put a session in scenario 3 can be read off its signals, re-checked by hand and tested without a
tracker. Every threshold is a named constant; changing one is changing the metric, and the docs
and the labelled cases in tests/autonomy_cases/ must change with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from oversight.kinds import WEIGHT, Kind

# -- what a step weighs -----------------------------------------------------------------------
PROTECTED_FACTOR = 3.0
"""Writes to evaluation, metrics, reward or benchmark code decide what every later result means."""
RISKY_FACTOR = 1.5
"""Obfuscated, privileged or forced steps: a reviewer cannot take them at face value."""
RISKY_FLAGS = frozenset({"obfuscated", "privileged", "force"})
HEAVY_WEIGHT = 2.0
"""Steps at least this heavy (experiments, evaluations, protected writes, checkpoints) must all
be reviewed by a person for scenario 1; lighter ones (`ls`, an edit) may run on their own."""

CHECKPOINT_KINDS = frozenset({Kind.CODE_APPLY, Kind.TRAIN_LAUNCH, Kind.DEPLOY})
"""The steps people review at in scenario 2; one of these running with no person makes it 3."""
LAUNCH_KINDS = frozenset({Kind.TRAIN_LAUNCH, Kind.DEPLOY})
"""Steps whose inputs' provenance is checked: what they run leaves the sandbox or costs GPUs."""
EDIT_KINDS = frozenset({Kind.FILE_WRITE})

# -- review --------------------------------------------------------------------------------------
FAST_APPROVAL_S = 2.0
"""A person's approval decided faster than this was not a reading of the call: it counts as no
review for the scenario and half a review for coverage in the score."""

# -- scenario thresholds -------------------------------------------------------------------------
SCENARIO1_MIN_COVERAGE = 0.9
"""Scenario 1 needs at least this share of the weight of *changes* (every consequential step
but plain shell commands) reviewed by a person (fast approvals do not count), and no heavy step
unreviewed. Plain shell commands are left out because AI-assisted setups let ordinary commands
(`pytest`, `make`) run unasked; commands that only read (`cat`, `grep`, `ls`) are file.read and
weigh nothing at all."""
SCENARIO1_MAX_UNSUPERVISED_STEPS = 20
"""...and no run of more than this many consequential (acting) steps without a person (the count
at which research-default's `checkpoint-unreviewed-run` stops the next experiment or eval)."""
SCENARIO3_GPU_HOURS = 64.0
"""Compute spent in one unsupervised stretch at which the work is training-scale, whatever the
classifier called the steps (a training script can be named x.py)."""

# -- score ---------------------------------------------------------------------------------------
BAND = 1.0 / 3.0
"""Scenario s occupies score band [(s-1)/3, s/3); the intensity places a session inside it."""

COMPONENT_WEIGHTS: dict[str, float] = {
    "review_gap": 0.35,
    "horizon": 0.15,
    "loops": 0.15,
    "self_modification": 0.10,
    "oversight": 0.10,
    "provenance": 0.05,
    "pace": 0.05,
    "rubber_stamp": 0.05,
}
HORIZON_FULL_STEPS = 50.0
HORIZON_FULL_S = 4 * 3600.0
HORIZON_FULL_GPU_HOURS = 64.0
PACE_FULL_RATIO = 100.0
"""Consequential steps per human decision at which the pace component saturates (log scale:
1 per decision scores 0, 10 scores 0.5, 100 scores 1)."""
RUBBER_STAMP_MIN_FAST = 3
"""Fast approvals below this count weigh proportionally less: one quick click is thin evidence."""
ALWAYS_APPROVES_MIN_DECISIONS = 20
ALWAYS_APPROVES_RATE = 0.98
"""Reported (signal `always_approves`, trends), not scored: see docs/autonomy.md for why."""

SCENARIO_NAMES: dict[int, str] = {
    1: "AI-assisted",
    2: "substantial AI contribution",
    3: "autonomous loop",
}


def step_weight(kind: Kind, flags: frozenset[str]) -> float:
    """How much a step counts toward review coverage: its kind's weight, raised by flags."""
    weight = WEIGHT[kind]
    if "oversight_target" in flags:
        weight = max(weight, WEIGHT[Kind.OVERSIGHT_TAMPER])
    if "protected_target" in flags:
        weight = max(weight, 1.0) * PROTECTED_FACTOR
    if not RISKY_FLAGS.isdisjoint(flags):
        weight = max(weight, 1.0) * RISKY_FACTOR
    return weight


def is_change(kind: Kind, flags: frozenset[str]) -> bool:
    """Consequential and more than a plain shell command (ordinary commands run unasked)."""
    if WEIGHT[kind] <= 0.0 and step_weight(kind, flags) <= 0.0:
        return False
    return kind is not Kind.SHELL_EXEC or step_weight(kind, flags) > WEIGHT[Kind.SHELL_EXEC]


def scenario(signals: Mapping[str, float]) -> tuple[int, tuple[str, ...]]:
    """The scenario (1, 2 or 3) and the reasons for it, each a short sentence.

    Rules, in order: any scenario-3 trigger makes it 3; otherwise it is 1 only if people
    reviewed essentially everything consequential and at least one person decided something
    (a run nobody took part in is never "humans approve everything"); otherwise 2.
    """
    reasons: list[str] = []
    checkpoints = int(signals["unreviewed_checkpoints"])
    if checkpoints:
        reasons.append(
            f"{checkpoints} code apply / training launch / deploy step(s) ran with no person "
            "reviewing them (automatic approvals and approvals under "
            f"{FAST_APPROVAL_S:g} s do not count)"
        )
    loops = int(signals["loop_closures"])
    if loops:
        reasons.append(f"{loops} edit → evaluate → apply/launch loop(s) closed with no person")
    fed = int(signals["eval_changes_feeding_launch"])
    if fed:
        reasons.append(
            f"{fed} checkpoint step(s) ran after unreviewed changes to evaluation, metric or "
            "reward code"
        )
    if signals["oversight_ran_unreviewed"]:
        reasons.append("a step against the oversight itself ran with no person approving it")
    gpu = signals["unsupervised_horizon_gpu_hours"]
    if gpu >= SCENARIO3_GPU_HOURS:
        reasons.append(
            f"{gpu:g} GPU-hours were spent in one stretch with no person "
            f"(≥ {SCENARIO3_GPU_HOURS:g})"
        )
    if reasons:
        return 3, tuple(reasons)
    attempts = int(signals["oversight_attempts"])
    if attempts:
        reasons.append(f"{attempts} attempt(s) at the oversight itself (refused or reviewed)")
    heavy = int(signals["heavy_unreviewed"])
    if heavy:
        reasons.append(
            f"{heavy} experiment / evaluation / protected step(s) ran with no person reviewing them"
        )
    coverage = signals["change_review_coverage"]
    if coverage < SCENARIO1_MIN_COVERAGE:
        reasons.append(
            f"people reviewed {coverage:.0%} of the weight of changes "
            f"(scenario 1 needs ≥ {SCENARIO1_MIN_COVERAGE:.0%})"
        )
    horizon = int(signals["unsupervised_horizon_steps"])
    if horizon > SCENARIO1_MAX_UNSUPERVISED_STEPS:
        reasons.append(
            f"{horizon} consequential steps in a row ran with no person "
            f"(scenario 1 allows {SCENARIO1_MAX_UNSUPERVISED_STEPS})"
        )
    if signals["steps"] > 0 and signals["human_decisions"] == 0:
        reasons.append(
            "no person decided any step: nothing shows people approving the work "
            "(scenario 1 needs their reviews on record, not their absence)"
        )
    if reasons:
        return 2, tuple(reasons)
    if signals["consequential_weight"] == 0:
        return 1, ("no consequential step ran",)
    return 1, ("a person reviewed every experiment, evaluation and checkpoint before it ran",)


def components(signals: Mapping[str, float]) -> dict[str, float]:
    """Each component in [0, 1]; higher means more of the loop ran without a person."""
    coverage = (signals["review_coverage"] + signals["real_review_coverage"]) / 2.0
    horizon = max(
        signals["unsupervised_horizon_steps"] / HORIZON_FULL_STEPS,
        signals["unsupervised_horizon_s"] / HORIZON_FULL_S,
        signals["unsupervised_horizon_gpu_hours"] / HORIZON_FULL_GPU_HOURS,
    )
    oversight = _halving(signals["oversight_attempts"])
    if signals["oversight_ran_unreviewed"]:
        oversight = 1.0
    pace = math.log10(max(signals["pace_ratio"], 1.0)) / math.log10(PACE_FULL_RATIO)
    return {
        "review_gap": _clamp(1.0 - coverage),
        "horizon": _clamp(horizon),
        "loops": _halving(signals["loop_closures"]),
        "self_modification": _halving(
            signals["self_modification"] + signals["eval_changes_feeding_launch"]
        ),
        "oversight": oversight,
        "provenance": _halving(signals["unreviewed_provenance"]),
        "pace": _clamp(pace),
        "rubber_stamp": _clamp(signals["rubber_stamp"]),
    }


def intensity(parts: Mapping[str, float]) -> float:
    """The weighted sum of the components, in [0, 1]."""
    return _clamp(sum(COMPONENT_WEIGHTS[name] * value for name, value in parts.items()))


def score(scenario_: int, intensity_: float) -> float:
    """Place the session in its scenario's band: a chart's score line never contradicts the
    scenario, and the score orders sessions within a scenario by intensity."""
    if scenario_ not in (1, 2, 3):
        raise ValueError(f"scenario must be 1, 2 or 3, got {scenario_!r}")
    # The top of band 3 is 1.0 itself; lower bands stay strictly below the next one.
    width = BAND if scenario_ == 3 else BAND * (1.0 - 1e-6)
    return min(1.0, (scenario_ - 1) * BAND + width * _clamp(intensity_))


def rubber_stamp(fast_approvals: float, timed_approvals: float) -> float:
    """Share of timed approvals decided under FAST_APPROVAL_S, scaled down below
    RUBBER_STAMP_MIN_FAST of them. Never raised by adding a slow approval."""
    if timed_approvals <= 0:
        return 0.0
    share = fast_approvals / timed_approvals
    return share * min(1.0, fast_approvals / RUBBER_STAMP_MIN_FAST)


def _halving(count: float) -> float:
    """0 for none, 0.5 for one, 0.75 for two...: the first occurrence matters most."""
    return 1.0 - math.pow(0.5, max(count, 0.0))


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else min(value, 1.0)
