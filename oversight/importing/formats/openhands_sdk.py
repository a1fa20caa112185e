"""OpenHands agent-SDK (v1, the OpenHands CLI) conversations: typed events with a `kind`.

A conversation folder holds `base_state.json` and `events/event-<n>-<event id>.json`, one event
a file (openhands/sdk/conversation/persistence_const.py); exports hold the same events as one
JSON list. An `ActionEvent` is one tool call (`tool_name`, `tool_call_id`, the model's
`tool_call` with its JSON `arguments`, and the parsed `action`); an `ObservationEvent`,
`UserRejectObservation` or `AgentErrorEvent` answers it (`action_id`, `tool_call_id`); a
`MessageEvent` from source `user` is the person talking. Calls keep the tool names and the
arguments the model sent (`terminal`, `file_editor`, `think`, `finish`, ...).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
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
EVENT_FILE = re.compile(r"\Aevent-(\d{5,})-[0-9A-Za-z\-]{8,}\.json\Z")
_LIST_OPENING = re.compile(rb'\A\s*\[\s*\{\s*"(?:id|kind)"\s*:')
_SDK_KIND = re.compile(
    rb'"kind"\s*:\s*"(?:SystemPromptEvent|MessageEvent|ActionEvent|ObservationEvent'
    rb'|UserRejectObservation|AgentErrorEvent)"'
)
_ANSWERS = ("ObservationEvent", "UserRejectObservation", "AgentErrorEvent")


def sniff(path: Path, head: bytes) -> bool:
    """A `.json` list of SDK events: its first event's system prompt, or an SDK event kind."""
    if path.suffix != ".json" or _LIST_OPENING.match(head) is None:
        return False
    return _SDK_KIND.search(head) is not None or (
        b'"system_prompt"' in head and b'"source"' in head
    )


def is_events_folder(folder: Path) -> bool:
    try:
        return any(EVENT_FILE.match(child.name) for child in folder.iterdir())
    except OSError:
        return False


@dataclass(frozen=True)
class _Event:
    data: dict[str, Any]
    source: Path
    where: str  # the field path of the event in a list, "" for an event file


