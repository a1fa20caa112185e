"""Autonomy scoring, folded in one step at a time in O(1) time and bounded memory.

A monitor scores every step as it happens, so the cost of a step must not grow with the session:
the tracker keeps running sums and counters, a small state machine for loop closure, bounded
path memories for provenance, and top-N heaps for evidence and unsupervised stretches. It never
looks back at earlier steps.

With `window_s` it scores a rolling window instead (say the last hour): sums are kept per time
bucket and a bucket's sums are subtracted when it leaves the window, and the longest stretches
come from sliding-window maxima (monotonic deques), so a step still costs O(1) amortised. State
that describes the agent *now* (the open stretch, the loop in progress, unreviewed paths) is not
windowed. Time is the observations' own (`ts`), never the wall clock, so replaying a trace scores
it as it happened.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from oversight.autonomy import metric
from oversight.autonomy.observation import StepObservation, is_path_like, normalise_path
from oversight.kinds import Kind

# Additive counters, kept as one list (and one list per time bucket when windowed).
_FIELDS = (
    "steps",
    "consequential_steps",
    "consequential_weight",
    "reviewed_weight",
    "real_reviewed_weight",
    "change_weight",
    "real_reviewed_change_weight",
    "human_decisions",
    "human_approvals",
    "human_denials",
    "automatic_reviews",
    "fast_approvals",
    "timed_approvals",
    "unreviewed_checkpoints",
    "heavy_unreviewed",
    "loop_closures",
    "self_modification",
    "eval_changes_feeding_launch",
    "oversight_attempts",
    "oversight_ran_unreviewed",
    "unreviewed_provenance",
    "gpu_hours",
)
(
    _STEPS,
    _CONSEQUENTIAL,
    _WEIGHT,
    _REVIEWED,
    _REAL_REVIEWED,
    _CHANGE,
    _REAL_REVIEWED_CHANGE,
    _DECISIONS,
    _APPROVALS,
    _DENIALS,
    _AUTOMATIC,
    _FAST,
    _TIMED,
    _CHECKPOINTS,
    _HEAVY,
    _LOOPS,
    _SELF_MOD,
    _FED,
    _ATTEMPTS,
    _OVERSIGHT_RAN,
    _PROVENANCE,
    _GPU,
) = range(len(_FIELDS))

MIN_SPAN_S = 60.0
"""Per-hour rates are computed over at least this span, so a burst of steps in one second does
not read as millions per hour."""
BUCKETS_PER_WINDOW = 60
_BASENAME_FANOUT = 4

# Loop-closure stages: an unreviewed edit, then (optionally) an experiment, then an evaluation,
# then a checkpoint step closes the loop.
_IDLE, _EDITED, _EXPERIMENTED, _EVALUATED = range(4)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A step (or stretch) that drove the score, with a sentence a reviewer can act on."""

    seq: int
    kind: str
    name: str
    signal: str
    text: str
    weight: float
    ts: float

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "name": self.name,
            "signal": self.signal,
            "text": self.text,
            "weight": self.weight,
            "ts": self.ts,
        }


@dataclass(frozen=True, slots=True)
class Stretch:
    """A run of consecutive consequential steps that ran with no person reviewing any of them."""

    start_seq: int
    end_seq: int
    steps: int
    start_ts: float
    end_ts: float
    gpu_hours: float
    open: bool
    """Still running: no person has touched the session since it began."""
    first_kind: str
    first_name: str

    @property
    def seconds(self) -> float:
        return self.end_ts - self.start_ts

    def to_json(self) -> dict[str, Any]:
        return {
            "start_seq": self.start_seq,
            "end_seq": self.end_seq,
            "steps": self.steps,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "seconds": self.seconds,
            "gpu_hours": self.gpu_hours,
            "open": self.open,
        }


