"""Replay with a decider: what a policy would have decided on recorded traces."""

from __future__ import annotations

import json
from pathlib import Path

from oversight.decide import Proposal, SessionFacts, Verdict
from oversight.replay import replay, replay_document


class _CheckpointEveryThird:
    """Gate a consequential step once two in a row ran without a person."""

    def decide(self, proposal: Proposal, facts: SessionFacts) -> Verdict:
        if facts.consequential_since_review >= 2:
            return Verdict("require_approval", "checkpoint", rule="every-third")
        return Verdict("allow", "fine", rule="default")


def test_decisions_use_session_facts_rebuilt_from_the_trace(tmp_path: Path) -> None:
    def bash(cmd: str, **extra: object) -> str:
        return json.dumps({"session": "s", "tool": "Bash", "args": {"command": cmd}, **extra})

    person = {"decision": "approve", "by": "alice", "auto": False}
    robot = {"decision": "approve", "by": "rule", "auto": True}
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        "\n".join(
            [
                bash("python exp1.py"),
                bash("python exp2.py", approval=robot),  # an automatic approval is no review
                bash("python exp3.py"),  # third unreviewed in a row: gated
                bash("python exp4.py", approval=person),
                bash("python exp5.py"),  # the person reset the count
            ]
        )
        + "\n"
    )
    steps, _ = replay(trace, decider=_CheckpointEveryThird())
    assert [(s.decision, s.rule) for s in steps] == [
        ("allow", "default"),
        ("allow", "default"),
        ("require_approval", "every-third"),
        ("require_approval", "every-third"),
        ("allow", "default"),
    ]
    doc = replay_document(steps, {})
    assert doc["steps"][2]["decision"] == "require_approval"
    assert doc["steps"][2]["rule"] == "every-third"


def test_without_a_decider_steps_carry_no_decision(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        json.dumps({"session": "s", "tool": "Read", "args": {"file_path": "a"}}) + "\n"
    )
    steps, _ = replay(trace)
    assert "decision" not in replay_document(steps, {})["steps"][0]
