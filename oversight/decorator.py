"""`@monitor.step`: wraps an agent function so every call goes through the pipeline."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from oversight.context import current_step
from oversight.kinds import Kind
from oversight.normalise import ArgumentBinder

if TYPE_CHECKING:
    from oversight.monitor import Monitor

F = TypeVar("F", bound=Callable[..., Any])


def wrap_step(monitor: Monitor, func: F, *, kind: Kind | None, name: str | None) -> F:
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise TypeError(
            f"@monitor.step cannot wrap generator function {func.__qualname__!r}: its work "
            "happens after the call returns; wrap the function that consumes it instead"
        )
    binder = ArgumentBinder(func)
    step_name = name or func.__name__
    propose = monitor._propose

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_step(*args: Any, **kwargs: Any) -> Any:
            handle = propose(step_name, binder.bind(args, kwargs), kind)
            if handle.modification:
                args, kwargs = binder.apply(args, kwargs, handle.modification)
            token = current_step.set(handle.step_id)
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                handle.fail(exc)
                raise
            finally:
                current_step.reset(token)
            handle.succeed(result)
            return result

        return cast(F, async_step)

    @functools.wraps(func)
    def sync_step(*args: Any, **kwargs: Any) -> Any:
        handle = propose(step_name, binder.bind(args, kwargs), kind)
        if handle.modification:
            args, kwargs = binder.apply(args, kwargs, handle.modification)
        token = current_step.set(handle.step_id)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            handle.fail(exc)
            raise
        finally:
            current_step.reset(token)
        handle.succeed(result)
        return result

    return cast(F, sync_step)
