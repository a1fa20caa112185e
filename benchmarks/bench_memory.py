"""Resident memory of an agent process over a long monitored session (issue 12 item 7).

One session runs N steps (default 100,000) of a realistic mix on a temp SQLite store: model
calls through a decorated function, shell commands (reads, runs of scripts the session wrote,
`cd`, listings, here-doc writes of a few KB), `Write` calls of a few KB to ever new paths, `Read`s and `Edit`s. RSS (VmRSS)
and its peak (VmHWM) are printed every 10,000 steps against the baseline before the loop, so
growth per 10k steps is visible.

`--stall` holds the store's write lock from another connection for periods (the store is slow or
down): it shows how long the recorder's queue gets, whether steps block or are refused, and that
every record the recorder could not keep in memory is counted (spilled to a file, and warned).

    python -m benchmarks.bench_memory [STEPS] [--stall] [--trace]
    OVERSIGHT_BENCH_MEMORY_STEPS=20000 python -m benchmarks memory
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import header
from oversight import Monitor, Settings
from oversight.errors import OversightError

DEFAULT_STEPS = 100_000
REPORT_EVERY = 10_000
_SCRIPT = '''"""Experiment {i}: fit a small model and print its loss."""
import json
import random

SEED = {i}
CONFIG = {{"lr": 0.00{d}, "layers": {layers}, "name": "run-{i}"}}


def batches(n):
    rng = random.Random(SEED)
    for _ in range(n):
        yield [rng.random() for _ in range(32)]


def main():
    total = 0.0
    for step, batch in enumerate(batches(100)):
        total += sum(batch) / len(batch)
        if step % 10 == 0:
            print(json.dumps({{"step": step, "loss": total / (step + 1)}}))


if __name__ == "__main__":
    main()
'''


def rss_kib() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in KiB, from /proc/self/status."""
    found = {"VmRSS:": 0, "VmHWM:": 0}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            head = line.split(None, 1)[0] if line.strip() else ""
            if head in found:
                found[head] = int(line.split()[1])
    return found["VmRSS:"], found["VmHWM:"]


@dataclass
class Outcome:
    steps: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    max_queue: int = 0
    rss_kib: list[tuple[int, int, int]] = field(default_factory=list)  # (step, rss, hwm)
    warnings: list[str] = field(default_factory=list)
    spilled_records: int = 0
    written: int = 0
    seconds: float = 0.0


def _content(i: int) -> str:
    body = _SCRIPT.format(i=i, d=i % 10, layers=i % 7 + 1)
    padding = "".join(f"# note {i}-{k}: tuned on shard {k * 7 + i}\n" for k in range(40))
    return body + padding  # about 3 KB, different for every i


def mix(monitor: Monitor, *, cheap: bool = False) -> Callable[[int], None]:
    """One step of the mix for step number i. `cheap`: model calls and reads (queued records),
    with a `Write` (write-ahead) every 50th step: against a stalled store each write-ahead step
    waits out the busy timeout and is refused, so the full mix would measure only that wait."""

    @monitor.step(kind="model.call")
    def ask_model(prompt: str, temperature: float = 0.2) -> str:
        return f"Thought: look at {prompt[-40:]}. Action: run the next experiment." * 4

    def shell(command: str, output: str) -> None:
        monitor.check("Bash", {"command": command}).succeed(output)

    def step(i: int) -> None:
        slot = i % 10
        if cheap:
            slot = 2 if i % 50 == 2 else (0, 3)[i % 2]
        folder = f"src/pkg{i % 50}"
        if slot in (0, 5):
            ask_model(f"step {i}: the last loss was {i % 97 / 10:.1f}; what next?")
        elif slot == 1:
            shell(f'grep -n "loss_{i}" {folder}/mod{i % 2000}.py', f"{i}: loss = {i}")
        elif slot == 2:
            handle = monitor.check(
                "Write", {"file_path": f"{folder}/mod{i}.py", "content": _content(i)}
            )
            handle.succeed("ok")
        elif slot == 3:
            handle = monitor.check("Read", {"file_path": f"{folder}/mod{i - 1}.py"})
            handle.succeed(_content(i - 1)[:2000])
        elif slot == 4:
            shell(f"python {folder}/mod{i - 2}.py --seed {i}", f'{{"step": 90, "loss": 0.{i}}}')
        elif slot == 6:
            shell(f"ls -la out/run{i} | head -n 20", f"total {i}")
        elif slot == 7:
            shell(f"cd /work/proj{i % 3} && git status --short", " M train.py")
        elif slot == 8:
            handle = monitor.check(
                "Edit",
                {
                    "file_path": f"{folder}/mod{i - 6}.py",
                    "old_string": f"SEED = {i - 6}",
                    "new_string": f"SEED = {i}",
                },
            )
            handle.succeed("edited")
        elif i % 20 == 9:
            shell(f"tail -n 50 logs/run{i % 100}.txt", "loss 0.1\n" * 20)
        else:  # a script written through the shell: the command itself is a few KB
            shell(f"cat > {folder}/gen{i}.py <<'EOF'\n{_content(i)}EOF", "")

    return step


