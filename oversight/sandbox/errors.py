"""Why a step could not be sandboxed. Both errors mean nothing ran: the sandbox fails closed."""

from __future__ import annotations

from oversight.errors import OversightError


class SandboxError(OversightError):
    """Base class: the step was not started."""


class SandboxUnavailable(SandboxError):
    """bubblewrap is missing or cannot create namespaces here; `hint` says how to fix it."""

    def __init__(self, reason: str, hint: str) -> None:
        self.reason = reason
        self.hint = hint
        super().__init__(f"{reason}. {hint}" if hint else reason)


class SandboxRefused(SandboxError, ValueError):
    """The capabilities cannot be enforced as written (e.g. a protected path reached through a
    symlink the step could re-point); running anyway would grant more than was decided."""
