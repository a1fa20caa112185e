"""Codex CLI rollouts: `~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`.

Since mid-2025 each line is a `RolloutLine` envelope `{timestamp, type, payload}` (codex-rs
`protocol.rs`): `session_meta` (the session's id, cwd, cli version), `turn_context` (model,
approval and sandbox policy), `response_item` (what went to and came from the model: messages,
`function_call` / `local_shell_call` / `custom_tool_call` and their outputs joined by `call_id`)
and `event_msg` (what the person said, turns they aborted). Earlier rollouts have no envelope: a
header line `{id, timestamp, instructions}` and then bare response items (`.jsonl`), or one JSON
document `{session, items}` (`.json`, the TypeScript CLI).

Codex does not write approval prompts into rollouts; a command or patch the person refused
comes back to the model as the output "rejected by user", which is read as `denied`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from oversight.importing.formats import Format
from oversight.importing.model import (
    ImportedCall,
    ImportedSession,
    ImportProblem,
    bounded,
    first_record,
    line_object,
    parse_json,
    parse_ts,
    text_lines,
)

NAME = "codex"

_ENVELOPE_TYPES = frozenset(
    {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
)
_ITEM_TYPES = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "local_shell_call",
        "custom_tool_call",
        "custom_tool_call_output",
        "web_search_call",
    }
)
# User-role text the host wrote, not the person: context blocks and instruction files.
_HOST_TEXT = (
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md instructions",
    "<permissions instructions>",
    "<turn_aborted>",
)
_DENIED = re.compile(r"^(exec command |patch |command )?rejected by user\b")
_EXIT_CODE = re.compile(r"^(?:Exit code:|Process exited with code)\s*(-?\d+)", re.MULTILINE)


def sniff(path: Path, head: bytes) -> bool:
    """A rollout: an enveloped `.jsonl`, or a `rollout-*` file in one of the older shapes."""
    text = head.decode("utf-8", errors="replace")
    if path.suffix == ".json":
        opening = text.lstrip()[:4000]
        return (
            path.name.startswith("rollout-")
            and opening.startswith("{")
            and '"session"' in opening
            and '"items"' in text
        )
    if path.suffix != ".jsonl":
        return False
    record = first_record(text)
    if not isinstance(record, dict):
        return False
    if record.get("type") in _ENVELOPE_TYPES and isinstance(record.get("payload"), dict):
        return True
    return (
        path.name.startswith("rollout-")
        and "id" in record
        and "timestamp" in record
        and "type" not in record
        and "sessionId" not in record
    )


@dataclasses.dataclass
class _State:
    path: Path
    native_id: str | None = None
    model: str | None = None
    started: Any = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    calls: list[ImportedCall] = dataclasses.field(default_factory=list)
    by_call_id: dict[str, int] = dataclasses.field(default_factory=dict)
    item_messages: list[int] = dataclasses.field(default_factory=list)
    event_messages: int = 0
    problems: list[ImportProblem] = dataclasses.field(default_factory=list)

    def problem(self, line: int, field: str, what: str) -> None:
        self.problems.append(ImportProblem(self.path, line, field, what))

    def add(self, call: ImportedCall) -> None:
        if call.call_id is not None:
            self.by_call_id[call.call_id] = len(self.calls)
        self.calls.append(call)

    def session(self) -> ImportedSession:
        calls = self.calls
        if self.event_messages:
            # Newer rollouts write each prompt twice (event and model input); keep the events.
            dropped = set(self.item_messages)
            calls = [c for i, c in enumerate(calls) if i not in dropped]
        return ImportedSession(
            format=NAME,
            source=self.path,
            native_id=self.native_id or _id_from_name(self.path),
            calls=calls,
            agent=self.metadata.get("agent"),
            model=self.model,
            started=self.started,
            metadata=self.metadata,
        )


def read(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    """The one session a rollout holds, after the problems met reading it."""
    state = _State(path)
    try:
        if path.suffix == ".json":
            _read_document(state)
        else:
            with path.open("rb") as fh:
                for number, raw in text_lines(fh):
                    _line(state, number, raw)
                    yield from state.problems
                    state.problems.clear()
    except OSError as exc:
        yield ImportProblem(path, 0, "", f"cannot read: {exc}")
        return
    yield from state.problems
    if state.calls or state.native_id:
        yield state.session()


def _read_document(state: _State) -> None:
    """The TypeScript CLI's `rollout-*.json`: `{"session": {...}, "items": [...]}`."""
    try:
        document = parse_json(state.path.read_text(encoding="utf-8", errors="replace"))
    except ValueError as exc:
        state.problem(0, "", f"not JSON: {exc}")
        return
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        state.problem(0, "items", "not a rollout document with a list of items")
        return
    header = document.get("session")
    if isinstance(header, dict):
        _header(state, header, 0)
    for index, item in enumerate(document["items"]):
        if isinstance(item, dict):
            _item(state, item, None, 0, f"items[{index}]")
        else:
            state.problem(0, f"items[{index}]", "not an object")


