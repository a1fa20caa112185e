"""OpenHands event streams (`events/<n>.json`) and evaluation `output.jsonl`.

Events here follow OpenHands' serializer (openhands/events/serialization/event.py: id,
timestamp, source, action+args or observation+content+extras, cause, tool_call_metadata);
no public event stream is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oversight.importing.formats import openhands
from oversight.importing.model import ImportedSession, ImportProblem


def _meta(name: str, call_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }
    return {
        "function_name": name,
        "tool_call_id": call_id,
        "model_response": {"choices": [{"message": {"role": "assistant", "tool_calls": [call]}}]},
        "total_calls_in_response": 1,
    }


EVENTS: list[dict[str, Any]] = [
    {
        "id": 0,
        "timestamp": "2025-01-10T10:00:00",
        "source": "user",
        "action": "message",
        "message": "Fix the tests",
        "args": {"content": "Fix the tests", "image_urls": None},
    },
    {
        "id": 1,
        "timestamp": "2025-01-10T10:00:05",
        "source": "agent",
        "action": "run",
        "message": "Running command: pytest -q",
        "args": {
            "command": "pytest -q",
            "is_input": False,
            "thought": "run",
            "blocking": False,
            "confirmation_state": "confirmed",
        },
        "tool_call_metadata": _meta(
            "execute_bash", "toolu_1", {"command": "pytest -q", "is_input": "false"}
        ),
    },
    {
        "id": 2,
        "timestamp": "2025-01-10T10:00:09",
        "source": "agent",
        "observation": "run",
        "cause": 1,
        "content": "1 failed",
        "extras": {"command": "pytest -q", "metadata": {"exit_code": 1}},
        "success": False,
    },
    {
        "id": 3,
        "timestamp": "2025-01-10T10:00:12",
        "source": "agent",
        "action": "edit",
        "args": {
            "path": "/workspace/a.py",
            "command": "str_replace",
            "old_str": "k = 5",
            "new_str": "k = 1",
            "file_text": None,
            "insert_line": None,
            "content": "",
            "start": 1,
            "end": -1,
            "thought": "",
            "impl_source": "oh_aci",
        },
    },
    {
        "id": 4,
        "timestamp": "2025-01-10T10:00:13",
        "source": "agent",
        "observation": "edit",
        "cause": 3,
        "content": "The file /workspace/a.py has been edited.",
        "extras": {"path": "/workspace/a.py"},
    },
    {
        "id": 5,
        "timestamp": "2025-01-10T10:00:14",
        "source": "agent",
        "action": "run_ipython",
        "args": {"code": "print(1)", "thought": "", "include_extra": True},
    },
    {
        "id": 6,
        "timestamp": "2025-01-10T10:00:15",
        "source": "agent",
        "action": "read",
        "args": {"path": "/workspace/b.py", "start": 0, "end": -1, "view_range": None},
    },
    {
        "id": 7,
        "timestamp": "2025-01-10T10:00:16",
        "source": "agent",
        "action": "finish",
        "args": {"final_thought": "done", "outputs": {}, "thought": ""},
    },
]


def _split(items: list[Any]) -> tuple[list[ImportedSession], list[ImportProblem]]:
    return (
        [i for i in items if isinstance(i, ImportedSession)],
        [i for i in items if isinstance(i, ImportProblem)],
    )


def _folder(tmp_path: Path, events: list[dict[str, Any]]) -> Path:
    session = tmp_path / "sessions" / "3f2a9c"
    (session / "events").mkdir(parents=True)
    for event in events:
        (session / "events" / f"{event['id']}.json").write_text(json.dumps(event))
    return session


def test_a_session_folder_gives_calls_as_the_agent_made_them(tmp_path: Path) -> None:
    folder = _folder(tmp_path, EVENTS)
    assert openhands.claims_dir(folder)
    (session,), problems = _split(list(openhands.read(folder)))
    assert problems == []
    assert session.native_id == "3f2a9c"
    assert [(c.tool, c.actor) for c in session.calls] == [
        ("user.message", "human"),
        ("execute_bash", "agent"),
        ("str_replace_editor", "agent"),
        ("execute_ipython_cell", "agent"),
        ("str_replace_editor", "agent"),
        ("finish", "agent"),
    ]
    message, bash, edit, cell, read, finish = session.calls
    assert message.args == {"text": "Fix the tests"}
    assert bash.args == {"command": "pytest -q", "is_input": "false"}  # as the model sent it
    assert (bash.call_id, bash.result, bash.error) == ("toolu_1", "1 failed", True)
    assert edit.args == {
        "command": "str_replace",
        "path": "/workspace/a.py",
        "old_str": "k = 5",
        "new_str": "k = 1",
    }
    assert edit.result == "The file /workspace/a.py has been edited." and not edit.error
    assert cell.args == {"code": "print(1)"}
    assert read.args == {"command": "view", "path": "/workspace/b.py"}
    assert finish.args == {"message": "done"}
    assert bash.ts is not None and bash.ts.isoformat() == "2025-01-10T10:00:05+00:00"


def test_confirmation_mode_answers_are_the_persons(tmp_path: Path) -> None:
    pending = {
        "id": 1,
        "source": "agent",
        "action": "run",
        "args": {"command": "rm -rf data", "confirmation_state": "awaiting_confirmation"},
        "tool_call_metadata": _meta("execute_bash", "t9", {"command": "rm -rf data"}),
    }
    state = {
        "id": 2,
        "source": "user",
        "action": "change_agent_state",
        "args": {"agent_state": "user_rejected"},
    }
    rejected = {
        **pending,
        "id": 3,
        "args": {"command": "rm -rf data", "confirmation_state": "rejected"},
    }
    observed = {
        "id": 4,
        "source": "environment",
        "observation": "user_rejected",
        "cause": 3,
        "content": "Action has been rejected by the user!",
        "extras": {},
    }
    (session,), _ = _split(
        list(openhands.read(_folder(tmp_path, [pending, state, rejected, observed])))
    )
    (call,) = session.calls
    assert call.answer == "denied" and not call.ran
    assert call.result == "Action has been rejected by the user!"


def test_output_jsonl_gives_one_session_per_instance_and_names_bad_lines(tmp_path: Path) -> None:
    good = {
        "instance_id": "django__django-1",
        "instruction": "Fix it",
        "metadata": {
            "agent_class": "CodeActAgent",
            "llm_config": {"model": "gpt-4o"},
            "eval_output_dir": "evaluation/outputs/gpt-4o_maxiter_30",
        },
        "history": EVENTS[:3],
        "test_result": {"git_patch": "diff"},
    }
    pairs = {**good, "instance_id": "django__django-2", "history": [[EVENTS[1], EVENTS[2]]]}
    path = tmp_path / "output.jsonl"
    lines = [json.dumps(good), "{not json", json.dumps({"instance_id": "x"}), json.dumps(pairs)]
    path.write_text("\n".join(lines) + "\n")
    assert openhands.sniff(path, path.read_bytes()[:65536])
    sessions, problems = _split(list(openhands.read(path)))
    assert [s.native_id for s in sessions] == [
        "django__django-1@gpt-4o_maxiter_30",
        "django__django-2@gpt-4o_maxiter_30",
    ]
    assert [(p.line, p.field) for p in problems] == [(2, ""), (3, "history")]
    assert [c.tool for c in sessions[1].calls] == ["execute_bash"]
    assert sessions[1].calls[0].result == "1 failed" and sessions[1].calls[0].line == 4
    assert (sessions[0].agent, sessions[0].model) == ("CodeActAgent", "gpt-4o")
    assert sessions[0].metadata["git_patch"] == "diff"


def test_a_broken_event_file_is_a_problem_and_the_rest_reads(tmp_path: Path) -> None:
    folder = _folder(tmp_path, EVENTS[:3])
    (folder / "events" / "1.json").write_text("{")
    (session,), (problem,) = _split(list(openhands.read(folder)))
    assert problem.source == folder / "events" / "1.json"
    assert [c.tool for c in session.calls] == ["user.message"]


def test_sniff_and_claims_dir_reject_the_other_formats(tmp_path: Path) -> None:
    assert not openhands.claims_dir(tmp_path)
    assert not openhands.sniff(tmp_path / "s.jsonl", b'{"type": "user", "message": {}}')
    assert not openhands.sniff(tmp_path / "a.traj", b'{"trajectory": []}')
    assert not openhands.sniff(tmp_path / "a.traj.json", b'{"info": {}, "messages": []}')
    assert not openhands.sniff(tmp_path / "a.eval", b"PK\x03\x04")
