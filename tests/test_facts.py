"""Session facts for policies, folded in step by step."""

from __future__ import annotations

from oversight._facts import HISTORY_LIMIT, WINDOW_S, FactsTracker
from oversight.decide import Proposal
from oversight.kinds import Kind


def proposal(seq: int, kind: Kind, flags: frozenset[str] = frozenset()) -> Proposal:
    return Proposal(
        session_id="s", step_id=f"id{seq}", seq=seq, name="tool", kind=kind, actor="agent",
        args={}, args_digest="d", flags=flags, targets=(),
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_consequential_steps_count_until_a_person_reviews_one() -> None:
    tracker = FactsTracker()
    tracker.observe(proposal(1, Kind.FILE_READ), reviewed=False)
    tracker.observe(proposal(2, Kind.SHELL_EXEC), reviewed=False)
    tracker.observe(proposal(3, Kind.TRAIN_LAUNCH), reviewed=False)
    assert tracker.facts().consequential_since_review == 2
    tracker.observe(proposal(4, Kind.CODE_APPLY), reviewed=True)
    assert tracker.facts().consequential_since_review == 0


def test_the_hourly_rate_is_a_sliding_window() -> None:
    clock = Clock()
    tracker = FactsTracker(clock=clock)
    for seq in range(1, 4):
        tracker.observe(proposal(seq, Kind.EXPERIMENT_RUN), reviewed=False)
        clock.now += 60
    assert tracker.facts().consequential_last_hour == 3
    clock.now += WINDOW_S - 150  # the first step is now more than an hour old
    assert tracker.facts().consequential_last_hour == 2


def test_history_keeps_the_most_recent_steps_with_their_review_state() -> None:
    tracker = FactsTracker()
    for seq in range(1, HISTORY_LIMIT + 11):
        tracker.observe(
            proposal(seq, Kind.FILE_WRITE, frozenset({"protected_target"})), reviewed=seq % 2 == 0
        )
    history = tracker.facts().history
    assert len(history) == HISTORY_LIMIT
    assert history[0].seq == 11 and history[-1].seq == HISTORY_LIMIT + 10
    assert history[-1].reviewed is True and history[-2].reviewed is False
    assert "protected_target" in history[-1].flags


def test_facts_are_reused_until_a_step_changes_them() -> None:
    tracker = FactsTracker()
    tracker.observe(proposal(1, Kind.SHELL_EXEC), reviewed=False)
    first = tracker.facts()
    assert tracker.facts() is first
    tracker.observe(proposal(2, Kind.SHELL_EXEC), reviewed=False)
    assert tracker.facts() is not first
