"""The scenario cap (`max_scenario` in a pack): keep a session at or below a scenario.

When the next consequential step, run with no person reviewing it, would take the session above
the cap, the step needs a person instead. The prediction is O(1) and conservative; it follows the
autonomy metric's rules (docs/autonomy.md): a checkpoint (applying code, launching training,
deploying) or a step against the oversight run without review means scenario 3, and any
consequential step run without review can break scenario 1.
"""

from __future__ import annotations

import functools

from oversight.kinds import CONSEQUENTIAL, Kind

CHECKPOINT_KINDS = frozenset({Kind.CODE_APPLY, Kind.TRAIN_LAUNCH, Kind.DEPLOY})
CAP_RULE = "(max_scenario)"
_OVERSIGHT_FLAGS = frozenset({"oversight_target"})


def scenario_if_unreviewed(kind: Kind, flags: frozenset[str], current: int | None) -> int:
    """The scenario the session reaches if this step runs with no person reviewing it."""
    now = current or 1
    if kind in CHECKPOINT_KINDS or kind is Kind.OVERSIGHT_TAMPER or flags & _OVERSIGHT_FLAGS:
        return 3
    if kind in CONSEQUENTIAL:
        return max(now, 2)
    return now


@functools.cache
def signal_names() -> frozenset[str]:
    """The autonomy signals a rule may match on (`match: {autonomy: {...}}`): exactly those the
    tracker reports. Imported late: the autonomy package itself uses policy.compute."""
    from oversight.autonomy.tracker import AutonomyTracker

    return frozenset(AutonomyTracker().snapshot().signals)
