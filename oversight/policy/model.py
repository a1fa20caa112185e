"""The policy file format: pydantic models that validate a pack and publish its JSON Schema.

Unknown fields are errors everywhere (`extra="forbid"`): a misspelt condition that was silently
ignored would make a rule match more than its author meant, which on a safety path means
allowing what should have been gated.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from oversight.classify.paths import glob_to_regex
from oversight.classify.result import FLAGS
from oversight.kinds import ALL_KINDS
from oversight.policy.capabilities import CapabilitySection

Effect = Literal["allow", "require_approval", "deny", "halt"]
EFFECTS: tuple[str, ...] = ("allow", "require_approval", "deny", "halt")

KindName = Literal[
    "model.call",
    "tool.call",
    "file.read",
    "file.write",
    "shell.exec",
    "experiment.run",
    "eval.run",
    "code.apply",
    "train.launch",
    "deploy",
    "oversight.tamper",
]
FlagName = Literal[
    "protected_target",
    "obfuscated",
    "background",
    "privileged",
    "shared_history",
    "force",
    "publish",
    "oversight_target",
    "network",
    "unresolved",
    "destroys_data",
    "editor_open_file",
    "scheduled",
]
assert set(KindName.__args__) == set(ALL_KINDS), "KindName must list exactly the Kind values"  # type: ignore[attr-defined]
assert set(FlagName.__args__) == set(FLAGS), "FlagName must list exactly the classifier flags"  # type: ignore[attr-defined]

COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
COMPARISON_ACCEPTED = "an operator (> >= < <= == !=) followed by a number, e.g. '> 8' or '>= 0.5'"
_OPERATOR_START = re.compile(r"^\s*[<>=!]")


def _check_comparison(value: str | float) -> str | int | float:
    if isinstance(value, str) and not COMPARISON.match(value):
        raise PydanticCustomError(
            "comparison",
            "bad comparison '{value}'",
            {"value": value, "accepted": COMPARISON_ACCEPTED},
        )
    return value


Comparison = Annotated[
    str | int | float,
    AfterValidator(_check_comparison),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": COMPARISON.pattern},
                {"type": "number"},
            ],
            "description": "A number (equality) or a comparison: '> 8', '>= 0.5', '!= 0'.",
        }
    ),
]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _one_or_many_schema(item: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]})


_KIND_SCHEMA = {"type": "string", "enum": list(ALL_KINDS)}
Kinds = Annotated[
    list[KindName],
    BeforeValidator(_one_or_many),
    Field(min_length=1),
    _one_or_many_schema(_KIND_SCHEMA),
]
Globs = Annotated[
    list[str],
    BeforeValidator(_one_or_many),
    Field(min_length=1),
    _one_or_many_schema({"type": "string"}),
]
Flags = Annotated[list[FlagName], Field(min_length=1)]


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise PydanticCustomError(
            "regex",
            "bad regular expression '{value}': {problem}",
            {"value": value, "problem": str(exc), "accepted": "a Python `re` pattern"},
        ) from None
    return value


def _check_path_glob(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError(
            "path_glob", "empty path glob", {"accepted": "a path glob such as 'data/test/**'"}
        )
    try:
        glob_to_regex(value)
    except re.error as exc:
        raise PydanticCustomError(
            "path_glob",
            "bad path glob '{value}': {problem}",
            {"value": value, "problem": str(exc), "accepted": "a path glob such as 'data/test/**'"},
        ) from None
    return value.strip()


PathGlob = Annotated[str, AfterValidator(_check_path_glob)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class GlobCondition(_Strict):
    """The field is a string matching a shell-style glob (`*`, `?`, `[...]`), case-sensitive."""

    glob: str


class RegexCondition(_Strict):
    """The field is a string in which the regular expression is found (`re.search`)."""

    regex: Annotated[str, AfterValidator(_check_regex)]


class EqualsCondition(_Strict):
    """The field equals this value exactly (use it for strings that start with `>` or `<`)."""

    equals: Any


def _arg_condition_tag(value: Any) -> str:
    if isinstance(value, dict | GlobCondition | RegexCondition | EqualsCondition):
        keys = set(value) if isinstance(value, dict) else set(type(value).model_fields)
        for name in ("glob", "regex", "equals"):
            if name in keys:
                return name
        return "glob"  # a mapping without a known key: report it against the glob form
    if isinstance(value, str) and _OPERATOR_START.match(value):
        return "comparison"
    return "literal"


ArgCondition = Annotated[
    Annotated[GlobCondition, Tag("glob")]
    | Annotated[RegexCondition, Tag("regex")]
    | Annotated[EqualsCondition, Tag("equals")]
    | Annotated[Comparison, Tag("comparison")]
    | Annotated[str | int | float | bool | None | list[Any], Tag("literal")],
    Discriminator(_arg_condition_tag),
]


class ComputeMatch(_Strict):
    """Conditions on the compute a step asks for, derived from its arguments (docs/policies.md).

    A condition on a quantity that cannot be derived does not match.
    """

    gpus: Comparison | None = None
    hours: Comparison | None = None
    gpu_hours: Comparison | None = None
    known: bool | None = None
    """true: the step's GPU-hours could be derived; false: they could not (size unknown)."""


