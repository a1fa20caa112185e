"""SWE-agent / MLGym `.traj` files: each step's action is the `bash` tool's whole command.

The trajectories here are written in the shape SWE-agent saves (sweagent/agent/agents.py:
`trajectory` steps with action/observation/state, `history`, `info`, `replay_config` as JSON
text in 1.x); no public trajectory is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oversight.classify import Classifier
from oversight.importing.formats import swe_agent
from oversight.importing.model import ImportedSession, ImportProblem
from oversight.kinds import Kind

EDIT = "edit 96:98\n    print(f'epoch {epoch}')\nend_of_edit\n"


def _traj(**extra: Any) -> dict[str, Any]:
    steps = [
        {
            "action": "open evaluate.py\n",
            "observation": "[File: /repo/evaluate.py (120 lines total)]",
            "response": "Let me look.\n```\nopen evaluate.py\n```",
            "thought": "Let me look.",
            "state": '{"open_file": "/repo/evaluate.py", "working_dir": "/repo"}',
            "execution_time": 0.2,
        },
        {
            "action": EDIT,
            "observation": "File updated.",
            "state": {"open_file": "/repo/evaluate.py"},
        },
        {"action": "submit\n", "observation": "diff --git a/x b/x"},
    ]
    data: dict[str, Any] = {
        "environment": "swe_main",
        "trajectory": steps,
        "history": [
            {"role": "system", "content": "SETTING: ..."},
            {"role": "user", "content": "Fix the metric bug", "agent": "main"},
            {"role": "assistant", "content": "Let me look.", "action": "open evaluate.py\n"},
        ],
        "info": {"exit_status": "submitted", "submission": "diff --git a/x b/x"},
        "replay_config": json.dumps({"agent": {"model": {"name": "gpt-4o"}}}),
    }
    data.update(extra)
    return data


def _read(path: Path) -> tuple[list[ImportedSession], list[ImportProblem]]:
    items = list(swe_agent.read(path))
    return (
        [i for i in items if isinstance(i, ImportedSession)],
        [i for i in items if isinstance(i, ImportProblem)],
    )


def test_each_step_is_one_bash_call_with_the_whole_action(tmp_path: Path) -> None:
    path = tmp_path / "acme__widget-7.traj"
    path.write_text(json.dumps(_traj()))
    (session,), problems = _read(path)
    assert problems == []
    assert [c.tool for c in session.calls] == ["bash", "bash", "bash"]
    assert [c.args for c in session.calls] == [
        {"command": "open evaluate.py\n"},
        {"command": EDIT},
        {"command": "submit\n"},
    ]
    assert session.calls[0].result == "[File: /repo/evaluate.py (120 lines total)]"
    assert session.model == "gpt-4o"
    assert session.metadata["exit_status"] == "submitted"
    assert session.metadata["task"] == "Fix the metric bug"
    assert session.native_id.startswith("acme__widget-7@")
    assert all(c.actor == "agent" and c.ts is None for c in session.calls)


def test_the_classifier_reads_the_imported_editor_commands(tmp_path: Path) -> None:
    path = tmp_path / "run.traj"
    path.write_text(json.dumps(_traj()))
    (session,), _ = _read(path)
    classifier = Classifier()
    kinds = [classifier.classify(c.tool, c.args).kind for c in session.calls]
    assert kinds == [Kind.FILE_READ, Kind.FILE_WRITE, Kind.CODE_APPLY]


def test_same_file_gives_the_same_id_and_another_run_another(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "x.traj").write_text(json.dumps(_traj()))
    first = _read(tmp_path / "a" / "x.traj")[0][0].native_id
    assert first == _read(tmp_path / "a" / "x.traj")[0][0].native_id
    assert first != _read(tmp_path / "b" / "x.traj")[0][0].native_id


def test_a_bad_step_is_a_problem_and_the_rest_still_reads(tmp_path: Path) -> None:
    data = _traj()
    data["trajectory"].insert(1, {"observation": "no action here"})
    data["trajectory"].append({"action": "exit_cost", "observation": "Exited"})
    path = tmp_path / "run.traj"
    path.write_text(json.dumps(data))
    (session,), (problem,) = _read(path)
    assert len(session.calls) == 3
    assert problem.source == path and problem.field == "trajectory[1].action"
    assert session.metadata["exit_action"] == "exit_cost"


def test_a_run_of_sweagents_human_model_is_a_person_typing(tmp_path: Path) -> None:
    folder = tmp_path / "human_thought__swe-bench-x__default__t-0.00__p-0.95__c-4.00__install-0"
    folder.mkdir()
    path = folder / "x.traj"
    path.write_text(json.dumps(_traj(replay_config=None)))
    (session,), _ = _read(path)
    assert session.model == "human_thought"
    assert all(c.actor == "human" for c in session.calls)


def test_broken_json_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.traj"
    path.write_text('{"trajectory": [')
    assert _read(path)[0] == []
    assert "not readable as JSON" in _read(path)[1][0].problem


def test_sniff_accepts_traj_and_rejects_the_other_formats(tmp_path: Path) -> None:
    head = json.dumps(_traj()).encode()
    assert swe_agent.sniff(tmp_path / "x.traj", head)
    assert swe_agent.sniff(tmp_path / "x.json", head)
    mini = json.dumps({"info": {"mini_version": "1.0"}, "messages": []}).encode()
    assert not swe_agent.sniff(tmp_path / "x.traj.json", mini)
    assert not swe_agent.sniff(tmp_path / "x.eval", b"PK\x03\x04")
    assert not swe_agent.sniff(tmp_path / "o.jsonl", b'{"instance_id": "a", "history": []}')
