"""`oversight export --as-trace` then `oversight replay` scores what `oversight report` scores.

A real session, recorded by a Monitor, whose checkpoints real reviewers answer from their own
processes with signed votes (approve, deny, edit) or leave to time out; exported, replayed and
reported with the CLI, as a user runs them.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reviewing import cli, register_reviewers

from oversight import CheckpointDenied, CheckpointTimeout, Monitor
from oversight.approvals.broker import ApprovalRequest
from oversight.autonomy.observation import who_decided
from oversight.errors import TraceFormatError
from oversight.records import StepFinished, StepProposed, StepStatus
from oversight.replay import TraceLine, outcome_text, read_trace, trace_line, traced_decision

PACK = """
name: parity
unmatched: {consequential: allow, other: allow}
rules:
  - id: no-publishing
    match: {kind: deploy}
    effect: deny
    reason: publishing is off limits
  - id: gate-changes
    match: {kind: [file.write, code.apply]}
    effect: require_approval
    approval: {role: approver, quorum: 1, timeout_s: 60}
  - id: allow-small-launch
    match: {kind: train.launch, args: {gpus: "<= 8"}}
    effect: allow
  - id: gate-short-launch
    match: {kind: train.launch, args: {gpus: "> 8", hours: "< 12"}}
    effect: require_approval
    approval: {role: approver, quorum: 1, timeout_s: 60}
  - id: gate-long-launch
    match: {kind: train.launch, args: {hours: ">= 12"}}
    effect: require_approval
    approval: {role: approver, quorum: 1, timeout_s: 1}
"""
READING_S = 2.2  # a reviewer who reads the call, not a rubber stamp
EDITED_GPU_HOURS = 8 * 4.0  # the launch alice cut to 8 GPUs for 4 hours
TIMED_OUT_GPU_HOURS = 64 * 12.0  # the launch nobody answered


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session `lab`: a write alice approves after reading it, unreviewed experiments and an
    evaluation, a push alice denies, a publish the pack denies, a 768 GPU-hour launch nobody
    answers (it times out), and a launch alice edits down to 8 GPUs (the pack allows the edited
    call, which runs as reviewed by its editor)."""
    tmp = tmp_path_factory.mktemp("parity")
    db, keys = tmp / "o.db", tmp / "keys"
    register_reviewers(db, keys, names=("alice",))
    pack = tmp / "pack.yaml"
    pack.write_text(PACK)
    alice = ("--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))
    votes: list[threading.Thread] = []
    failures: list[str] = []

    def answer(request: ApprovalRequest) -> None:
        if request.kind == "code.apply":
            command = ["deny", request.approval_id, "--reason", "not on main", *alice]
        elif request.kind == "file.write":
            command = ["approve", request.approval_id, *alice]
        elif request.args.get("hours") == 4:
            command = ["modify", request.approval_id, "--set", "gpus=8", *alice]
        else:
            return  # the long launch: nobody answers, it times out

        def vote() -> None:
            time.sleep(READING_S)
            done = cli(*command)
            if done.returncode != 0:
                failures.append(done.stderr)

        votes.append(threading.Thread(target=vote))
        votes[-1].start()

    ran: list[str] = []
    with Monitor(db=str(db), policy=str(pack), log="none", on_approval_request=answer) as mon:

        @mon.step(name="Bash")
        def bash(command: str) -> str:
            ran.append(command)
            return "ok"

        @mon.step(name="Write")
        def write(file_path: str, content: str) -> str:
            ran.append(file_path)
            return "ok"

        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str, gpus: int, hours: int) -> str:
            ran.append(f"launch {gpus}x{hours}")
            return "job"

        with mon.session("lab", agent="research-bot"):
            write("src/model.py", "x = 1")
            bash("python experiments/sweep.py")
            bash("python evals/run_eval.py")
            with pytest.raises(CheckpointDenied):
                bash("git push origin main")
            with pytest.raises(CheckpointDenied):
                bash("twine upload dist/*")
            with pytest.raises(CheckpointTimeout):
                launch("configs/rl.yaml", gpus=64, hours=12)
            launch("configs/rl.yaml", gpus=64, hours=4)
    for thread in votes:
        thread.join()
    assert not failures, failures
    assert ran == [
        "src/model.py",
        "python experiments/sweep.py",
        "python evals/run_eval.py",
        "launch 8x4",
    ]
    return db


