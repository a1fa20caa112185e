"""The Claude Code reader on real Claude Code records (shipped by the registry package
claude-code-log, see tests/realdata.py), assembled into session files the way the host writes
them: one record a line, results after their calls, sub-agents inline or in files of their own."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oversight.classify import Classifier
from oversight.importing.formats import claude_code, codex
from oversight.importing.model import ImportedCall, ImportedSession, ImportProblem

PACKAGE = "claude-code-log"
MESSAGES = "dev-docs/messages/claude-code"
RealData = Callable[[str, str], Path]


def record(realdata: RealData, member: str) -> dict[str, Any]:
    """The one record of a real message file."""
    text = realdata(PACKAGE, f"{MESSAGES}/{member}.jsonl").read_text(encoding="utf-8")
    loaded = json.loads(text.splitlines()[0])
    assert isinstance(loaded, dict)
    return loaded


def write(path: Path, *records: dict[str, Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> tuple[list[ImportedSession], list[ImportProblem]]:
    out = list(claude_code.read(path))
    sessions = [o for o in out if isinstance(o, ImportedSession)]
    problems = [o for o in out if isinstance(o, ImportProblem)]
    return sessions, problems


def only_session(path: Path) -> ImportedSession:
    sessions, problems = read(path)
    assert problems == []
    assert len(sessions) == 1
    return sessions[0]


def answering(result: dict[str, Any], use: dict[str, Any]) -> dict[str, Any]:
    """A real result record re-pointed at a real call (the package ships them unpaired)."""
    call_id = use["message"]["content"][0]["id"]
    changed = json.loads(json.dumps(result))
    for block in changed["message"]["content"]:
        if block.get("type") == "tool_result":
            block["tool_use_id"] = call_id
    changed["sessionId"] = use["sessionId"]
    return changed


def test_bash_call_with_its_result_joined_by_id(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Bash-tool_use")
    result = record(realdata, "tools/Bash-tool_result")
    session = only_session(write(tmp_path / "s.jsonl", use, result))

    assert session.format == "claude-code"
    assert session.native_id == use["sessionId"] == "9e953218-585f-4692-89df-9e0747a31c68"
    assert session.session_id == f"claude-code:{use['sessionId']}"
    assert session.model == "claude-sonnet-4-5-20250929"
    assert session.metadata["cwd"] == use["cwd"]
    [call] = session.calls
    assert call.tool == "Bash"
    assert call.args == use["message"]["content"][0]["input"]
    assert call.args["command"].startswith("cp ")
    assert call.call_id == "toolu_01T1SrbUgaSJkHWJd5outNgr"
    assert call.ts == dt.datetime(2025, 10, 3, 23, 59, 7, 774000, tzinfo=dt.UTC)
    assert session.started == call.ts
    assert call.actor == "agent" and call.agent is None and call.line == 1
    assert call.result == "" and call.error is False and call.answer is None and call.ran


@pytest.mark.parametrize(
    ("tool", "result_file", "error", "result_start", "kind"),
    [
        ("Read", "tools/Read-tool_result", False, "    95→", "file.read"),
        ("Glob", "tools/Glob-tool_result", False, "/Users/dain/", "file.read"),
        ("Grep", "tools/Grep-tool_result", False, "/Users/dain/", "file.read"),
        ("Edit", "tools/Edit-tool_result", True, "<tool_use_error>File has not", "file.write"),
        ("MultiEdit", "tools/MultiEdit-tool_result", False, "Applied 3 edits", "file.write"),
        ("Write", "tools/Write-tool_result", False, "The file /Users/", "file.write"),
        ("TodoWrite", "tools/TodoWrite-tool_result", False, "Todos have been", None),
        ("Task", "tools/Task-tool_result", False, "Perfect! Now I have", None),
        ("WebFetch", "tools/WebFetch-tool_result", False, "# Fields Returned", None),
        ("KillShell", "tools/KillShell-tool_result", False, '{"message":', None),
        ("AskUserQuestion", "tools/AskUserQuestion-tool_result", True, "<tool_use_error>", None),
    ],
)
def test_real_tool_calls_and_results(
    realdata: RealData,
    tmp_path: Path,
    tool: str,
    result_file: str,
    error: bool,
    result_start: str,
    kind: str | None,
) -> None:
    use = record(realdata, f"tools/{tool}-tool_use")
    result = record(realdata, result_file)
    sessions, problems = read(write(tmp_path / "s.jsonl", use, result))
    assert problems == []
    calls = [c for s in sessions for c in s.calls]
    [call] = calls
    assert call.tool == tool
    assert call.args == use["message"]["content"][0]["input"]
    assert call.result is not None and call.result.startswith(result_start)
    assert call.error is error
    assert call.answer is None
    if kind is not None:
        assert Classifier().classify(call.tool, call.args).kind == kind


def test_result_text_is_bounded(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Read-tool_use")
    result = record(realdata, "tools/Read-tool_result")
    result["message"]["content"][0]["content"] = "x" * 10_000
    [call] = only_session(write(tmp_path / "s.jsonl", use, result)).calls
    assert call.result is not None and len(call.result) < 4_100
    assert call.result.endswith("more chars]")


def test_rejected_tool_use_is_the_persons_denial(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Write-tool_use")
    rejected = answering(record(realdata, "tools/Write-tool_result_error"), use)
    session = only_session(write(tmp_path / "s.jsonl", use, rejected))
    [call] = session.calls
    assert call.answer == "denied" and not call.ran and call.error
    assert session.people == 1


def test_plan_rejected_and_plan_approved(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/ExitPlanMode-tool_use")
    rejected = answering(record(realdata, "tools/ExitPlanMode-tool_result_error"), use)
    [denied] = only_session(write(tmp_path / "a.jsonl", use, rejected)).calls
    assert denied.answer == "denied"

    approved = answering(record(realdata, "tools/ExitPlanMode-tool_result"), use)
    [call] = only_session(write(tmp_path / "b.jsonl", use, approved)).calls
    assert call.answer == "approved" and call.ran


def test_a_plain_tool_error_is_no_denial(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Read-tool_use")
    failed = answering(record(realdata, "tools/Read-tool_result_error"), use)
    [call] = only_session(write(tmp_path / "s.jsonl", use, failed)).calls
    assert call.error and call.answer is None and call.result == failed["toolUseResult"][7:]


def test_rejection_with_reason_and_shutdown_artifact(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Bash-tool_use")
    with_reason = answering(record(realdata, "tools/Write-tool_result_error"), use)
    block = with_reason["message"]["content"][0]
    block["content"] = (
        "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if "
        "it was a file edit, the new_string was NOT written to the file). To tell you how to "
        "proceed, the user said:\nrun the unit tests only"
    )
    call, said = only_session(write(tmp_path / "a.jsonl", use, with_reason)).calls
    assert call.answer == "denied"
    assert (said.actor, said.tool, said.args) == (
        "human",
        "user.message",
        {"text": "run the unit tests only"},
    )

    shutdown = answering(record(realdata, "tools/Write-tool_result_error"), use)
    shutdown["interruptedByShutdown"] = True
    shutdown["toolDenialKind"] = "user-rejected"
    [torn] = only_session(write(tmp_path / "b.jsonl", use, shutdown)).calls
    assert torn.answer is None and torn.error


def test_what_the_person_typed(realdata: RealData, tmp_path: Path) -> None:
    typed = record(realdata, "user/user")
    slash = record(realdata, "user/user_command")
    image = record(realdata, "user/image")
    noise = [
        record(realdata, "user/user_slash_command"),  # isMeta caveat
        record(realdata, "user/command_output"),
        record(realdata, "user/bash_output"),
        record(realdata, "system/system_info"),
        record(realdata, "system/summary"),
        record(realdata, "system/file_history_snapshot"),
        record(realdata, "system/queue_operation"),
    ]
    for r in [slash, image, *noise]:
        r["sessionId"] = typed["sessionId"]
    session = only_session(write(tmp_path / "s.jsonl", typed, slash, *noise, image))
    said, command, picture = session.calls
    assert all(c.actor == "human" and c.tool == "user.message" for c in session.calls)
    assert said.args == {"text": typed["message"]["content"]}
    assert said.ts == dt.datetime(2025, 9, 29, 17, 7, 46, 135000, tzinfo=dt.UTC)
    assert command.args["text"].startswith("<command-name>/model</command-name>")
    assert picture.args["images"] == 1 and picture.args["text"].startswith("Do you think")
    assert picture.line == 2 + len(noise) + 1
    assert session.people == 3


def test_interrupts_are_the_persons_act(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Bash-tool_use")
    plain = record(realdata, "user/user")
    plain["sessionId"] = use["sessionId"]
    plain["uuid"] = "i-1"
    plain["message"]["content"] = "[Request interrupted by user]"
    blocks = json.loads(json.dumps(plain))
    blocks["uuid"] = "i-2"
    blocks["message"]["content"] = [
        {"type": "text", "text": "[Request interrupted by user for tool use]"}
    ]
    session = only_session(write(tmp_path / "s.jsonl", use, plain, blocks))
    _, first, second = session.calls
    assert (first.actor, first.tool) == ("human", "user.interrupt")
    assert second.tool == "user.interrupt"
    assert second.args == {"text": "[Request interrupted by user for tool use]"}


def test_inline_sidechain_keeps_calls_with_their_agent(realdata: RealData, tmp_path: Path) -> None:
    prompt = record(realdata, "user/user_sidechain")  # the delegating agent's "Warmup"
    reply = record(realdata, "assistant/assistant_sidechain")
    fetch = record(realdata, "tools/WebFetch-tool_use")
    listing = record(realdata, "tools/LS-tool_use")  # a sidechain record without agentId
    main = record(realdata, "tools/Grep-tool_use")
    for r in (fetch, listing, main):
        r["sessionId"] = prompt["sessionId"]
    session = only_session(write(tmp_path / "s.jsonl", prompt, reply, main, fetch, listing))
    grep, web, ls = session.calls
    assert grep.agent is None
    assert (web.tool, web.agent) == ("WebFetch", fetch["agentId"])
    assert (ls.tool, ls.agent) == ("LS", "sidechain")
    assert session.people == 0  # "Warmup" came from an agent, not a person
    assert session.model == "claude-sonnet-4-5-20250929"


def test_subagent_file_is_its_own_session(realdata: RealData, tmp_path: Path) -> None:
    prompt = record(realdata, "user/user_sidechain")
    reply = record(realdata, "assistant/assistant_sidechain")
    fetch = record(realdata, "tools/WebFetch-tool_use")
    fetch_result = record(realdata, "tools/WebFetch-tool_result")
    for r in (fetch, fetch_result):
        r["sessionId"] = prompt["sessionId"]
    parent = prompt["sessionId"]
    path = tmp_path / parent / "subagents" / "agent-b1f5d80e.jsonl"
    session = only_session(write(path, prompt, reply, fetch, fetch_result))
    assert session.native_id == f"{parent}/agent-b1f5d80e"
    assert session.metadata["parent"] == parent
    assert session.agent == "b1f5d80e"
    [call] = session.calls
    assert call.tool == "WebFetch" and call.agent == "b1f5d80e"
    assert call.result is not None and call.result.startswith("# Fields Returned")

    # Older versions wrote the same file beside the session; its records name the parent.
    beside = only_session(write(tmp_path / "project" / "agent-b1f5d80e.jsonl", prompt, fetch))
    assert beside.native_id == f"{parent}/agent-b1f5d80e"
    assert beside.metadata["parent"] == parent


def test_repeated_records_are_read_once(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Glob-tool_use")
    session = only_session(write(tmp_path / "s.jsonl", use, use))
    assert len(session.calls) == 1


def test_bad_lines_are_problems_and_the_rest_is_read(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Bash-tool_use")
    result = record(realdata, "tools/Bash-tool_result")
    nameless = json.loads(json.dumps(use))
    nameless["uuid"] = "n-1"
    del nameless["message"]["content"][0]["name"]
    no_message = {"type": "assistant", "sessionId": use["sessionId"], "uuid": "m-1"}
    bad_time = json.loads(json.dumps(record(realdata, "tools/Glob-tool_use")))
    bad_time["sessionId"] = use["sessionId"]
    bad_time["timestamp"] = "yesterday"
    path = write(
        tmp_path / "s.jsonl", "{not json", use, nameless, "[1, 2]", no_message, bad_time, result
    )
    sessions, problems = read(path)
    where = [(p.line, p.field) for p in problems]
    assert where == [
        (1, ""),
        (3, "message.content[0].name"),
        (4, ""),
        (5, "message"),
        (6, "timestamp"),
    ]
    assert all(p.source == path for p in problems)
    assert str(problems[1]).startswith(f"{path}:3: message.content[0].name: ")
    [session] = sessions
    bash, glob = session.calls
    assert bash.tool == "Bash" and bash.result == "" and bash.line == 2
    assert glob.tool == "Glob" and glob.ts is None


def test_sniff_accepts_claude_code_and_rejects_codex(realdata: RealData, tmp_path: Path) -> None:
    for member in ("tools/Bash-tool_use", "system/summary", "system/file_history_snapshot"):
        real = realdata(PACKAGE, f"{MESSAGES}/{member}.jsonl")
        assert claude_code.sniff(real, real.read_bytes()[:65536]), member
        assert not codex.sniff(real, real.read_bytes()[:65536]), member
    rollout = tmp_path / "rollout-2025-09-01T10-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl"
    line = {
        "timestamp": "2025-09-01T10:00:00.000Z",
        "type": "session_meta",
        "payload": {"id": "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "cwd": "/repo"},
    }
    write(rollout, line)
    assert not claude_code.sniff(rollout, rollout.read_bytes())
    real = realdata(PACKAGE, f"{MESSAGES}/tools/Bash-tool_use.jsonl")
    assert not claude_code.sniff(tmp_path / "x.json", real.read_bytes())


def test_format_names_itself() -> None:
    assert claude_code.FORMAT.name == "claude-code"
    assert claude_code.FORMAT.claims_dir is None


def test_calls_are_imported_calls(realdata: RealData, tmp_path: Path) -> None:
    use = record(realdata, "tools/Edit-tool_use")
    [call] = only_session(write(tmp_path / "s.jsonl", use)).calls
    assert isinstance(call, ImportedCall)
    assert call.result is None  # no result recorded yet


def test_sniff_accepts_a_session_that_opens_with_newer_record_types(tmp_path: Path) -> None:
    """Claude Code 2.1 writes `last-prompt` and `permission-mode` records first."""
    session = tmp_path / "s.jsonl"
    lines = [
        {"type": "last-prompt", "leafUuid": "u9", "sessionId": "s1"},
        {"type": "permission-mode", "permissionMode": "default", "sessionId": "s1"},
        {
            "type": "assistant",
            "uuid": "u1",
            "sessionId": "s1",
            "timestamp": "2026-05-01T10:00:00Z",
            "message": {
                "role": "assistant",
                "model": "claude-opus-4",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}
                ],
            },
        },
    ]
    session.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    assert claude_code.FORMAT.sniff(session, session.read_bytes())
    sessions = [s for s in claude_code.FORMAT.read(session) if not isinstance(s, ImportProblem)]
    assert [c.tool for c in sessions[0].calls] == ["Bash"]
