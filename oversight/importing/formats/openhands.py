"""OpenHands transcripts: event streams (a session folder of `events/<n>.json`, an evaluation
`output.jsonl`), and the two other shapes OpenHands writes, read by their own modules: LLM
completion logs (`openhands_completions`) and agent-SDK conversations (`openhands_sdk`).

Each event is an action (`action`, `args`, `source`) or an observation (`observation`,
`content`, `extras`) whose `cause` is the id of the action it answers (openhands/events/
serialization/event.py). An action the agent chose through a function call keeps
`tool_call_metadata` ({function_name, tool_call_id, model_response}); its tool name and the
arguments the model sent are taken from there, so calls reach the classifier as the agent made
them (`execute_bash`, `str_replace_editor`, `execute_ipython_cell`, ...). Without it, the action
type says which CodeAct tool it was. An evaluation's `output.jsonl` holds one instance a line,
its events in `history` (older versions: a list of [action, observation] pairs).

A person shows as a `message` action from source `user`, and in confirmation mode as the answer
to a call: `confirmation_state` "rejected", or a `user_rejected` observation.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from oversight.importing.formats import Format, openhands_completions, openhands_sdk
from oversight.importing.model import (
    Actor,
    ImportedCall,
    ImportedSession,
    ImportProblem,
    PersonAnswer,
    bounded,
    parse_json,
    parse_ts,
    read_json,
)

NAME = "openhands"

_EVENT_FILE = re.compile(r"\A\d+\.json\Z")
_OUTPUT_HEAD = re.compile(rb'\A\s*\{\s*"instance_id"\s*:')
# Action types that are not calls: bookkeeping of the controller.
_NOT_CALLS = frozenset(
    {"recall", "change_agent_state", "null", "system", "condensation", "condensation_request"}
)
_EDITOR_KEYS = ("command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range")


def claims_dir(path: Path) -> bool:
    """A session folder with an `events/` folder of event files (or that folder), or a folder
    of one instance's LLM completion logs."""
    folder = _events_folder(path)
    if folder is not None:
        try:
            return any(_EVENT_FILE.match(child.name) for child in folder.iterdir()) or (
                openhands_sdk.is_events_folder(folder)
            )
        except OSError:
            return False
    return openhands_completions.claims_dir(path)


def _events_folder(path: Path) -> Path | None:
    events = path / "events"
    return events if events.is_dir() else path if path.name == "events" else None


def sniff(path: Path, head: bytes) -> bool:
    """An evaluation output (JSON lines opening with `instance_id`, with a `history`), an LLM
    completion log, or a JSON list of agent-SDK events."""
    if openhands_completions.sniff(path, head) or openhands_sdk.sniff(path, head):
        return True
    if path.suffix != ".jsonl" or _OUTPUT_HEAD.match(head) is None:
        return False
    first = head.split(b"\n", 1)[0]
    return b'"history"' in first or (b'"metadata"' in first and b'"agent_class"' in first)