@pytest.fixture(scope="module")
def exported(recorded: Path) -> Path:
    trace = recorded.parent / "lab.jsonl"
    done = cli("export", "lab", "--as-trace", "--db", str(recorded), "-o", str(trace))
    assert done.returncode == 0, done.stderr
    return trace


def _json_stdout(*args: str) -> dict[str, Any]:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def _report(db: Path, tmp_path: Path) -> dict[str, Any]:
    chart = tmp_path / "lab.svg"
    return _json_stdout("report", "lab", "--db", str(db), "--json", "--out", str(chart))


def test_replaying_the_exported_trace_gives_the_score_and_scenario_of_report(
    recorded: Path, exported: Path, tmp_path: Path
) -> None:
    report = _report(recorded, tmp_path)
    replayed = _json_stdout("replay", str(exported), "--json")["sessions"]["lab"]
    assert (replayed["score"], replayed["scenario"]) == (report["score"], report["scenario"])
    assert replayed["signals"] == report["signals"]
    assert report["scenario"] == 2, report["reasons"]  # people decided every checkpoint


def test_the_timed_out_launch_spends_no_gpu_hours(
    recorded: Path, exported: Path, tmp_path: Path
) -> None:
    report = _report(recorded, tmp_path)
    replayed = _json_stdout("replay", str(exported), "--json")
    assert report["signals"]["gpu_hours"] == EDITED_GPU_HOURS
    assert replayed["sessions"]["lab"]["signals"]["gpu_hours"] == EDITED_GPU_HOURS
    (long_launch,) = [s for s in replayed["steps"] if s["outcome"]["rule"] == "gate-long-launch"]
    assert long_launch["ran"] is False
    assert long_launch["outcome"]["status"] == "timed_out"
    assert "deadline" in long_launch["outcome"]["reason"]


def test_the_trace_carries_each_steps_outcome_and_who_decided_it(exported: Path) -> None:
    lines = [json.loads(text) for text in exported.read_text().splitlines()]
    seen = [
        (line["tool"], line["outcome"]["status"], (line.get("approval") or {}).get("decision"))
        for line in lines
    ]
    assert seen == [
        ("Write", "ok", "approve"),
        ("Bash", "ok", "approve"),  # allowed by a rule: automatic
        ("Bash", "ok", "approve"),
        ("Bash", "denied", "deny"),
        ("Bash", "denied", None),  # the pack denied it: no person, no approval
        ("launch_training", "timed_out", None),
        ("launch_training", "modified", "modify"),
        ("launch_training", "ok", "approve"),  # the edited call, reviewed by its editor
    ]
    people = [line["approval"] for line in lines if line.get("approval", {}).get("auto") is False]
    assert {a["by"] for a in people} == {"alice"}
    waits = [a["latency_s"] for a in people]
    # The edited call's wait runs from the first request: its editor's reading time.
    assert all(w >= READING_S for w in waits)


def test_replay_with_a_policy_is_a_what_if_and_keeps_the_recorded_score(
    recorded: Path, exported: Path, tmp_path: Path
) -> None:
    report = _report(recorded, tmp_path)
    doc = _json_stdout("replay", str(exported), "--json", "--policy", "strict")
    assert doc["what_if_policy"] == "strict"
    lab = doc["sessions"]["lab"]
    assert (lab["score"], lab["scenario"]) == (report["score"], report["scenario"])
    # strict would have gated the experiments the recorded pack let through
    assert [s["decision"] for s in doc["steps"]][1:3] == ["require_approval"] * 2
    text = cli("replay", str(exported), "--policy", "strict")
    assert text.returncode == 0, text.stderr
    assert "what strict would decide (a what-if" in " ".join(text.stdout.split())


def test_replay_says_which_steps_did_not_run(exported: Path) -> None:
    done = cli("replay", str(exported))
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())  # the table wraps long cells
    assert "4 step(s) did not run:" in out
    for expected in (
        "Bash (code.apply): did not run: denied by alice",
        "Bash (deploy): did not run: denied (rule no-publishing)",
        "launch_training (train.launch): did not run: timed out waiting for a reviewer",
        "launch_training (train.launch): did not run: edited by alice",
    ):
        assert expected in out