def read_list(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    data = read_json(path)
    if isinstance(data, ImportProblem):
        yield data
        return
    if not isinstance(data, list):
        yield ImportProblem(path, 0, "", "not a JSON list of events")
        return
    events: list[_Event] = []
    for i, item in enumerate(data):
        if isinstance(item, dict):
            events.append(_Event(item, path, f"[{i}]"))
        else:
            yield ImportProblem(path, 0, f"[{i}]", "an event is not an object")
    conversation = path.parent.name if path.stem == "events" else path.stem
    session = ImportedSession(format=FORMAT_NAME, source=path, native_id=conversation)
    yield from _fill(session, events)
    yield session


def read_folder(folder: Path) -> Iterator[ImportedSession | ImportProblem]:
    """`folder` is the conversation's `events/` folder."""
    numbered = [(EVENT_FILE.match(f.name), f) for f in folder.iterdir()]
    files = sorted((int(m[1]), f) for m, f in numbered if m is not None)
    events: list[_Event] = []
    for _, file in files:
        data = read_json(file)
        if isinstance(data, ImportProblem):
            yield data
            continue
        if not isinstance(data, dict):
            yield ImportProblem(file, 0, "", "an event is not an object")
            continue
        events.append(_Event(data, file, ""))
    conversation = folder.parent
    agent, model = _base_state(conversation)
    session = ImportedSession(
        format=FORMAT_NAME,
        source=conversation,
        native_id=conversation.name,
        agent=agent,
        model=model,
    )
    yield from _fill(session, events)
    yield session


def _base_state(conversation: Path) -> tuple[str | None, str | None]:
    """The agent kind and model `base_state.json` names, where it is there and readable."""
    try:
        state = parse_json((conversation / "base_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    agent = state.get("agent") if isinstance(state, dict) else None
    if not isinstance(agent, dict):
        return None, None
    llm = agent.get("llm")
    model = llm.get("model") if isinstance(llm, dict) else None
    kind = agent.get("kind")
    return (kind if isinstance(kind, str) else None), (model if isinstance(model, str) else None)


def _fill(session: ImportedSession, events: list[_Event]) -> Iterator[ImportProblem]:
    by_action: dict[str, int] = {}
    by_tool_call: dict[str, int] = {}
    for event in events:
        data = event.data
        kind = data.get("kind")
        ts = _time(data.get("timestamp"))
        if kind == "ActionEvent":
            call, problem = _action(data, event, ts)
            if problem is not None:
                yield problem
            if call is None:
                continue
            if isinstance(data.get("id"), str):
                by_action[data["id"]] = len(session.calls)
            if call.call_id:
                by_tool_call[call.call_id] = len(session.calls)
            session.calls.append(call)
        elif kind in _ANSWERS:
            index = by_action.get(str(data.get("action_id")), -1)
            if index < 0:
                index = by_tool_call.get(str(data.get("tool_call_id")), -1)
            if index >= 0:
                session.calls[index] = _answered(session.calls[index], kind, data)
        elif kind == "MessageEvent":
            if data.get("source") == "user":
                message = data.get("llm_message")
                text = content_text(message.get("content")) if isinstance(message, dict) else ""
                session.calls.append(ImportedCall("user.message", {"text": text}, ts, "human"))
        elif not isinstance(kind, str):
            yield ImportProblem(event.source, 0, _field(event, "kind"), "no event kind")
        if session.started is None and ts is not None:
            session.started = ts


def _action(
    data: dict[str, Any], event: _Event, ts: _dt.datetime | None
) -> tuple[ImportedCall | None, ImportProblem | None]:
    tool = data.get("tool_name")
    if not isinstance(tool, str) or not tool:
        return None, ImportProblem(event.source, 0, _field(event, "tool_name"), "no tool name")
    call_id = data.get("tool_call_id") if isinstance(data.get("tool_call_id"), str) else None
    args, wrong = _sent_arguments(data.get("tool_call"))
    problem = None
    if args is None:
        action = data.get("action")
        args = {k: v for k, v in action.items() if k != "kind"} if isinstance(action, dict) else {}
        if wrong:
            problem = ImportProblem(event.source, 0, _field(event, "tool_call.arguments"), wrong)
    return ImportedCall(tool, args, ts, call_id=call_id), problem


def _sent_arguments(tool_call: Any) -> tuple[dict[str, Any] | None, str]:
    """The arguments the model sent (`tool_call.arguments`, or the older `function` form)."""
    if not isinstance(tool_call, dict):
        return None, ""
    function = tool_call.get("function")
    raw = function.get("arguments") if isinstance(function, dict) else tool_call.get("arguments")
    if isinstance(raw, dict):
        return raw, ""
    if not isinstance(raw, str):
        return None, ""
    try:
        parsed = parse_json(raw) if raw.strip() else {}
    except ValueError as exc:
        return None, f"not JSON: {exc}"
    if not isinstance(parsed, dict):
        return None, f"not a JSON object but {type(parsed).__name__}"
    return parsed, ""


def _answered(call: ImportedCall, kind: str, data: dict[str, Any]) -> ImportedCall:
    if kind == "UserRejectObservation":
        reason = data.get("rejection_reason")
        return replace(call, answer="denied", result=bounded(reason or "rejected"))
    if kind == "AgentErrorEvent":
        return replace(call, result=bounded(data.get("error")), error=True)
    observation = data.get("observation")
    observation = observation if isinstance(observation, dict) else {}
    code = observation.get("exit_code")
    failed = observation.get("is_error") is True or (
        isinstance(code, int) and not isinstance(code, bool) and code not in (0, -1)
    )
    return replace(call, result=bounded(content_text(observation.get("content"))), error=failed)


def _field(event: _Event, name: str) -> str:
    return f"{event.where}.{name}" if event.where else name


def _time(value: Any) -> _dt.datetime | None:
    try:
        return parse_ts(value)
    except (ValueError, OverflowError, OSError):
        return None