class SessionMatch(_Strict):
    """Conditions on the session's facts; a condition on an unknown (None) fact does not match."""

    consequential_since_review: Comparison | None = None
    consequential_last_hour: Comparison | None = None
    autonomy_score: Comparison | None = None
    scenario: Comparison | None = None


class AfterMatch(_Strict):
    """Matches when some earlier step of the session (in the bounded history) fits all of these."""

    kind: Kinds | None = None
    tool: Globs | None = None
    flags: Flags | None = None
    any_flags: Flags | None = None
    unreviewed: bool | None = None
    """true: no person reviewed that step; false: a person did; absent: either."""


class Match(_Strict):
    """All conditions present must hold; an empty match matches every step."""

    kind: Kinds | None = None
    tool: Globs | None = None
    flags: Flags | None = None
    """All of these flags are set."""
    any_flags: Flags | None = None
    """At least one of these flags is set."""
    args: dict[str, ArgCondition] | None = None
    """Normalised argument fields by dotted path (`config.lr`, `files.0`)."""
    compute: ComputeMatch | None = None
    session: SessionMatch | None = None
    autonomy: dict[str, Comparison] | None = None
    """The session's autonomy signals by name (docs/autonomy.md), e.g. `review_coverage: "< 0.5"`;
    an unknown (not yet scored) session does not match."""
    after: AfterMatch | None = None


class ApprovalConfig(_Strict):
    """Who approves a gated step; absent fields come from the policy's defaults."""

    role: Annotated[str, Field(min_length=1)] | None = None
    quorum: Annotated[int, Field(ge=1)] | None = None
    timeout_s: Annotated[float, Field(gt=0)] | None = None


class Unmatched(_Strict):
    """What steps no rule matches get. The default fails closed for consequential kinds."""

    consequential: Effect = "require_approval"
    other: Effect = "allow"


RULE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class Rule(_Strict):
    id: Annotated[str, Field(pattern=RULE_ID)]
    description: str | None = None
    match: Match = Field(default_factory=Match)
    effect: Effect
    reason: str | None = None
    """What the agent is told and the record says; defaults to one naming the rule."""
    approval: ApprovalConfig | None = None


class PolicyFile(_Strict):
    """A policy pack: named rules, what unmatched steps get, and approval defaults."""

    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    unmatched: Unmatched = Field(default_factory=Unmatched)
    approval: ApprovalConfig = Field(default_factory=ApprovalConfig)
    max_scenario: Annotated[int, Field(ge=1, le=3)] | None = None
    """Keep sessions at or below this autonomy scenario: a consequential step that, run with no
    person reviewing it, would take the session above it needs a person (never a grant)."""
    protect: list[PathGlob] = Field(default_factory=list)
    """Path globs this pack declares protected, added to the built-in ones (docs/classification.md
    syntax: any depth unless they start with `/`, `**`, `{a,b}`, case-insensitive): a write to one
    carries the `protected_target` flag, whichever tool makes it. Reads are not affected."""
    capabilities: CapabilitySection = Field(default_factory=dict)
    """What each kind of step may use when it runs in the sandbox (`oversight run`); see
    `policy/capabilities.py`. Unset: `DEFAULT_SECTION` there (GPUs only for a training launch,
    the network only for a push to its own remote and for a deploy)."""
    rules: list[Rule] = Field(default_factory=list)