def open_monitor(tmp: Path, *, stall: bool = False, warnings: list[str] | None = None) -> Monitor:
    """A monitor on a temp SQLite store under the default policy, its warnings collected."""
    settings = Settings.from_env(
        db=str(tmp / "oversight.db"),
        log=str(tmp / "events.jsonl"),
        sqlite_synchronous="NORMAL",  # the agent's memory, not fsync latency, is measured here
        busy_timeout_s=0.2 if stall else 30.0,
        notice="none",  # refusals are counted, not printed one by one
    )
    monitor = Monitor(settings=settings, workspace=tmp)
    if warnings is not None:
        monitor._recorder._on_error = warnings.append
    return monitor


def _run(steps: int, tmp: Path, *, stall: bool, trace: bool) -> Outcome:
    db = tmp / "oversight.db"
    outcome = Outcome()
    monitor = open_monitor(tmp, stall=stall, warnings=outcome.warnings)
    step = mix(monitor, cheap=stall)
    stop = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(db, stop), daemon=True)
    snapshots: list[tuple[int, tracemalloc.Snapshot]] = []
    with monitor.session("bench-memory", agent="bench"):
        for i in range(1, 1001):  # warm every cache and lazily built structure first
            run_step(step, i, outcome)
        monitor.flush()
        gc.collect()
        rss, hwm = rss_kib()
        outcome.rss_kib.append((0, rss, hwm))
        if trace:
            tracemalloc.start(12)
        if stall:
            holder.start()
        t0 = time.perf_counter()
        for i in range(1001, steps + 1001):
            run_step(step, i, outcome)
            done = i - 1000
            if i % 100 == 0:
                outcome.max_queue = max(outcome.max_queue, monitor._recorder.pending)
            if done % REPORT_EVERY == 0:
                rss, hwm = rss_kib()
                outcome.rss_kib.append((done, rss, hwm))
                _print_row(outcome, monitor)
            if trace and done in (steps // 3, steps):
                gc.collect()
                snapshots.append((done, tracemalloc.take_snapshot()))
        outcome.seconds = time.perf_counter() - t0
        stop.set()
        if stall:
            holder.join()
    outcome.steps = steps
    monitor.close()
    outcome.written = monitor._recorder.written
    outcome.spilled_records = monitor._recorder.spilled_records
    if len(snapshots) == 2:
        _print_growth(snapshots[0], snapshots[1])
    if trace:
        tracemalloc.stop()
    return outcome


def run_step(step: Callable[[int], None], i: int, outcome: Outcome) -> None:
    try:
        step(i)
    except OversightError as exc:  # refused, halted, store unavailable: the agent carries on
        name = type(exc).__name__
        outcome.refused[name] = outcome.refused.get(name, 0) + 1


def _hold_write_lock(db: Path, stop: threading.Event) -> None:
    """Another writer holds the store's write lock 2 s of every 2.5 s: the store is slow."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            stop.wait(2.0)
            conn.execute("ROLLBACK")
            stop.wait(0.5)
    finally:
        conn.close()


def _print_row(outcome: Outcome, monitor: Monitor) -> None:
    step, rss, hwm = outcome.rss_kib[-1]
    base = outcome.rss_kib[0][1]
    previous = outcome.rss_kib[-2][1] if len(outcome.rss_kib) > 1 else base
    print(
        f"step {step:>7,}   RSS {rss / 1024:7.1f} MiB   (+{(rss - base) / 1024:6.1f} since "
        f"baseline, +{(rss - previous) / 1024:5.1f} in the last {REPORT_EVERY // 1000}k)   "
        f"peak {hwm / 1024:7.1f} MiB   queued {monitor._recorder.pending:>6,}",
        flush=True,
    )


def _print_growth(
    first: tuple[int, tracemalloc.Snapshot], second: tuple[int, tracemalloc.Snapshot]
) -> None:
    print(f"\ntracemalloc: what grew between step {first[0]:,} and step {second[0]:,}")
    stats = second[1].compare_to(first[1], "traceback")
    total = sum(stat.size_diff for stat in stats)
    print(f"  total traced growth {total / 1024:.1f} KiB; by allocation site, then its caller:")
    by_site: dict[tuple[str, ...], list[int]] = {}
    for stat in stats:
        frames = [
            f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno}"
            for f in reversed(stat.traceback)  # innermost first
            if "benchmarks" not in f.filename
        ]
        site = tuple(frames[:2])
        entry = by_site.setdefault(site, [0, 0])
        entry[0] += stat.size_diff
        entry[1] += stat.count_diff
    ranked = sorted(by_site.items(), key=lambda kv: -kv[1][0])
    for site, (size, count) in ranked[:15]:
        print(f"  +{size / 1024:8.1f} KiB  {count:+7d} blocks  {' <- '.join(site)}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    numbers = [a for a in args if a.isdigit()]
    steps = int(numbers[0]) if numbers else int(os.environ.get("OVERSIGHT_BENCH_MEMORY_STEPS", "0"))
    steps = steps or DEFAULT_STEPS
    stall = "--stall" in args
    trace = "--trace" in args
    title = f"Agent process memory over {steps:,} monitored steps"
    header(title + (" (store stalled 2 s of every 2.5 s)" if stall else ""))
    with tempfile.TemporaryDirectory() as tmpdir:
        outcome = _run(steps, Path(tmpdir), stall=stall, trace=trace)
    base = outcome.rss_kib[0][1]
    last = outcome.rss_kib[-1][1]
    peak = max(h for _, _, h in outcome.rss_kib)
    later = outcome.rss_kib[1:] or outcome.rss_kib
    per_10k = (last - later[0][1]) / max(len(later) - 1, 1) / 1024
    print()
    print(f"baseline RSS (after 1,000 warm-up steps)  {base / 1024:7.1f} MiB")
    print(f"final RSS                                 {last / 1024:7.1f} MiB")
    print(f"peak RSS (VmHWM)                          {peak / 1024:7.1f} MiB")
    print(f"growth per 10k steps after the first 10k  {per_10k:7.2f} MiB")
    print(f"steps/s                                   {outcome.steps / outcome.seconds:7.0f}")
    print(f"records written                           {outcome.written:,}")
    print(f"longest recorder queue seen               {outcome.max_queue:,}")
    print(f"records spilled to a file (counted)       {outcome.spilled_records:,}")
    print(f"steps refused, by reason                  {outcome.refused or 'none'}")
    if outcome.warnings:
        print(f"warnings ({len(outcome.warnings)}), first and last:")
        print(f"  {outcome.warnings[0][:200]}")
        print(f"  {outcome.warnings[-1][:200]}")


if __name__ == "__main__":
    main()
