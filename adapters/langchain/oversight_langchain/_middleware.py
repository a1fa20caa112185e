"""`OversightMiddleware`: a LangChain v1 agent middleware that puts every model and tool call
through the core's one pipeline (`monitor.check`, then the call inside `with handle:`, the
core's one call protocol: an exception is the step's failure, the reply its outcome).

It holds no policy: the monitor's policy decides, and this module only translates. A refusal
becomes an error `ToolMessage` the model can read; a halt ends the run; a reviewer's edit is
what runs. Waiting for a person either blocks in place (mode "block") or pauses the LangGraph
run with `interrupt(...)` (mode "interrupt") and, on resume, claims the same approval from the
store, where signed votes decide and an approval runs at most one call.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Final, Literal, NoReturn, NotRequired, get_args

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain.agents.middleware.types import PrivateStateAttr
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.config import get_config
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel

from oversight import (
    ApprovalPending,
    CheckpointDenied,
    ConfigError,
    Kind,
    Monitor,
    Session,
    StepHandle,
)
from oversight_langchain._sessions import Sessions
from oversight_langchain._translate import (
    chat_attributes,
    edit_notice,
    last_ai,
    model_call_args,
    model_name,
    parse_kind,
    refusal_message,
    reply_summary,
    report_tool_result,
    usage_attributes,
    with_notice,
)

Mode = Literal["block", "interrupt"]
SessionIdFrom = Callable[[RunnableConfig], str | None]
ToolResult = ToolMessage | Command[Any]

SESSION_KEY: Final = "oversight_session_id"
INTERRUPT_TYPE: Final = "oversight_approval"


class OversightState(AgentState[Any]):
    """The agent state plus the oversight session id, so every node of a run (and a resume in
    another process) records into the session the run started."""

    oversight_session_id: NotRequired[Annotated[str, PrivateStateAttr]]


def thread_id(config: RunnableConfig) -> str | None:
    """The LangGraph thread id of a run: the default session id."""
    value = (config.get("configurable") or {}).get("thread_id")
    return str(value) if value not in (None, "") else None


def approval_id_for(session_id: str, tool_call_id: str, tool: str) -> str:
    """The approval a tool call waits on in interrupt mode: the same on every re-execution of
    the paused node, in any process, so resuming claims the approval instead of asking again.

    The tool's name is part of it: a resumed call renamed to another tool needs its own
    approval (the core binds an approval to the call's arguments)."""
    key = f"{session_id}\x00{tool_call_id}\x00{tool}"
    return f"lc-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


class OversightMiddleware(AgentMiddleware[OversightState, Any]):
    """Intercept, record and gate every model and tool call of a LangChain agent.

    `create_agent(model, tools, middleware=[OversightMiddleware(monitor)])`. List it first, so
    it wraps the other middleware and records what the agent really asks for and gets.

    - `mode="block"` (default): a call that needs a person waits in place for signed votes.
    - `mode="interrupt"`: such a call pauses the run with a LangGraph `interrupt` whose value
      names the approval (see `approval_requests`); resume with `Command(resume=...)` (the
      value is ignored: the decision is read from the store) once reviewers have decided. Needs
      a checkpointer and tool call ids.
    - `session_id_from(config)`: the session a run records into; by default the thread id,
      else a fresh session per run.
    - `tool_kinds`: declare the kind of tools whose name and arguments do not say it, as
      `@monitor.step(kind=...)` does (`{"submit_job": "train.launch"}`).
    - `record_model_calls=False` leaves model calls out (tool calls are always checked).
    """

    state_schema = OversightState

    def __init__(
        self,
        monitor: Monitor,
        *,
        mode: Mode = "block",
        session_id_from: SessionIdFrom = thread_id,
        agent: str | None = None,
        tool_kinds: Mapping[str, str | Kind] | None = None,
        record_model_calls: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(monitor, Monitor):
            raise ConfigError(f"OversightMiddleware needs an oversight.Monitor, got {monitor!r}")
        if mode not in get_args(Mode):
            raise ConfigError(f"mode must be 'block' or 'interrupt', got {mode!r}")
        if not callable(session_id_from):
            raise ConfigError(f"session_id_from must be callable, got {session_id_from!r}")
        self.monitor = monitor
        self.mode: Mode = mode
        self.session_id_from = session_id_from
        self.record_model_calls = record_model_calls
        self.tool_kinds = {name: parse_kind(value) for name, value in (tool_kinds or {}).items()}
        self._sessions = Sessions(monitor, agent=agent)
        self._metadata = {"framework": "langchain", "mode": mode}

    # -- session boundaries ---------------------------------------------------------------------
    def before_agent(self, state: OversightState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        session = self._sessions.begin(self.session_id_from(_config()), self._metadata)
        return None if state.get(SESSION_KEY) == session.id else {SESSION_KEY: session.id}

    async def abefore_agent(
        self, state: OversightState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        session_id = self.session_id_from(_config())
        session = await asyncio.to_thread(self._sessions.begin, session_id, self._metadata)
        return None if state.get(SESSION_KEY) == session.id else {SESSION_KEY: session.id}

    def after_agent(self, state: OversightState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        session_id = state.get(SESSION_KEY)
        if session_id:
            self._sessions.end(session_id)
        return None

    async def aafter_agent(
        self, state: OversightState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        session_id = state.get(SESSION_KEY)
        if session_id:
            await asyncio.to_thread(self._sessions.end, session_id)
        return None

    # -- model calls ----------------------------------------------------------------------------
    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        if not self.record_model_calls:
            return handler(request)
        session_id = self._session_id(request.state, _config())
        session = self._acquire(session_id)
        escaped: BaseException | None = None
        try:
            name, handle = self._check_model(request, session)
            with handle:
                response = handler(request)
                _report_model(handle, name, request, response)
            return response
        except BaseException as exc:
            escaped = _ending(exc)
            raise
        finally:
            self._release(session_id, escaped)

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        if not self.record_model_calls:
            return await handler(request)
        session_id = self._session_id(request.state, _config())
        session = await asyncio.to_thread(self._acquire, session_id)
        escaped: BaseException | None = None
        try:
            # In a thread: a policy may make a model call wait for a person.
            name, handle = await asyncio.to_thread(self._check_model, request, session)
            with handle:
                response = await handler(request)
                _report_model(handle, name, request, response)
            return response
        except BaseException as exc:
            escaped = _ending(exc)
            raise
        finally:
            self._release(session_id, escaped)

    # -- tool calls -----------------------------------------------------------------------------
    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        session_id = self._session_id(request.state, request.runtime.config)
        session = self._acquire(session_id)
        escaped: BaseException | None = None
        try:
            try:
                handle = self._check_tool(request, session, wait=self.mode == "block")
            except ApprovalPending as pending:
                _pause(pending, request)
            except CheckpointDenied as exc:
                return refusal_message(request.tool_call, exc)
            with handle:  # decorated functions the tool calls are its children
                result = handler(_as_approved(request, handle))
                report_tool_result(handle, result)
            return with_notice(result, edit_notice(handle, request.tool_call["name"]))
        except BaseException as exc:
            escaped = _ending(exc)
            raise
        finally:
            self._release(session_id, escaped)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        session_id = self._session_id(request.state, request.runtime.config)
        session = await asyncio.to_thread(self._acquire, session_id)
        escaped: BaseException | None = None
        try:
            try:
                # In a thread: waiting for a reviewer must not stop the event loop (other
                # tool calls of the same turn run meanwhile).
                handle = await asyncio.to_thread(
                    self._check_tool, request, session, wait=self.mode == "block"
                )
            except ApprovalPending as pending:
                _pause(pending, request)
            except CheckpointDenied as exc:
                return refusal_message(request.tool_call, exc)
            with handle:
                result = await handler(_as_approved(request, handle))
                report_tool_result(handle, result)
            return with_notice(result, edit_notice(handle, request.tool_call["name"]))
        except BaseException as exc:
            escaped = _ending(exc)
            raise
        finally:
            self._release(session_id, escaped)

    # -- internals ------------------------------------------------------------------------------
    def _check_model(
        self, request: ModelRequest[Any], session: Session | None
    ) -> tuple[str, StepHandle]:
        name = model_name(request.model)
        args = model_call_args(name, request.messages, request.tools)
        return name, self.monitor.check(name, args, kind=Kind.MODEL_CALL, session=session)

    def _check_tool(
        self, request: ToolCallRequest, session: Session | None, *, wait: bool
    ) -> StepHandle:
        call = request.tool_call
        name, args = call["name"], dict(call.get("args") or {})
        kind = self.tool_kinds.get(name)
        # A reviewer's edit is checked against the tool's own schema before it may run.
        schema = _args_schema(request.tool)
        if wait:
            return self.monitor.check(name, args, kind=kind, session=session, args_schema=schema)
        call_id = call.get("id")
        if not call_id or session is None:
            raise ConfigError(
                f"interrupt mode needs a tool call id and a session for {name!r} (got id "
                f"{call_id!r}); the model must return tool call ids, and the agent needs a "
                "checkpointer with a thread id"
            )
        return self.monitor.check(
            name,
            args,
            kind=kind,
            session=session,
            wait=False,
            approval_id=approval_id_for(session.id, call_id, name),
            args_schema=schema,
        )

    def _session_id(self, state: object, config: RunnableConfig) -> str | None:
        if isinstance(state, Mapping):
            value = state.get(SESSION_KEY)
            if isinstance(value, str) and value:
                return value
        return self.session_id_from(config)

    def _acquire(self, session_id: str | None) -> Session | None:
        # No session id (the middleware runs outside create_agent's before_agent and without a
        # thread id): the monitor's own active session takes the step.
        if session_id is None:
            return None
        return self._sessions.acquire(session_id, self._metadata)

    def _release(self, session_id: str | None, escaped: BaseException | None) -> None:
        if session_id is not None:
            self._sessions.release(session_id, escaped)


def approval_requests(result: Mapping[str, Any] | Any) -> list[dict[str, Any]]:
    """The oversight approvals a paused run waits for (from `invoke`'s result or a state's
    `interrupts`): each has approval_id, tool, args, kind, reason, rule, deadline…"""
    interrupts = _interrupts(result)
    return [
        dict(i.value)
        for i in interrupts
        if isinstance(i.value, Mapping) and i.value.get("type") == INTERRUPT_TYPE
    ]


def resume_command(result: Mapping[str, Any] | Any) -> Command[Any]:
    """A `Command` that resumes every oversight interrupt of a paused run.

    The decisions themselves are read from the store (signed votes) when the calls re-run; the
    resume value only names the approval it answers.
    """
    resume = {
        i.id: {"approval_id": i.value.get("approval_id")}
        for i in _interrupts(result)
        if isinstance(i.value, Mapping) and i.value.get("type") == INTERRUPT_TYPE
    }
    return Command(resume=resume)


def _interrupts(result: Mapping[str, Any] | Any) -> list[Any]:
    if isinstance(result, Mapping):
        return list(result.get("__interrupt__") or [])
    found = getattr(result, "interrupts", None)
    return list(found or [])


def _pause(pending: ApprovalPending, request: ToolCallRequest) -> NoReturn:
    """Pause the run until reviewers decide.

    `interrupt` raises the first time. When the run is resumed this node runs again from the
    start, and the call is checked again before we get here; so a resume value found now
    answered an earlier pause of this same call, while it was still pending: pause again.
    """
    value = _interrupt_value(pending, request)
    while True:
        interrupt(value)


def _interrupt_value(pending: ApprovalPending, request: ToolCallRequest) -> dict[str, Any]:
    call = request.tool_call
    value: dict[str, Any] = {
        "type": INTERRUPT_TYPE,
        "approval_id": pending.approval_id,
        "step_id": pending.step_id,
        "tool_call_id": call.get("id"),
        "tool": call["name"],
        "args": dict(call.get("args") or {}),
        "approve": f"oversight approve {pending.approval_id} --as NAME --key FILE",
        "deny": f"oversight deny {pending.approval_id} --as NAME --key FILE --reason WHY",
    }
    asked = pending.request
    if asked is not None:
        # The recorded (normalised, redacted) call and why the policy gated it.
        for field in ("args", "kind", "reason", "rule", "role", "quorum", "deadline"):
            if hasattr(asked, field):
                value[field] = getattr(asked, field)
    return value


def _as_approved(request: ToolCallRequest, handle: StepHandle) -> ToolCallRequest:
    """The request to run: the model's call, or the reviewer's edit of it."""
    call = request.tool_call
    args = handle.call_args
    if args == call.get("args"):
        return request
    return request.override(tool_call={**call, "args": args})


def _args_schema(tool: BaseTool | None) -> type[BaseModel] | dict[str, Any] | None:
    """A tool's argument schema, when it has one the core can check an edit against."""
    schema = getattr(tool, "args_schema", None)
    if isinstance(schema, dict) or (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return schema
    return None


def _report_model(
    handle: StepHandle, name: str, request: ModelRequest[Any], response: ModelResponse[Any]
) -> None:
    messages = response.result
    reply = last_ai(messages)
    attributes = {**usage_attributes(name, reply), **chat_attributes(request.messages, reply)}
    handle.succeed(reply_summary(messages), attributes=attributes)


def _ending(exc: BaseException) -> BaseException | None:
    """The exception escaping a call, unless it is a LangGraph pause (the run goes on later)."""
    return None if isinstance(exc, GraphBubbleUp) else exc


def _config() -> RunnableConfig:
    try:
        return get_config()
    except RuntimeError:  # outside a LangGraph run
        return {}
