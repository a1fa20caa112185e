"""Policy semantics: effects, deny-overrides, ties, unmatched defaults, approvals, the hash."""

from __future__ import annotations

from typing import Any

import pytest

from oversight.decide import ApprovalSpec, Proposal, SessionFacts
from oversight.kinds import Kind
from oversight.policy import UNMATCHED_RULE, Policy, PolicyError, parse_policy


def policy(rules: list[dict[str, Any]], **extra: Any) -> Policy:
    return Policy.from_dict({"name": "t", "rules": rules, **extra})


def step(kind: Kind = Kind.SHELL_EXEC, name: str = "Bash", **args: Any) -> Proposal:
    return Proposal(
        session_id="s",
        step_id="x",
        seq=1,
        name=name,
        kind=kind,
        actor="agent",
        args=args,
        args_digest="d",
        flags=frozenset(),
        targets=(),
    )


@pytest.mark.parametrize("effect", ["allow", "require_approval", "deny", "halt"])
def test_a_matching_rule_gives_its_effect_rule_id_and_reason(effect: str) -> None:
    p = policy([{"id": "r", "match": {"kind": "shell.exec"}, "effect": effect, "reason": "why"}])
    verdict = p.decide(step())
    assert (verdict.decision, verdict.rule, verdict.reason) == (effect, "r", "why")
    assert verdict.policy_hash == p.hash


def test_only_require_approval_carries_an_approval_spec() -> None:
    p = policy(
        [
            {"id": "gate", "match": {"kind": "shell.exec"}, "effect": "require_approval"},
            {"id": "no", "match": {"kind": "deploy"}, "effect": "deny"},
        ]
    )
    assert p.decide(step()).approval == ApprovalSpec()
    assert p.decide(step(Kind.DEPLOY)).approval is None


def test_a_rule_without_a_reason_gets_one_naming_the_rule() -> None:
    p = policy([{"id": "block-it", "match": {}, "effect": "deny"}])
    assert "block-it" in p.decide(step()).reason


@pytest.mark.parametrize(
    ("effects", "winner"),
    [
        (["allow", "require_approval"], "require_approval"),
        (["require_approval", "deny"], "deny"),
        (["allow", "deny", "require_approval"], "deny"),
        (["deny", "halt", "allow"], "halt"),
    ],
)
def test_the_strictest_matching_effect_wins_whatever_the_order(
    effects: list[str], winner: str
) -> None:
    rules = [{"id": f"r{i}", "match": {}, "effect": e} for i, e in enumerate(effects)]
    assert policy(rules).decide(step()).decision == winner
    assert policy(rules[::-1]).decide(step()).decision == winner


def test_a_tie_goes_to_the_first_rule_in_file_order() -> None:
    rules = [
        {"id": "first", "match": {}, "effect": "deny", "reason": "one"},
        {"id": "second", "match": {"kind": "shell.exec"}, "effect": "deny", "reason": "two"},
    ]
    assert policy(rules).decide(step()).rule == "first"
    assert policy(rules[::-1]).decide(step()).rule == "second"


def test_a_rule_that_does_not_match_has_no_say() -> None:
    p = policy(
        [
            {"id": "halt-deploys", "match": {"kind": "deploy"}, "effect": "halt"},
            {"id": "ok", "match": {}, "effect": "allow"},
        ]
    )
    assert p.decide(step()).rule == "ok"


def test_unmatched_consequential_steps_fail_closed_by_default() -> None:
    verdict = policy([]).decide(step(Kind.TRAIN_LAUNCH))
    assert (verdict.decision, verdict.rule) == ("require_approval", UNMATCHED_RULE)
    assert verdict.approval == ApprovalSpec()
    assert "train.launch" in verdict.reason


def test_unmatched_other_steps_are_allowed_by_default() -> None:
    verdict = policy([]).decide(step(Kind.FILE_READ, "Read"))
    assert (verdict.decision, verdict.rule) == ("allow", UNMATCHED_RULE)


