"""LangChain objects ↔ what the core records: call arguments, results, refusals.

Shared by the middleware and the callback handler, so a tool call, a model call and their
outcomes look the same in the store whichever way they were intercepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from langgraph.types import Command

from oversight import CheckpointDenied, CheckpointTimeout, Kind, StepHandle, UnknownKindError

MAX_TEXT = 500
"""Characters of a message kept in a model call's recorded arguments."""


class ToolReturnedError(Exception):
    """A tool answered with an error message (`ToolMessage(status="error")`) instead of raising."""


def parse_kind(value: str | Kind) -> Kind:
    """A kind a team declares for a tool, checked when the adapter is built, not at the call."""
    try:
        return Kind(value)
    except ValueError:
        raise UnknownKindError(value, [k.value for k in Kind]) from None


def model_name(model: object) -> str:
    """The model's own name (`gpt-4o`, `claude-…`), else its LangChain type."""
    for attr in ("model_name", "model", "model_id", "deployment_name"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    if isinstance(model, BaseLanguageModel):
        llm_type = getattr(model, "_llm_type", None)
        if isinstance(llm_type, str) and llm_type:
            return llm_type
    return type(model).__name__


def message_brief(message: BaseMessage, limit: int = MAX_TEXT) -> str:
    """One line for a message: its role (and tool), its text, the tools it asks for; bounded."""
    role = message.type if not isinstance(message, ToolMessage) else f"tool {message.name}"
    if isinstance(message, ToolMessage) and message.status == "error":
        role += " (error)"
    text = str(message.text)
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = ", ".join(
            f"{c['name']}({json.dumps(c['args'], default=str)})" for c in message.tool_calls
        )
        text = f"{text} -> {calls}" if text else f"-> {calls}"
    if len(text) > limit:
        text = f"{text[:limit]}…[{len(text) - limit} more chars]"
    return f"{role}: {text}"


def model_call_args(
    model: str, messages: Sequence[BaseMessage], tools: Sequence[object]
) -> dict[str, Any]:
    """What a model call is recorded with: the model, the newest message, the tools offered.

    The whole conversation is not recorded on every turn (it would grow quadratically); every
    tool result in it was recorded as its own step. The values are flat strings and numbers, so
    normalising them is cheap.
    """
    return {
        "model": model,
        "messages": len(messages),
        "last_message": message_brief(messages[-1]) if messages else "",
        "tools": ",".join(tool_name(t) for t in tools),
    }


def tool_name(tool: object) -> str:
    if isinstance(tool, Mapping):
        name = tool.get("name") or tool.get("function", {}).get("name")
        return str(name or tool.get("type") or "tool")
    return str(getattr(tool, "name", None) or type(tool).__name__)


def reply_summary(messages: Sequence[BaseMessage]) -> str:
    """A model reply as recorded: its text and the tool calls it makes, on one line."""
    ai = last_ai(messages)
    if ai is None:
        return " | ".join(message_brief(m) for m in messages)
    return message_brief(ai, limit=100_000)


def last_ai(messages: Sequence[BaseMessage]) -> AIMessage | None:
    return next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)


def usage_attributes(requested: str, reply: BaseMessage | None) -> dict[str, Any]:
    """OpenTelemetry GenAI attributes for a model call: model names and token usage."""
    attributes: dict[str, Any] = {"gen_ai.request.model": requested}
    if not isinstance(reply, AIMessage):
        return attributes
    metadata = reply.response_metadata or {}
    response_model = metadata.get("model_name") or metadata.get("model")
    if isinstance(response_model, str) and response_model:
        attributes["gen_ai.response.model"] = response_model
    usage: Mapping[str, Any] | None = reply.usage_metadata
    if usage is None:
        legacy = metadata.get("token_usage") or metadata.get("usage")
        if isinstance(legacy, Mapping):
            usage = {
                "input_tokens": legacy.get("prompt_tokens", legacy.get("input_tokens")),
                "output_tokens": legacy.get("completion_tokens", legacy.get("output_tokens")),
            }
    if usage is not None:
        for ours, theirs in (
            ("gen_ai.usage.input_tokens", "input_tokens"),
            ("gen_ai.usage.output_tokens", "output_tokens"),
        ):
            value = usage.get(theirs)
            if isinstance(value, int):
                attributes[ours] = value
    return attributes