def test_a_trace_without_outcomes_replays_as_before(exported: Path, tmp_path: Path) -> None:
    """Tool calls from elsewhere carry no outcome: a line ran unless a person refused it."""
    plain = tmp_path / "plain.jsonl"
    lines = [json.loads(text) for text in exported.read_text().splitlines()]
    for line in lines:
        del line["outcome"]
        if line.get("approval", {}).get("decision") == "modify":
            line["approval"]["decision"] = "approve"
    plain.write_text("".join(json.dumps(line) + "\n" for line in lines))
    doc = _json_stdout("replay", str(plain), "--json")
    assert [s["ran"] for s in doc["steps"]] == [True, True, True, False, True, True, True, True]
    assert doc["sessions"]["lab"]["signals"]["gpu_hours"] == (
        TIMED_OUT_GPU_HOURS + 64 * 4.0 + EDITED_GPU_HOURS
    )


def test_an_approval_that_contradicts_the_outcome_is_refused(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    line = {
        "session": "s",
        "tool": "Bash",
        "args": {"command": "git push origin main"},
        "approval": {"decision": "deny", "by": "alice", "auto": False},
        "outcome": {"status": "ok"},
    }
    trace.write_text(json.dumps(line) + "\n")
    with pytest.raises(TraceFormatError, match="line 1: .*'deny' needs outcome.status 'denied'"):
        list(read_trace(trace))
    bad_status = {**line, "approval": None, "outcome": {"status": "finished"}}
    trace.write_text(json.dumps(bad_status) + "\n")
    done = cli("replay", str(trace))
    assert done.returncode == 2 and "line 1: outcome.status" in done.stderr


NOW = _dt.datetime(2026, 11, 20, 9, 0, tzinfo=_dt.UTC)


def _proposal(decision: str = "require_approval", rule: str | None = "gate") -> StepProposed:
    return StepProposed(
        ts=NOW, session_id="s", step_id="p", seq=1, kind="train.launch", name="launch",
        args={"gpus": 8, "hours": 2}, args_digest="d", reason="r", decision=decision, rule=rule,  # type: ignore[arg-type]
    )  # fmt: skip


def _finished(status: StepStatus, **extra: Any) -> StepFinished:
    return StepFinished(
        ts=NOW, session_id="s", step_id="p", seq=1, kind="train.launch", status=status,
        started_at=NOW, duration_ms=1.0, **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("proposal", "outcome"),
    [
        (_proposal(), _finished("ok", approved_by=["alice"], review_wait_ms=3000.0)),
        (_proposal(), _finished("error", approved_by=["alice", "bob"])),
        (_proposal("allow", "allow-work"), _finished("ok")),
        (_proposal("allow", "allow-work"), _finished("cancelled")),
        (_proposal("allow", None), _finished("ok")),
        (_proposal(), _finished("ok", approval_id="grant:g1")),
        (_proposal(), _finished("denied", error="too big (alice)", review_wait_ms=800.0)),
        (_proposal(), _finished("denied", error="no approval channel is configured")),
        (_proposal("deny", "no-launch"), _finished("denied", error="off limits")),
        (_proposal(), _finished("timed_out", error="no decision within the deadline")),
        (_proposal("halt", "(halt switch)"), _finished("halted", error="stop")),
        (_proposal(), _finished("modified", error="edited by alice: ['gpus']")),
        (_proposal(), _finished("deferred", approval_id="a1")),
        (_proposal(), _finished("not_run", error="audit store unavailable")),
        (_proposal("allow", "allow-work"), None),
    ],
)
def test_a_trace_line_decodes_to_what_the_records_say(
    proposal: StepProposed, outcome: StepFinished | None
) -> None:
    line = TraceLine.model_validate_json(json.dumps(trace_line(proposal, outcome)))
    assert traced_decision(line) == who_decided(proposal, outcome)
    assert outcome_text(line).startswith("ran") == who_decided(proposal, outcome).ran
