"""A Monitor enforcing a policy pack, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oversight import CheckpointDenied, ConfigError, Monitor, SessionHalted
from oversight.records import SessionStarted, StepFinished, StepProposed
from oversight.store import open_store


def records(db: Path, session_id: str) -> list[object]:
    with open_store(f"sqlite:///{db}") as store:
        return [s.record for s in store.iter_records(session_id)]


def test_research_default_allows_gates_and_halts(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="research-default") as mon:
        with pytest.raises(SessionHalted), mon.session("s"):
            mon.check("Bash", {"command": "ls -la"}).succeed("ok")
            with pytest.raises(CheckpointDenied, match="0 registered"):
                mon.check("Bash", {"command": "git push origin main"})
            mon.check("Bash", {"command": "rm -rf .oversight"})
    recorded = records(db, "s")
    started = recorded[0]
    assert isinstance(started, SessionStarted)
    assert started.policy == "research-default" and started.policy_hash
    proposals = [r for r in recorded if isinstance(r, StepProposed)]
    assert [p.decision for p in proposals] == ["allow", "require_approval", "halt"]
    assert all(p.policy_hash == started.policy_hash for p in proposals)
    assert all(p.rule for p in proposals)
    outcomes = [r.status for r in recorded if isinstance(r, StepFinished)]
    assert outcomes == ["ok", "denied", "halted"]


def test_oversight_policy_selects_the_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_POLICY", "strict")
    with Monitor(db=str(tmp_path / "o.db"), log="none") as mon, mon.session("s"):
        assert mon.policy_name == "strict"
        with pytest.raises(CheckpointDenied):
            mon.check("Bash", {"command": "python experiments/run.py"})


def test_an_unknown_pack_is_refused_naming_the_packs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="research-default"):
        Monitor(db=str(tmp_path / "o.db"), log="none", policy="reseach-default")


def test_the_default_policy_is_research_default_and_fails_closed_without_reviewers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OVERSIGHT_POLICY", raising=False)
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none") as mon, mon.session("s"):
        assert mon.policy_name == "research-default"
        mon.check("Bash", {"command": "python experiments/sweep.py"}).succeed("ran")
        with pytest.raises(CheckpointDenied, match="oversight reviewer add"):
            mon.check("Bash", {"command": "git push origin main"})
    sweep, push = [r for r in records(db, "s") if isinstance(r, StepProposed)]
    assert sweep.decision == "allow" and push.decision == "require_approval"
    assert push.rule == "gate-code-apply" and push.policy_hash


def test_record_only_records_and_allows_every_step(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="record-only") as mon, mon.session("s"):
        mon.check("Bash", {"command": "git push origin main"}).succeed("pushed")
    (proposal,) = [r for r in records(db, "s") if isinstance(r, StepProposed)]
    assert proposal.decision == "allow"
    assert proposal.decision_reason == "no policy enforced: recording only"


def test_replay_with_a_policy_prints_each_steps_decision_and_rule(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    lines = [
        {"session": "a", "tool": "Read", "args": {"file_path": "train.py"}},
        {
            "session": "a",
            "tool": "Bash",
            "args": {"command": "torchrun --nproc_per_node 8 train.py"},
        },
        {"session": "a", "tool": "Bash", "args": {"command": "pkill -f oversight"}},
    ]
    trace.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "oversight",
            "replay",
            str(trace),
            "--policy",
            "research-default",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    steps = json.loads(out.stdout)["steps"]
    assert [s["decision"] for s in steps] == ["allow", "require_approval", "halt"]
    assert all(s["rule"] for s in steps)
