"""`@monitor.step`: wraps an agent function so every call goes through the pipeline."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from oversight._edits import SignatureCheck
from oversight._pipeline import Pipeline
from oversight._session import Session
from oversight._step import StepHandle
from oversight.kinds import Kind
from oversight.normalise import ArgumentBinder

F = TypeVar("F", bound=Callable[..., Any])

_LEFT = "cancelled: the awaiting task was cancelled before the step could run"


def wrap_step(
    pipeline: Pipeline,
    active_session: Callable[[], Session],
    func: F,
    *,
    kind: Kind | None,
    name: str | None,
) -> F:
    """`func`, with each call prepared, admitted and run as a step of the active session."""
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise TypeError(
            f"@monitor.step cannot wrap generator function {func.__qualname__!r}: its work "
            "happens after the call returns; wrap the function that consumes it instead"
        )
    binder = ArgumentBinder(func)
    edit_check = SignatureCheck(func)
    step_name = name or func.__name__

    def prepared(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> StepHandle:
        handle = pipeline.prepare(
            active_session(), step_name, binder.bind(args, kwargs), declared=kind
        )
        handle.edit_check = edit_check
        return handle

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_step(*args: Any, **kwargs: Any) -> Any:
            handle = prepared(args, kwargs)
            if pipeline.may_block(handle):
                handle = await _admit_off_loop(pipeline, handle)
            else:
                handle = pipeline.admit(handle)
            if handle.modification:
                args, kwargs = binder.apply(args, kwargs, handle.modification)
            return await handle.acall(func, *args, **kwargs)

        return cast(F, async_step)

    @functools.wraps(func)
    def sync_step(*args: Any, **kwargs: Any) -> Any:
        handle = pipeline.admit(prepared(args, kwargs))
        if handle.modification:
            args, kwargs = binder.apply(args, kwargs, handle.modification)
        return handle.call(func, *args, **kwargs)

    return cast(F, sync_step)


async def _admit_off_loop(pipeline: Pipeline, handle: StepHandle) -> StepHandle:
    """Admit a step that may block (a durable write, a wait of up to the approval deadline) on
    a thread of its own, so the event loop keeps running meanwhile.

    Its own thread, not the loop's default executor: a handful of steps waiting for people
    must not starve everything else that runs in that pool. When the awaiting task is
    cancelled, the wait is withdrawn at once: the approval is closed unused and the step is
    recorded as cancelled (it never runs).
    """
    loop = asyncio.get_running_loop()
    admitted: asyncio.Future[StepHandle] = loop.create_future()
    left = threading.Event()
    context = contextvars.copy_context()  # the session and parent step, as to_thread would

    def admit() -> None:
        outcome: StepHandle | BaseException
        try:
            outcome = context.run(pipeline.admit, handle, cancelled=left.is_set)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task as it is
            outcome = exc
        if not left.is_set():
            try:
                loop.call_soon_threadsafe(_hand_over, admitted, outcome)
                return
            except RuntimeError:  # the loop has closed: the caller is gone
                pass
        if not isinstance(outcome, BaseException):
            # Decided just as the caller left: nobody will run it.
            outcome.finish("cancelled", error=_LEFT)

    threading.Thread(target=admit, name="oversight-admit", daemon=True).start()
    try:
        return await admitted
    except asyncio.CancelledError:
        left.set()
        raise


def _hand_over(admitted: asyncio.Future[StepHandle], outcome: StepHandle | BaseException) -> None:
    """On the loop: give the awaiting task its step (or the refusal)."""
    if not admitted.done():
        if isinstance(outcome, BaseException):
            admitted.set_exception(outcome)
        else:
            admitted.set_result(outcome)
    elif not isinstance(outcome, BaseException):
        # The task was cancelled after the decision: nobody will run it.
        outcome.finish("cancelled", error=_LEFT)
