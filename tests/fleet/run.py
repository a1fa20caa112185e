"""Start a fleet (agents and reviewers as real processes on one store), run it, collect it.

`run_fleet` registers the reviewers (`oversight reviewer add`, endorsed by a root admin), starts
them, starts every agent, lets all agents go at once and times them to the last exit. With
`restart` it also restarts the PostgreSQL server once the store holds `restart_at` of the
records expected: the agents keep running through it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.errors import StoreError
from oversight.store import open_store

HERE = Path(__file__).resolve().parent
REVIEWERS = ("alice", "bob")
PG_RESTART = ("pg_ctlcluster", "15", "main", "restart")

GATED_PACK = """
name: many-agents
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-training
    match: {kind: [train.launch]}
    reason: training needs a person
"""
GATE = "    effect: require_approval\n    approval: {role: approver, quorum: 1, timeout_s: 600}\n"
NO_GATE = "    effect: allow\n"


@dataclass(frozen=True)
class Workload:
    agents: int
    steps: int
    approve_every: int = 500
    """Every this many steps one needs a reviewer's approval; 0: none does."""
    act_every: int = 10
    """Every this many steps one is consequential (written ahead); the rest are cheap."""
    reviewers: int = 2
    checkpoints: bool = True
    """False: the same steps, but the policy allows training launches without a person."""
    give_up_s: float = 120.0
    """An agent whose step is refused this long stops (exit 1) instead of retrying."""

    @property
    def approvals(self) -> int:
        """Approvals the agents ask for (without refusals in between)."""
        if not (self.checkpoints and self.approve_every):
            return 0
        return self.agents * (self.steps // self.approve_every)


@dataclass
class Restart:
    """A server restart in the middle of a run, as it happened."""

    at_records: int = 0
    """Records in the store when the restart began."""
    command_s: float = 0.0
    """How long the restart command took."""
    during_run: bool = False
    """Whether every agent was still running when the server came back."""
    error: str | None = None


@dataclass
class FleetRun:
    url: str
    workload: Workload
    wall_s: float
    agents: list[dict[str, Any]]
    reviewers: list[dict[str, Any]]
    failures: list[str] = field(default_factory=list)
    """Processes that exited badly, with their stderr's last lines."""
    restart: Restart | None = None
    spill_files: list[str] = field(default_factory=list)
    """Records a monitor could not write and saved beside it: must be none."""


def write_pack(folder: Path, *, gated: bool) -> Path:
    pack = folder / ("gated.yaml" if gated else "ungated.yaml")
    pack.write_text(GATED_PACK + (GATE if gated else NO_GATE), encoding="utf-8")
    return pack


def register_reviewers(url: str, keys: Path, names: Sequence[str] = REVIEWERS) -> None:
    """A root admin and each name as an approver it endorses, through `oversight reviewer add`."""
    keys.mkdir(parents=True, exist_ok=True)
    root = keys / "root.pem"
    _cli("reviewer", "add", "root", "--role", "admin", "--key-out", str(root), "--db", url)
    for name in names:
        _cli(
            "reviewer", "add", name, "--key-out", str(keys / f"{name}.pem"),
            "--as", "root", "--key", str(root), "--db", url,
        )  # fmt: skip


def run_fleet(
    url: str,
    folder: Path,
    workload: Workload,
    *,
    restart: Callable[[], None] | None = None,
    restart_at: float = 0.3,
    timeout_s: float = 3600.0,
) -> FleetRun:
    """Run `workload` on the store at `url` (created if need be), with scratch files in
    `folder`; `restart` (e.g. `restart_postgres`) is called once the store holds `restart_at` of
    the expected records."""
    folder.mkdir(parents=True, exist_ok=True)
    open_store(url).close()
    pack = write_pack(folder, gated=workload.checkpoints)
    names = REVIEWERS[: workload.reviewers]
    keys = folder / "keys"
    if names:
        register_reviewers(url, keys, names)
    env = {**os.environ, "OVERSIGHT_SPILL_DIR": str(folder / "spill"), "OVERSIGHT_NOTICE": "none"}
    stop = folder / "stop"
    stop.unlink(missing_ok=True)
    reviewer_procs = []
    for k, n in enumerate(names):
        config = {
            "url": url, "name": n, "key": str(keys / f"{n}.pem"), "stop": str(stop),
            "share": k, "of": len(names), "out": str(folder / f"reviewer-{n}.json"),
        }  # fmt: skip
        reviewer_procs.append(_start("reviewer", config, env, folder / f"reviewer-{n}.err"))
    agent_procs = []
    for i in range(workload.agents):
        config = {
            "url": url, "name": f"agent-{i}", "steps": workload.steps,
            "approve_every": workload.approve_every, "act_every": workload.act_every,
            "pack": str(pack), "give_up_s": workload.give_up_s,
            "out": str(folder / f"agent-{i}.json"),
        }  # fmt: skip
        agent_procs.append(_start("agent", config, env, folder / f"agent-{i}.err", stdin=True))
    failures: list[str] = []
    restarted: Restart | None = None
    try:
        for proc in agent_procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line != "ready\n":
                raise RuntimeError(f"an agent did not start: {line!r} {_tail(proc)}")
        t0 = time.perf_counter()
        for proc in agent_procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.close()
        if restart is not None:
            expected = workload.agents * (2 * workload.steps + 2)
            restarted = _restart_when(url, int(expected * restart_at), restart, agent_procs)
        deadline = time.monotonic() + timeout_s
        for proc in agent_procs:
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            if code != 0:
                failures.append(f"agent exited {code}: {_tail(proc)}")
        wall = time.perf_counter() - t0
        stop.touch()
        for proc in reviewer_procs:
            code = proc.wait(timeout=120)
            if code != 0:
                failures.append(f"reviewer exited {code}: {_tail(proc)}")
    finally:
        for proc in (*agent_procs, *reviewer_procs):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    return FleetRun(
        url=url,
        workload=workload,
        wall_s=wall,
        agents=_reports(folder, "agent-*.json"),
        reviewers=_reports(folder, "reviewer-*.json"),
        failures=failures,
        restart=restarted,
        spill_files=sorted(str(p) for p in (folder / "spill").glob("*")),
    )


def restart_postgres() -> None:
    """Restart the local PostgreSQL server (as `.ci/pg-setup.sh` set it up; needs root)."""
    subprocess.run(PG_RESTART, check=True, capture_output=True, timeout=120)


def _restart_when(
    url: str, records: int, restart: Callable[[], None], agents: list[subprocess.Popen[str]]
) -> Restart:
    """Wait until the store holds `records` records (or the agents are done), then restart."""
    done = Restart()
    with open_store(url) as store:
        while all(p.poll() is None for p in agents):
            try:
                done.at_records = store.head()[0]
            except StoreError:
                pass
            if done.at_records >= records:
                break
            time.sleep(0.05)
    t0 = time.perf_counter()
    try:
        restart()
    except (OSError, subprocess.SubprocessError) as exc:
        done.error = repr(exc)
    done.command_s = time.perf_counter() - t0
    done.during_run = all(p.poll() is None for p in agents)
    return done


def _start(
    script: str, config: dict[str, Any], env: dict[str, str], err: Path, *, stdin: bool = False
) -> subprocess.Popen[str]:
    with err.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, str(HERE / f"{script}.py"), json.dumps(config)],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            env=env,
        )


def _tail(proc: subprocess.Popen[str]) -> str:
    """The last lines the process wrote to its stderr file."""
    path = Path(json.loads(proc.args[2])["out"]).with_suffix(".err")  # type: ignore[index]
    lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return " | ".join(lines[-3:])


def _reports(folder: Path, pattern: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob(pattern))]


def _cli(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oversight", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"oversight {' '.join(args[:2])} failed: {done.stderr.strip()}")