def test_the_pack_sets_what_unmatched_steps_get() -> None:
    p = policy([], unmatched={"consequential": "deny", "other": "require_approval"})
    assert p.decide(step(Kind.SHELL_EXEC)).decision == "deny"
    assert p.decide(step(Kind.MODEL_CALL, "chat")).decision == "require_approval"


def test_a_rule_approval_overrides_the_pack_defaults_field_by_field() -> None:
    p = policy(
        [{"id": "g", "match": {}, "effect": "require_approval", "approval": {"quorum": 2}}],
        approval={"role": "lead", "quorum": 1, "timeout_s": 60},
    )
    assert p.decide(step()).approval == ApprovalSpec(role="lead", quorum=2, timeout_s=60.0)


def test_several_matching_approvals_combine_into_the_strictest() -> None:
    p = policy(
        [
            {"id": "a", "match": {}, "effect": "require_approval",
             "approval": {"role": "ml-lead", "quorum": 1, "timeout_s": 300}},
            {"id": "b", "match": {}, "effect": "require_approval",
             "approval": {"role": "security", "quorum": 3, "timeout_s": 900}},
            {"id": "c", "match": {"kind": "deploy"}, "effect": "require_approval",
             "approval": {"quorum": 9}},
        ]
    )  # fmt: skip
    verdict = p.decide(step())
    assert verdict.rule == "a"
    assert verdict.approval == ApprovalSpec(role="ml-lead", quorum=3, timeout_s=300.0)


def test_a_deny_is_not_softened_by_matching_approval_rules() -> None:
    p = policy(
        [
            {"id": "a", "match": {}, "effect": "require_approval", "approval": {"quorum": 2}},
            {"id": "no", "match": {}, "effect": "deny"},
        ]
    )
    verdict = p.decide(step())
    assert (verdict.decision, verdict.rule, verdict.approval) == ("deny", "no", None)


YAML = """\
name: t
rules:
  - id: gate
    match: {kind: train.launch}
    effect: require_approval
"""


def test_the_hash_ignores_comments_formatting_and_key_order() -> None:
    reformatted = """\
# a comment
rules:
  - effect: require_approval   # trailing comment
    id: gate
    match:
      kind: [train.launch]
name: t
"""
    assert parse_policy(YAML).hash == parse_policy(reformatted).hash


def test_the_hash_ignores_spelling_out_a_default() -> None:
    explicit = YAML + "unmatched: {consequential: require_approval, other: allow}\n"
    assert parse_policy(YAML).hash == parse_policy(explicit).hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("effect: require_approval", "effect: deny"),
        ("kind: train.launch", "kind: deploy"),
        ("id: gate", "id: gate2"),
        ("name: t", "name: u"),
    ],
)
def test_any_change_to_a_rule_changes_the_hash(old: str, new: str) -> None:
    assert parse_policy(YAML).hash != parse_policy(YAML.replace(old, new)).hash


def test_the_hash_is_a_sha256_hex_digest() -> None:
    h = parse_policy(YAML).hash
    assert len(h) == 64 and int(h, 16) >= 0


def test_a_policy_that_reads_no_session_facts_says_so() -> None:
    assert policy([{"id": "a", "match": {}, "effect": "allow"}]).uses_facts is False
    with_session = [
        {"id": "a", "match": {"session": {"consequential_since_review": "> 3"}}, "effect": "deny"}
    ]
    assert policy(with_session).uses_facts is True


def test_building_from_bad_data_raises_policy_error_with_the_field() -> None:
    with pytest.raises(PolicyError) as info:
        policy([{"id": "a", "match": {}, "effect": "maybe"}])
    assert info.value.problems[0].field == "rules.0.effect"


def test_facts_default_to_none_when_not_given() -> None:
    p = policy([{"id": "a", "match": {"session": {"scenario": ">= 1"}}, "effect": "deny"}])
    assert p.decide(step()).rule == UNMATCHED_RULE
    assert p.decide(step(), SessionFacts(scenario=2)).rule == "a"
