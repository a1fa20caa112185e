"""agent-oversight: intercept, classify, record and gate every step of an AI research agent.

The public API is what this module exports; everything else may move between releases.
"""

from oversight._version import __version__
from oversight.classify import Classification, Classifier, ClassifierConfig
from oversight.decide import Decider, Proposal, RecordOnly, Verdict
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
from oversight.kinds import Kind
from oversight.monitor import Monitor
from oversight.pipeline import StepHandle
from oversight.records import (
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
    parse_record,
)
from oversight.session import Session
from oversight.settings import Settings

__all__ = [
    "ApprovalPending",
    "CheckpointDenied",
    "CheckpointTimeout",
    "Classification",
    "Classifier",
    "ClassifierConfig",
    "ConfigError",
    "Decider",
    "Kind",
    "MissingExtraError",
    "Monitor",
    "OversightError",
    "Proposal",
    "Record",
    "RecordOnly",
    "SchemaVersionError",
    "Session",
    "SessionEnded",
    "SessionError",
    "SessionHalted",
    "SessionStarted",
    "Settings",
    "StepFinished",
    "StepHandle",
    "StepProposed",
    "StoreCorruptError",
    "StoreError",
    "StoreUnavailableError",
    "TraceFormatError",
    "UnknownKindError",
    "Verdict",
    "__version__",
    "parse_record",
]
