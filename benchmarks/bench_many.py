"""Many agents on one store (issue 12 item 5): 16 agent processes and 2 reviewer processes on
PostgreSQL, 4 agents on SQLite, 10,000 steps each, one step in 500 gated behind a reviewer's
signed approval; then the PostgreSQL run again with the server restarted a third of the way in.

Each run is checked as `tests/test_many_agents.py` checks its reduced form (`tests/fleet/`):
every step's proposal and outcome stored exactly once, each session's step seqs contiguous,
the chain verifying, every approval decided and run by the step that asked. The baseline is the
same agents in the same run with no checkpoints (nothing waits for a person), printed as a
ratio. Sizes: `python -m benchmarks.bench_many [AGENTS_PG [STEPS [AGENTS_SQLITE]]]`, or the
environment: OVERSIGHT_MANY_PG_AGENTS, OVERSIGHT_MANY_SQLITE_AGENTS, OVERSIGHT_MANY_STEPS,
OVERSIGHT_MANY_APPROVE_EVERY, OVERSIGHT_MANY_RESTART (0 skips the restart; it needs root and a
local `pg_ctlcluster` server). PostgreSQL: OVERSIGHT_BENCH_PG_URL or OVERSIGHT_TEST_PG_URL.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.bench_approval import _fresh_schema
from benchmarks.common import header, verdict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fleet.check import Findings, check_fleet
from fleet.run import FleetRun, Workload, restart_postgres, run_fleet


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def main(argv: list[str] | None = None) -> None:
    args = [int(a) for a in (argv or [])]
    pg_agents = args[0] if args else _int("OVERSIGHT_MANY_PG_AGENTS", 16)
    steps = args[1] if len(args) > 1 else _int("OVERSIGHT_MANY_STEPS", 10_000)
    sqlite_agents = args[2] if len(args) > 2 else _int("OVERSIGHT_MANY_SQLITE_AGENTS", 4)
    every = _int("OVERSIGHT_MANY_APPROVE_EVERY", 500)
    pg = os.environ.get("OVERSIGHT_BENCH_PG_URL") or os.environ.get("OVERSIGHT_TEST_PG_URL")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gated = Workload(sqlite_agents, steps, approve_every=every)
        _compare(
            f"SQLite: {sqlite_agents} agents x {steps:,} steps, 2 reviewers",
            "sqlite",
            lambda w, name: _checked(run_fleet(f"sqlite:///{folder / name}.db", folder / name, w)),
            gated,
        )
        if not pg:
            print("\nPostgreSQL not measured: set OVERSIGHT_BENCH_PG_URL or OVERSIGHT_TEST_PG_URL")
            return
        gated = Workload(pg_agents, steps, approve_every=every)

        def on_pg(w: Workload, name: str, **kw: object) -> Checked:
            with _fresh_schema(pg) as url:  # checked before the schema is dropped
                return _checked(run_fleet(url, folder / name, w, **kw))  # type: ignore[arg-type]

        _compare(
            f"PostgreSQL: {pg_agents} agents x {steps:,} steps, 2 reviewers", "pg", on_pg, gated
        )
        if _int("OVERSIGHT_MANY_RESTART", 1):
            header(f"PostgreSQL restarted mid-run: {pg_agents} agents x {steps:,} steps")
            _report(*on_pg(gated, "pg-restart", restart=restart_postgres, restart_at=0.3))


Checked = tuple[FleetRun, Findings]


def _checked(run: FleetRun) -> Checked:
    return run, check_fleet(run)


def _compare(title: str, name: str, run: Callable[..., Checked], gated: Workload) -> None:
    header(title)
    with_checkpoints, found = run(gated, f"{name}-gated")
    _report(with_checkpoints, found)
    ungated = Workload(gated.agents, gated.steps, gated.approve_every, checkpoints=False)
    baseline, base_found = run(ungated, f"{name}-baseline")
    ratio = (found.steps / with_checkpoints.wall_s) / (base_found.steps / baseline.wall_s)
    print(
        f"baseline, no checkpoints          {base_found.steps / baseline.wall_s:10,.0f} steps/s"
        f"   {base_found.records / baseline.wall_s:10,.0f} records/s   "
        f"({len(base_found.problems())} problems: {verdict(not base_found.problems())})"
    )
    for problem in base_found.problems()[:10]:
        print(f"  baseline problem: {problem[:300]}")
    print(f"with checkpoints / baseline       {ratio:10.2f}x steps/s")


def _report(run: FleetRun, found: Findings) -> None:
    w = run.workload
    print(f"wall time                         {run.wall_s:10.1f} s")
    print(f"steps run (agents' own count)     {found.steps:10,}   of {w.agents * w.steps:,}")
    print(f"throughput                        {found.steps / run.wall_s:10,.0f} steps/s"
          f"   {found.records / run.wall_s:10,.0f} records/s ({found.records:,} records)")  # fmt: skip
    print(f"per agent                         {found.steps / run.wall_s / w.agents:10,.0f} steps/s")
    refused = f"{found.refused:,} (stored as not run: {found.outcomes['not_run']:,})"
    print(f"steps the store refused           {refused}")
    print(f"duplicated records / steps        {found.duplicate_records:>10} / "
          f"{found.duplicate_proposals + found.duplicate_outcomes}")  # fmt: skip
    print(f"proposals without outcome         {found.without_outcome:10}")
    print(f"outcomes without proposal         {found.without_proposal:10}")
    print(f"sessions with a seq gap           {len(found.seq_broken):10}")
    print(f"chain verifies                    {found.verified!s:>10}")
    print(
        f"approvals asked / reached agent   {found.approvals_requested:10} / "
        f"{found.approvals_reached} (expected {found.approvals_expected}, abandoned by a "
        f"refused step {found.approvals_abandoned}, votes {found.votes})"
    )
    if found.review_latency_s:
        lat = found.review_latency_s
        print(
            f"asked -> signed vote              median {statistics.median(lat):.2f} s   "
            f"p90 {lat[int(len(lat) * 0.9)]:.2f} s   max {lat[-1]:.2f} s"
        )
    slowest = max((a["slowest_step_s"] for a in run.agents), default=0.0)
    print(f"slowest single step               {slowest:10.2f} s")
    if run.restart is not None:
        r = run.restart
        print(
            f"restart                           at record {r.at_records:,}, command took "
            f"{r.command_s:.1f} s, agents still running: {r.during_run}"
            + (f", failed: {r.error}" if r.error else "")
        )
    problems = found.problems()
    for problem in problems[:10]:
        print(f"  problem: {problem[:300]}")
    if len(problems) > 10:
        print(f"  ... and {len(problems) - 10} more")
    print(f"all checks                        {verdict(not problems):>10}")


if __name__ == "__main__":
    main(sys.argv[1:])
