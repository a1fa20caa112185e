"""The Codex reader on rollouts written here in exactly Codex's shape.

No package on a registry ships a real Codex rollout, so these files are built from the serde
types of codex-rs (`RolloutLine {timestamp, type, payload}`, `ResponseItem`, `EventMsg`) and the
older shapes (a header line then bare items; the TypeScript CLI's one JSON document)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from oversight.classify import Classifier
from oversight.importing.formats import claude_code, codex
from oversight.importing.model import ImportedSession, ImportProblem

SESSION = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
NAME = f"rollout-2025-09-01T10-00-00-{SESSION}.jsonl"


def line(second: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": f"2025-09-01T10:00:{second:02d}.250Z", "type": kind, "payload": payload}


def item(second: int, **payload: Any) -> dict[str, Any]:
    return line(second, "response_item", payload)


def event(second: int, **payload: Any) -> dict[str, Any]:
    return line(second, "event_msg", payload)


def user_text(text: str) -> list[dict[str, str]]:
    return [{"type": "input_text", "text": text}]


META = line(
    0,
    "session_meta",
    {
        "id": SESSION,
        "timestamp": "2025-09-01T10:00:00.000Z",
        "cwd": "/home/dev/repo",
        "originator": "codex_cli_rs",
        "cli_version": "0.34.0",
        "instructions": None,
        "source": "cli",
        "model_provider": "openai",
        "git": {"branch": "main"},
    },
)
TURN = line(
    1,
    "turn_context",
    {
        "cwd": "/home/dev/repo",
        "approval_policy": "on-request",
        "sandbox_policy": {"mode": "workspace-write", "network_access": False},
        "model": "gpt-5-codex",
        "effort": "medium",
        "summary": "auto",
    },
)
ENVIRONMENT = item(
    2,
    type="message",
    role="user",
    content=user_text("<environment_context>\n  <cwd>/home/dev/repo</cwd>\n</environment_context>"),
)
PROMPT = "List the files and fix the typo in README.md"
PATCH = "*** Begin Patch\n*** Update File: README.md\n@@\n-teh\n+the\n*** End Patch\n"


def write(path: Path, *records: dict[str, Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read(path: Path) -> tuple[list[ImportedSession], list[ImportProblem]]:
    out = list(codex.read(path))
    return (
        [o for o in out if isinstance(o, ImportedSession)],
        [o for o in out if isinstance(o, ImportProblem)],
    )


def only_session(path: Path) -> ImportedSession:
    sessions, problems = read(path)
    assert problems == []
    assert len(sessions) == 1
    return sessions[0]


def shell_output(output: str, exit_code: int) -> str:
    return json.dumps(
        {"output": output, "metadata": {"exit_code": exit_code, "duration_seconds": 0.1}}
    )


def full_rollout(tmp_path: Path) -> Path:
    return write(
        tmp_path / "sessions" / "2025" / "09" / "01" / NAME,
        META,
        TURN,
        ENVIRONMENT,
        item(3, type="message", role="user", content=user_text(PROMPT)),
        event(3, type="user_message", message=PROMPT, images=[]),
        item(4, type="reasoning", summary=[], encrypted_content="gAAA"),
        item(
            5,
            type="function_call",
            name="shell",
            arguments=json.dumps({"command": ["bash", "-lc", "ls"], "workdir": "/home/dev/repo"}),
            call_id="call_ls",
        ),
        item(
            6, type="function_call_output", call_id="call_ls", output=shell_output("README.md\n", 0)
        ),
        item(
            7,
            type="custom_tool_call",
            status="completed",
            call_id="call_patch",
            name="apply_patch",
            input=PATCH,
        ),
        item(
            8,
            type="custom_tool_call_output",
            call_id="call_patch",
            output=shell_output("Success. Updated the following files:\nM README.md\n", 0),
        ),
        item(
            9,
            type="function_call",
            name="shell",
            arguments=json.dumps({"command": ["bash", "-lc", "rm -rf build"]}),
            call_id="call_rm",
        ),
        item(
            10,
            type="function_call_output",
            call_id="call_rm",
            output="exec command rejected by user",
        ),
        event(11, type="turn_aborted", reason="interrupted"),
        event(12, type="token_count", info=None),
        item(
            13,
            type="local_shell_call",
            call_id="call_local",
            status="completed",
            action={
                "type": "exec",
                "command": ["pytest", "-q"],
                "working_directory": "/home/dev/repo",
            },
        ),
        item(
            14,
            type="function_call_output",
            call_id="call_local",
            output=shell_output("1 failed", 1),
        ),
        item(
            15, type="web_search_call", status="completed", action={"type": "search", "query": "x"}
        ),
        item(
            16, type="message", role="assistant", content=[{"type": "output_text", "text": "Done."}]
        ),
    )


def test_session_identity_and_context(tmp_path: Path) -> None:
    session = only_session(full_rollout(tmp_path))
    assert session.format == "codex"
    assert session.native_id == SESSION
    assert session.session_id == f"codex:{SESSION}"
    assert session.model == "gpt-5-codex"
    assert session.started == dt.datetime(2025, 9, 1, 10, 0, tzinfo=dt.UTC)
    assert session.metadata["cwd"] == "/home/dev/repo"
    assert session.metadata["cli_version"] == "0.34.0"
    assert session.metadata["approval_policy"] == "on-request"
    assert session.agent is None


def test_calls_args_results_and_answers(tmp_path: Path) -> None:
    calls = only_session(full_rollout(tmp_path)).calls
    assert [(c.actor, c.tool) for c in calls] == [
        ("human", "user.message"),
        ("agent", "shell"),
        ("agent", "apply_patch"),
        ("agent", "shell"),
        ("human", "user.interrupt"),
        ("agent", "local_shell"),
        ("agent", "web_search"),
    ]
    said, ls, patch, rm, interrupt, pytest_run, search = calls
    assert said.args == {"text": PROMPT}  # once, though the rollout holds it twice
    assert said.line == 5  # the event's line, not the environment context's
    assert ls.args == {"command": ["bash", "-lc", "ls"], "workdir": "/home/dev/repo"}
    assert ls.call_id == "call_ls"
    assert ls.ts == dt.datetime(2025, 9, 1, 10, 0, 5, 250000, tzinfo=dt.UTC)
    assert (ls.result, ls.error, ls.answer) == ("README.md\n", False, None)
    assert patch.args == {"input": PATCH}
    assert patch.result is not None and patch.result.startswith("Success.")
    assert rm.answer == "denied" and not rm.ran and rm.error
    assert rm.result == "exec command rejected by user"
    assert interrupt.args == {"reason": "interrupted"}
    assert pytest_run.args == {"command": ["pytest", "-q"], "workdir": "/home/dev/repo"}
    assert (pytest_run.result, pytest_run.error) == ("1 failed", True)
    assert search.args == {"type": "search", "query": "x"}


def test_imported_calls_get_sensible_kinds(tmp_path: Path) -> None:
    calls = {c.call_id: c for c in only_session(full_rollout(tmp_path)).calls if c.call_id}
    classify = Classifier().classify
    assert classify(calls["call_patch"].tool, calls["call_patch"].args).kind == "file.write"
    assert classify(calls["call_rm"].tool, calls["call_rm"].args).kind == "file.write"
    assert classify(calls["call_ls"].tool, calls["call_ls"].args).kind != "tool.call"


def test_unified_exec_and_plain_text_outputs(tmp_path: Path) -> None:
    session = only_session(
        write(
            tmp_path / NAME,
            META,
            item(
                2,
                type="function_call",
                name="exec_command",
                arguments=json.dumps({"cmd": "cat README.md"}),
                call_id="c1",
            ),
            item(
                3,
                type="function_call_output",
                call_id="c1",
                output="Chunk ID: 1a2b\nWall time: 0.0 seconds\nProcess exited with code 0\nOutput:\nhi",
            ),
            item(
                4,
                type="function_call",
                name="shell_command",
                arguments=json.dumps({"command": "make test"}),
                call_id="c2",
            ),
            item(
                5,
                type="function_call_output",
                call_id="c2",
                output="Exit code: 2\nWall time: 1.2 seconds\nOutput:\nmake: *** [test] Error 2",
            ),
            item(
                6,
                type="function_call",
                name="shell_command",
                arguments='{"command": "x"}',
                call_id="c3",
            ),
            item(7, type="function_call_output", call_id="c3", output="rejected by user"),
            item(8, type="function_call", name="update_plan", arguments="{}", call_id="c4"),
            item(
                9,
                type="function_call_output",
                call_id="c4",
                output=[{"type": "input_text", "text": "Plan updated"}],
            ),
        )
    )
    cat, make, refused, plan = session.calls
    assert cat.args == {"cmd": "cat README.md"} and cat.error is False
    assert Classifier().classify(cat.tool, cat.args).kind == "file.read"
    assert make.error is True and make.answer is None
    assert refused.answer == "denied"
    assert plan.result == "Plan updated" and not plan.error


def test_human_messages_without_events_come_from_model_input(tmp_path: Path) -> None:
    session = only_session(
        write(
            tmp_path / NAME,
            META,
            ENVIRONMENT,
            item(
                3,
                type="message",
                role="user",
                content=user_text("<user_instructions>\nbe brief\n</user_instructions>"),
            ),
            item(4, type="message", role="user", content=user_text(PROMPT)),
            item(
                5, type="message", role="assistant", content=[{"type": "output_text", "text": "ok"}]
            ),
        )
    )
    [said] = session.calls
    assert (said.actor, said.tool, said.args) == ("human", "user.message", {"text": PROMPT})
    assert session.people == 1


def test_subagent_rollout_names_its_parent(tmp_path: Path) -> None:
    child = "0199a1b2-0000-7000-8000-00000000000c"
    meta = line(
        0,
        "session_meta",
        {
            "id": child,
            "timestamp": "2025-09-01T10:00:00.000Z",
            "cwd": "/home/dev/repo",
            "source": {
                "subagent": {
                    "thread_spawn": {
                        "parent_thread_id": SESSION,
                        "depth": 1,
                        "agent_nickname": "explorer",
                    }
                }
            },
        },
    )
    session = only_session(
        write(
            tmp_path / f"rollout-2025-09-01T10-00-05-{child}.jsonl",
            meta,
            event(1, type="user_message", message="Inspect the fixtures.", images=[]),
            item(
                2, type="function_call", name="shell", arguments='{"command":["ls"]}', call_id="k"
            ),
        )
    )
    assert session.native_id == child
    assert session.metadata["parent"] == SESSION
    assert session.agent == "explorer"
    [call] = session.calls  # the spawning agent's prompt is not a person's message
    assert call.tool == "shell" and call.agent == "explorer"


def test_bad_lines_are_problems_and_the_rest_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / NAME,
        META,
        "{broken",
        item(2, type="function_call", arguments="{}", call_id="nameless"),
        item(3, type="function_call", name="shell", arguments="{not json", call_id="raw"),
        {"timestamp": "2025-09-01T10:00:04Z", "type": "response_item", "payload": "text"},
        {
            "timestamp": "soon",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": "hi"},
        },
        item(6, type="function_call_output", output="orphan"),
        item(7, type="function_call", name="shell", arguments='{"command":["ls"]}', call_id="ok"),
        item(8, type="function_call_output", call_id="ok", output=shell_output("a", 0)),
    )
    sessions, problems = read(path)
    assert [(p.line, p.field) for p in problems] == [
        (2, ""),
        (3, "payload.name"),
        (4, "payload.arguments"),
        (5, "payload"),
        (6, "timestamp"),
        (7, "payload.call_id"),
    ]
    assert str(problems[1]).startswith(f"{path}:3: payload.name: ")
    [session] = sessions
    raw, said, ok = session.calls
    assert raw.args == {"arguments": "{not json"}
    assert said.args == {"text": "hi"} and said.ts is None
    assert ok.result == "a" and ok.line == 8


def test_legacy_jsonl_without_envelope(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rollout-2025-05-07-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl",
        {
            "id": "5973b6c0-94b8-487b-a530-2aeb6098ae0e",
            "timestamp": "2025-05-07T17:24:21.123Z",
            "instructions": None,
        },
        {"record_type": "state"},
        {"type": "message", "role": "user", "content": user_text("run the tests")},
        {
            "type": "function_call",
            "id": "fc_1",
            "name": "shell",
            "arguments": '{"command":["pytest"]}',
            "call_id": "call_1",
        },
        {"type": "function_call_output", "call_id": "call_1", "output": shell_output("ok", 0)},
    )
    assert codex.sniff(path, path.read_bytes())
    assert not claude_code.sniff(path, path.read_bytes())
    session = only_session(path)
    assert session.native_id == "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
    assert session.started == dt.datetime(2025, 5, 7, 17, 24, 21, 123000, tzinfo=dt.UTC)
    said, run = session.calls
    assert said.args == {"text": "run the tests"} and said.actor == "human"
    assert run.args == {"command": ["pytest"]} and run.result == "ok"


def test_legacy_json_document(tmp_path: Path) -> None:
    path = tmp_path / "rollout-2025-04-16-abc12345.json"
    path.write_text(
        json.dumps(
            {
                "session": {
                    "timestamp": "2025-04-16T09:00:00Z",
                    "id": "abc12345",
                    "instructions": "",
                },
                "items": [
                    {"type": "message", "role": "user", "content": user_text("hello")},
                    {
                        "type": "function_call",
                        "name": "shell",
                        "arguments": '{"command":["ls"]}',
                        "call_id": "c",
                    },
                    {
                        "type": "function_call_output",
                        "call_id": "c",
                        "output": shell_output("x", 0),
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    assert codex.sniff(path, path.read_bytes())
    session = only_session(path)
    assert session.native_id == "abc12345"
    assert [c.tool for c in session.calls] == ["user.message", "shell"]
    assert session.calls[1].result == "x"


def test_sniff_accepts_codex_and_rejects_claude_code(tmp_path: Path) -> None:
    rollout = full_rollout(tmp_path)
    head = rollout.read_bytes()[:65536]
    assert codex.sniff(rollout, head)
    assert not claude_code.sniff(rollout, head)
    claude = write(
        tmp_path / "9e953218-585f-4692-89df-9e0747a31c68.jsonl",
        {
            "parentUuid": None,
            "isSidechain": False,
            "sessionId": "9e953218-585f-4692-89df-9e0747a31c68",
            "type": "user",
            "message": {"role": "user", "content": "hi"},
            "uuid": "u1",
            "timestamp": "2025-10-03T23:59:07.774Z",
        },
    )
    assert not codex.sniff(claude, claude.read_bytes())
    assert claude_code.sniff(claude, claude.read_bytes())
    assert not codex.sniff(tmp_path / "notes.txt", head)


def test_format_names_itself() -> None:
    assert codex.FORMAT.name == "codex"
    assert codex.FORMAT.claims_dir is None
