"""Replay reports each session's autonomy from the approvals the trace records (what happened),
never from the counterfactual decisions of a policy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oversight.kinds import Kind
from oversight.replay import TraceLine, replay, replay_document, traced_observation

PERSON = {"decision": "approve", "by": "alice", "auto": False, "latency_s": 45.0}
GRANT = {"decision": "approve", "by": "grant:g1", "auto": True}


def line(
    session: str, tool: str, minute: int, approval: dict[str, Any] | None = None, **args: Any
) -> str:
    raw: dict[str, Any] = {
        "session": session,
        "tool": tool,
        "args": args,
        "ts": f"2026-11-20T09:{minute:02d}:00Z",
    }
    if approval is not None:
        raw["approval"] = approval
    return json.dumps(raw)


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "trace.jsonl"
    path.write_text(
        "\n".join(
            [
                # "loop": no person; the launch is covered by a standing grant
                line("loop", "Write", 0, file_path="src/train.py", content="x"),
                line("loop", "Bash", 10, command="python evals/run_eval.py"),
                line(
                    "loop",
                    "Bash",
                    20,
                    GRANT,
                    command="torchrun --nproc_per_node 8 src/train.py --hours 2",
                ),
                # "checkpoints": work unreviewed, the push approved by a person
                line("checkpoints", "Bash", 0, command="python experiments/x.py"),
                line("checkpoints", "Bash", 30, PERSON, command="git push origin main"),
                # "assisted": a person decided every consequential step, one of them a denial
                line("assisted", "Read", 0, file_path="src/a.py"),
                line(
                    "assisted",
                    "Edit",
                    5,
                    PERSON,
                    file_path="src/a.py",
                    old_string="a",
                    new_string="b",
                ),
                line("assisted", "Bash", 9, {**PERSON, "decision": "deny"}, command="rm -rf data"),
                line("assisted", "Bash", 12, PERSON, command="python experiments/x.py"),
            ]
        )
        + "\n"
    )
    return path


def test_each_session_gets_its_scenario_score_and_signals(trace: Path) -> None:
    _, sessions = replay(trace)
    doc = replay_document([], sessions)["sessions"]
    assert {sid: s["scenario"] for sid, s in doc.items()} == {
        "loop": 3,
        "checkpoints": 2,
        "assisted": 1,
    }
    loop = doc["loop"]["signals"]
    assert loop["loop_closures"] == 1 and loop["automatic_reviews"] == 1
    assert loop["unreviewed_provenance"] == 1  # the launch runs the unreviewed src/train.py
    assert loop["gpu_hours"] == 16.0  # 8 processes for 2 hours
    assert doc["assisted"]["signals"]["human_denials"] == 1
    assert 2 / 3 <= doc["loop"]["score"] <= 1.0
    assert doc["assisted"]["score"] < 1 / 3


def test_a_policy_does_not_change_the_recorded_autonomy(trace: Path) -> None:
    _, plain = replay(trace)
    from oversight.policy import load_policy

    _, decided = replay(trace, decider=load_policy("strict"))
    for sid in plain:
        a, b = plain[sid].autonomy, decided[sid].autonomy
        assert a is not None and b is not None
        assert (a.scenario, a.score, a.signals) == (b.scenario, b.score, b.signals)


def test_the_review_wait_comes_from_the_recorded_latency(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    fast = {**PERSON, "latency_s": 0.4}
    path.write_text(line("s", "Bash", 0, fast, command="git push origin main") + "\n")
    _, sessions = replay(path)
    snap = sessions["s"].autonomy
    assert snap is not None
    assert snap.signals["fast_approvals"] == 1
    assert snap.scenario == 3  # approved faster than a push can be read: no real review


def test_traced_observation_maps_the_recorded_approval() -> None:
    base = {"session": "s", "tool": "Bash", "args": {"command": "x"}}
    kinds = (Kind.TRAIN_LAUNCH, frozenset[str](), ("torchrun",), {"config": "configs/a.yaml"}, 5.0)

    def observe(approval: dict[str, Any] | None):  # type: ignore[no-untyped-def]
        trace_line = TraceLine.model_validate({**base, "approval": approval})
        return traced_observation(1, trace_line, *kinds)

    none, person, robot = observe(None), observe(PERSON), observe(GRANT)
    denied = observe({**PERSON, "decision": "deny"})
    assert (none.review, none.ran) == ("none", True)
    assert (person.review, person.approvers, person.review_wait_s) == ("human", ("alice",), 45.0)
    assert (robot.review, robot.approvers, robot.review_wait_s) == ("automatic", (), None)
    assert (denied.review, denied.ran, denied.human_denied) == ("human", False, True)
    assert none.targets == ("torchrun", "configs/a.yaml") and none.ts == 5.0


def test_replay_json_from_the_command_line_carries_autonomy(trace: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "oversight", "replay", str(trace), "--json"],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    sessions = json.loads(out.stdout)["sessions"]
    assert sessions["loop"]["scenario"] == 3
    assert set(sessions["loop"]) >= {"scenario", "score", "signals", "human_approvals"}
    text = subprocess.run(
        [sys.executable, "-m", "oversight", "replay", str(trace)],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "autonomy, from the outcomes and approvals the trace records" in text.stdout
    assert "autonomous loop" in text.stdout


def test_a_line_whose_outcome_says_it_did_not_run_spends_nothing(tmp_path: Path) -> None:
    launch = {
        "session": "s",
        "tool": "launch_training",
        "kind": "train.launch",
        "args": {"config": "configs/rl.yaml", "gpus": 64, "hours": 12},
        "ts": "2026-11-20T09:00:00Z",
    }
    timed_out = {**launch, "outcome": {"status": "timed_out", "reason": "no decision"}}
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(launch) + "\n")
    (ran,) = replay(path)[1].values()
    path.write_text(json.dumps(timed_out) + "\n")
    steps, sessions = replay(path)
    (stopped,) = sessions.values()
    assert ran.autonomy is not None and ran.autonomy.signals["gpu_hours"] == 768.0
    assert stopped.autonomy is not None and stopped.autonomy.signals["gpu_hours"] == 0.0
    assert stopped.autonomy.signals["unreviewed_checkpoints"] == 0
    assert (steps[0].ran, stopped.not_run) == (False, 1)


def test_a_what_if_policy_sees_the_sessions_autonomy_as_a_monitor_would(tmp_path: Path) -> None:
    """Rules on autonomy signals match in a replay as they would have live: the facts carry
    the session's score as of the previous step."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "name: signals\nunmatched: {consequential: allow, other: allow}\nrules:\n"
        "  - id: no-launch-while-unreviewed\n"
        "    match: {kind: train.launch, autonomy: {review_coverage: '< 0.5'}}\n"
        "    effect: deny\n"
    )
    path = tmp_path / "t.jsonl"
    path.write_text(
        "\n".join(
            [
                line("s", "Write", 0, file_path="src/train.py", content="x"),
                line("s", "Bash", 10, command="python evals/run_eval.py"),
                line("s", "launch_training", 20, config="configs/rl.yaml", gpus=8, hours=1),
            ]
        )
        + "\n"
    )
    from oversight.policy import load_policy

    steps, _ = replay(path, decider=load_policy(str(pack)))
    assert [(s.decision, s.rule) for s in steps][-1] == ("deny", "no-launch-while-unreviewed")
