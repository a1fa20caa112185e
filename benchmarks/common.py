"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    median_us: float
    p90_us: float
    mean_us: float

    def __str__(self) -> str:
        return f"median {self.median_us:8.2f} µs   p90 {self.p90_us:8.2f} µs   mean {self.mean_us:8.2f} µs"


def per_call(fn: Callable[[], object], n: int, warmup: int = 200) -> Timing:
    """Time `fn` call by call; medians resist the odd GC pause or scheduler hiccup."""
    for _ in range(warmup):
        fn()
    samples = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(n):
            t0 = clock()
            fn()
            samples.append(clock() - t0)
    finally:
        gc.enable()
    samples.sort()
    return Timing(
        median_us=samples[len(samples) // 2] / 1000,
        p90_us=samples[int(len(samples) * 0.9)] / 1000,
        mean_us=statistics.fmean(samples) / 1000,
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def header(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))
