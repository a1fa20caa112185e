"""Caches for classification that are bounded in bytes as well as entries.

`functools.lru_cache(maxsize=4096)` bounds the number of entries, not their size: keyed by a
command's text, 4,096 here-documents of 60 KB each would hold hundreds of MiB in the agent's
process. Calls whose text arguments are long are computed every time instead; they are rare, and
a long text costs its parse whether or not it is cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

MAX_CACHED_TEXT = 4_096
"""Characters of text arguments above which a call is not cached."""


def text_cache(maxsize: int, max_text: int = MAX_CACHED_TEXT) -> Callable[[F], F]:
    """`lru_cache(maxsize)` for calls whose str arguments are short; longer ones go uncached."""

    def wrap(func: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(func)

        @functools.wraps(func)
        def call(*args: Any) -> Any:
            # one loop, no generator: this wrapper runs several times for every call classified
            for a in args:
                if type(a) is str and len(a) > max_text:
                    return func(*args)
            return cached(*args)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return cast(F, call)

    return wrap
