"""Declarative policies: YAML packs that decide, per step, allow / require_approval / deny / halt.

    from oversight.policy import load_policy
    policy = load_policy("research-default")
    verdict = policy.decide(proposal, facts)   # a Decider for the monitor

See docs/policies.md for the file format and semantics.
"""

from oversight.policy.cases import CaseResult, TestReport, run_policy_tests
from oversight.policy.engine import UNMATCHED_RULE, Policy
from oversight.policy.errors import PolicyError, Problem
from oversight.policy.loader import available_packs, load_policy, parse_policy
from oversight.policy.schema import policy_json_schema

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
