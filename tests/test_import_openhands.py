"""OpenHands event streams (`events/<n>.json`) and evaluation `output.jsonl`.

Events here follow OpenHands' serializer (openhands/events/serialization/event.py: id,
timestamp, source, action+args or observation+content+extras, cause, tool_call_metadata);
no public event stream is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oversight.importing.detect import detect
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


# LLM-completions logs: one file per completion (openhands/llm/llm.py with log_completions),
# each carrying the whole conversation so far in `messages` / `fncall_messages`.

SYSTEM = {"role": "system", "content": "You are OpenHands agent, a helpful AI assistant."}
TASK = {"role": "user", "content": "Fix the failing test in /workspace/app."}
NUDGE = {"role": "user", "content": "Please continue working on the task."}


def _tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _asks(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    call = _tool_call(call_id, name, json.dumps(arguments))
    return {"role": "assistant", "content": "Next step.", "tool_calls": [call]}


def _answer(call_id: str, name: str, text: str) -> dict[str, Any]:
    return {"role": "tool", "content": text, "tool_call_id": call_id, "name": name}


def _reply(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "created": 1,
        "model": None,
        "object": "chat.completion",
        "choices": [{"finish_reason": "tool_calls", "index": 0, "message": message}],
    }


def _completion(
    fncall_messages: list[Any], reply: dict[str, Any], timestamp: float
) -> dict[str, Any]:
    text_messages = [
        {"role": m["role"] if m["role"] != "tool" else "user", "content": m["content"]}
        for m in fncall_messages
        if isinstance(m, dict)
    ]
    text_reply = {"role": "assistant", "content": "<function=...>", "tool_calls": None}
    return {
        "messages": text_messages,
        "response": _reply(text_reply),
        "args": [],
        "kwargs": {"stop": ["</function"], "tool_choice": "none"},
        "timestamp": timestamp,
        "cost": 0.01,
        "fncall_messages": fncall_messages,
        "fncall_response": _reply(reply),
    }


BASH = _asks("toolu_01", "execute_bash", {"command": "pytest -q"})
BASH_OUT = _answer(
    "toolu_01", "execute_bash", "1 failed\n[The command completed with exit code 1.]"
)
EDIT = _asks(
    "toolu_02",
    "str_replace_editor",
    {
        "command": "str_replace",
        "path": "/workspace/app/a.py",
        "old_str": "k = 5",
        "new_str": "k = 1",
    },
)
EDIT_OUT = _answer(
    "toolu_02", "str_replace_editor", "The file /workspace/app/a.py has been edited."
)
FINISH = _asks("toolu_03", "finish", {})
FIRST = _completion([SYSTEM, TASK, BASH, BASH_OUT], EDIT, 1700000000.5)
SECOND = _completion([SYSTEM, TASK, BASH, BASH_OUT, EDIT, EDIT_OUT, NUDGE], FINISH, 1700000010.5)


def _completions(tmp_path: Path, logs: dict[str, Any]) -> Path:
    folder = tmp_path / "gpt-4o_maxiter_30" / "llm_completions" / "django__django-1"
    folder.mkdir(parents=True)
    for name, log in logs.items():
        (folder / name).write_text(log if isinstance(log, str) else json.dumps(log))
    return folder


def test_a_completions_folder_is_one_session_each_call_read_once(tmp_path: Path) -> None:
    folder = _completions(
        tmp_path, {"gpt-4o-1700000010.5.json": SECOND, "gpt-4o-1700000000.5.json": FIRST}
    )
    assert openhands.claims_dir(folder)
    assert detect(folder) is openhands.FORMAT
    (session,), problems = _split(list(openhands.read(folder)))
    assert problems == []
    assert session.native_id == "django__django-1@gpt-4o_maxiter_30/llm_completions"
    assert (session.model, session.metadata["completions"]) == ("gpt-4o", 2)
    assert [(c.tool, c.actor, c.call_id) for c in session.calls] == [
        ("user.message", "human", None),
        ("execute_bash", "agent", "toolu_01"),
        ("str_replace_editor", "agent", "toolu_02"),
        ("user.message", "human", None),
        ("finish", "agent", "toolu_03"),
    ]
    task, bash, edit, nudge, finish = session.calls
    assert task.args == {"text": "Fix the failing test in /workspace/app."}
    assert nudge.args == {"text": "Please continue working on the task."}
    assert bash.args == {"command": "pytest -q"}
    assert bash.error and bash.result is not None and bash.result.startswith("1 failed")
    assert edit.args["command"] == "str_replace" and edit.args["new_str"] == "k = 1"
    assert edit.result == "The file /workspace/app/a.py has been edited." and not edit.error
    assert finish.args == {} and finish.result is None
    # A call carries the time of the completion that made it; the first file's prompt has none.
    assert bash.ts is None
    assert edit.ts is not None and edit.ts.timestamp() == 1700000000.5
    assert finish.ts is not None and finish.ts.timestamp() == 1700000010.5


def test_one_completion_file_is_the_session_up_to_that_completion(tmp_path: Path) -> None:
    folder = _completions(tmp_path, {"gpt-4o-1700000000.5.json": FIRST})
    path = folder / "gpt-4o-1700000000.5.json"
    assert openhands.sniff(path, path.read_bytes()[:65536])
    assert detect(path) is openhands.FORMAT
    (session,), problems = _split(list(openhands.read(path)))
    assert problems == []
    assert session.native_id == "django__django-1@gpt-4o_maxiter_30/llm_completions"
    assert [c.tool for c in session.calls] == ["user.message", "execute_bash", "str_replace_editor"]
    assert session.calls[2].result is None  # its result is in a later completion


def test_a_repeated_nudge_is_two_messages_not_one(tmp_path: Path) -> None:
    talk = {"role": "assistant", "content": "I think it is done."}
    log = _completion([SYSTEM, TASK, BASH, BASH_OUT, talk, NUDGE, talk, NUDGE], FINISH, 1.0)
    (session,), _ = _split(list(openhands.read(_completions(tmp_path, {"m-1.0.json": log}))))
    assert [c.tool for c in session.calls] == [
        "user.message",
        "execute_bash",
        "user.message",
        "user.message",
        "finish",
    ]


def test_a_malformed_completion_names_file_and_field_and_the_rest_reads(tmp_path: Path) -> None:
    broken_call = {
        "role": "assistant",
        "content": "",
        "tool_calls": [_tool_call("toolu_01", "execute_bash", '{"command": "ls')],
    }
    first = _completion([SYSTEM, TASK, broken_call, BASH_OUT], EDIT, 1700000000.5)
    second = _completion(
        [SYSTEM, TASK, broken_call, BASH_OUT, EDIT, EDIT_OUT, 7], FINISH, 1700000010.5
    )
    folder = _completions(
        tmp_path,
        {
            "gpt-4o-1700000000.5.json": first,
            "gpt-4o-1700000005.5.json": "{not json",
            "gpt-4o-1700000010.5.json": second,
        },
    )
    (session,), problems = _split(list(openhands.read(folder)))
    assert [(p.source.name, p.field) for p in problems] == [
        ("gpt-4o-1700000000.5.json", "fncall_messages[2].tool_calls[0].function.arguments"),
        ("gpt-4o-1700000005.5.json", ""),
        ("gpt-4o-1700000010.5.json", "fncall_messages[6]"),
    ]
    assert "not JSON" in problems[0].problem  # reported once, not again from the later file
    assert [c.tool for c in session.calls] == ["user.message", "str_replace_editor", "finish"]
    assert session.metadata["completions"] == 2


# Agent-SDK (v1) conversations: typed events with a `kind`, in events/event-<n>-<id>.json files
# (openhands/sdk/conversation/persistence_const.py) or exported as one JSON list.


def _text(text: str) -> list[dict[str, Any]]:
    return [{"cache_prompt": False, "type": "text", "text": text}]


def _action(n: int, tool: str, arguments: str, action: dict[str, Any]) -> dict[str, Any]:
    call_id = f"{tool}:{n}"
    return {
        "id": f"act-{n}",
        "timestamp": f"2026-02-01T10:00:{n:02d}.000001",
        "source": "agent",
        "thought": _text("Next step."),
        "thinking_blocks": [],
        "action": action,
        "tool_name": tool,
        "tool_call_id": call_id,
        "tool_call": {"id": call_id, "name": tool, "arguments": arguments, "origin": "completion"},
        "llm_response_id": f"gen-{n}",
        "security_risk": "LOW",
        "kind": "ActionEvent",
    }


def _observation(n: int, tool: str, observation: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"obs-{n}",
        "timestamp": f"2026-02-01T10:00:{n:02d}.500000",
        "source": "environment",
        "tool_name": tool,
        "tool_call_id": f"{tool}:{n}",
        "observation": observation,
        "action_id": f"act-{n}",
        "kind": "ObservationEvent",
    }


SDK_EVENTS: list[dict[str, Any]] = [
    {
        "id": "sys-0",
        "timestamp": "2026-02-01T10:00:00.000001",
        "source": "agent",
        "system_prompt": {"cache_prompt": False, "type": "text", "text": "You are OpenHands agent"},
        "tools": [],
        "kind": "SystemPromptEvent",
    },
    {
        "id": "msg-0",
        "timestamp": "2026-02-01T10:00:00.500000",
        "source": "user",
        "llm_message": {"role": "user", "content": _text("Why do the tests fail?")},
        "activated_skills": [],
        "extended_content": [],
        "kind": "MessageEvent",
    },
    _action(
        1,
        "terminal",
        json.dumps({"command": "pytest -q", "security_risk": "LOW", "summary": "run tests"}),
        {"command": "pytest -q", "is_input": False, "reset": False, "kind": "TerminalAction"},
    ),
    _observation(
        1,
        "terminal",
        {
            "content": _text("2 failed"),
            "is_error": False,
            "command": "pytest -q",
            "exit_code": 2,
            "kind": "TerminalObservation",
        },
    ),
    _action(
        2,
        "file_editor",
        '{"command": "view", "path": "/repo/a.py"',  # cut off: not JSON
        {"command": "view", "path": "/repo/a.py", "kind": "FileEditorAction"},
    ),
    _observation(
        2,
        "file_editor",
        {"content": _text("1\tk = 5"), "is_error": False, "kind": "FileEditorObservation"},
    ),
    _action(
        3,
        "terminal",
        json.dumps({"command": "rm -rf /repo/build", "security_risk": "HIGH"}),
        {"command": "rm -rf /repo/build", "kind": "TerminalAction"},
    ),
    {
        "id": "rej-3",
        "timestamp": "2026-02-01T10:00:03.500000",
        "source": "user",
        "tool_name": "terminal",
        "tool_call_id": "terminal:3",
        "rejection_reason": "Not the build folder",
        "action_id": "act-3",
        "kind": "UserRejectObservation",
    },
    _action(4, "think", json.dumps({"thought": "k should be 1"}), {"thought": "k should be 1"}),
    {
        "id": "err-4",
        "timestamp": "2026-02-01T10:00:04.500000",
        "source": "agent",
        "tool_name": "think",
        "tool_call_id": "think:4",
        "error": "tool failed",
        "kind": "AgentErrorEvent",
    },
    {"id": "odd-5", "timestamp": "2026-02-01T10:00:05.000000", "source": "agent"},
    {
        "id": "msg-6",
        "timestamp": "2026-02-01T10:00:06.000000",
        "source": "agent",
        "llm_message": {"role": "assistant", "content": _text("The constant is wrong.")},
        "kind": "MessageEvent",
    },
]


def _sdk_folder(tmp_path: Path, events: list[dict[str, Any]]) -> Path:
    conversation = tmp_path / "conversations" / "0a1b2c3d4e5f"
    (conversation / "events").mkdir(parents=True)
    for n, event in enumerate(events):
        name = f"event-{n:05d}-{n:08d}-aaaa-bbbb-cccc-000000000000.json"
        (conversation / "events" / name).write_text(json.dumps(event, indent=2))
    state = {"id": "0a1b2c3d", "agent": {"kind": "Agent", "llm": {"model": "litellm_proxy/m1"}}}
    (conversation / "base_state.json").write_text(json.dumps(state))
    return conversation


def _check_sdk_session(session: ImportedSession, problems: list[ImportProblem]) -> None:
    assert [(c.tool, c.actor) for c in session.calls] == [
        ("user.message", "human"),
        ("terminal", "agent"),
        ("file_editor", "agent"),
        ("terminal", "agent"),
        ("think", "agent"),
    ]
    message, bash, view, rm, think = session.calls
    assert message.args == {"text": "Why do the tests fail?"}
    assert bash.args == {"command": "pytest -q", "security_risk": "LOW", "summary": "run tests"}
    assert (bash.call_id, bash.result, bash.error) == ("terminal:1", "2 failed", True)
    assert view.args == {"command": "view", "path": "/repo/a.py"}  # from `action`: args cut off
    assert view.result == "1\tk = 5" and not view.error
    assert rm.answer == "denied" and not rm.ran and rm.result == "Not the build folder"
    assert think.error and think.result == "tool failed"
    assert bash.ts is not None and bash.ts.isoformat() == "2026-02-01T10:00:01.000001+00:00"
    assert [p.field.rsplit(".", 1)[-1] for p in problems] == ["arguments", "kind"]
    assert "not JSON" in problems[0].problem


def test_an_sdk_conversation_folder_gives_calls_answers_and_problems(tmp_path: Path) -> None:
    conversation = _sdk_folder(tmp_path, SDK_EVENTS)
    assert openhands.claims_dir(conversation) and openhands.claims_dir(conversation / "events")
    assert detect(conversation) is openhands.FORMAT
    (session,), problems = _split(list(openhands.read(conversation)))
    assert session.native_id == "0a1b2c3d4e5f"
    assert (session.agent, session.model) == ("Agent", "litellm_proxy/m1")
    _check_sdk_session(session, problems)
    assert [p.source.name[:11] for p in problems] == ["event-00004", "event-00010"]


def test_an_sdk_events_list_reads_the_same_and_names_the_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "738af7935542" / "events.json"
    path.parent.mkdir()
    path.write_text(json.dumps(SDK_EVENTS, indent=2))
    assert openhands.sniff(path, path.read_bytes()[:65536])
    assert detect(path) is openhands.FORMAT
    (session,), problems = _split(list(openhands.read(path)))
    assert session.native_id == "738af7935542"
    _check_sdk_session(session, problems)
    assert [p.field for p in problems] == ["[4].tool_call.arguments", "[10].kind"]


def test_the_new_shapes_are_not_taken_for_other_formats(tmp_path: Path) -> None:
    mini = tmp_path / "x.traj.json"
    mini.write_text(json.dumps({"messages": [SYSTEM], "info": {"mini_version": "1"}}))
    assert not openhands.sniff(mini, mini.read_bytes())
    chat = tmp_path / "chat.json"  # a plain chat log is not a completion log
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}))
    assert not openhands.sniff(chat, chat.read_bytes())
    plain_list = tmp_path / "list.json"
    plain_list.write_text(json.dumps([{"id": "1", "timestamp": "t", "source": "x"}]))
    assert not openhands.sniff(plain_list, plain_list.read_bytes())
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "notes.json").write_text(json.dumps({"a": 1}))
    assert not openhands.claims_dir(loose)