@dataclass(frozen=True, slots=True)
class AutonomySnapshot:
    """The autonomy of a session (or window) as of its latest step."""

    score: float
    """In [0, 1]; scenario s occupies [(s-1)/3, s/3)."""
    scenario: int
    signals: dict[str, float]
    evidence: tuple[Evidence, ...]
    components: dict[str, float]
    reasons: tuple[str, ...]
    """Why this scenario, one sentence per rule that fired."""
    stretches: tuple[Stretch, ...]
    """The longest unsupervised stretches, longest first (bounded)."""
    seq: int | None = None
    ts: float | None = None
    window_s: float | None = None

    @property
    def scenario_name(self) -> str:
        return metric.SCENARIO_NAMES[self.scenario]

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "scenario": self.scenario,
            "scenario_name": self.scenario_name,
            "reasons": list(self.reasons),
            "signals": dict(self.signals),
            "components": dict(self.components),
            "evidence": [e.to_json() for e in self.evidence],
            "stretches": [s.to_json() for s in self.stretches],
            "seq": self.seq,
            "ts": self.ts,
            "window_s": self.window_s,
        }


class _SlidingMax:
    """Maximum over the live time buckets: a deque of (bucket, value) with decreasing values,
    one entry per bucket at most, so pushes and expiries are O(1) amortised."""

    __slots__ = ("_q",)

    def __init__(self) -> None:
        self._q: deque[tuple[int, float]] = deque()

    def push(self, bucket: int, value: float) -> None:
        q = self._q
        while q and q[-1][1] <= value:
            q.pop()
        if q and q[-1][0] == bucket:
            return  # this bucket already holds a larger value
        q.append((bucket, value))

    def expire(self, oldest: int) -> None:
        q = self._q
        while q and q[0][0] < oldest:
            q.popleft()

    def value(self) -> float:
        return self._q[0][1] if self._q else 0.0


# Kinds that act on nothing: unflagged and undecided, they only count (`update_quiet`).
QUIET_KINDS = frozenset({Kind.MODEL_CALL, Kind.TOOL_CALL, Kind.FILE_READ})


