"""Context variables: which session and which step the current code runs inside.

contextvars follow threads started with copied contexts and asyncio tasks, so nested steps get
the right parent in sync and async agents alike.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oversight._session import Session
    from oversight._step import StepHandle

current_session: ContextVar[Session | None] = ContextVar("oversight_session", default=None)
current_step: ContextVar[str | None] = ContextVar("oversight_step", default=None)
current_handle: ContextVar[StepHandle | None] = ContextVar("oversight_handle", default=None)
"""The decided step whose call is running: the executor runs a tool's command with its grant."""
