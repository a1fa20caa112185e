"""Typed errors a user (or the watched agent) can cause, each naming the bad value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class OversightError(Exception):
    """Base class for every error raised by oversight."""


class UnknownKindError(OversightError, ValueError):
    """A step kind that is not one of `Kind`'s values; the message lists the accepted ones."""

    def __init__(self, value: object, accepted: Iterable[str]) -> None:
        self.value = value
        self.accepted = tuple(accepted)
        super().__init__(f"unknown step kind {value!r}; accepted kinds: {', '.join(self.accepted)}")


class ConfigError(OversightError, ValueError):
    """A setting, argument or configuration file is invalid."""


class MissingExtraError(OversightError, ImportError):
    """An optional part is used without its extra installed; the message says what to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the '{module}' package, which is not installed. "
            f"Install it with: pip install 'agent-oversight[{extra}]'"
        )


class StoreError(OversightError):
    """The audit store cannot be opened, read or written."""


class StoreUnavailableError(StoreError):
    """The store cannot be written; consequential steps must not run."""


class StoreCorruptError(StoreError):
    """The store exists but is not a readable oversight store."""


class StoreNotFoundError(StoreError):
    """No oversight store where one was to be read (`open_store(..., create=False)`)."""


class SchemaVersionError(StoreError):
    """The store was written by a newer (or unknown) schema version."""


class TraceFormatError(OversightError, ValueError):
    """A line of a recorded trace is malformed."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


class SessionError(OversightError, RuntimeError):
    """A session was used in a way that cannot be recorded faithfully."""


class CheckpointDenied(OversightError):
    """The step was refused before it ran; `reason` is what the agent is told."""

    def __init__(self, reason: str, *, step_id: str | None = None, rule: str | None = None) -> None:
        self.reason = reason
        self.step_id = step_id
        self.rule = rule
        super().__init__(
            f"step denied by oversight: {reason}" + (f" (rule {rule})" if rule else "")
        )


class CheckpointTimeout(CheckpointDenied):
    """No reviewer answered before the deadline; deadlines deny."""


class SessionHalted(OversightError):
    """The session was halted; no further step runs until an admin resumes it."""

    def __init__(self, session_id: str, reason: str) -> None:
        self.session_id = session_id
        self.reason = reason
        super().__init__(f"session {session_id!r} is halted: {reason}")


class ApprovalPending(OversightError):
    """The step needs a person and the caller asked not to wait (`check(wait=False)`).

    The pending approval is durable in the store; call `check` again with the same arguments and
    `approval_id=` once reviewers have decided. The approval runs at most one step.
    """

    def __init__(self, approval_id: str, *, step_id: str, request: Any = None) -> None:
        self.approval_id = approval_id
        self.step_id = step_id
        self.request = request
        super().__init__(f"step {step_id} is waiting for approval {approval_id}")
