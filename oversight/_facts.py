"""Per-session facts that policies match on, kept up to date in O(1) per step.

Counting from the store on every step would make decisions slower as sessions grow; instead the
session folds each step in as it is decided: consequential (acting) steps since a person last
reviewed one, consequential steps in the last hour (a sliding window), and a bounded recent
history for sequence rules ("a training launch after an unreviewed write to evaluation code").
Reads never count: a shell command that only reads is classified `file.read`, like a Read tool.

Memory is bounded whatever the session's length or rate: the hourly window counts steps per
second (at most 3,601 buckets), and the history keeps the last HISTORY_LIMIT steps.
"""

from __future__ import annotations

import collections
import collections.abc
import threading
import time

from oversight.decide import PastStep, Proposal, SessionFacts
from oversight.kinds import CONSEQUENTIAL

HISTORY_LIMIT = 256
WINDOW_S = 3600.0
BUCKET_S = 1.0
"""The hourly window counts steps per second: a bucket leaves the window only once all of it is
older than an hour, so the count may include steps up to a second older than that, never miss
one (a rate limit trips no later than an exact count would)."""


class FactsTracker:
    def __init__(
        self,
        *,
        clock: collections.abc.Callable[[], float] = time.monotonic,
        keep_history: bool = True,
    ) -> None:
        self._clock = clock
        self.keep_history = keep_history
        """Without history (no `after:` rule), a step that is neither consequential nor reviewed
        changes no fact at all, and costs nothing here."""
        self._lock = threading.Lock()
        self._since_review = 0
        self._window: collections.deque[list[int]] = collections.deque()  # [second, count]
        self._in_window = 0
        # Built once per step (O(1)); a snapshot copies at most HISTORY_LIMIT references.
        self._history: collections.deque[PastStep] = collections.deque(maxlen=HISTORY_LIMIT)
        self._snapshot: SessionFacts | None = None
        self.autonomy_score: float | None = None
        self.scenario: int | None = None
        self.autonomy_signals: dict[str, float] | None = None

    def facts(self) -> SessionFacts:
        """The facts as of now; cached until the next step changes them."""
        with self._lock:
            self._expire()
            if self._snapshot is None:
                self._snapshot = SessionFacts(
                    consequential_since_review=self._since_review,
                    consequential_last_hour=self._in_window,
                    history=tuple(self._history),
                    autonomy_score=self.autonomy_score,
                    scenario=self.scenario,
                    autonomy_signals=self.autonomy_signals,
                )
            return self._snapshot

    def observe(self, proposal: Proposal, *, reviewed: bool) -> None:
        """Fold in a step that is about to run (or was refused: it still happened)."""
        consequential = proposal.kind in CONSEQUENTIAL
        if not (consequential or reviewed or self.keep_history):
            return
        with self._lock:
            if reviewed:
                self._since_review = 0
            elif consequential:
                self._since_review += 1
            if consequential:
                self._count_now()
            if self.keep_history:
                self._history.append(_past(proposal, reviewed))
            self._snapshot = None

    def set_autonomy(self, score: float, scenario: int, signals: dict[str, float]) -> None:
        """The session's autonomy as of its latest scored step (see oversight.autonomy.live)."""
        with self._lock:
            self.autonomy_score, self.scenario, self.autonomy_signals = score, scenario, signals
            self._snapshot = None

    def _count_now(self) -> None:
        second = int(self._clock() // BUCKET_S)
        window = self._window
        if window and window[-1][0] == second:
            window[-1][1] += 1
        else:
            window.append([second, 1])
        self._in_window += 1

    def _expire(self) -> None:
        horizon = self._clock() - WINDOW_S
        window = self._window
        changed = False
        while window and (window[0][0] + 1) * BUCKET_S <= horizon:
            self._in_window -= window.popleft()[1]
            changed = True
        if changed:
            self._snapshot = None


def _past(proposal: Proposal, reviewed: bool) -> PastStep:
    return PastStep(
        seq=proposal.seq,
        kind=proposal.kind,
        name=proposal.name,
        flags=proposal.flags,
        targets=proposal.targets,
        reviewed=reviewed,
    )
