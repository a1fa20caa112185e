"""Autonomy tracker cost per step at 10k, 100k and 1M steps: it must stay flat, and so must memory.

A monitor scores every step as it happens, so `AutonomyTracker.observe` must cost the same at
step one million as at step ten thousand. The session is a realistic mix (reads, model calls,
shell, edits, some to evaluation code, experiments, evaluations, pushes and launches decided by
people, rules or grants, a few refused, a rare tampering attempt) over 20,000 file paths, so the
provenance memory fills to its cap.

This machine's speed drifts by a factor of two from one minute to the next, so sizes are not
timed one after the other: a tracker is first grown (untimed) to each size, then the three are
timed in alternating rounds, each round observing the next BATCH steps of its own session
(generated before timing), and the median round is reported. Memory is the tracker's own,
measured with tracemalloc while it folds the whole session.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from typing import Any

from benchmarks.common import header, verdict
from oversight.autonomy import AutonomyTracker, StepObservation
from oversight.kinds import Kind

SIZES = (10_000, 100_000, 1_000_000)
BATCH = 5_000
ROUNDS = 6
CHUNK = 50_000
POOL = 100_000
FLAT = (0.8, 1.25)  # per-step cost at 1M within this factor of the cost at 10k
WINDOW_S = 3600.0
T0 = 1_790_000_000.0

_KINDS = (
    (Kind.FILE_READ, 25), (Kind.MODEL_CALL, 20), (Kind.TOOL_CALL, 5), (Kind.SHELL_EXEC, 20),
    (Kind.FILE_WRITE, 15), (Kind.EXPERIMENT_RUN, 6), (Kind.EVAL_RUN, 4), (Kind.CODE_APPLY, 2),
    (Kind.TRAIN_LAUNCH, 2), (Kind.DEPLOY, 0.5), (Kind.OVERSIGHT_TAMPER, 0.1),
)  # fmt: skip
_CHECKPOINTS = {Kind.CODE_APPLY, Kind.TRAIN_LAUNCH, Kind.DEPLOY}
_NO_FLAGS: frozenset[str] = frozenset()
_PROTECTED = frozenset({"protected_target"})
_OBFUSCATED = frozenset({"obfuscated"})
_TAMPER = frozenset({"oversight_target"})

# (kind, flags, targets, review, ran, wait, gpu_hours, human_denied, seconds since last step)
Shape = tuple[
    Kind, frozenset[str], tuple[str, ...], str, bool, float | None, float | None, bool, float
]


def shapes(seed: int = 11) -> list[Shape]:
    """POOL step shapes; a session cycles through them with increasing seq and ts."""
    rng = random.Random(seed)
    kinds = [k for k, _ in _KINDS]
    weights = [w for _, w in _KINDS]
    paths = [f"src/pkg{i % 97}/module_{i}.py" for i in range(20_000)]
    evals = [f"evals/metric_{i}.py" for i in range(50)]
    out: list[Shape] = []
    for _ in range(POOL):
        kind = rng.choices(kinds, weights)[0]
        flags: frozenset[str] = _NO_FLAGS
        targets: tuple[str, ...] = ()
        review, ran, wait, gpu, denied = "none", True, None, None, False
        if kind is Kind.FILE_WRITE:
            if rng.random() < 0.1:
                flags, targets = _PROTECTED, (rng.choice(evals),)
            else:
                targets = (rng.choice(paths),)
            if rng.random() < 0.05:
                review, wait = "human", rng.lognormvariate(3.0, 1.0)
        elif kind is Kind.SHELL_EXEC:
            targets = ("ls",) if rng.random() < 0.5 else ("python", "-c")
            flags = _OBFUSCATED if rng.random() < 0.01 else _NO_FLAGS
        elif kind in (Kind.EXPERIMENT_RUN, Kind.EVAL_RUN):
            targets, gpu = ("python", rng.choice(paths)), rng.uniform(0.0, 2.0)
        elif kind in _CHECKPOINTS:
            if kind is Kind.TRAIN_LAUNCH:
                targets, gpu = ("torchrun", rng.choice(paths)), rng.uniform(1.0, 64.0)
            roll = rng.random()
            if roll < 0.6:
                review, wait = "human", rng.lognormvariate(3.5, 1.2)
                denied = rng.random() < 0.1
                ran = not denied
            elif roll < 0.9:
                review = "automatic"
            elif roll < 0.95:
                ran = False  # refused by policy
        elif kind is Kind.OVERSIGHT_TAMPER:
            flags, ran = _TAMPER, False
        out.append((kind, flags, targets, review, ran, wait, gpu, denied, rng.uniform(1.0, 60.0)))
    return out


def chunk_at(pool: list[Shape], start: int, size: int) -> list[StepObservation]:
    """Steps start+1 .. start+size of an endless session cycling through the pool's shapes."""
    period = sum(shape[-1] for shape in pool)
    offsets = _offsets(pool)
    out: list[StepObservation] = []
    for seq in range(start + 1, start + size + 1):
        i = (seq - 1) % POOL
        kind, flags, targets, review, ran, wait, gpu, denied, _ = pool[i]
        out.append(
            StepObservation(
                seq=seq,
                ts=T0 + ((seq - 1) // POOL) * period + offsets[i],
                kind=kind,
                name=kind.value,
                flags=flags,
                targets=targets,
                ran=ran,
                review=review,  # type: ignore[arg-type]
                approvers=("alice",) if review == "human" else (),
                review_wait_s=wait,
                gpu_hours=gpu,
                human_denied=denied,
            )
        )
    return out


_OFFSETS: dict[int, list[float]] = {}


def _offsets(pool: list[Shape]) -> list[float]:
    found = _OFFSETS.get(id(pool))
    if found is None:
        found, total = [], 0.0
        for shape in pool:
            total += shape[-1]
            found.append(total)
        _OFFSETS[id(pool)] = found
    return found


class _Grown:
    """A tracker that has folded `n` steps of the session, and the rest of its session."""

    def __init__(self, pool: list[Shape], n: int, window_s: float | None) -> None:
        self.tracker = AutonomyTracker(window_s=window_s)
        self._pool = pool
        self._done = 0
        while self._done < n:
            for obs in self.take(min(CHUNK, n - self._done)):
                self.tracker.update(obs)

    def take(self, n: int) -> list[StepObservation]:
        out = chunk_at(self._pool, self._done, n)
        self._done += n
        return out


def _per_step(
    pool: list[Shape], window_s: float | None, methods: tuple[str, ...]
) -> dict[str, dict[int, float]]:
    """Median µs per step, by method and size, timed in alternating rounds."""
    grown = {n: _Grown(pool, n, window_s) for n in SIZES}
    samples: dict[str, dict[int, list[float]]] = {m: {n: [] for n in SIZES} for m in methods}
    for round_ in range(ROUNDS):
        order = SIZES if round_ % 2 == 0 else SIZES[::-1]
        for method in methods:
            for n in order:
                batch = grown[n].take(BATCH)
                fold = getattr(grown[n].tracker, method)
                gc.collect()
                gc.disable()
                t0 = time.perf_counter_ns()
                for obs in batch:
                    fold(obs)
                elapsed = time.perf_counter_ns() - t0
                gc.enable()
                samples[method][n].append(elapsed / BATCH / 1000)
    return {m: {n: statistics.median(v) for n, v in by_n.items()} for m, by_n in samples.items()}


def _memory(pool: list[Shape], n: int, window_s: float | None) -> tuple[int, int]:
    """(bytes the tracker holds after n steps, the most it held at any chunk boundary or while
    folding a chunk), measured with tracemalloc; the chunk itself is not counted."""
    _offsets(pool)  # cached before measuring
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracker = AutonomyTracker(window_s=window_s)
        held = peak = 0
        done = 0
        while done < n:
            before = tracemalloc.get_traced_memory()[0]
            chunk = chunk_at(pool, done, min(CHUNK, n - done))
            chunk_bytes = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.reset_peak()
            for obs in chunk:
                tracker.update(obs)
            tracker.snapshot()  # the tracker keeps its latest snapshot
            done += len(chunk)
            now, chunk_peak = tracemalloc.get_traced_memory()
            held = now - base - chunk_bytes
            peak = max(peak, chunk_peak - base - chunk_bytes)
            del chunk
        return held, peak
    finally:
        tracemalloc.stop()


def main() -> dict[str, Any]:
    header("autonomy tracker: cost per step at 10k / 100k / 1M steps (realistic mixed session)")
    pool = shapes()
    results: dict[str, Any] = {}
    timings = {
        "whole session": _per_step(pool, None, ("observe", "update")),
        "1 h window": _per_step(pool, WINDOW_S, ("observe",)),
    }
    for scope, by_method in timings.items():
        for method, costs in by_method.items():
            ratio = costs[SIZES[-1]] / costs[SIZES[0]]
            ok = FLAT[0] <= ratio <= FLAT[1]
            cells = "   ".join(f"{n:>9,}: {us:6.2f} µs" for n, us in costs.items())
            print(f"  {method + '(), ' + scope:26s} {cells}   1M/10k {ratio:4.2f} {verdict(ok)}")
            results[f"{scope}/{method}"] = {"us": costs, "ratio": ratio}
    for scope, window in (("whole session", None), ("1 h window", WINDOW_S)):
        mems = {n: _memory(pool, n, window) for n in SIZES}
        bounded = mems[SIZES[-1]][1] <= 1.1 * mems[SIZES[1]][1] + 64 * 1024
        cells = "   ".join(
            f"{n:>9,}: {held / 1024:6.0f} KiB (peak {peak / 1024:5.0f})"
            for n, (held, peak) in mems.items()
        )
        print(f"  {'memory, ' + scope:26s} {cells}   bounded {verdict(bounded)}")
        results[f"{scope}/memory"] = mems
    return results


if __name__ == "__main__":
    main()
