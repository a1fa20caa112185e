"""What enforcing at the effect costs a step, and the adversarial corpus's long version.

Per step, wall-clock and amortised over many steps:
- baseline: the command run as an agent's shell tool runs it (`bash -c`, a plain subprocess);
- sandboxed: the same command under bubblewrap with a confined grant (`run_sandboxed`);
- executor: `run_command` end to end: decide (classify, policy), record write-ahead, find the
  workspace's protected files, sandbox, record the outcome (SQLite store, FULL sync).
Then every case of tests/adversarial run for real through the executor (gate + sandbox, and
the sandbox alone), with its figures and how long the corpus took.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import header
from oversight import Monitor
from oversight.executor import run_command
from oversight.sandbox import Capabilities, available, run_sandboxed

ROOT = Path(__file__).resolve().parent.parent
STEPS = 40


def _per_step(fn: object, n: int = STEPS) -> float:
    fn()  # type: ignore[operator]  # warm up
    t0 = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - t0) / n * 1000


def main() -> None:
    header("sandboxed executor: cost per step, and the adversarial corpus run for real")
    status = available()
    if not status.available:
        print(f"SKIPPED: no sandbox here ({status.reason}). {status.hint}")
        return
    workspace = Path(tempfile.mkdtemp(prefix="oversight-bench-", dir="/var/tmp"))
    try:
        for i in range(200):  # a small project: some code, evaluation code, data
            (workspace / f"module_{i}.py").write_text("x = 1\n")
        (workspace / "evaluate.py").write_text("def accuracy(p, r): return 1.0\n")
        (workspace / "data").mkdir()
        (workspace / "data" / "train.jsonl").write_text("{}\n")
        caps = Capabilities.confined(workspace)
        plain = _per_step(lambda: subprocess.run(["bash", "-c", "true"], cwd=workspace, check=True))
        boxed = _per_step(lambda: run_sandboxed(["bash", "-c", "true"], caps))
        monitor = Monitor(db=str(workspace.parent / f"{workspace.name}.db"), log="none")
        try:
            with monitor.session("bench"):
                executed = _per_step(
                    lambda: run_command(monitor, "echo hi > out.txt", cwd=workspace)
                )
        finally:
            monitor.close()
        print(f"plain subprocess (baseline)   {plain:8.2f} ms/step")
        print(
            f"sandboxed (bubblewrap)        {boxed:8.2f} ms/step   {boxed / plain:5.1f}x baseline"
        )
        print(
            f"executor (decide+record+box)  {executed:8.2f} ms/step   {executed / plain:5.1f}x baseline"
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        Path(f"{workspace}.db").unlink(missing_ok=True)

    sys.path.insert(0, str(ROOT / "tests"))
    from adversarial.enforce import measure_effects, report

    t0 = time.perf_counter()
    figures = measure_effects()
    took = time.perf_counter() - t0
    print(report(figures))
    print(
        f"({len(figures.ran)} runs in {took:.0f} s, {took / max(len(figures.ran), 1) * 1000:.0f} ms each)"
    )


if __name__ == "__main__":
    main()
