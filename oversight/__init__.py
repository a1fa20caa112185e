"""agent-oversight: intercept, classify, record and gate every step of an AI research agent.

The public API is what this module exports; everything else may move between releases. Names
load on first use (PEP 562), so `import oversight` alone loads no database driver, no
cryptography and no OpenTelemetry SDK: a command or a process that needs one name pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oversight._version import __version__

if TYPE_CHECKING:
    from oversight._halt_switch import HaltSwitch
    from oversight._session import Session
    from oversight._step import StepHandle
    from oversight._store_guard import StoreVanishedError
    from oversight.approvals.broker import ApprovalRequest
    from oversight.approvals.memory_state import InMemoryReviewState
    from oversight.approvals.votes import cast_vote
    from oversight.classify import Classification, Classifier, ClassifierConfig
    from oversight.decide import ApprovalSpec, Decider, Proposal, RecordOnly, SessionFacts, Verdict
    from oversight.errors import (
        ApprovalPending,
        CheckpointDenied,
        CheckpointTimeout,
        ConfigError,
        MissingExtraError,
        OversightError,
        SchemaVersionError,
        SessionError,
        SessionHalted,
        StoreCorruptError,
        StoreError,
        StoreUnavailableError,
        TraceFormatError,
        UnknownKindError,
    )
    from oversight.kinds import Kind, parse_kind
    from oversight.monitor import Monitor
    from oversight.records import (
        Alert,
        DecidedBy,
        Record,
        ReviewEvent,
        SessionEnded,
        SessionStarted,
        StepFinished,
        StepProposed,
        parse_record,
    )
    from oversight.settings import Settings
    from oversight.store import AuditStore, RecordLog, ReviewState

_WHERE: dict[str, str] = {
    "AuditStore": "oversight.store",
    "RecordLog": "oversight.store",
    "ReviewState": "oversight.store",
    "HaltSwitch": "oversight._halt_switch",
    "InMemoryReviewState": "oversight.approvals.memory_state",
    "Alert": "oversight.records",
    "ApprovalPending": "oversight.errors",
    "ApprovalRequest": "oversight.approvals.broker",
    "ApprovalSpec": "oversight.decide",
    "CheckpointDenied": "oversight.errors",
    "CheckpointTimeout": "oversight.errors",
    "Classification": "oversight.classify",
    "Classifier": "oversight.classify",
    "ClassifierConfig": "oversight.classify",
    "ConfigError": "oversight.errors",
    "DecidedBy": "oversight.records",
    "Decider": "oversight.decide",
    "Kind": "oversight.kinds",
    "MissingExtraError": "oversight.errors",
    "Monitor": "oversight.monitor",
    "OversightError": "oversight.errors",
    "Proposal": "oversight.decide",
    "Record": "oversight.records",
    "RecordOnly": "oversight.decide",
    "ReviewEvent": "oversight.records",
    "SchemaVersionError": "oversight.errors",
    "Session": "oversight._session",
    "SessionEnded": "oversight.records",
    "SessionError": "oversight.errors",
    "SessionFacts": "oversight.decide",
    "SessionHalted": "oversight.errors",
    "SessionStarted": "oversight.records",
    "Settings": "oversight.settings",
    "StepFinished": "oversight.records",
    "StepHandle": "oversight._step",
    "StepProposed": "oversight.records",
    "StoreCorruptError": "oversight.errors",
    "StoreError": "oversight.errors",
    "StoreUnavailableError": "oversight.errors",
    "StoreVanishedError": "oversight._store_guard",
    "TraceFormatError": "oversight.errors",
    "UnknownKindError": "oversight.errors",
    "Verdict": "oversight.decide",
    "cast_vote": "oversight.approvals.votes",
    "parse_kind": "oversight.kinds",
    "parse_record": "oversight.records",
}
"""Where each exported name lives, loaded by `__getattr__` the first time it is asked for."""


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'oversight' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # asked once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Alert",
    "ApprovalPending",
    "ApprovalRequest",
    "ApprovalSpec",
    "AuditStore",
    "CheckpointDenied",
    "CheckpointTimeout",
    "Classification",
    "Classifier",
    "ClassifierConfig",
    "ConfigError",
    "DecidedBy",
    "Decider",
    "HaltSwitch",
    "InMemoryReviewState",
    "Kind",
    "MissingExtraError",
    "Monitor",
    "OversightError",
    "Proposal",
    "Record",
    "RecordLog",
    "RecordOnly",
    "ReviewEvent",
    "ReviewState",
    "SchemaVersionError",
    "Session",
    "SessionEnded",
    "SessionError",
    "SessionFacts",
    "SessionHalted",
    "SessionStarted",
    "Settings",
    "StepFinished",
    "StepHandle",
    "StepProposed",
    "StoreCorruptError",
    "StoreError",
    "StoreUnavailableError",
    "StoreVanishedError",
    "TraceFormatError",
    "UnknownKindError",
    "Verdict",
    "__version__",
    "cast_vote",
    "parse_kind",
    "parse_record",
]
