"""Crashes, the long version: an acting agent killed with SIGKILL at 100 random moments.

Each run counts the consequential steps that ran (the agent's own effects file), those whose
proposal and decision were stored before they ran (must be all), those killed mid-way (shown as
interrupted) and whether the chain verified. `tests/test_crash_kill9.py` runs 12.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import header, verdict

ROOT = Path(__file__).resolve().parent.parent
RUNS = 100


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_crash_kill9 import kill_once

    header(f"kill -9 at random points: {RUNS} runs")
    rng = random.Random(2026)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [kill_once(Path(tmp), run, rng.uniform(0.5, 3.0)) for run in range(RUNS)]
    took = time.perf_counter() - t0
    ran = sum(r.effects for r in runs)
    missing = sum(len(r.missing) for r in runs)
    unfinished = sum(r.unfinished for r in runs)
    hidden = sum(len(r.not_shown_interrupted) for r in runs)
    verified = sum(r.verified for r in runs)
    print(f"consequential steps that ran          {ran:8,}")
    print(f"  without a stored proposal+decision  {missing:8,}   {verdict(missing == 0)}")
    print(f"killed mid-step (no outcome)          {unfinished:8,}")
    print(f"  not shown as interrupted            {hidden:8,}   {verdict(hidden == 0)}")
    print(
        f"runs whose chain verified             {verified:5}/{RUNS}   {verdict(verified == RUNS)}"
    )
    print(f"({took:.0f} s)")


if __name__ == "__main__":
    main()
