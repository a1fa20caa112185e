"""Autonomy scored live by a monitor: stored with the steps, matched and capped by policies."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from reviewing import cli, finish, register_reviewers, wait_for_pending

from oversight import CheckpointDenied, CheckpointTimeout, Monitor
from oversight.autonomy import score_records
from oversight.policy import PolicyError, load_policy
from oversight.records import StepFinished, StepProposed
from oversight.store import open_store

LOOP = [
    ("Edit", {"file_path": "src/model.py", "old_string": "a", "new_string": "b"}),
    ("Bash", {"command": "python experiments/sweep_lr.py"}),
    ("Bash", {"command": "python evals/run_eval.py --split val"}),
    ("Bash", {"command": "git push origin main"}),
    ("launch_training", {"config": "configs/big.yaml", "gpus": 8, "hours": 2}),
]


def records(db: Path, session: str) -> list:  # type: ignore[type-arg]
    with open_store(f"sqlite:///{db}") as store:
        return [r.record for r in store.iter_records(session)]


def test_scored_steps_carry_the_score_and_agree_with_scoring_the_record(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with Monitor(db=str(db), log="none", policy="observe-only", tracer_provider=provider) as mon:
        with mon.session("loop"):
            mon.check("Read", {"file_path": "README.md"}).succeed("text")
            for name, args in LOOP:
                kind = "train.launch" if name == "launch_training" else None
                mon.check(name, args, kind=kind).succeed("done")
    stored = records(db, "loop")
    finished = [r for r in stored if isinstance(r, StepFinished)]
    assert finished[0].autonomy_score is None, "a read cannot move the score: not stamped"
    stamped = [f for f in finished if f.autonomy_scenario is not None]
    assert len(stamped) == len(LOOP)
    assert [f.autonomy_scenario for f in stamped][-1] == 3, "the loop closed with nobody in it"
    assert stamped[0].autonomy_scenario < 3
    scores = [f.autonomy_score for f in stamped]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    offline = score_records(stored)["loop"]
    assert offline.scenario == stamped[-1].autonomy_scenario
    assert offline.score == pytest.approx(stamped[-1].autonomy_score)
    spans = {s.attributes.get("oversight.step_id"): s for s in exporter.get_finished_spans()}  # type: ignore[union-attr]
    last = spans[stamped[-1].step_id]
    assert last.attributes["oversight.autonomy.scenario"] == 3  # type: ignore[index]


CAPPED_PACK = """
name: capped
unmatched: {consequential: allow, other: allow}
approval: {role: approver, quorum: 1, timeout_s: 30}
max_scenario: 2
rules: []
"""

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor, CheckpointDenied
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step
    def run_shell(command):
        print("RAN", command, flush=True)

    @mon.step(kind="train.launch")
    def launch_training(config, gpus):
        print("LAUNCHED", config, gpus, flush=True)

    with mon.session("capped"):
        run_shell("python experiments/sweep_lr.py")
        run_shell("python evals/run_eval.py")
        try:
            launch_training("configs/big.yaml", 8)
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
    """
)


def test_a_capped_agent_is_stopped_for_review_and_runs_once_a_person_approves(
    tmp_path: Path,
) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    (tmp_path / "pack.yaml").write_text(CAPPED_PACK)
    (tmp_path / "agent.py").write_text(AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(tmp_path / "agent.py"), str(db), str(tmp_path / "pack.yaml")],
        stdout=subprocess.PIPE,
        text=True,
    )
    pending = wait_for_pending(db)
    assert pending["rule"] == "(max_scenario)" and pending["name"] == "launch_training"
    assert "scenario 3" in pending["reason"] and "scenario 2" in pending["reason"]
    time.sleep(2.5)  # a person reads the call; a sub-2 s approval would count as a rubber stamp
    done = cli("approve", str(pending["id"]), "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = finish(agent)
    assert "RAN python experiments/sweep_lr.py" in out and "LAUNCHED configs/big.yaml 8" in out
    stored = records(db, "capped")
    proposals = [r for r in stored if isinstance(r, StepProposed)]
    assert [p.decision for p in proposals] == ["allow", "allow", "require_approval"]
    last = [r for r in stored if isinstance(r, StepFinished)][-1]
    assert last.approved_by == ["alice"] and last.autonomy_scenario == 2


def test_a_grant_cannot_stand_in_for_the_person_a_cap_asks_for(tmp_path: Path) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    granted = cli("grant", "--kind", "train.launch", "--for", "1h", "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    pack = tmp_path / "pack.yaml"
    pack.write_text(CAPPED_PACK.replace("timeout_s: 30", "timeout_s: 1"))
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session("s"):
        with pytest.raises(CheckpointTimeout):
            mon.check("launch_training", {"config": "c.yaml"}, kind="train.launch")


def test_once_a_session_is_beyond_its_cap_every_consequential_step_needs_a_person(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(CAPPED_PACK.replace("max_scenario: 2", "max_scenario: 1"))
    with Monitor(db=str(tmp_path / "o.db"), log="none", policy=str(pack)) as mon:
        with mon.session("s"):
            mon.check("Read", {"file_path": "notes.md"}).succeed("ok")
            with pytest.raises(CheckpointDenied, match="scenario 1"):
                mon.check("Bash", {"command": "python experiments/sweep.py"})


def test_rules_match_autonomy_signals_by_name(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        textwrap.dedent(
            """
            name: signals
            unmatched: {consequential: allow, other: allow}
            rules:
              - id: no-launch-while-unreviewed
                match: {kind: train.launch, autonomy: {review_coverage: "< 0.5"}}
                effect: deny
                reason: most of this session's work was never reviewed
            """
        )
    )
    with Monitor(db=str(tmp_path / "o.db"), log="none", policy=str(pack)) as mon:
        with mon.session("fresh"), pytest.raises(CheckpointDenied, match="never reviewed"):
            for name, args in LOOP:
                kind = "train.launch" if name == "launch_training" else None
                mon.check(name, args, kind=kind).succeed("done")
        with mon.session("unscored"):
            # Nothing scored yet: an unknown signal does not match, the launch runs.
            mon.check("launch_training", {"config": "c.yaml"}, kind="train.launch").succeed()


def test_an_unknown_signal_name_is_a_policy_error_listing_the_signals(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "name: bad\nrules:\n  - id: r\n    match: {autonomy: {reviw_coverage: '< 0.5'}}\n"
        "    effect: deny\n"
    )
    with pytest.raises(PolicyError) as exc:
        load_policy(str(pack))
    assert "reviw_coverage" in str(exc.value) and "review_coverage" in str(exc.value)


def test_an_exported_trace_replays_to_the_autonomy_the_monitor_stored(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="observe-only") as mon, mon.session("loop"):
        for name, args in LOOP:
            kind = "train.launch" if name == "launch_training" else None
            mon.check(name, args, kind=kind).succeed("done")
    trace = tmp_path / "t.jsonl"
    exported = cli("export", "loop", "--db", str(db), "--as-trace", "-o", str(trace))
    assert exported.returncode == 0, exported.stderr
    first = json.loads(trace.read_text().splitlines()[0])
    assert first["approval"] == {
        "decision": "approve",
        "by": "rule observe-everything",
        "auto": True,
    }
    replayed = cli("replay", str(trace), "--json")
    assert replayed.returncode == 0, replayed.stderr
    session = json.loads(replayed.stdout)["sessions"]["loop"]
    stored = [r for r in records(db, "loop") if isinstance(r, StepFinished)]
    assert session["scenario"] == stored[-1].autonomy_scenario == 3
    assert session["score"] == pytest.approx(stored[-1].autonomy_score)
