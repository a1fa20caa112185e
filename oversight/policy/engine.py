"""The policy engine: a validated pack compiled into a kind index, deciding one step at a time.

Semantics (docs/policies.md): a rule matches when all its conditions hold; among matching rules
the strictest effect wins (halt > deny > require_approval > allow), ties go to the first rule in
file order, and matching require_approval rules combine into the strictest approval. Steps no
rule matches get the pack's `unmatched` effect for their kind, so a consequential step is never
allowed just because nobody wrote a rule for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from oversight.canonical import canonical_json, sha256_hex
from oversight.decide import NO_FACTS, ApprovalSpec, Proposal, SessionFacts, Verdict
from oversight.kinds import CONSEQUENTIAL, Kind
from oversight.policy.cap import CAP_RULE, scenario_if_unreviewed, signal_names
from oversight.policy.errors import PolicyError, Problem
from oversight.policy.matchers import CompiledMatch, GroupTest, compile_group, compile_match
from oversight.policy.model import ApprovalConfig, PolicyFile, Rule

STRICTNESS: dict[str, int] = {"allow": 0, "require_approval": 1, "deny": 2, "halt": 3}
UNMATCHED_RULE = "(unmatched)"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    position: int
    id: str
    effect: str
    strictness: int
    match: CompiledMatch
    verdict: Verdict
    """The answer when this rule alone decides; built once so deciding allocates nothing."""

    @property
    def kinds(self) -> frozenset[Kind] | None:
        return self.match.kinds

    def matches(self, proposal: Proposal, facts: SessionFacts) -> bool:
        return self.match.matches(proposal, facts)

    def applies_to(self, kind: Kind) -> bool:
        return self.match.kinds is None or kind in self.match.kinds


Group = tuple[str, tuple[CompiledRule, ...]]
# Groups narrowed to one (kind, tool name, flags): the rules left and one fused per-step test.
Candidates = tuple[tuple[str, tuple[CompiledRule, ...], GroupTest], ...]
CACHE_LIMIT = 4096


class Policy:
    """A loaded policy pack; a `Decider` for the monitor.

    `hash` is the SHA-256 of the parsed pack's canonical JSON (defaults filled in), so comments,
    formatting and key order do not change it and any change to what the pack means does.
    """

    def __init__(self, model: PolicyFile, *, source: str | None = None) -> None:
        problems = semantic_problems(model)
        if problems:
            raise PolicyError(
                [Problem(source, None, _dotted(loc), msg, ok) for loc, msg, ok in problems]
            )
        self.model = model
        self.source = source
        self.name = model.name
        self.hash = sha256_hex(canonical_json(model.model_dump(mode="json")))
        self.default_approval = _approval(model.approval, ApprovalSpec())
        self.rules: tuple[CompiledRule, ...] = tuple(
            self._compile(i, rule) for i, rule in enumerate(model.rules)
        )
        self.max_scenario = model.max_scenario
        self.protected_paths: tuple[str, ...] = tuple(model.protect)
        self.capabilities = dict(model.capabilities)
        """What each kind of step may use in the sandbox (`policy/capabilities.py`)."""
        """Globs the pack declares protected; whoever classifies steps for it adds them."""
        self.uses_facts = self.max_scenario is not None or any(
            r.match.session or r.match.after or r.match.autonomy for r in model.rules
        )
        """False when no rule reads session facts, so the monitor can skip assembling them."""
        self.uses_history = any(r.match.after for r in model.rules)
        """False when no rule looks back at earlier steps: the session keeps no history."""
        self._groups: dict[Kind, tuple[Group, ...]] = {kind: self._index(kind) for kind in Kind}
        self._unmatched: dict[Kind, Verdict] = {
            kind: self._unmatched_verdict(kind) for kind in Kind
        }
        self._candidates: dict[tuple[Kind, str, frozenset[str]], Candidates] = {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Policy:
        """Build from already-parsed data (problems carry field paths but no line numbers)."""
        try:
            model = PolicyFile.model_validate(data)
        except ValidationError as exc:
            raise PolicyError(
                [Problem(source, None, _dotted(e["loc"]), e["msg"]) for e in exc.errors()]
            ) from None
        return cls(model, source=source)

    def __repr__(self) -> str:
        return f"Policy(name={self.name!r}, rules={len(self.rules)}, hash={self.hash[:12]})"

    def decide(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict:
        return self._capped(self._decide_rules(proposal, facts), proposal, facts)

    def _capped(self, verdict: Verdict, proposal: Proposal, facts: SessionFacts) -> Verdict:
        """Apply `max_scenario`: an allowed consequential step that would take the session
        above the cap, run with no person, needs a person instead."""
        cap = self.max_scenario
        if cap is None or proposal.kind not in CONSEQUENTIAL:
            return verdict
        if verdict.decision == "require_approval":
            return self._no_grants_past_cap(verdict, proposal, facts, cap)
        if verdict.decision != "allow":
            return verdict
        would = scenario_if_unreviewed(proposal.kind, proposal.flags, facts.scenario)
        if would <= cap:
            return verdict
        return Verdict(
            "require_approval",
            f"run with no person reviewing it, this {proposal.kind.value} step would take the "
            f"session to autonomy scenario {would}; this pack keeps sessions at scenario {cap} "
            "or below",
            CAP_RULE,
            self.hash,
            dataclasses.replace(self.default_approval, grants=False),
        )

    @staticmethod
    def _no_grants_past_cap(
        verdict: Verdict, proposal: Proposal, facts: SessionFacts, cap: int
    ) -> Verdict:
        """A standing grant is not a person: where a grant-covered run would take the session
        above the cap, only a person's approval will do."""
        spec = verdict.approval
        if spec is None or not spec.grants:
            return verdict
        if scenario_if_unreviewed(proposal.kind, proposal.flags, facts.scenario) <= cap:
            return verdict
        return dataclasses.replace(verdict, approval=dataclasses.replace(spec, grants=False))

    def _decide_rules(self, proposal: Proposal, facts: SessionFacts) -> Verdict:
        """Strictest group first: the first group with a match decides, so most steps stop early.

        Only rules for the step's kind whose tool and flag conditions hold are consulted; that
        narrowing is cached per (kind, tool name, flags), which repeat from step to step.
        """
        key = (proposal.kind, proposal.name, proposal.flags)
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = self._narrow(*key)
        for effect, rules, test in candidates:
            if effect != "require_approval":
                first: int = test(proposal, facts)
                if first >= 0:
                    return rules[first].verdict
                continue
            found: list[int] = test(proposal, facts)
            if found:
                if len(found) == 1:
                    return rules[found[0]].verdict
                return self._combined([rules[i] for i in found])
        return self._unmatched[proposal.kind]

    def _narrow(self, kind: Kind, name: str, flags: frozenset[str]) -> Candidates:
        narrowed: list[tuple[str, tuple[CompiledRule, ...], GroupTest]] = []
        for effect, rules in self._groups[kind]:
            kept = tuple(r for r in rules if r.match.static is None or r.match.static(name, flags))
            if not kept:
                continue
            if effect != "require_approval":
                # Rules after one that always matches can never decide; leave them out.
                cut = next((i for i, r in enumerate(kept) if r.match.expression is None), None)
                kept = kept if cut is None else kept[: cut + 1]
            test = compile_group([r.match for r in kept], collect=effect == "require_approval")
            narrowed.append((effect, kept, test))
        candidates = tuple(narrowed)
        if len(self._candidates) >= CACHE_LIMIT:
            self._candidates.clear()
        self._candidates[(kind, name, flags)] = candidates
        return candidates

    def decide_linear(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict:
        """The semantics written out plainly, with no index: the reference `decide` must equal."""
        best: CompiledRule | None = None
        approvals: list[CompiledRule] = []
        for rule in self.rules:
            if not rule.applies_to(proposal.kind) or not rule.matches(proposal, facts):
                continue
            if best is None or rule.strictness > best.strictness:
                best = rule
            if rule.effect == "require_approval":
                approvals.append(rule)
        if best is None:
            return self._capped(self._unmatched[proposal.kind], proposal, facts)
        if best.effect == "require_approval" and len(approvals) > 1:
            return self._combined(approvals)
        return self._capped(best.verdict, proposal, facts)

    def _combined(self, rules: list[CompiledRule]) -> Verdict:
        first = rules[0].verdict
        specs = [r.verdict.approval for r in rules if r.verdict.approval is not None]
        approval = ApprovalSpec(
            role=specs[0].role,
            quorum=max(s.quorum for s in specs),
            timeout_s=min(s.timeout_s for s in specs),
        )
        return Verdict(first.decision, first.reason, first.rule, self.hash, approval)

    def _compile(self, position: int, rule: Rule) -> CompiledRule:
        match = compile_match(rule.match)
        approval = None
        if rule.effect == "require_approval":
            approval = _approval(rule.approval, self.default_approval)
        reason = rule.reason or f"rule {rule.id!r} says {rule.effect.replace('_', ' ')}"
        verdict = Verdict(rule.effect, reason, rule.id, self.hash, approval)
        return CompiledRule(position, rule.id, rule.effect, STRICTNESS[rule.effect], match, verdict)

    def _index(self, kind: Kind) -> tuple[Group, ...]:
        applicable = [r for r in self.rules if r.applies_to(kind)]
        groups: list[Group] = []
        for effect in sorted(STRICTNESS, key=STRICTNESS.__getitem__, reverse=True):
            rules = tuple(r for r in applicable if r.effect == effect)
            if rules:
                groups.append((effect, rules))
        return tuple(groups)

    def _unmatched_verdict(self, kind: Kind) -> Verdict:
        consequential = kind in CONSEQUENTIAL
        unmatched = self.model.unmatched
        effect = unmatched.consequential if consequential else unmatched.other
        reason = (
            f"no rule matched this {kind.value} step; unmatched "
            f"{'consequential' if consequential else 'non-consequential'} steps get {effect}"
        )
        approval = self.default_approval if effect == "require_approval" else None
        return Verdict(effect, reason, UNMATCHED_RULE, self.hash, approval)

    def summary(self) -> dict[str, Any]:
        """What `oversight policy check` prints for a valid pack."""
        per_effect = {effect: 0 for effect in STRICTNESS}
        for rule in self.rules:
            per_effect[rule.effect] += 1
        covered = sorted({k.value for r in self.rules if r.kinds for k in r.kinds})
        any_kind = sum(1 for r in self.rules if r.kinds is None)
        return {
            "name": self.name,
            "hash": self.hash,
            "rules": len(self.rules),
            "rules_per_effect": per_effect,
            "kinds_covered": covered,
            "rules_for_any_kind": any_kind,
            "unmatched": self.model.unmatched.model_dump(),
            "uses_session_facts": self.uses_facts,
        }


def _approval(config: ApprovalConfig | None, default: ApprovalSpec) -> ApprovalSpec:
    if config is None:
        return default
    return ApprovalSpec(
        role=config.role if config.role is not None else default.role,
        quorum=config.quorum if config.quorum is not None else default.quorum,
        timeout_s=float(config.timeout_s) if config.timeout_s is not None else default.timeout_s,
    )


Loc = tuple[str | int, ...]


def semantic_problems(model: PolicyFile) -> list[tuple[Loc, str, str | None]]:
    """What the schema cannot see: duplicate rule ids, approvals on rules that never ask for
    one, and malformed dotted argument paths. Each is (field path, message, accepted)."""
    problems: list[tuple[Loc, str, str | None]] = []
    seen: dict[str, int] = {}
    for i, rule in enumerate(model.rules):
        if rule.id in seen:
            problems.append(
                (
                    ("rules", i, "id"),
                    f"duplicate rule id {rule.id!r} (first used by rule {seen[rule.id]})",
                    "a rule id not used by any other rule",
                )
            )
        else:
            seen[rule.id] = i
        if rule.approval is not None and rule.effect != "require_approval":
            problems.append(
                (
                    ("rules", i, "approval"),
                    f"rule {rule.id!r} has effect {rule.effect!r}, so its approval is never used",
                    "approval only on rules with effect require_approval",
                )
            )
        for path in rule.match.args or {}:
            if not path or any(not part for part in path.split(".")):
                problems.append(
                    (
                        ("rules", i, "match", "args", path),
                        f"bad argument path {path!r}",
                        "dot-separated field names, e.g. 'config.lr' or 'files.0'",
                    )
                )
        for signal in rule.match.autonomy or {}:
            if signal not in signal_names():
                problems.append(
                    (
                        ("rules", i, "match", "autonomy", signal),
                        f"unknown autonomy signal {signal!r}",
                        ", ".join(sorted(signal_names())),
                    )
                )
    return problems


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)
