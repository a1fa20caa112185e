"""OpenHands LLM-completions logs: `llm_completions/<instance>/<model>-<time>.json`.

With `log_completions` on, OpenHands writes one file per model completion (openhands/llm/
llm.py): the whole conversation sent so far (`messages`; with mocked function calling, the
structured version in `fncall_messages`), the reply (`response` / `fncall_response`), its
`timestamp` and `cost`. The calls are the assistant messages' `tool_calls` (function name and
JSON arguments, e.g. `execute_bash`, `str_replace_editor`), their results the `tool` messages.

Each file repeats every earlier file's conversation, so a folder of them is one session read
once: files in time order, each tool call taken the first time its id appears, with the
timestamp of the completion that made it. A single file is the session up to that completion.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

FORMAT_NAME = "openhands"
_OPENING = re.compile(rb'\A\s*\{\s*"(?:fncall_)?messages"\s*:\s*\[')
_EXIT_CODE = re.compile(r"\[The command completed with exit code (-?\d+)\.\]\s*\Z")
_STAMPED_NAME = re.compile(r"\A(?P<model>.+)-(?P<time>\d+(?:\.\d+)?)\Z")


def sniff(path: Path, head: bytes) -> bool:
    """A `.json` object opening with the message list, that is an OpenHands completion: its
    function-calling keys or OpenHands' system prompt are in the head, or it sits in an
    `llm_completions/<instance>/` folder (the message list alone can fill the head)."""
    if path.suffix != ".json" or path.name.endswith(".traj.json"):
        return False
    if _OPENING.match(head) is None:
        return False
    return (
        b'"fncall_messages"' in head
        or b'"fncall_response"' in head
        or b"OpenHands agent" in head[:16_384]
        or path.parent.parent.name == "llm_completions"
    )


def claims_dir(path: Path) -> bool:
    """A folder of one instance's completion files (and nothing else but files)."""
    try:
        children = sorted(path.iterdir())
    except OSError:
        return False
    if not children or any(child.is_dir() for child in children):
        return False
    logs = [child for child in children if child.suffix == ".json"]
    if not logs:
        return False
    try:
        with logs[0].open("rb") as fh:
            head = fh.read(16_384)
    except OSError:
        return False
    return sniff(logs[0], head)


