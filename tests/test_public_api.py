"""The public API is what `oversight` exports (issue 13 item 8): this test pins it, so adding
or removing a name is a deliberate change, and checks every name is really there and says why
it exists."""

from __future__ import annotations

import oversight

PUBLIC = [
    "Alert",
    "AuditStore",
    "HaltSwitch",
    "InMemoryReviewState",
    "RecordLog",
    "ReviewState",
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
TYPE_ALIASES = {"DecidedBy", "Record", "__version__"}


def test_the_exported_names_are_exactly_the_public_api() -> None:
    assert sorted(oversight.__all__) == sorted(PUBLIC)
    assert len(set(oversight.__all__)) == len(oversight.__all__), "no name twice"


def test_every_exported_name_exists_and_says_what_it_is_for() -> None:
    for name in oversight.__all__:
        value = getattr(oversight, name)
        if name not in TYPE_ALIASES:
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def test_the_vocabulary_an_integrator_needs_is_importable_from_the_top() -> None:
    """What an approval integration and a custom decider need, without private modules."""
    from oversight import ApprovalRequest, ApprovalSpec, SessionFacts, cast_vote, parse_kind

    assert parse_kind("train.launch") is oversight.Kind.TRAIN_LAUNCH
    assert callable(cast_vote)
    assert ApprovalSpec().quorum >= 1
    assert {"approval_id", "args_digest"} <= set(ApprovalRequest.__dataclass_fields__)
    assert SessionFacts is not None


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    """`import oversight` is cheap: the database driver, cryptography and the OpenTelemetry SDK
    load with the first name that needs them (in a fresh interpreter)."""
    import subprocess
    import sys

    heavy = ("sqlalchemy", "cryptography", "opentelemetry.sdk", "pydantic", "tree_sitter")
    probe = f"import oversight, sys; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    used = subprocess.run(
        [sys.executable, "-c", "from oversight import Monitor; print(Monitor.__name__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert used.stdout.strip() == "Monitor"