CHAT_MESSAGES = 4
"""How many of the newest messages sent to a model are shown in a backend's chat view."""
CHAT_TEXT = 1_000
"""Characters of each shown message (they are stored with the step, redacted)."""

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def chat_attributes(sent: Sequence[BaseMessage], reply: AIMessage | None) -> dict[str, Any]:
    """A model call as OpenInference's chat view reads it (`llm.input_messages.*`,
    `llm.output_messages.*`): the newest messages it was sent and its reply, with the tool calls
    asked for, each bounded."""
    attributes: dict[str, Any] = {}
    for index, message in enumerate(sent[-CHAT_MESSAGES:]):
        _chat_message(attributes, f"llm.input_messages.{index}.message", message)
    if reply is not None:
        _chat_message(attributes, "llm.output_messages.0.message", reply)
    return attributes


def _chat_message(attributes: dict[str, Any], prefix: str, message: BaseMessage) -> None:
    attributes[f"{prefix}.role"] = _ROLES.get(message.type, message.type)
    text = str(message.text)
    if len(text) > CHAT_TEXT:
        text = f"{text[:CHAT_TEXT]}…[{len(text) - CHAT_TEXT} more chars]"
    attributes[f"{prefix}.content"] = text
    if isinstance(message, ToolMessage):
        attributes[f"{prefix}.tool_call_id"] = message.tool_call_id
    if isinstance(message, AIMessage):
        for index, call in enumerate(message.tool_calls[:CHAT_MESSAGES]):
            call_prefix = f"{prefix}.tool_calls.{index}.tool_call"
            attributes[f"{call_prefix}.function.name"] = call["name"]
            arguments = json.dumps(call["args"], default=str)
            attributes[f"{call_prefix}.function.arguments"] = arguments[:CHAT_TEXT]
            if call.get("id"):
                attributes[f"{call_prefix}.id"] = call["id"]


def refusal_text(name: str, exc: CheckpointDenied) -> str:
    """What the model reads when oversight refuses a call, so it can adapt."""
    rule = f" (rule {exc.rule})" if exc.rule else ""
    if isinstance(exc, CheckpointTimeout):
        return (
            f"Oversight: the call to {name} did not run: no reviewer approved it in time"
            f"{rule}: {exc.reason}. Do not retry it unchanged; choose another way or stop."
        )
    return (
        f"Oversight: the call to {name} was refused and did not run{rule}: {exc.reason}. "
        "Do not retry it unchanged; choose another way or stop."
    )


def refusal_message(call: ToolCall, exc: CheckpointDenied) -> ToolMessage:
    return ToolMessage(
        content=refusal_text(call["name"], exc),
        tool_call_id=call.get("id") or "",
        name=call["name"],
        status="error",
    )


def report_tool_result(handle: StepHandle, result: object) -> None:
    """Record a tool's answer: an error message counts as a failed step, not a success."""
    if isinstance(result, ToolMessage):
        if result.status == "error":
            handle.fail(ToolReturnedError(str(result.content)))
        else:
            handle.succeed(result.content if result.artifact is None else _with_artifact(result))
        return
    if isinstance(result, Command):
        handle.succeed(_command_summary(result))
        return
    handle.succeed(result)


def _with_artifact(message: ToolMessage) -> dict[str, Any]:
    return {"content": message.content, "artifact": message.artifact}


def _command_summary(command: Command[Any]) -> dict[str, Any]:
    update = command.update
    summary: dict[str, Any] = {"command": True}
    if isinstance(update, Mapping):
        summary["update"] = {
            key: [message_brief(m) for m in value if isinstance(m, BaseMessage)]
            if key == "messages" and isinstance(value, list)
            else value
            for key, value in update.items()
        }
    if command.goto:
        summary["goto"] = str(command.goto)
    return summary


def edit_notice(handle: StepHandle, name: str) -> str | None:
    """Tells the model that what ran is not what it asked for: a reviewer edited the call."""
    editors = handle.modified_by
    if not editors:
        return None
    return (
        f"Note: oversight reviewer(s) {', '.join(editors)} edited this call before it ran. "
        f"It ran as {name} with arguments {json.dumps(handle.args, default=str)}. "
        "Do not re-issue your original call."
    )


def with_notice(
    result: ToolMessage | Command[Any], notice: str | None
) -> ToolMessage | Command[Any]:
    if notice is None:
        return result
    if isinstance(result, ToolMessage):
        return _prepend(result, notice)
    if isinstance(result.update, Mapping) and isinstance(result.update.get("messages"), list):
        messages = [
            _prepend(m, notice) if isinstance(m, ToolMessage) else m
            for m in result.update["messages"]
        ]
        return Command(
            graph=result.graph,
            update={**result.update, "messages": messages},
            resume=result.resume,
            goto=result.goto,
        )
    return result


def _prepend(message: ToolMessage, notice: str) -> ToolMessage:
    content: Any = message.content
    if isinstance(content, str):
        content = f"{notice}\n\n{content}" if content else notice
    else:
        content = [{"type": "text", "text": notice}, *content]
    return message.model_copy(update={"content": content})
