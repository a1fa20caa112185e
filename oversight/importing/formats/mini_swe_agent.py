"""mini-swe-agent trajectories: `<instance>.traj.json`, one JSON object a run.

`messages` is the whole conversation (system, task, then the model's turns and what came back);
`info` holds `exit_status`, `submission`, `model_stats`, `mini_version` and the run's `config`.
Each model turn runs bash: v1 (`trajectory_format: mini-swe-agent-1`) and v2's text-based models
put exactly one command in a fenced block (the agent's `action_regex`; a turn with none or
several is a format error and ran nothing); v2 records the parsed commands in the message's
`extra.actions` and, with tool-calling models, as `tool_calls` answered by `tool` messages (or
Responses API `function_call` items answered by `function_call_output`). Observations
carry `<returncode>` (or JSON `"returncode"`) and v2 timestamps them in `extra.timestamp`.

A person shows in interactive runs (`mini`): a command typed in human mode (`User command:`),
a rejected command ("Commands not executed"), an interruption or a new task.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from oversight.importing.formats import Format
from oversight.importing.model import (
    ImportedCall,
    ImportedSession,
    ImportProblem,
    bounded,
    content_text,
    parse_json,
    parse_ts,
    read_json,
)

NAME = "mini-swe-agent"

# v1's agent and v2's text-based models (minisweagent/models/litellm_textbased_model.py).
_DEFAULT_REGEXES = (r"```bash\s*\n(.*?)\n```", r"```mswea_bash_command\s*\n(.*?)\n```")
_RETURNCODE = re.compile(
    r"<returncode>\s*(-?\d+)\s*</returncode>|\A\s*\{\s*\"returncode\"\s*:\s*(-?\d+)"
)
_HUMAN_COMMAND = "User command:"
_REJECTED = "Commands not executed"
_PERSON_SAID = ("Interrupted by user:", "The user added a new task:")
_MINI_HEAD = re.compile(rb'"mini_version"|minisweagent|"trajectory_format"\s*:\s*"mini-swe-agent')


def sniff(path: Path, head: bytes) -> bool:
    """A JSON object naming mini-swe-agent in its `info`, or a `.traj.json` of chat messages."""
    text = head.lstrip()
    if text.startswith(b"{"):
        # `info` comes first and its submission (a whole diff) can fill the head.
        if _MINI_HEAD.search(head) is not None and b'"info"' in head:
            return True
        return path.name.endswith(".traj.json") and text.startswith(b'{\n  "info": {')
    # The earliest versions saved the message list alone.
    return path.name.endswith(".traj.json") and text.startswith(b"[") and b'"role"' in head


@dataclass
class _Pending:
    call: ImportedCall
    index: int


def read(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    data = read_json(path)
    if isinstance(data, ImportProblem):
        yield data
        return
    if isinstance(data, list):
        data = {"messages": data}
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        yield ImportProblem(path, 0, "messages", "no list of messages")
        return
    info = _obj(data.get("info"))
    config = _obj(info.get("config"))
    session = ImportedSession(
        format=NAME,
        source=path,
        native_id=_native_id(path, data),
        agent="mini-swe-agent",
        model=_model_name(config),
        metadata=_metadata(data, info),
    )
    regexes = _action_regexes(config)
    messages: list[Any] = data["messages"]
    # Calls waiting for their observation: by tool call id, and the last turn's in order.
    by_id: dict[str, _Pending] = {}
    in_order: list[_Pending] = []
    format_errors = 0
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            yield ImportProblem(path, 0, where, "a message is not an object")
            continue
        role = message.get("role") or message.get("type") or message.get("object")
        extra = _obj(message.get("extra"))
        ts = _timestamp(extra)
        if role in ("assistant", "response"):
            _settle(in_order, by_id)
            actions, problems = _actions(message, extra, regexes, where, path)
            yield from problems
            if not actions and not problems:
                format_errors += 1
            for command, call_id in actions:
                pending = _Pending(
                    ImportedCall(tool="bash", args={"command": command}, ts=ts, call_id=call_id),
                    len(session.calls),
                )
                session.calls.append(pending.call)
                if call_id:
                    by_id[call_id] = pending
                in_order.append(pending)
        elif role in ("tool", "function_call_output"):
            call_id = message.get("tool_call_id") or message.get("call_id")
            answered = by_id.pop(call_id, None) if isinstance(call_id, str) else None
            if answered is None:
                yield ImportProblem(path, 0, f"{where}.tool_call_id", "answers no call")
                continue
            text = content_text(message.get("content", message.get("output")))
            _answer(session, answered, text, extra)
            in_order = [p for p in in_order if p is not answered]
        elif role in ("user", "message") and index > 1:
            text = content_text(message.get("content"))
            kind = extra.get("interrupt_type")
            if kind == "UserRejection" or (kind is None and text.startswith(_REJECTED)):
                for pending in in_order:
                    session.calls[pending.index] = replace(
                        pending.call, answer="denied", result=bounded(text)
                    )
                in_order = []
                by_id.clear()
            elif text.startswith(_HUMAN_COMMAND):
                _settle(in_order, by_id)
                typed = _human_command(extra, text, regexes)
                if typed is not None:
                    human = _Pending(
                        ImportedCall(tool="bash", args={"command": typed}, ts=ts, actor="human"),
                        len(session.calls),
                    )
                    session.calls.append(human.call)
                    in_order.append(human)
            elif kind in ("UserInterruption", "UserNewTask") or text.startswith(_PERSON_SAID):
                _settle(in_order, by_id)
                session.calls.append(
                    ImportedCall(tool="user.message", args={"text": text}, ts=ts, actor="human")
                )
            elif kind == "FormatError":
                continue
            elif in_order:
                # A text-based run answers its one command with the next user message.
                _answer(session, in_order.pop(0), text, extra)
    session.metadata["format_errors"] = format_errors
    yield session


def _settle(in_order: list[_Pending], by_id: dict[str, _Pending]) -> None:
    """Calls of an earlier turn that got no observation stay as they are, unanswered."""
    in_order.clear()
    by_id.clear()


def _answer(session: ImportedSession, pending: _Pending, text: str, extra: dict[str, Any]) -> None:
    code = extra.get("returncode")
    if not isinstance(code, int):
        match = _RETURNCODE.search(text)
        code = int(match.group(1) or match.group(2)) if match else None
    failed = (isinstance(code, int) and code != 0) or bool(extra.get("exception_info"))
    call = pending.call
    session.calls[pending.index] = call.with_result(bounded(text), failed, call.answer)


def _actions(
    message: dict[str, Any],
    extra: dict[str, Any],
    regexes: tuple[str, ...],
    where: str,
    path: Path,
) -> tuple[list[tuple[str, str | None]], list[ImportProblem]]:
    """The commands one model turn ran, each with its tool call id where it has one."""
    recorded = extra.get("actions")
    if isinstance(recorded, list):
        found = [
            (a["command"], a.get("tool_call_id"))
            for a in recorded
            if isinstance(a, dict) and isinstance(a.get("command"), str)
        ]
        return found, []
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        return _tool_calls(calls, f"{where}.tool_calls", path)
    output = message.get("output")
    if isinstance(output, list):
        items = [i for i in output if isinstance(i, dict) and i.get("type") == "function_call"]
        return _tool_calls(
            [{"id": i.get("call_id"), "function": i} for i in items], f"{where}.output", path
        )
    text = content_text(message.get("content"))
    for regex in regexes:
        matches = [str(a).strip() for a in re.findall(regex, text, re.DOTALL)]
        if matches:
            # The agent runs a turn only when it holds exactly one command.
            return ([(matches[0], None)] if len(matches) == 1 else []), []
    return [], []


def _tool_calls(
    calls: list[Any], where: str, path: Path
) -> tuple[list[tuple[str, str | None]], list[ImportProblem]]:
    found: list[tuple[str, str | None]] = []
    problems: list[ImportProblem] = []
    for number, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        try:
            args = parse_json(arguments) if isinstance(arguments, str) else arguments
        except ValueError as exc:
            problems.append(
                ImportProblem(path, 0, f"{where}[{number}].function.arguments", f"not JSON: {exc}")
            )
            continue
        if not isinstance(args, dict) or not isinstance(args.get("command"), str):
            problems.append(ImportProblem(path, 0, f"{where}[{number}]", "no bash command"))
            continue
        call_id = call.get("id")
        found.append((args["command"], call_id if isinstance(call_id, str) else None))
    return found, problems


def _human_command(extra: dict[str, Any], text: str, regexes: tuple[str, ...]) -> str | None:
    actions = extra.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        command = actions[0].get("command")
        if isinstance(command, str):
            return command
    for regex in regexes:
        found = re.findall(regex, text, re.DOTALL)
        if found:
            return str(found[0]).strip()
    return None


def _timestamp(extra: dict[str, Any]) -> _dt.datetime | None:
    value = extra.get("timestamp")
    response = extra.get("response")
    if value is None and isinstance(response, dict):
        value = response.get("created")  # v1 kept the provider's response, created in seconds
    try:
        return parse_ts(value) if isinstance(value, (int, float, str)) else None
    except (ValueError, OverflowError, OSError):
        return None


def _action_regexes(config: dict[str, Any]) -> tuple[str, ...]:
    for part in ("model", "agent"):
        section = config.get(part)
        regex = section.get("action_regex") if isinstance(section, dict) else None
        if isinstance(regex, str) and regex:
            return (regex,)
    return _DEFAULT_REGEXES


def _model_name(config: dict[str, Any]) -> str | None:
    model = config.get("model")
    name = model.get("model_name") if isinstance(model, dict) else None
    return name if isinstance(name, str) else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _native_id(path: Path, data: dict[str, Any]) -> str:
    """The instance's name and a hash of where the file is: the same run found again on
    re-import (the file is rewritten every step), two runs of one instance kept apart."""
    name = data.get("instance_id")
    if not isinstance(name, str) or not name:
        name = path.name.removesuffix(".json").removesuffix(".traj")
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    return f"{name}@{where}"


def _metadata(data: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key in ("exit_status", "mini_version"):
        if info.get(key) not in (None, ""):
            meta[key] = info[key]
    if info.get("submission"):
        meta["submission"] = bounded(info["submission"])
    if isinstance(data.get("trajectory_format"), str):
        meta["trajectory_format"] = data["trajectory_format"]
    stats = info.get("model_stats")
    if isinstance(stats, dict):
        meta["model_stats"] = {k: v for k, v in stats.items() if isinstance(v, (int, float))}
    messages = data.get("messages")
    task = messages[1] if isinstance(messages, list) and len(messages) > 1 else None
    if isinstance(task, dict) and task.get("role") == "user":
        meta["task"] = bounded(content_text(task.get("content")))
    return meta


FORMAT = Format(
    name=NAME,
    description="mini-swe-agent trajectories (.traj.json)",
    sniff=sniff,
    read=read,
)
