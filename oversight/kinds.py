"""The step kinds oversight knows, and what each one weighs.

Kinds are a closed vocabulary: policies, autonomy scoring and review queries all key on them, so
an unknown kind is an error rather than a silent new category.
"""

from __future__ import annotations

from enum import StrEnum

from oversight.errors import UnknownKindError


class Kind(StrEnum):
    """What a step is, as policies and scoring see it: the research loop's vocabulary."""

    MODEL_CALL = "model.call"
    TOOL_CALL = "tool.call"
    FILE_READ = "file.read"
    FILE_WRITE = "file.write"
    SHELL_EXEC = "shell.exec"
    EXPERIMENT_RUN = "experiment.run"
    EVAL_RUN = "eval.run"
    CODE_APPLY = "code.apply"
    TRAIN_LAUNCH = "train.launch"
    DEPLOY = "deploy"
    OVERSIGHT_TAMPER = "oversight.tamper"


ALL_KINDS: tuple[str, ...] = tuple(k.value for k in Kind)

# Kinds that act on the world. Their proposal and decision are made durable before they run
# (write-ahead), so a crash mid-step leaves an interrupted step, never a silent gap.
CONSEQUENTIAL: frozenset[Kind] = frozenset(
    {
        Kind.FILE_WRITE,
        Kind.SHELL_EXEC,
        Kind.EXPERIMENT_RUN,
        Kind.EVAL_RUN,
        Kind.CODE_APPLY,
        Kind.TRAIN_LAUNCH,
        Kind.DEPLOY,
        Kind.OVERSIGHT_TAMPER,
    }
)

# Relative consequence, used by autonomy scoring: launching training or applying code to shared
# history matters far more than an edit in a scratch branch.
WEIGHT: dict[Kind, float] = {
    Kind.MODEL_CALL: 0.0,
    Kind.TOOL_CALL: 0.0,
    Kind.FILE_READ: 0.0,
    Kind.FILE_WRITE: 1.0,
    Kind.SHELL_EXEC: 1.0,
    Kind.EXPERIMENT_RUN: 2.0,
    Kind.EVAL_RUN: 2.0,
    Kind.CODE_APPLY: 8.0,
    Kind.TRAIN_LAUNCH: 10.0,
    Kind.DEPLOY: 10.0,
    Kind.OVERSIGHT_TAMPER: 10.0,
}

_BY_VALUE: dict[str, Kind] = {k.value: k for k in Kind}


def parse_kind(value: str | Kind) -> Kind:
    """Return the Kind for `value`, or raise UnknownKindError listing the accepted kinds."""
    if isinstance(value, Kind):
        return value
    kind = _BY_VALUE.get(value) if isinstance(value, str) else None
    if kind is None:
        raise UnknownKindError(value, ALL_KINDS)
    return kind


def is_consequential(kind: Kind) -> bool:
    return kind in CONSEQUENTIAL
