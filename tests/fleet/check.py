"""What a fleet run left in the store, checked against what its agents say they did.

Every step's proposal and outcome stored exactly once, each session's step seqs contiguous from
1, the chain verifying, every approval asked for decided and run by the step that asked (the
step's outcome names it and its approver), and the agents' own ground truth (each step ran once)
agreeing with the store. `problems()` lists every way the run fell short; empty is a pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from fleet.run import FleetRun
from oversight.records import StepFinished, StepProposed
from oversight.store import open_store


@dataclass
class Findings:
    records: int = 0
    """Records in the store (the chain head's seq)."""
    verified: bool = False
    verify_problem: str | None = None
    steps: int = 0
    """Steps the agents ran (their own count)."""
    proposals: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    """Stored step outcomes by status."""
    refused: int = 0
    """Step attempts the store refused (the agents' count); each is stored as not_run."""
    duplicate_records: int = 0
    duplicate_proposals: int = 0
    duplicate_outcomes: int = 0
    without_outcome: int = 0
    without_proposal: int = 0
    seq_broken: list[str] = field(default_factory=list)
    """Sessions whose step seqs are not 1..N."""
    agent_problems: list[str] = field(default_factory=list)
    approvals_expected: int = 0
    approvals_requested: int = 0
    approvals_by_status: Counter[str] = field(default_factory=Counter)
    approvals_reached: int = 0
    """Approved, used by the step that asked, and run by that agent with its approver named."""
    approvals_abandoned: int = 0
    """Asked for by a step the store then refused (an outage): that step never ran."""
    approval_problems: list[str] = field(default_factory=list)
    votes: int = 0
    review_latency_s: list[float] = field(default_factory=list)

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.verified:
            out.append(f"the chain does not verify: {self.verify_problem}")
        for name in (
            "duplicate_records", "duplicate_proposals", "duplicate_outcomes",
            "without_outcome", "without_proposal",
        ):  # fmt: skip
            if getattr(self, name):
                out.append(f"{name.replace('_', ' ')}: {getattr(self, name)}")
        if self.outcomes["ok"] != self.steps:
            out.append(f"{self.outcomes['ok']} steps stored as run, the agents ran {self.steps}")
        if self.outcomes["not_run"] != self.refused:
            out.append(
                f"{self.outcomes['not_run']} steps stored as not run, {self.refused} refused"
            )
        others = {k: v for k, v in self.outcomes.items() if k not in ("ok", "not_run")}
        if others:
            out.append(f"unexpected step outcomes: {others}")
        out += [f"seq not contiguous in {s}" for s in self.seq_broken]
        out += self.agent_problems + self.approval_problems
        if self.approvals_reached + self.approvals_abandoned != self.approvals_requested:
            out.append(
                f"{self.approvals_requested} approvals asked for, {self.approvals_reached} "
                f"reached their agent, {self.approvals_abandoned} abandoned by a refused step"
            )
        if self.approvals_reached != self.approvals_expected:
            out.append(
                f"{self.approvals_reached} approved steps ran, {self.approvals_expected} expected"
            )
        return out


def check_fleet(run: FleetRun) -> Findings:
    found = Findings(approvals_expected=run.workload.approvals)
    agents = {a["name"]: a for a in run.agents}
    _check_agents(run, found)
    proposed: dict[str, dict[str, StepProposed]] = defaultdict(dict)
    finished: dict[tuple[str, str], StepFinished] = {}
    seqs: dict[str, list[int]] = defaultdict(list)
    ids: Counter[str] = Counter()
    with open_store(run.url, create=False) as store:
        found.records = store.head()[0]
        for stored in store.iter_records(batch=5000):
            record = stored.record
            ids[record.id] += 1
            if isinstance(record, StepProposed):
                found.proposals += 1
                if record.step_id in proposed[record.session_id]:
                    found.duplicate_proposals += 1
                proposed[record.session_id][record.step_id] = record
                seqs[record.session_id].append(record.seq)
            elif isinstance(record, StepFinished):
                key = (record.session_id, record.step_id)
                if key in finished:
                    found.duplicate_outcomes += 1
                else:
                    found.outcomes[record.status] += 1
                finished[key] = record
        report = store.verify()
        approvals = store.approvals()
        found.votes = sum(len(store.votes(str(a["id"]))) for a in approvals)
    found.verified, found.verify_problem = (
        report.ok,
        (str(report.first_problem) if report.first_problem else None),
    )
    found.duplicate_records = sum(n - 1 for n in ids.values() if n > 1)
    steps = {(s, step) for s, per in proposed.items() for step in per}
    found.without_outcome = len(steps - set(finished))
    found.without_proposal = len(set(finished) - steps)
    for session, numbers in sorted(seqs.items()):
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            found.seq_broken.append(session)
    missing_sessions = set(agents) - set(proposed)
    found.agent_problems += [f"no steps stored for {s}" for s in sorted(missing_sessions)]
    _check_approvals(found, approvals, proposed, finished, agents, run.workload.checkpoints)
    found.review_latency_s = sorted(x for r in run.reviewers for x in r["vote_latency_s"])
    return found


def _check_agents(run: FleetRun, found: Findings) -> None:
    problems = found.agent_problems
    problems += run.failures
    problems += [f"records spilled beside the store: {p}" for p in run.spill_files]
    if len(run.agents) != run.workload.agents:
        problems.append(f"{len(run.agents)} of {run.workload.agents} agents reported")
    for agent in run.agents:
        found.steps += agent["ran_once"]
        found.refused += agent["refused"]
        if agent["ran_twice_or_more"]:
            problems.append(f"{agent['name']} ran steps twice: {agent['ran_twice_or_more'][:5]}")
        if agent["never_ran"]:
            problems.append(f"{agent['name']} never ran steps {agent['never_ran'][:5]}")
        for error, count in agent["raised"].items():
            problems.append(f"{agent['name']}: a step raised {count}x {error}")


def _check_approvals(
    found: Findings,
    approvals: list[dict[str, Any]],
    proposed: dict[str, dict[str, StepProposed]],
    finished: dict[tuple[str, str], StepFinished],
    agents: dict[str, dict[str, Any]],
    checkpoints: bool,
) -> None:
    launches = [(name, a) for name, r in agents.items() for a in r["approvals"]]
    ran = {a["approval_id"]: (name, a) for name, a in launches if a["approval_id"] is not None}
    if checkpoints:
        found.approval_problems += [
            f"{name} launched training at step {a['i']} with no approval"
            for name, a in launches
            if a["approval_id"] is None
        ]
    found.approvals_requested = len(approvals)
    for row in approvals:
        approval_id, session, step = str(row["id"]), str(row["session_id"]), str(row["step_id"])
        found.approvals_by_status[str(row["status"])] += 1
        outcome = finished.get((session, step))
        if outcome is not None and outcome.status == "not_run":
            found.approvals_abandoned += 1
            if approval_id in ran:
                found.approval_problems.append(f"approval {approval_id} ran a refused step")
            continue
        reached = (
            row["status"] == "approved"
            and row["consumed_by"] == step
            and step in proposed.get(session, {})
            and outcome is not None
            and outcome.status == "ok"
            and outcome.approval_id == approval_id
            and bool(outcome.approved_by)
            and ran.get(approval_id, ("", {}))[0] == session
            and ran[approval_id][1]["approved_by"] == outcome.approved_by
        )
        if reached:
            found.approvals_reached += 1
        else:
            status = outcome.status if outcome else "no outcome"
            found.approval_problems.append(
                f"approval {approval_id} ({row['status']}, used by {row['consumed_by']}) did "
                f"not reach its step {step} in {session} (step {status})"
            )
    unknown = set(ran) - {str(r["id"]) for r in approvals}
    found.approval_problems += [f"an agent ran on unknown approval {a}" for a in sorted(unknown)]
