"""Policy unit tests (like `opa test`): cases written as real tool calls, with expected answers.

A case is turned into a Proposal the way the monitor's pipeline does it (normalise, then
classify), so a pack is tested against what it will actually see, not against hand-made flags.
A case may still pin `kind` and `flags` explicitly when it tests the pack rather than the
classifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from oversight.classify import Classifier
from oversight.classify.config import with_protected_paths
from oversight.decide import PastStep, Proposal, SessionFacts, Verdict
from oversight.kinds import Kind
from oversight.normalise import normalise_call
from oversight.policy.engine import Policy
from oversight.policy.errors import PolicyError, Problem
from oversight.policy.loader import read_yaml, validation_problems
from oversight.policy.model import ApprovalConfig, Effect, FlagName, KindName, _Strict

MAX_ARG_CHARS = 65536


class PastStepCase(_Strict):
    kind: KindName
    name: str = ""
    flags: list[FlagName] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    reviewed: bool = False


class SessionCase(_Strict):
    consequential_since_review: Annotated[int, Field(ge=0)] = 0
    consequential_last_hour: Annotated[int, Field(ge=0)] = 0
    autonomy_score: float | None = None
    scenario: int | None = None


class Expectation(_Strict):
    decision: Effect
    rule: str | None = None
    approval: ApprovalConfig | None = None
    """Only the fields given are checked."""


class Case(_Strict):
    name: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    kind: KindName | None = None
    """Declared to the classifier, and then pinned as the step's kind."""
    flags: list[FlagName] | None = None
    """When given, replaces the classifier's flags."""
    session: SessionCase = Field(default_factory=SessionCase)
    history: list[PastStepCase] = Field(default_factory=list)
    """Earlier steps of the session, oldest first."""
    expect: Expectation


_CASES = TypeAdapter(list[Case])


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    passed: bool
    expected: Expectation
    verdict: Verdict
    kind: Kind
    flags: frozenset[str]
    problems: tuple[str, ...] = ()
    """What differed, e.g. "decision: expected deny, got allow"."""


@dataclass
class TestReport:
    policy: str
    policy_hash: str
    cases_file: str
    results: list[CaseResult] = field(default_factory=list)

    __test__ = False  # not a pytest class

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0


def load_cases(path: str | Path) -> list[Case]:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            [Problem(source, None, "", f"cannot read cases file: {exc.strerror or exc}")]
        ) from None
    node, data = read_yaml(text, source)
    try:
        return _CASES.validate_python(data)
    except ValidationError as exc:
        raise PolicyError(validation_problems(source, node, exc, policy=False)) from None


def run_policy_tests(
    policy: Policy, cases_path: str | Path, *, classifier: Classifier | None = None
) -> TestReport:
    classifier = classifier or Classifier(with_protected_paths(None, policy.protected_paths))
    report = TestReport(policy.name, policy.hash, str(cases_path))
    for case in load_cases(cases_path):
        proposal = build_proposal(case, classifier, seq=len(case.history) + 1)
        verdict = policy.decide(proposal, build_facts(case))
        problems = _differences(case.expect, verdict)
        report.results.append(
            CaseResult(
                case.name,
                not problems,
                case.expect,
                verdict,
                proposal.kind,
                proposal.flags,
                tuple(problems),
            )
        )
    return report


def build_proposal(case: Case, classifier: Classifier, *, seq: int = 1) -> Proposal:
    call = normalise_call(case.args, max_chars=MAX_ARG_CHARS)
    classification = classifier.classify(case.tool, call.args, case.kind)
    kind = Kind(case.kind) if case.kind is not None else classification.kind
    flags = frozenset(case.flags) if case.flags is not None else classification.flags
    return Proposal(
        session_id="policy-test",
        step_id=f"case-{seq}",
        seq=seq,
        name=case.tool,
        kind=kind,
        actor="agent",
        args=call.args,
        args_digest=call.digest,
        flags=flags,
        targets=classification.targets,
        shown_args=call.stored,
    )


def build_facts(case: Case) -> SessionFacts:
    history = tuple(
        PastStep(
            seq=i + 1,
            kind=Kind(step.kind),
            name=step.name,
            flags=frozenset(step.flags),
            targets=tuple(step.targets),
            reviewed=step.reviewed,
        )
        for i, step in enumerate(case.history)
    )
    s = case.session
    return SessionFacts(
        consequential_since_review=s.consequential_since_review,
        consequential_last_hour=s.consequential_last_hour,
        history=history,
        autonomy_score=s.autonomy_score,
        scenario=s.scenario,
    )


def _differences(expect: Expectation, verdict: Verdict) -> list[str]:
    problems: list[str] = []
    if verdict.decision != expect.decision:
        problems.append(f"decision: expected {expect.decision}, got {verdict.decision}")
    if expect.rule is not None and verdict.rule != expect.rule:
        problems.append(f"rule: expected {expect.rule}, got {verdict.rule}")
    if expect.approval is not None:
        got = verdict.approval
        for name in ("role", "quorum", "timeout_s"):
            wanted = getattr(expect.approval, name)
            actual = None if got is None else getattr(got, name)
            if wanted is not None and wanted != actual:
                problems.append(f"approval.{name}: expected {wanted}, got {actual}")
    return problems
