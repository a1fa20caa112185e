"""Classification patterns a project adds without code, loaded from a YAML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oversight.errors import ConfigError
from oversight.kinds import ALL_KINDS, Kind


class ClassifierConfig(BaseModel):
    """Project-specific rules, applied before the built-in ones (tampering still always wins)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: dict[str, Kind] = Field(
        default_factory=dict,
        description="Tool-name glob (case-sensitive, fnmatch) -> kind, e.g. 'queue_*_run': "
        "train.launch. Kept like a declared kind; flags are still computed from the arguments.",
    )
    commands: dict[str, Kind] = Field(
        default_factory=dict,
        description="Program (argv[0] basename), or 'program sub' for a subcommand -> kind, "
        "e.g. 'gpurun': train.launch, 'mlx submit': train.launch.",
    )
    script_patterns: dict[str, Kind] = Field(
        default_factory=dict,
        description="Glob on a script's file name or path -> kind, e.g. 'grpo_*.py': "
        "train.launch. Applies to python, shell and launcher scripts.",
    )
    wrappers: list[str] = Field(
        default_factory=list,
        description="Programs that only run the rest of their argv, like nohup "
        "(e.g. 'with-gpu'); the wrapped command is classified instead.",
    )
    protected_paths: list[str] = Field(
        default_factory=list, description="Globs added to the built-in protected paths."
    )
    tamper_paths: list[str] = Field(
        default_factory=list, description="Globs added to the paths oversight owns."
    )
    tamper_env_prefixes: list[str] = Field(
        default_factory=list,
        description="Environment variable prefixes added to OVERSIGHT_ as oversight's own.",
    )

    @field_validator("tools", "commands", "script_patterns")
    @classmethod
    def _keys_not_blank(cls, value: dict[str, Kind]) -> dict[str, Kind]:
        for key in value:
            if not key.strip():
                raise ValueError("a pattern must not be empty")
        return {" ".join(key.split()): kind for key, kind in value.items()}

    @field_validator("wrappers", "protected_paths", "tamper_paths", "tamper_env_prefixes")
    @classmethod
    def _items_not_blank(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip():
                raise ValueError("entries must not be empty")
        return [item.strip() for item in value]


def with_protected_paths(
    config: ClassifierConfig | None, globs: tuple[str, ...]
) -> ClassifierConfig | None:
    """`config` with a policy pack's `protect:` globs added to its protected paths."""
    if not globs:
        return config
    base = config or ClassifierConfig()
    return base.model_copy(update={"protected_paths": [*base.protected_paths, *globs]})


def load_classifier_config(path: str | os.PathLike[str]) -> ClassifierConfig:
    """Read and validate a classification YAML file; every problem names the file and field."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read classification config {str(source)!r}: {exc}") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping of fields ({', '.join(ClassifierConfig.model_fields)}),"
            f" got {type(data).__name__}"
        )
    try:
        return ClassifierConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "enum":
            what = (
                f"unknown step kind {error.get('input')!r}; accepted kinds: {', '.join(ALL_KINDS)}"
            )
        elif error["type"] == "extra_forbidden":
            what = f"unknown field; accepted fields: {', '.join(ClassifierConfig.model_fields)}"
        else:
            what = f"{error['msg']} (got {error.get('input')!r})"
        problems.append(f"{where}: {what}")
    return "; ".join(problems)