def read(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    if path.is_dir():
        folder = _events_folder(path)
        if folder is not None and openhands_sdk.is_events_folder(folder):
            yield from openhands_sdk.read_folder(folder)
        elif folder is None and openhands_completions.claims_dir(path):
            yield from openhands_completions.read_folder(path)
        else:
            yield from _read_folder(path)
        return
    shape = _file_shape(path)
    if shape == "sdk":
        yield from openhands_sdk.read_list(path)
    elif shape == "completions":
        yield from openhands_completions.read_file(path)
    else:
        yield from _read_output(path)


def _file_shape(path: Path) -> str:
    """Which of OpenHands' file shapes `path` is: decided from its head, as sniffing does, but
    also for a file given with `--format openhands` that sniffing would not have picked."""
    if path.suffix == ".jsonl":
        return "output"
    try:
        with path.open("rb") as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return "output"  # its reader reports the file as unreadable
    if openhands_sdk.sniff(path, head) or head.lstrip().startswith(b"["):
        return "sdk"
    if openhands_completions.sniff(path, head) or b'"messages"' in head[:256]:
        return "completions"
    return "output"


@dataclass(frozen=True)
class _Event:
    data: dict[str, Any]
    source: Path
    line: int


def _read_folder(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    folder = path if path.name == "events" and not (path / "events").is_dir() else path / "events"
    session_dir = folder.parent
    files = sorted(
        (f for f in folder.iterdir() if _EVENT_FILE.match(f.name)), key=lambda f: int(f.stem)
    )
    events: list[_Event] = []
    for file in files:
        data = read_json(file)
        if isinstance(data, ImportProblem):
            yield data
            continue
        if not isinstance(data, dict):
            yield ImportProblem(file, 0, "", "an event is not an object")
            continue
        events.append(_Event(data, file, 0))
    metadata = _folder_metadata(session_dir)
    session = ImportedSession(
        format=NAME,
        source=path,
        native_id=session_dir.name,
        agent=metadata.pop("agent_class", None),
        model=metadata.pop("llm_model", None),
        metadata=metadata,
    )
    yield from _fill(session, events)
    yield session


def _folder_metadata(session_dir: Path) -> dict[str, Any]:
    """What the session's `metadata.json` says (title, model, agent), where there is one."""
    try:
        data = parse_json((session_dir / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    keep = ("title", "selected_repository", "created_at", "agent_class", "llm_model")
    return {k: data[k] for k in keep if isinstance(data.get(k), str)}


def _read_output(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        yield ImportProblem(path, 0, "", f"not readable: {exc}")
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = parse_json(line)
            except ValueError as exc:
                yield ImportProblem(path, number, "", f"not JSON: {exc}")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("history"), list):
                yield ImportProblem(path, number, "history", "no list of events")
                continue
            meta = _obj(record.get("metadata"))
            session = ImportedSession(
                format=NAME,
                source=path,
                native_id=f"{record.get('instance_id')}@{_run_name(path, meta)}",
                agent=meta.get("agent_class") if isinstance(meta.get("agent_class"), str) else None,
                model=_model(meta),
                metadata=_output_metadata(record),
            )
            events = [_Event(e, path, number) for e in _flatten(record["history"])]
            yield from _fill(session, events)
            yield session


def _flatten(history: list[Any]) -> Iterable[dict[str, Any]]:
    for item in history:
        if isinstance(item, list):  # older outputs: [action, observation] pairs
            yield from (e for e in item if isinstance(e, dict) and e)
        elif isinstance(item, dict):
            yield item


def _fill(session: ImportedSession, events: list[_Event]) -> Iterator[ImportProblem]:
    """Turn the events into calls, joining each observation to its action."""
    by_event: dict[Any, int] = {}
    by_tool_call: dict[str, int] = {}
    awaiting: dict[str, int] = {}
    for event in events:
        data = event.data
        ts = _time(data.get("timestamp"))
        if "action" in data:
            call, problem = _call(data, event, ts)
            if problem is not None:
                yield problem
            if call is None:
                continue
            key = call.call_id or json.dumps([call.tool, call.args], sort_keys=True, default=str)
            state = _args(data).get("confirmation_state")
            if key in awaiting:
                # The same call again after the person answered the confirmation prompt.
                index = awaiting.pop(key)
                answer: PersonAnswer = "denied" if state == "rejected" else "approved"
                session.calls[index] = replace(session.calls[index], answer=answer)
            else:
                index = len(session.calls)
                session.calls.append(
                    replace(call, answer="denied") if state == "rejected" else call
                )
                if state == "awaiting_confirmation":
                    awaiting[key] = index
            if data.get("id") is not None:
                by_event[data["id"]] = index
            if call.call_id:
                by_tool_call[call.call_id] = index
        elif "observation" in data:
            index = by_event.get(data.get("cause"), -1)
            meta = data.get("tool_call_metadata")
            if index < 0 and isinstance(meta, dict):
                index = by_tool_call.get(str(meta.get("tool_call_id")), -1)
            if index < 0:
                continue  # an observation nothing asked for (the environment's own news)
            session.calls[index] = _observed(session.calls[index], data)
        else:
            yield ImportProblem(
                event.source, event.line, "action", "neither action nor observation"
            )


def _call(
    data: dict[str, Any], event: _Event, ts: _dt.datetime | None
) -> tuple[ImportedCall | None, ImportProblem | None]:
    kind = data.get("action")
    args = _args(data)
    source = data.get("source")
    if kind == "message":
        if source != "user":
            return None, None  # the agent talking, not a call
        text = args.get("content") if isinstance(args.get("content"), str) else data.get("message")
        call = ImportedCall("user.message", {"text": text or ""}, ts, "human", line=event.line)
        return call, None
    if not isinstance(kind, str) or kind in _NOT_CALLS:
        return None, None
    meta = data.get("tool_call_metadata")
    call_id = None
    tool, arguments = _from_action(kind, args)
    if isinstance(meta, dict):
        call_id = meta.get("tool_call_id") if isinstance(meta.get("tool_call_id"), str) else None
        name = meta.get("function_name")
        if isinstance(name, str) and name:
            sent = _sent_arguments(meta, call_id)
            tool, arguments = name, sent if sent is not None else arguments
    actor: Actor = "human" if source == "user" else "agent"
    return ImportedCall(tool, arguments, ts, actor, call_id=call_id, line=event.line), None


def _from_action(kind: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The CodeAct tool an action type stands for, with that tool's arguments."""
    if kind == "run":
        return "execute_bash", _pick(args, ("command", "is_input"), drop_false=True)
    if kind == "run_ipython":
        return "execute_ipython_cell", _pick(args, ("code",))
    if kind == "read":
        return "str_replace_editor", {"command": "view", **_pick(args, ("path", "view_range"))}
    if kind == "write":
        return "str_replace_editor", {
            "command": "create",
            "path": args.get("path"),
            "file_text": args.get("content"),
        }
    if kind == "edit":
        if args.get("command"):
            return "str_replace_editor", _pick(args, _EDITOR_KEYS)
        return "edit_file", _pick(args, ("path", "content", "start", "end"))  # LLM-based edit
    if kind == "browse":
        return "web_read", _pick(args, ("url",))
    if kind == "browse_interactive":
        return "browser", {"code": args.get("browser_actions")}
    if kind == "think":
        return "think", _pick(args, ("thought",))
    if kind == "finish":
        return "finish", {"message": args.get("final_thought") or args.get("outputs")}
    if kind == "delegate":
        return "delegate", _pick(args, ("agent", "inputs"))
    if kind == "mcp" and isinstance(args.get("name"), str):
        return args["name"], dict(args.get("arguments") or {})
    return kind, {k: v for k, v in args.items() if k not in ("thought", "confirmation_state")}


def _sent_arguments(meta: dict[str, Any], call_id: str | None) -> dict[str, Any] | None:
    """The arguments the model sent in the tool call itself (kept in `model_response`)."""
    response = meta.get("model_response")
    choices = response.get("choices") if isinstance(response, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    for call in calls if isinstance(calls, list) else []:
        if isinstance(call, dict) and call.get("id") == call_id:
            function = call.get("function")
            raw = function.get("arguments") if isinstance(function, dict) else None
            try:
                parsed = parse_json(raw) if isinstance(raw, str) else raw
            except ValueError:
                return None
            return parsed if isinstance(parsed, dict) else None
    return None


def _observed(call: ImportedCall, data: dict[str, Any]) -> ImportedCall:
    kind = data.get("observation")
    extras = _obj(data.get("extras"))
    text = data.get("content") if isinstance(data.get("content"), str) else data.get("message")
    if kind == "user_rejected":
        return replace(call, answer="denied", result=bounded(text))
    meta = _obj(extras.get("metadata"))
    code = meta.get("exit_code", extras.get("exit_code"))
    failed = (
        kind == "error"
        or data.get("success") is False
        or (isinstance(code, int) and code not in (0, -1))
        or extras.get("error") is True
    )
    return replace(call, result=bounded(text), error=bool(failed))


def _args(data: dict[str, Any]) -> dict[str, Any]:
    return _obj(data.get("args"))


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pick(args: dict[str, Any], keys: Iterable[str], drop_false: bool = False) -> dict[str, Any]:
    return {
        k: args[k]
        for k in keys
        if args.get(k) is not None and not (drop_false and args[k] is False)
    }


def _time(value: Any) -> _dt.datetime | None:
    try:
        return parse_ts(value)
    except (ValueError, OverflowError, OSError):
        return None


def _model(meta: dict[str, Any]) -> str | None:
    llm = meta.get("llm_config")
    name = llm.get("model") if isinstance(llm, dict) else meta.get("model_name")
    return name if isinstance(name, str) else None


def _run_name(path: Path, meta: dict[str, Any]) -> str:
    """The run an instance belongs to: its eval output folder, named after model and config."""
    output_dir = meta.get("eval_output_dir")
    if isinstance(output_dir, str) and output_dir:
        return Path(output_dir).name
    return path.parent.name


def _output_metadata(record: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"instance_id": record.get("instance_id")}
    if isinstance(record.get("instruction"), str):
        meta["instruction"] = bounded(record["instruction"])
    if record.get("error"):
        meta["error"] = bounded(record["error"])
    result = record.get("test_result")
    if isinstance(result, dict):
        meta["test_result"] = {
            k: v
            for k, v in result.items()
            if isinstance(v, (bool, int, float, str)) and k != "git_patch"
        }
        if isinstance(result.get("git_patch"), str):
            meta["git_patch"] = bounded(result["git_patch"])
    return meta


FORMAT = Format(
    name=NAME,
    description=(
        "OpenHands event streams (events/ folders, evaluation output.jsonl), LLM completion "
        "logs (llm_completions/<instance>/*.json), agent-SDK / CLI conversation events"
    ),
    sniff=sniff,
    read=read,
    claims_dir=claims_dir,
)
