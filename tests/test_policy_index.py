"""The kind index is only an optimisation: it must decide exactly as evaluating every rule does."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.decide import PastStep, Proposal, SessionFacts
from oversight.kinds import ALL_KINDS, Kind
from oversight.policy import Policy

KINDS = st.sampled_from(ALL_KINDS)
FLAGS = st.sampled_from(["protected_target", "obfuscated", "network", "publish", "force"])
TOOLS = st.sampled_from(["Bash", "Write", "launch_training", "chat", "deploy_model"])
EFFECTS = st.sampled_from(["allow", "require_approval", "deny", "halt"])


@st.composite
def match(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["kind"] = draw(st.lists(KINDS, min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        out["tool"] = draw(st.sampled_from(["Bash", "launch_*", "*e*", "Wr?te"]))
    if draw(st.integers(0, 3)) == 0:
        out["flags"] = draw(st.lists(FLAGS, min_size=1, max_size=2))
    if draw(st.integers(0, 3)) == 0:
        out["any_flags"] = draw(st.lists(FLAGS, min_size=1, max_size=2))
    if draw(st.integers(0, 2)) == 0:
        op = draw(st.sampled_from([">", ">=", "<", "<=", "==", "!="]))
        out["args"] = {"gpus": f"{op} {draw(st.integers(0, 16))}"}
    if draw(st.integers(0, 3)) == 0:
        out["session"] = {"consequential_since_review": f">= {draw(st.integers(0, 10))}"}
    if draw(st.integers(0, 4)) == 0:
        out["after"] = {"kind": draw(KINDS), "unreviewed": draw(st.booleans())}
    return out


@st.composite
def rule(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "placeholder", "match": draw(match()), "effect": draw(EFFECTS)}
    if out["effect"] == "require_approval" and draw(st.booleans()):
        out["approval"] = {
            "quorum": draw(st.integers(1, 3)),
            "timeout_s": draw(st.sampled_from([60, 300, 900])),
        }
    return out


@st.composite
def proposal(draw: st.DrawFn) -> Proposal:
    args: dict[str, Any] = {}
    if draw(st.booleans()):
        args["gpus"] = draw(st.integers(0, 16))
    return Proposal(
        session_id="s",
        step_id="x",
        seq=1,
        name=draw(TOOLS),
        kind=Kind(draw(KINDS)),
        actor="agent",
        args=args,
        args_digest="d",
        flags=frozenset(draw(st.lists(FLAGS, max_size=3))),
        targets=(),
    )


@st.composite
def facts(draw: st.DrawFn) -> SessionFacts:
    history = tuple(
        PastStep(i, Kind(k), "Write", frozenset(), (), r)
        for i, (k, r) in enumerate(draw(st.lists(st.tuples(KINDS, st.booleans()), max_size=3)))
    )
    return SessionFacts(consequential_since_review=draw(st.integers(0, 12)), history=history)


@settings(max_examples=300, deadline=None)
@given(
    rules=st.lists(rule(), max_size=25),
    steps=st.lists(st.tuples(proposal(), facts()), min_size=1, max_size=10),
    unmatched=st.tuples(EFFECTS, EFFECTS),
)
def test_indexed_decisions_equal_linear_evaluation(
    rules: list[dict[str, Any]],
    steps: list[tuple[Proposal, SessionFacts]],
    unmatched: tuple[str, str],
) -> None:
    for i, r in enumerate(rules):
        r["id"] = f"r{i}"
    policy = Policy.from_dict(
        {
            "name": "random",
            "unmatched": {"consequential": unmatched[0], "other": unmatched[1]},
            "rules": rules,
        }
    )
    for p, f in steps:
        assert policy.decide(p, f) == policy.decide_linear(p, f)


def test_rules_for_other_kinds_are_never_consulted() -> None:
    rules = [{"id": f"d{i}", "match": {"kind": "deploy"}, "effect": "halt"} for i in range(50)]
    rules.append({"id": "ok", "match": {"kind": "shell.exec"}, "effect": "allow"})
    policy = Policy.from_dict({"name": "t", "rules": rules})
    shell_groups = policy._groups[Kind.SHELL_EXEC]
    assert [r.id for _, group in shell_groups for r in group] == ["ok"]