def _line(state: _State, number: int, raw: bytes | str) -> None:
    parsed = line_object(raw)
    if parsed is None:
        return
    record, wrong = parsed
    if record is None:
        state.problem(number, "", wrong)
        return
    try:
        ts = parse_ts(record.get("timestamp"))
    except (ValueError, OverflowError) as exc:
        state.problem(number, "timestamp", f"unreadable timestamp: {exc}")
        ts = None
    kind = record.get("type")
    if "payload" in record or kind in _ENVELOPE_TYPES:
        payload = record.get("payload")
        if not isinstance(payload, dict):
            state.problem(number, "payload", "missing or not an object")
            return
        if state.started is None and ts is not None:
            state.started = ts
        if kind == "session_meta":
            _header(state, payload, number)
        elif kind == "turn_context":
            _turn_context(state, payload)
        elif kind == "response_item":
            _item(state, payload, ts, number, "payload")
        elif kind == "event_msg":
            _event(state, payload, ts, number)
        return
    if record.get("record_type") is not None:
        return  # the legacy format's state snapshots
    if kind in _ITEM_TYPES:
        _item(state, record, ts, number, "")
    elif kind is None and "id" in record and state.native_id is None:
        _header(state, record, number)  # the legacy header line


def _header(state: _State, meta: dict[str, Any], number: int) -> None:
    if state.native_id is not None:
        return  # a forked rollout repeats its parent's meta; the first one is this session's
    session_id = meta.get("id")
    if not isinstance(session_id, str) or not session_id:
        state.problem(number, "payload.id" if number else "session.id", "no session id")
    else:
        state.native_id = session_id
    try:
        started = parse_ts(meta.get("timestamp"))
    except (ValueError, OverflowError) as exc:
        state.problem(number, "payload.timestamp", f"unreadable timestamp: {exc}")
        started = None
    if started is not None:
        state.started = started
    for key in ("cwd", "originator", "cli_version", "model_provider"):
        if isinstance(meta.get(key), str) and meta[key]:
            state.metadata[key] = meta[key]
    spawn = _dig(meta, "source", "subagent", "thread_spawn")
    if isinstance(spawn, dict) and isinstance(spawn.get("parent_thread_id"), str):
        state.metadata["parent"] = spawn["parent_thread_id"]
        state.metadata["agent"] = spawn.get("agent_nickname") or spawn.get("agent_role") or "sub"
    elif isinstance(_dig(meta, "source", "subagent"), str):
        state.metadata["agent"] = _dig(meta, "source", "subagent")


def _turn_context(state: _State, payload: dict[str, Any]) -> None:
    model = payload.get("model")
    if state.model is None and isinstance(model, str) and model:
        state.model = model
    for key in ("approval_policy", "sandbox_policy"):
        if key in payload and key not in state.metadata:
            state.metadata[key] = payload[key]


def _item(state: _State, item: dict[str, Any], ts: Any, number: int, prefix: str) -> None:
    kind = item.get("type")
    where = f"{prefix}." if prefix else ""
    agent = state.metadata.get("agent")
    if kind == "message":
        if item.get("role") == "user":
            text = _text(item.get("content"))
            if agent is None and text.strip() and not text.lstrip().startswith(_HOST_TEXT):
                state.item_messages.append(len(state.calls))
                state.add(_human("user.message", {"text": text}, ts, agent, number))
        return
    if kind in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call"):
        call = _call(state, item, ts, number, where)
        if call is not None:
            state.add(dataclasses.replace(call, agent=agent))
        return
    if kind in ("function_call_output", "custom_tool_call_output"):
        _output(state, item, number, where)


def _call(
    state: _State, item: dict[str, Any], ts: Any, number: int, where: str
) -> ImportedCall | None:
    kind = item["type"]
    call_id = item.get("call_id") or item.get("id")
    if call_id is not None and not isinstance(call_id, str):
        state.problem(number, f"{where}call_id", "not a string")
        call_id = None
    if kind == "web_search_call":
        action = item.get("action")
        args = action if isinstance(action, dict) else {}
        return ImportedCall(tool="web_search", args=args, ts=ts, call_id=call_id, line=number)
    if kind == "local_shell_call":
        action = item.get("action")
        command = action.get("command") if isinstance(action, dict) else None
        if not isinstance(command, list):
            state.problem(number, f"{where}action.command", "a local shell call without argv")
            return None
        args = {"command": command}
        if isinstance(action, dict) and action.get("working_directory"):
            args["workdir"] = action["working_directory"]
        return ImportedCall(tool="local_shell", args=args, ts=ts, call_id=call_id, line=number)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        state.problem(number, f"{where}name", f"a {kind} without a tool name")
        return None
    if call_id is None:
        state.problem(number, f"{where}call_id", f"a {kind} without a call id")
    if kind == "custom_tool_call":
        text = item.get("input")
        return ImportedCall(
            tool=name,
            args={"input": text if isinstance(text, str) else ""},
            ts=ts,
            call_id=call_id,
            line=number,
        )
    return ImportedCall(
        tool=name,
        args=_arguments(state, item.get("arguments"), number, f"{where}arguments"),
        ts=ts,
        call_id=call_id,
        line=number,
    )


