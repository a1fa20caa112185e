"""Oversight for LangChain and LangGraph agents: `pip install 'agent-oversight[langchain]'`.

    from oversight import Monitor
    from oversight_langchain import OversightMiddleware

    agent = create_agent(model, tools, middleware=[OversightMiddleware(Monitor())])

The adapter only translates: every model and tool call goes through the core's pipeline
(`Monitor.check` → run → `StepHandle.succeed`/`fail`), and the monitor's policy decides.
"""

from __future__ import annotations

from importlib.util import find_spec

from oversight import MissingExtraError

for _module in ("langchain", "langchain_core", "langgraph"):
    if find_spec(_module) is None:  # pragma: no cover - exercised without the extra installed
        raise MissingExtraError("oversight_langchain", "langchain", _module)

from oversight_langchain._callbacks import OversightCallbackHandler, OversightNotEnforcedWarning
from oversight_langchain._middleware import (
    OversightMiddleware,
    OversightState,
    approval_id_for,
    approval_requests,
    resume_command,
    thread_id,
)
from oversight_langchain._translate import ToolReturnedError

__all__ = [
    "OversightCallbackHandler",
    "OversightMiddleware",
    "OversightNotEnforcedWarning",
    "OversightState",
    "ToolReturnedError",
    "approval_id_for",
    "approval_requests",
    "resume_command",
    "thread_id",
]
