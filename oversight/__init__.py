"""agent-oversight: intercept, classify, record and gate every step of an AI research agent.

The public API is what this module exports; everything else may move between releases.
"""

from oversight._version import __version__
from oversight.approvals.broker import ApprovalRequest
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
from oversight.pipeline import StepHandle
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
from oversight.session import Session
from oversight.settings import Settings
from oversight.store_guard import StoreVanishedError

__all__ = [
    "Alert",
    "ApprovalPending",
    "ApprovalRequest",
    "ApprovalSpec",
    "CheckpointDenied",
    "CheckpointTimeout",
    "Classification",
    "Classifier",
    "ClassifierConfig",
    "ConfigError",
    "DecidedBy",
    "Decider",
    "Kind",
    "MissingExtraError",
    "Monitor",
    "OversightError",
    "Proposal",
    "Record",
    "RecordOnly",
    "ReviewEvent",
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
