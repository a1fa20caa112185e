"""Declarative policies: YAML packs that decide, per step, allow / require_approval / deny / halt.

    from oversight.policy import load_policy
    policy = load_policy("research-default")
    verdict = policy.decide(proposal, facts)   # a Decider for the monitor

See docs/policies.md for the file format and semantics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oversight._lazy import lazy_attributes
from oversight.policy.engine import UNMATCHED_RULE, Policy
from oversight.policy.errors import PolicyError, Problem
from oversight.policy.loader import available_packs, load_policy, parse_policy
from oversight.policy.schema import policy_json_schema

if TYPE_CHECKING:
    from oversight.policy.cases import CaseResult, TestReport, run_policy_tests

# A pack's test cases classify calls: loaded when first asked for, so deciding (the approvals
# path, which every store opens) does not load the classifier.
__getattr__ = lazy_attributes(
    __name__,
    {name: "oversight.policy.cases" for name in ("CaseResult", "TestReport", "run_policy_tests")},
)


__all__ = [
    "UNMATCHED_RULE",
    "CaseResult",
    "Policy",
    "PolicyError",
    "Problem",
    "TestReport",
    "available_packs",
    "load_policy",
    "parse_policy",
    "policy_json_schema",
    "run_policy_tests",
]