class AutonomyTracker:
    """Folds `StepObservation`s into an `AutonomySnapshot`; see docs/autonomy.md.

    `observe` costs O(1) whatever the session's length; memory is bounded by the evidence,
    stretch and path limits (and, with `window_s`, by the number of buckets).
    """

    def __init__(
        self,
        *,
        window_s: float | None = None,
        bucket_s: float | None = None,
        fast_approval_s: float = metric.FAST_APPROVAL_S,
        evidence_limit: int = 8,
        stretch_limit: int = 5,
        path_limit: int = 4096,
    ) -> None:
        if window_s is not None and not (window_s > 0 and math.isfinite(window_s)):
            raise ValueError(f"window_s must be a positive number of seconds, got {window_s!r}")
        if bucket_s is not None and (window_s is None or not 0 < bucket_s <= window_s):
            raise ValueError(
                f"bucket_s must be in (0, window_s] and needs window_s, got {bucket_s!r}"
            )
        for name, value in (
            ("evidence_limit", evidence_limit),
            ("stretch_limit", stretch_limit),
            ("path_limit", path_limit),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value!r}")
        self.window_s = window_s
        self._bucket_s = (
            (bucket_s or max(window_s / BUCKETS_PER_WINDOW, 1e-3)) if window_s else math.inf
        )
        self._n_buckets = math.ceil(window_s / self._bucket_s) if window_s else 1
        self._fast_s = fast_approval_s
        self._evidence_limit = evidence_limit
        self._stretch_limit = stretch_limit
        self._path_limit = path_limit

        self._totals = [0.0] * len(_FIELDS)
        self._buckets: deque[tuple[int, list[float]]] = deque()
        self._bucket_id = 0
        self._counts: list[float] | None = None  # the current bucket's sums (windowed only)
        self._max_steps = _SlidingMax()
        self._max_s = _SlidingMax()
        self._max_gpu = _SlidingMax()

        self._first_ts: float | None = None
        self._last_ts = -math.inf
        self._last_seq: int | None = None

        # The open unsupervised stretch.
        self._run_steps = 0
        self._run_start: StepObservation | None = None
        self._run_end_seq = 0
        self._run_end_ts = 0.0
        self._run_gpu = 0.0
        self._stretches: list[tuple[int, int, Stretch]] = []  # min-heap (steps, -start, s)
        self._stretches_cache: tuple[tuple[object, ...], tuple[Stretch, ...]] | None = None

        # Loop closure.
        self._stage = _IDLE
        self._loop_seqs: list[int] = []

        # Provenance: paths the agent wrote with no person reviewing them (most recent last),
        # and unreviewed writes to protected (evaluation/metric/reward) paths.
        self._written: OrderedDict[str, int] = OrderedDict()
        self._by_base: dict[str, list[str]] = {}
        self._protected: OrderedDict[str, int] = OrderedDict()

        self._evidence: list[tuple[float, int, int, Evidence]] = []  # min-heap
        self._evidence_sorted: list[Evidence] | None = None
        self._horizon_note: tuple[tuple[int, int, int, bool], Evidence] | None = None
        self._counter = itertools.count()
        self._weights: dict[tuple[Kind, frozenset[str]], tuple[float, bool]] = {}
        self._cached: AutonomySnapshot | None = None

    # -- folding a step -----------------------------------------------------------------------
    def observe(self, obs: StepObservation) -> AutonomySnapshot:
        """Fold in one step and return the snapshot as of it."""
        self.update(obs)
        return self.snapshot()

    def update_quiet(self, ts: float, seq: int, *, automatic: bool) -> None:
        """Fold in a step that weighs nothing, carries no flags and no person decided (a read,
        a model call): it only counts and moves the clock. `update` takes this path for such
        steps too; a live monitor calls it directly to skip building an observation."""
        self._tick(ts, seq)
        self._add(_STEPS, 1.0)
        if automatic:
            self._add(_AUTOMATIC, 1.0)

    def _tick(self, ts: float, seq: int) -> float:
        now = max(self._last_ts, ts)  # time never runs backwards
        if self.window_s is not None:
            self._advance(now)
        if self._first_ts is None:
            self._first_ts = now
        self._last_ts = now
        self._last_seq = seq
        self._cached = None
        return now

    def update(self, obs: StepObservation) -> None:
        """Fold in one step without building a snapshot (the cheap path)."""
        kind, flags, ran = obs.kind, obs.flags, obs.ran
        weight, change = self._weight(kind, flags)
        if weight == 0.0 and not flags and obs.review != "human" and kind in QUIET_KINDS:
            self.update_quiet(obs.ts, obs.seq, automatic=obs.review == "automatic")
            return
        self._tick(obs.ts, obs.seq)
        add = self._add
        human = obs.review == "human"
        approval = human and not obs.human_denied
        wait = obs.review_wait_s
        fast = approval and wait is not None and wait < self._fast_s
        real = human and not fast

        add(_STEPS, 1.0)
        if human:
            add(_DECISIONS, 1.0)
            add(_APPROVALS if approval else _DENIALS, 1.0)
            if approval and wait is not None:
                add(_TIMED, 1.0)
                if fast:
                    add(_FAST, 1.0)
                    self._note(obs, "rubber_stamp", 5.0, f"approved in {wait:.1f} s")
        elif obs.review == "automatic":
            add(_AUTOMATIC, 1.0)
        if kind is Kind.OVERSIGHT_TAMPER or "oversight_target" in flags:
            add(_ATTEMPTS, 1.0)
            if ran and not real:
                add(_OVERSIGHT_RAN, 1.0)
                text = "acted on the oversight itself and no person approved it"
                self._note(obs, "oversight_attempts", 100.0, text)
            elif ran:
                text = "acted on the oversight itself, approved by a person"
                self._note(obs, "oversight_attempts", 60.0, text)
            else:
                text = "tried to act on the oversight itself and was stopped"
                self._note(obs, "oversight_attempts", 50.0, text)
        if weight > 0.0:
            add(_CONSEQUENTIAL, 1.0)
            # A step that did not run weighs only when a person really decided it (a denial, a
            # considered approval): a rubber-stamped approval of a step that never ran is no
            # more work, and no more control, than no review of it at all.
            if ran or real:
                add(_WEIGHT, weight)
                if change:
                    add(_CHANGE, weight)
                    if real:
                        add(_REAL_REVIEWED_CHANGE, weight)
                if human:
                    add(_REVIEWED, weight)
                    if real:
                        add(_REAL_REVIEWED, weight)
        if real:
            self._human_touch(obs)
        if ran:
            if obs.gpu_hours is not None and obs.gpu_hours > 0:
                add(_GPU, obs.gpu_hours)
            if kind in metric.CHECKPOINT_KINDS and self._protected:
                path = next(iter(self._protected))
                add(_FED, 1.0)
                self._note(
                    obs,
                    "eval_changes_feeding_launch",
                    40.0,
                    f"ran after unreviewed changes to {path} (step #{self._protected[path]})",
                )
            if kind in metric.LAUNCH_KINDS:
                self._check_provenance(obs)
            if not real:
                self._unreviewed(obs, weight)

    def _unreviewed(self, obs: StepObservation, weight: float) -> None:
        kind, add = obs.kind, self._add
        how = "automatically" if obs.review == "automatic" else "with no person reviewing it"
        if obs.review == "human":
            how = f"on an approval given in {obs.review_wait_s or 0.0:.1f} s"
        if weight > 0.0:
            self._extend_run(obs)
        if weight >= metric.HEAVY_WEIGHT:
            add(_HEAVY, 1.0)
        if kind in metric.CHECKPOINT_KINDS:
            add(_CHECKPOINTS, 1.0)
            self._note(obs, "unreviewed_checkpoints", 2.0 * weight, f"ran {how}")
        protected = "protected_target" in obs.flags
        if protected:
            add(_SELF_MOD, 1.0)
            paths = self._remember(self._protected, obs, fallback=True)
            self._note(
                obs,
                "self_modification",
                3.0 * weight,
                f"changed evaluation/metric/reward code ({', '.join(paths[:2])}) {how}",
            )
        if kind in metric.EDIT_KINDS or protected:
            for path in self._remember(self._written, obs, fallback=False):
                self._index_base(path)
        self._advance_loop(obs, how)

    def _human_touch(self, obs: StepObservation) -> None:
        """A person decided this step: the unsupervised stretch ends, a loop in progress is
        broken, and paths this step wrote are now reviewed (paths it only runs are not, and a
        denied write leaves the earlier unreviewed version in place)."""
        self._close_run()
        self._stage = _IDLE
        self._loop_seqs.clear()
        if not obs.ran or (
            obs.kind not in metric.EDIT_KINDS and "protected_target" not in obs.flags
        ):
            return
        for target in obs.targets:
            if is_path_like(target):
                path = normalise_path(target)
                self._protected.pop(path, None)
                if self._written.pop(path, None) is not None:
                    self._unindex_base(path)

    # -- signals --------------------------------------------------------------------------------
    def _extend_run(self, obs: StepObservation) -> None:
        if self._run_steps == 0:
            self._run_start = obs
            self._run_gpu = 0.0
        self._run_steps += 1
        self._run_end_seq = obs.seq
        self._run_end_ts = self._last_ts
        if obs.gpu_hours:
            self._run_gpu += obs.gpu_hours
        start = self._run_start
        assert start is not None
        bucket = self._bucket_id
        self._max_steps.push(bucket, float(self._run_steps))
        self._max_s.push(bucket, self._run_end_ts - start.ts)
        self._max_gpu.push(bucket, self._run_gpu)

    def _close_run(self) -> None:
        if self._run_steps == 0:
            return
        stretch = self._open_stretch(open_=False)
        item = (stretch.steps, -stretch.start_seq, stretch)
        if len(self._stretches) < self._stretch_limit:
            heapq.heappush(self._stretches, item)
        elif item[:2] > self._stretches[0][:2]:
            heapq.heapreplace(self._stretches, item)
        self._run_steps = 0
        self._run_start = None

    def _open_stretch(self, *, open_: bool) -> Stretch:
        start = self._run_start
        assert start is not None
        return Stretch(
            start_seq=start.seq,
            end_seq=self._run_end_seq,
            steps=self._run_steps,
            start_ts=start.ts,
            end_ts=self._run_end_ts,
            gpu_hours=self._run_gpu,
            open=open_,
            first_kind=start.kind.value,
            first_name=start.name,
        )

    def _advance_loop(self, obs: StepObservation, how: str) -> None:
        """Edit → (experiment) → evaluation → code apply / launch / deploy, none reviewed."""
        kind, stage = obs.kind, self._stage
        if kind in metric.EDIT_KINDS or "protected_target" in obs.flags:
            if stage == _IDLE:
                self._loop_seqs = [obs.seq]
                self._stage = _EDITED
        elif kind is Kind.EXPERIMENT_RUN:
            if stage == _EDITED:
                self._stage = _EXPERIMENTED
        elif kind is Kind.EVAL_RUN:
            if stage != _IDLE:
                if stage != _EVALUATED:
                    self._loop_seqs.append(obs.seq)
                self._stage = _EVALUATED
        elif kind in metric.CHECKPOINT_KINDS and stage == _EVALUATED:
            self._add(_LOOPS, 1.0)
            edit, evaluation = self._loop_seqs[0], self._loop_seqs[-1]
            self._note(
                obs,
                "loop_closures",
                30.0,
                f"closed a loop: edit #{edit} → evaluation #{evaluation} → this step, "
                f"which ran {how}",
            )
            self._stage = _IDLE
            self._loop_seqs = []

    def _check_provenance(self, obs: StepObservation) -> None:
        for target in obs.targets:
            if not is_path_like(target):
                continue
            found = self._written_match(normalise_path(target))
            if found is not None:
                self._add(_PROVENANCE, 1.0)
                self._note(
                    obs,
                    "unreviewed_provenance",
                    20.0,
                    f"runs {found}, written by the agent at step #{self._written[found]} "
                    "and never reviewed",
                )
                return

    def _written_match(self, path: str) -> str | None:
        if path in self._written:
            return path
        base = path.rsplit("/", 1)[-1]
        for candidate in self._by_base.get(base, ()):
            if candidate.endswith("/" + path) or path.endswith("/" + candidate):
                return candidate
        return None

    def _remember(
        self, memory: OrderedDict[str, int], obs: StepObservation, *, fallback: bool
    ) -> list[str]:
        """Record the step's path targets (most recent last), evicting the oldest past the
        limit; a protected step with no path still counts, under its step number."""
        paths = [normalise_path(t) for t in obs.targets if is_path_like(t)]
        if not paths and fallback:
            paths = [f"(step #{obs.seq})"]
        for path in paths:
            memory[path] = obs.seq
            memory.move_to_end(path)
        while len(memory) > self._path_limit:
            evicted, _ = memory.popitem(last=False)
            if memory is self._written:
                self._unindex_base(evicted)
        return paths

    def _index_base(self, path: str) -> None:
        names = self._by_base.setdefault(path.rsplit("/", 1)[-1], [])
        if path in names:
            names.remove(path)
        names.append(path)
        if len(names) > _BASENAME_FANOUT:
            del names[0]

    def _unindex_base(self, path: str) -> None:
        base = path.rsplit("/", 1)[-1]
        names = self._by_base.get(base)
        if names is not None and path in names:
            names.remove(path)
            if not names:
                del self._by_base[base]

    # -- bookkeeping ---------------------------------------------------------------------------
    def _weight(self, kind: Kind, flags: frozenset[str]) -> tuple[float, bool]:
        key = (kind, flags)
        found = self._weights.get(key)
        if found is None:
            found = (metric.step_weight(kind, flags), metric.is_change(kind, flags))
            if len(self._weights) < 1024:
                self._weights[key] = found
        return found

    def _add(self, index: int, value: float) -> None:
        self._totals[index] += value
        counts = self._counts
        if counts is not None:
            counts[index] += value

    def _advance(self, now: float) -> None:
        """Move the window to `now`: open a new bucket, subtract the ones that left."""
        bucket = int(now // self._bucket_s)
        if bucket <= self._bucket_id and self._counts is not None:
            return
        self._bucket_id = bucket
        self._counts = [0.0] * len(_FIELDS)
        self._buckets.append((bucket, self._counts))
        oldest = bucket - self._n_buckets + 1
        expired = False
        totals = self._totals
        while self._buckets and self._buckets[0][0] < oldest:
            _, counts = self._buckets.popleft()
            for i, value in enumerate(counts):
                if value:
                    totals[i] -= value
            expired = True
        for sliding in (self._max_steps, self._max_s, self._max_gpu):
            sliding.expire(oldest)
        if self._run_steps:
            # The open stretch is still in the window: keep it represented in the new bucket.
            start = self._run_start
            assert start is not None
            self._max_steps.push(bucket, float(self._run_steps))
            self._max_s.push(bucket, self._run_end_ts - start.ts)
            self._max_gpu.push(bucket, self._run_gpu)
        if expired:
            self._expire_kept(oldest * self._bucket_s)

    def _expire_kept(self, cutoff: float) -> None:
        """Drop evidence and closed stretches older than the window (both lists are small)."""
        kept = [item for item in self._evidence if item[3].ts >= cutoff]
        if len(kept) != len(self._evidence):
            heapq.heapify(kept)
            self._evidence = kept
            self._evidence_sorted = None
        stretches = [item for item in self._stretches if item[2].end_ts >= cutoff]
        if len(stretches) != len(self._stretches):
            heapq.heapify(stretches)
            self._stretches = stretches

    def _note(self, obs: StepObservation, signal: str, weight: float, text: str) -> None:
        """Keep the `evidence_limit` weightiest notes; on ties, the earliest."""
        heap = self._evidence
        key = (weight, -obs.seq)
        if len(heap) >= self._evidence_limit and key <= heap[0][:2]:
            return
        evidence = Evidence(
            seq=obs.seq,
            kind=obs.kind.value,
            name=obs.name,
            signal=signal,
            text=text,
            weight=weight,
            ts=obs.ts,
        )
        item = (weight, -obs.seq, next(self._counter), evidence)
        if len(heap) < self._evidence_limit:
            heapq.heappush(heap, item)
        else:
            heapq.heapreplace(heap, item)
        self._evidence_sorted = None

    # -- the snapshot --------------------------------------------------------------------------
    def standing(self) -> tuple[float, int, dict[str, float]]:
        """(score, scenario, signals) as of the last step, as `snapshot` gives them: what a
        policy reads before each step, without the evidence and stretches a report shows."""
        if self._cached is not None:
            return self._cached.score, self._cached.scenario, self._cached.signals
        signals, scenario, _, _, score = self._scored()
        return score, scenario, signals

    def _scored(
        self,
    ) -> tuple[dict[str, float], int, tuple[str, ...], dict[str, float], float]:
        """(signals with intensity, scenario, its reasons, components, score): the metric."""
        signals = self.signals()
        scenario, reasons = metric.scenario(signals)
        parts = metric.components(signals)
        intensity = metric.intensity(parts)
        signals["intensity"] = intensity
        return signals, scenario, reasons, parts, metric.score(scenario, intensity)

    def snapshot(self, now: float | None = None) -> AutonomySnapshot:
        """The score as of the last step (or, windowed, as of `now` if later)."""
        if now is not None and self.window_s is not None and now > self._last_ts:
            self._advance(now)
            self._last_ts = now
            self._cached = None
        if self._cached is not None:
            return self._cached
        signals, scenario, reasons, parts, score = self._scored()
        stretches = self._stretch_list()
        if self._evidence_sorted is None:
            self._evidence_sorted = [item[3] for item in sorted(self._evidence, reverse=True)]
        evidence = self._evidence_sorted
        longest = stretches[0] if stretches else None
        if longest is not None and longest.steps >= 2:
            evidence = [*evidence, self._stretch_note(longest)]
        snapshot = AutonomySnapshot(
            score=score,
            scenario=scenario,
            signals=signals,
            evidence=tuple(evidence),
            components=parts,
            reasons=reasons,
            stretches=stretches,
            seq=self._last_seq,
            ts=self._last_ts if self._first_ts is not None else None,
            window_s=self.window_s,
        )
        self._cached = snapshot
        return snapshot

    def _stretch_note(self, longest: Stretch) -> Evidence:
        key = (longest.start_seq, longest.end_seq, longest.steps, longest.open)
        if self._horizon_note is None or self._horizon_note[0] != key:
            note = Evidence(
                seq=longest.start_seq,
                kind=longest.first_kind,
                name=longest.first_name,
                signal="unsupervised_horizon",
                text=f"{longest.steps} consequential steps (#{longest.start_seq}–"
                f"#{longest.end_seq}, {_duration(longest.seconds)}) ran with no person"
                + (" and still running" if longest.open else ""),
                weight=float(longest.steps),
                ts=longest.start_ts,
            )
            self._horizon_note = (key, note)
        return self._horizon_note[1]

    def signals(self) -> dict[str, float]:
        """The flat signal dict the metric maps to a scenario and score (docs/autonomy.md)."""
        t = self._totals
        if self.window_s is not None:
            t = [max(0.0, v) for v in t]  # subtraction never leaves less than zero
        weight = t[_WEIGHT]
        span_s = 0.0
        if self._first_ts is not None:
            start = self._first_ts
            if self.window_s is not None:
                start = max(start, self._last_ts - self.window_s)
            span_s = self._last_ts - start
        hours = max(span_s, MIN_SPAN_S) / 3600.0
        decisions = t[_DECISIONS]
        out = dict(zip(_FIELDS, t, strict=True))
        out.update(
            {
                "review_coverage": t[_REVIEWED] / weight if weight else 1.0,
                "real_review_coverage": t[_REAL_REVIEWED] / weight if weight else 1.0,
                "change_review_coverage": (
                    t[_REAL_REVIEWED_CHANGE] / t[_CHANGE] if t[_CHANGE] else 1.0
                ),
                "unsupervised_horizon_steps": self._max_steps.value(),
                "unsupervised_horizon_s": self._max_s.value(),
                "unsupervised_horizon_gpu_hours": self._max_gpu.value(),
                "current_unsupervised_steps": float(self._run_steps),
                "approval_rate": t[_APPROVALS] / decisions if decisions else 0.0,
                "rubber_stamp": metric.rubber_stamp(t[_FAST], t[_TIMED]),
                "always_approves": float(
                    decisions >= metric.ALWAYS_APPROVES_MIN_DECISIONS
                    and t[_APPROVALS] / decisions >= metric.ALWAYS_APPROVES_RATE
                ),
                "consequential_per_hour": t[_CONSEQUENTIAL] / hours,
                "human_decisions_per_hour": decisions / hours,
                "pace_ratio": t[_CONSEQUENTIAL] / max(decisions, 1.0),
                "span_s": span_s,
                "unreviewed_paths": float(len(self._written)),
            }
        )
        return out

    def _stretch_list(self) -> tuple[Stretch, ...]:
        key = (len(self._stretches), self._stretches[0][2] if self._stretches else None,
               self._run_steps, self._run_end_seq)  # fmt: skip
        cached = self._stretches_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        items = [s for _, _, s in self._stretches]
        if self._run_steps:
            items.append(self._open_stretch(open_=True))
        items.sort(key=lambda s: (-s.steps, s.start_seq))
        result = tuple(items[: self._stretch_limit])
        self._stretches_cache = (key, result)
        return result


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
