"""`OversightCallbackHandler`: oversight for any `langchain_core` runnable or legacy chain,
through LangChain's callback system (`callbacks=[handler]`).

Callbacks see every chain, model and tool run, but can stop one only by raising, and LangChain
swallows a handler's exceptions unless the handler sets `raise_error`. So `block=True` sets it
and a refused call raises from its start event, before it runs; `block=False` records only.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from oversight import (
    CheckpointDenied,
    ConfigError,
    Kind,
    Monitor,
    Session,
    SessionHalted,
    StepHandle,
)
from oversight_langchain._sessions import Sessions
from oversight_langchain._translate import (
    CHAT_MESSAGES,
    MAX_TEXT,
    chat_attributes,
    last_ai,
    model_call_args,
    parse_kind,
    reply_summary,
    report_tool_result,
    usage_attributes,
)

_HIDDEN = "langsmith:hidden"


class OversightNotEnforcedWarning(UserWarning):
    """The policy refused a call that a non-blocking callback handler cannot stop."""


class OversightCallbackHandler(BaseCallbackHandler):
    """Record every chain, model and tool run of a LangChain runnable; with `block=True`, also
    refuse the calls the monitor's policy refuses (the run raises CheckpointDenied or
    SessionHalted from the call's start event, before it runs).

    Each top-level run is a session (its `thread_id` metadata, else its run id) that ends when
    the run ends, as completed or failed; pass `session=` to record into one you manage.
    `block=False` never raises into LangChain, so a call the policy refuses runs anyway: the
    refusal is recorded and an `OversightNotEnforcedWarning` says so. Use it with a recording
    monitor (no policy, or `observe-only`); to enforce, use `block=True` or the middleware.
    """

    def __init__(
        self,
        monitor: Monitor,
        *,
        block: bool = False,
        session: Session | None = None,
        agent: str | None = None,
        tool_kinds: Mapping[str, str | Kind] | None = None,
    ) -> None:
        if not isinstance(monitor, Monitor):
            raise ConfigError(
                f"OversightCallbackHandler needs an oversight.Monitor, got {monitor!r}"
            )
        self.monitor = monitor
        self.block = block
        self.raise_error = block
        self.tool_kinds = {name: parse_kind(value) for name, value in (tool_kinds or {}).items()}
        self._session = session
        self._sessions = Sessions(monitor, agent=agent)
        self._lock = threading.Lock()
        self._handles: dict[UUID, StepHandle] = {}
        self._sent: dict[UUID, list[BaseMessage]] = {}
        """The newest messages of each model call running: its chat view when it ends."""
        self._run_session: dict[UUID, str] = {}
        self._roots: set[UUID] = set()

    # -- chains ---------------------------------------------------------------------------------
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any] | Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if _HIDDEN in (tags or ()):
            # LangChain's own plumbing: not a step, but its children belong to the session.
            self._session_for(run_id, parent_run_id, metadata)
            return
        name = _name(serialized, kwargs, default="chain")
        args = dict(inputs) if isinstance(inputs, Mapping) else {"input": inputs}
        self._start(run_id, parent_run_id, metadata, name, args, None)

    def on_chain_end(self, outputs: dict[str, Any] | Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._succeed(run_id, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # -- models ---------------------------------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _model_name(serialized, metadata, kwargs)
        params = kwargs.get("invocation_params") or {}
        tools = params.get("tools") or [] if isinstance(params, Mapping) else []
        sent = messages[0] if messages else []
        args = model_call_args(name, sent, tools)
        self._start(run_id, parent_run_id, metadata, name, args, Kind.MODEL_CALL)
        with self._lock:
            if run_id in self._handles:
                self._sent[run_id] = list(sent[-CHAT_MESSAGES:])

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _model_name(serialized, metadata, kwargs)
        last = prompts[-1] if prompts else ""
        args = {"model": name, "prompts": len(prompts), "last_prompt": last[:MAX_TEXT]}
        self._start(run_id, parent_run_id, metadata, name, args, Kind.MODEL_CALL)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            sent = self._sent.get(run_id, [])
        handle = self._pop(run_id)
        if handle is None:
            return
        generations = [g for batch in response.generations for g in batch]
        messages = [g.message for g in generations if isinstance(g, ChatGeneration)]
        name = str(handle.args.get("model", handle.proposal.name))
        if messages:
            attributes = {
                **usage_attributes(name, messages[-1]),
                **chat_attributes(sent, last_ai(messages)),
            }
            handle.succeed(reply_summary(messages), attributes=attributes)
        else:
            text = [g.text for g in generations]
            handle.succeed({"text": text}, attributes={"gen_ai.request.model": name})
        self._finish_root(run_id, None)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # -- tools ----------------------------------------------------------------------------------
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _name(serialized, kwargs, default="tool")
        args = dict(inputs) if isinstance(inputs, Mapping) else {"input": input_str}
        self._start(run_id, parent_run_id, metadata, name, args, self.tool_kinds.get(name))

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        handle = self._pop(run_id)
        if handle is not None:
            report_tool_result(handle, output)
        self._finish_root(run_id, None)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # -- the one path ---------------------------------------------------------------------------
    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: Mapping[str, Any] | None,
        name: str,
        args: Mapping[str, Any],
        kind: Kind | None,
    ) -> None:
        session = self._session_for(run_id, parent_run_id, metadata)
        try:
            # Without `block` nothing raised here could stop the call: the decision is recorded
            # as not enforced (`enforced: false`) and the call's real outcome follows it.
            handle = self.monitor.check(name, args, kind=kind, session=session, enforce=self.block)
        except (CheckpointDenied, SessionHalted) as exc:
            if self.block:
                # The run stops here; its error events will not reach a step of ours.
                self._finish_root(run_id, exc)
                raise
            self._warn(name, str(exc))
            return
        if not handle.enforced and handle.verdict.decision != "allow":
            self._warn(name, f"{handle.verdict.decision}: {handle.verdict.reason}")
        with self._lock:
            self._handles[run_id] = handle

    @staticmethod
    def _warn(name: str, why: str) -> None:
        warnings.warn(
            f"oversight refused {name!r} but OversightCallbackHandler(block=False) cannot "
            f"stop it, so it runs anyway ({why}); the record says it was not enforced",
            OversightNotEnforcedWarning,
            stacklevel=3,
        )

    def _succeed(self, run_id: UUID, result: Any) -> None:
        handle = self._pop(run_id)
        if handle is not None:
            handle.succeed(result)
        self._finish_root(run_id, None)

    def _fail(self, run_id: UUID, error: BaseException) -> None:
        handle = self._pop(run_id)
        if handle is not None:
            handle.fail(error)
        self._finish_root(run_id, error)

    def _pop(self, run_id: UUID) -> StepHandle | None:
        with self._lock:
            self._sent.pop(run_id, None)  # a model call that failed leaves nothing behind
            return self._handles.pop(run_id, None)

    def _session_for(
        self, run_id: UUID, parent_run_id: UUID | None, metadata: Mapping[str, Any] | None
    ) -> Session | None:
        if self._session is not None:
            return self._session
        with self._lock:
            session_id = self._run_session.get(parent_run_id) if parent_run_id else None
            root = session_id is None
            if root:
                thread = (metadata or {}).get("thread_id")
                session_id = str(thread) if thread else f"langchain-run-{run_id}"
                self._roots.add(run_id)
            self._run_session[run_id] = session_id  # type: ignore[assignment]
        assert session_id is not None
        return self._sessions.begin(session_id, {"framework": "langchain"})

    def _finish_root(self, run_id: UUID, error: BaseException | None) -> None:
        with self._lock:
            session_id = self._run_session.pop(run_id, None)
            root = run_id in self._roots
            self._roots.discard(run_id)
        if session_id is not None and root:
            self._sessions.end(session_id, error)


def _name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], *, default: str) -> str:
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        found = serialized.get("name")
        if isinstance(found, str) and found:
            return found
        ids = serialized.get("id")
        if isinstance(ids, Sequence) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return default


def _model_name(
    serialized: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
) -> str:
    found = (metadata or {}).get("ls_model_name")
    params = kwargs.get("invocation_params")
    if not found and isinstance(params, Mapping):
        found = params.get("model") or params.get("model_name")
    if isinstance(found, str) and found:
        return found
    return _name(serialized, kwargs, default="model")
