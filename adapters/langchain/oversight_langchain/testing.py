"""A scripted chat model: drive a real LangChain agent offline, deterministically.

    model = ScriptedChatModel(script=[
        [tool_call("read_file", path="notes.md")],          # turn 1: one tool call
        [tool_call("write_file", path="a.txt", text="x"),   # turn 2: two in parallel
         tool_call("run", command="ls")],
        "Done: notes summarised.",                           # turn 3: the final answer
    ])
    agent = create_agent(model, tools, middleware=[OversightMiddleware(monitor)])

The turn is the number of model replies already in the conversation, so the model answers the
same way when LangGraph re-runs a node (a resume, a replay from a checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import ConfigDict

Turn = str | list[ToolCall]


def tool_call(name: str, /, *, id: str | None = None, **args: Any) -> ToolCall:
    """One tool call for a script; ids default to `call-<turn>-<index>`."""
    return ToolCall(name=name, args=args, id=id, type="tool_call")


class ScriptedChatModel(BaseChatModel):
    """Answers turn by turn from `script`; after the script, with `final`."""

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    script: list[Turn]
    model_name: str = "scripted-research-model"
    final: str = "Done."

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # The script already knows which tools it calls.
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        turn = sum(isinstance(m, AIMessage) for m in messages)
        planned = self.script[turn] if turn < len(self.script) else self.final
        if isinstance(planned, str):
            reply = AIMessage(content=planned)
        else:
            calls = [
                ToolCall(
                    name=c["name"],
                    args=dict(c["args"]),
                    id=c.get("id") or f"call-{turn}-{i}",
                    type="tool_call",
                )
                for i, c in enumerate(planned)
            ]
            reply = AIMessage(content="", tool_calls=calls)
        words_in = sum(len(str(m.text).split()) for m in messages)
        words_out = len(str(reply.text).split()) + sum(len(c["args"]) for c in reply.tool_calls)
        reply.usage_metadata = {
            "input_tokens": words_in,
            "output_tokens": words_out,
            "total_tokens": words_in + words_out,
        }
        reply.response_metadata = {"model_name": self.model_name}
        return ChatResult(generations=[ChatGeneration(message=reply)])
