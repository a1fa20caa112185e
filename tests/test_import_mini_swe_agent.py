"""mini-swe-agent `.traj.json` files: each command the agent ran is a `bash` call.

The files here follow mini-swe-agent's own writers (agents/default.py `serialize`,
models/utils/actions_text.py and actions_toolcall.py for the messages, agents/interactive.py for
what a person adds); no public trajectory is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oversight.importing.formats import mini_swe_agent
from oversight.importing.model import ImportedSession, ImportProblem

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
TASK = {"role": "user", "content": "<pr_description>Fix it</pr_description>"}


def _v1(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "info": {
            "exit_status": "Submitted",
            "submission": "diff --git a/a.py b/a.py",
            "model_stats": {"instance_cost": 0.1, "api_calls": 3},
            "mini_version": "1.15.0",
            "config": {"agent": {}, "model": {"model_name": "anthropic/claude-sonnet-4"}},
        },
        "messages": [SYSTEM, TASK, *messages],
        "trajectory_format": "mini-swe-agent-1",
        "instance_id": "acme__widget-7",
    }


def _read(data: Any, tmp_path: Path) -> tuple[list[ImportedSession], list[ImportProblem]]:
    path = tmp_path / "acme__widget-7.traj.json"
    path.write_text(json.dumps(data, indent=2))
    items = list(mini_swe_agent.read(path))
    return (
        [i for i in items if isinstance(i, ImportedSession)],
        [i for i in items if isinstance(i, ImportProblem)],
    )


def test_v1_text_turns_are_bash_calls_answered_by_the_next_message(tmp_path: Path) -> None:
    data = _v1(
        [
            {
                "role": "assistant",
                "content": "THOUGHT: look\n\n```bash\nls -R\n```",
                "extra": {"response": {"created": 1763509079}},
            },
            {"role": "user", "content": "<returncode>0</returncode>\n<output>\na.py\n</output>"},
            {"role": "assistant", "content": "Two:\n```bash\nls\n```\n```bash\npwd\n```"},
            {"role": "user", "content": "Please always provide EXACTLY ONE action"},
            {"role": "assistant", "content": "```bash\npython a.py\n```"},
            {"role": "user", "content": "<returncode>1</returncode>\n<output>\nboom\n</output>"},
        ]
    )
    (session,), problems = _read(data, tmp_path)
    assert problems == []
    assert [(c.tool, c.args) for c in session.calls] == [
        ("bash", {"command": "ls -R"}),
        ("bash", {"command": "python a.py"}),
    ]
    assert session.calls[0].result is not None and "a.py" in session.calls[0].result
    assert [c.error for c in session.calls] == [False, True]
    assert session.calls[0].ts is not None and session.calls[0].ts.year == 2025
    assert session.metadata["format_errors"] == 1
    assert session.model == "anthropic/claude-sonnet-4"
    assert session.native_id.startswith("acme__widget-7@")
    assert session.metadata["exit_status"] == "Submitted"


def test_v2_toolcalls_are_joined_by_id_with_timestamps(tmp_path: Path) -> None:
    calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "bash", "arguments": '{"command": "ls"}'},
        },
        {"id": "call_2", "type": "function", "function": {"name": "bash", "arguments": "{oops"}},
    ]
    data = _v1(
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": calls,
                "extra": {"timestamp": 1763509079.5},
            },
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": '{"returncode": 2, "output": "no"}',
                "extra": {"returncode": 2, "timestamp": 1763509080.0},
            },
        ]
    )
    data["trajectory_format"] = "mini-swe-agent-1.1"
    (session,), (problem,) = _read(data, tmp_path)
    assert [(c.args, c.call_id, c.error) for c in session.calls] == [
        ({"command": "ls"}, "call_1", True)
    ]
    assert session.calls[0].ts is not None
    assert problem.field == "messages[2].tool_calls[1].function.arguments"


def test_a_person_in_an_interactive_run(tmp_path: Path) -> None:
    data = _v1(
        [
            {
                "role": "assistant",
                "content": "```mswea_bash_command\nrm -rf build\n```",
                "extra": {"actions": [{"command": "rm -rf build"}]},
            },
            {
                "role": "user",
                "content": "Commands not executed. The user rejected your commands with the following message: no",
                "extra": {"interrupt_type": "UserRejection"},
            },
            {
                "role": "user",
                "content": "User command: \n```bash\ngit status\n```",
                "extra": {"actions": [{"command": "git status"}]},
            },
            {"role": "user", "content": "<returncode>0</returncode>\n<output>\nclean\n</output>"},
            {
                "role": "user",
                "content": "Interrupted by user: use pytest",
                "extra": {"interrupt_type": "UserInterruption"},
            },
        ]
    )
    (session,), _ = _read(data, tmp_path)
    denied, typed, said = session.calls
    assert denied.args == {"command": "rm -rf build"} and denied.answer == "denied"
    assert not denied.ran
    assert (typed.actor, typed.args, typed.result) == (
        "human",
        {"command": "git status"},
        "<returncode>0</returncode>\n<output>\nclean\n</output>",
    )
    assert (said.tool, said.actor, said.args["text"]) == (
        "user.message",
        "human",
        "Interrupted by user: use pytest",
    )
    assert session.people == 3


def test_bad_messages_are_problems_and_the_rest_still_reads(tmp_path: Path) -> None:
    data = _v1(
        [
            "not a message",
            {"role": "assistant", "content": "```bash\nls\n```"},
            {"role": "user", "content": "<returncode>0</returncode>"},
        ]
    )
    (session,), (problem,) = _read(data, tmp_path)
    assert problem.field == "messages[2]"
    assert [c.args for c in session.calls] == [{"command": "ls"}]


def test_sniff_accepts_its_files_and_rejects_the_other_formats(tmp_path: Path) -> None:
    head = json.dumps(_v1([]), indent=2).encode()
    assert mini_swe_agent.sniff(tmp_path / "a.traj.json", head)
    assert mini_swe_agent.sniff(tmp_path / "a.json", head)
    # A submission longer than the head leaves only the opening of `info`.
    assert mini_swe_agent.sniff(tmp_path / "a.traj.json", b'{\n  "info": {\n    "exit_status": "S')
    swe = json.dumps({"environment": "swe_main", "trajectory": [], "info": {}}).encode()
    assert not mini_swe_agent.sniff(tmp_path / "a.traj", swe)
    assert not mini_swe_agent.sniff(tmp_path / "a.eval", b"PK\x03\x04")
    assert not mini_swe_agent.sniff(tmp_path / "o.jsonl", b'{"instance_id": "a", "history": []}')