def _arguments(state: _State, raw: Any, number: int, field: str) -> dict[str, Any]:
    """A function call's `arguments`: JSON text of an object (kept raw if it is not)."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        state.problem(number, field, "not JSON text")
        return {}
    try:
        parsed = parse_json(raw) if raw.strip() else {}
    except ValueError as exc:
        state.problem(number, field, f"not JSON: {exc}")
        return {"arguments": raw}
    if not isinstance(parsed, dict):
        state.problem(number, field, "not a JSON object")
        return {"arguments": raw}
    return parsed


def _output(state: _State, item: dict[str, Any], number: int, where: str) -> None:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        state.problem(number, f"{where}call_id", "an output without the call's id")
        return
    index = state.by_call_id.get(call_id)
    if index is None:
        return  # its call was compacted away or lives in a parent rollout
    raw = item.get("output")
    text, failed = _output_text(raw)
    denied = _DENIED.match(text.strip()) is not None
    call = state.calls[index]
    state.calls[index] = call.with_result(
        bounded(text), failed or denied, "denied" if denied else call.answer
    )


def _output_text(raw: Any) -> tuple[str, bool]:
    """The output's text and whether it failed: shell outputs carry an exit code (as JSON
    `{"output", "metadata": {"exit_code"}}` or a text header), others `success: false`."""
    failed = False
    if isinstance(raw, dict):  # FunctionCallOutputPayload as an object
        failed = raw.get("success") is False
        raw = raw.get("content", raw.get("body", ""))
    if isinstance(raw, list):
        return _text(raw), failed
    if not isinstance(raw, str):
        return ("" if raw is None else json.dumps(raw, ensure_ascii=False)), failed
    text = raw
    if text.startswith("{"):
        try:
            decoded = parse_json(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and "output" in decoded:
            code = _dig(decoded, "metadata", "exit_code")
            failed = failed or (isinstance(code, int) and code != 0)
            output = decoded["output"]
            return (output if isinstance(output, str) else json.dumps(output)), failed
    match = _EXIT_CODE.search(text[:500])
    if match:
        failed = failed or int(match.group(1)) != 0
    return text, failed


def _event(state: _State, payload: dict[str, Any], ts: Any, number: int) -> None:
    kind = payload.get("type")
    agent = state.metadata.get("agent")
    if kind == "user_message":
        message = payload.get("message")
        if not isinstance(message, str):
            state.problem(number, "payload.message", "not text")
            return
        state.event_messages += 1
        if payload.get("kind") not in (None, "plain") or message.lstrip().startswith(_HOST_TEXT):
            return
        if agent is not None:
            return  # a sub-agent's prompt comes from the agent that spawned it
        images = payload.get("images")
        args: dict[str, Any] = {"text": message}
        if isinstance(images, list) and images:
            args["images"] = len(images)
        if message.strip() or "images" in args:
            state.add(_human("user.message", args, ts, agent, number))
    elif kind == "turn_aborted" and payload.get("reason") == "interrupted":
        state.add(_human("user.interrupt", {"reason": "interrupted"}, ts, agent, number))
    elif kind == "exec_command_end":
        index = state.by_call_id.get(str(payload.get("call_id")))
        code = payload.get("exit_code")
        if index is not None and isinstance(code, int) and code != 0:
            state.calls[index] = dataclasses.replace(state.calls[index], error=True)


def _human(tool: str, args: dict[str, Any], ts: Any, agent: Any, number: int) -> ImportedCall:
    return ImportedCall(
        tool=tool,
        args=args,
        ts=ts,
        actor="human",
        agent=agent if isinstance(agent, str) else None,
        line=number,
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, Iterable):
        return ""
    parts: list[str] = []
    for block in content:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, str):
            parts.append(block)
    return "\n".join(parts)


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _id_from_name(path: Path) -> str:
    """`rollout-2025-08-01T10-00-00-<uuid>.jsonl` → the uuid (the file's stem otherwise)."""
    match = re.search(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", path.stem)
    return match.group(1) if match else path.stem


FORMAT = Format(
    name=NAME,
    description="Codex CLI rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)",
    sniff=sniff,
    read=read,
)