def read_file(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    yield from _read([path], path.parent)


def read_folder(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    files = [f for f in path.iterdir() if f.suffix == ".json" and f.is_file()]
    yield from _read(sorted(files, key=_time_order), path)


def _time_order(path: Path) -> tuple[float, str]:
    """Files in the order the completions were made (the time OpenHands puts in the name)."""
    match = _STAMPED_NAME.match(path.stem)
    return (float(match["time"]) if match else 0.0, path.name)


def _read(files: list[Path], folder: Path) -> Iterator[ImportedSession | ImportProblem]:
    session = ImportedSession(
        format=FORMAT_NAME,
        source=folder if len(files) != 1 else files[0],
        native_id=f"{folder.name}@{folder.parent.parent.name}/{folder.parent.name}",
        metadata={"instance_id": folder.name, "completions": 0},
    )
    builder = _Builder(session)
    for file in files:
        log = read_json(file)
        if isinstance(log, ImportProblem):
            yield log
            continue
        if not isinstance(log, dict):
            yield ImportProblem(file, 0, "", "a completion log must be a JSON object")
            continue
        yield from builder.add(file, log)
        session.metadata["completions"] += 1
        session.model = session.model or _model(file, log)
    if session.metadata["completions"]:
        session.started = next((c.ts for c in session.calls if c.ts is not None), None)
        yield session


@dataclass
class _Builder:
    """Adds each completion's new calls to the session, and results to the calls they answer."""

    session: ImportedSession
    by_id: dict[str, int] = field(default_factory=dict)
    seen: set[Any] = field(default_factory=set)

    def add(self, file: Path, log: dict[str, Any]) -> Iterator[ImportProblem]:
        key = "fncall_messages" if isinstance(log.get("fncall_messages"), list) else "messages"
        messages = log.get(key)
        if not isinstance(messages, list):
            yield ImportProblem(file, 0, key, "no list of messages")
            return
        ts = _time(log.get("timestamp"))
        after, ordinal = None, 0  # where a person's message falls: after which call, how many
        for i, message in enumerate(messages):
            where = f"{key}[{i}]"
            if not isinstance(message, dict):
                yield ImportProblem(file, 0, where, "a message is not an object")
                continue
            role = message.get("role")
            if role == "user":
                self._person(message, (after, ordinal))
                ordinal += 1
            elif role == "assistant":
                ids, problems = self._calls(message, where, file, None)
                yield from problems
                if ids:
                    after, ordinal = ids[-1], 0
            elif role == "tool":
                self._result(message)
        reply_key = (
            "fncall_response" if isinstance(log.get("fncall_response"), dict) else "response"
        )
        reply = _reply_message(log.get(reply_key))
        if reply is not None:
            yield from self._calls(reply, f"{reply_key}.choices[0].message", file, ts)[1]

    def _person(self, message: dict[str, Any], place: Any) -> None:
        if ("user", place) in self.seen:
            return
        self.seen.add(("user", place))
        text = content_text(message.get("content"))
        self.session.calls.append(ImportedCall("user.message", {"text": text}, actor="human"))

    def _calls(
        self, message: dict[str, Any], where: str, file: Path, ts: _dt.datetime | None
    ) -> tuple[list[str], list[ImportProblem]]:
        """Record the message's new tool calls: the ids of all its calls, and its problems."""
        calls = message.get("tool_calls")
        ids: list[str] = []
        problems: list[ImportProblem] = []
        if calls is None:
            return ids, problems
        if not isinstance(calls, list):
            return ids, [ImportProblem(file, 0, f"{where}.tool_calls", "not a list")]
        for j, call in enumerate(calls):
            place = f"{where}.tool_calls[{j}]"
            call_id = call.get("id") if isinstance(call, dict) else None
            if not isinstance(call_id, str) or not call_id:
                problems.append(ImportProblem(file, 0, f"{place}.id", "a tool call without an id"))
                continue
            ids.append(call_id)
            if call_id in self.by_id or ("bad", call_id) in self.seen:
                continue
            tool, args, problem = _function(call.get("function"))
            if problem:
                self.seen.add(("bad", call_id))
                problems.append(ImportProblem(file, 0, f"{place}.function{problem[0]}", problem[1]))
                continue
            self.by_id[call_id] = len(self.session.calls)
            self.session.calls.append(ImportedCall(tool, args, ts, call_id=call_id))
        return ids, problems

    def _result(self, message: dict[str, Any]) -> None:
        index = self.by_id.get(str(message.get("tool_call_id")), -1)
        if index < 0 or self.session.calls[index].result is not None:
            return
        text = content_text(message.get("content"))
        code = _EXIT_CODE.search(text)
        failed = text.startswith("ERROR:") or (code is not None and int(code[1]) not in (0, -1))
        call = self.session.calls[index]
        self.session.calls[index] = call.with_result(bounded(text), failed, call.answer)


def _function(function: Any) -> tuple[str, dict[str, Any], tuple[str, str] | None]:
    """The tool name and parsed arguments of a tool call, or (subfield, what is wrong)."""
    if not isinstance(function, dict):
        return "", {}, ("", "no function")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        return "", {}, (".name", "no tool name")
    raw = function.get("arguments")
    if isinstance(raw, dict):
        return name, raw, None
    if not isinstance(raw, str):
        return "", {}, (".arguments", "no arguments")
    try:
        args = parse_json(raw) if raw.strip() else {}
    except ValueError as exc:
        return "", {}, (".arguments", f"not JSON: {exc}")
    if not isinstance(args, dict):
        return "", {}, (".arguments", f"not a JSON object but {type(args).__name__}")
    return name, args, None


def _reply_message(response: Any) -> dict[str, Any] | None:
    choices = response.get("choices") if isinstance(response, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    return message if isinstance(message, dict) else None


def _model(file: Path, log: dict[str, Any]) -> str | None:
    """The model named in the reply, else in the file name (`<model>-<time>.json`)."""
    response = log.get("response")
    named = response.get("model") if isinstance(response, dict) else None
    if isinstance(named, str) and named:
        return named
    match = _STAMPED_NAME.match(file.stem)
    return match["model"].replace("__", "/") if match else None


def _time(value: Any) -> _dt.datetime | None:
    try:
        return parse_ts(value)
    except (ValueError, OverflowError, OSError):
        return None
