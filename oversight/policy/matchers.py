"""Rule conditions compiled once, at load time, into small predicates.

Globs become one compiled regex, comparisons an (operator, number) pair, dotted paths a tuple of
keys, so deciding a step does no parsing. Each predicate takes (proposal, facts) and answers
whether its condition holds; a rule matches when all of its predicates do.
"""

from __future__ import annotations

import fnmatch
import itertools
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oversight.decide import PastStep, Proposal, SessionFacts
from oversight.kinds import Kind
from oversight.policy.compute import derive, number
from oversight.policy.model import (
    COMPARISON,
    AfterMatch,
    ComputeMatch,
    EqualsCondition,
    GlobCondition,
    Match,
    RegexCondition,
)

Check = Callable[[Proposal, SessionFacts], bool]
NumberTest = Callable[[float | None], bool]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_OPERATOR_START = re.compile(r"^\s*[<>=!]")


def is_comparison(value: object) -> bool:
    return isinstance(value, str) and bool(_OPERATOR_START.match(value))


def compile_comparison(value: str | float) -> NumberTest:
    """`"> 8"` → a test that is true for numbers above 8 and false for None (unknown)."""
    if isinstance(value, str):
        found = COMPARISON.match(value)
        if found is None:  # the model validated it; this guards direct construction
            raise ValueError(f"bad comparison {value!r}")
        op, bound = _OPS[found.group(1)], float(found.group(2))
    else:
        op, bound = operator.eq, float(value)
    return lambda x: x is not None and op(x, bound)


def glob_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    """Shell-style globs (any of them, whole string, case-sensitive) as one compiled regex."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def compile_glob(patterns: Sequence[str]) -> Callable[[str], object]:
    return glob_regex(patterns).match


StaticTest = Callable[[str, frozenset[str]], bool]


@dataclass(frozen=True, slots=True)
class CompiledMatch:
    """A rule's conditions split by what they depend on.

    `kinds` and `static` (tool name and flags) depend only on (kind, name, flags), which repeat
    from step to step, so the engine caches which rules pass them; `dynamic` (arguments, compute,
    session facts, history) runs per step, as one generated function.
    """

    kinds: frozenset[Kind] | None
    static: StaticTest | None
    dynamic: Check | None
    expression: str | None = None
    """`dynamic` as a Python expression over `p`, `f` and `a` (= p.args), for fused groups."""
    namespace: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, proposal: Proposal, facts: SessionFacts) -> bool:
        if self.kinds is not None and proposal.kind not in self.kinds:
            return False
        if self.static is not None and not self.static(proposal.name, proposal.flags):
            return False
        return self.dynamic is None or self.dynamic(proposal, facts)


def compile_match(match: Match) -> CompiledMatch:
    kinds = frozenset(Kind(k) for k in match.kind) if match.kind else None
    builder = _dynamic(match)
    return CompiledMatch(
        kinds, _static(match), builder.build(), builder.expression(), builder.namespace
    )


def _static(match: Match) -> StaticTest | None:
    tool = compile_glob(match.tool) if match.tool else None
    required = frozenset(match.flags) if match.flags else None
    some = frozenset(match.any_flags) if match.any_flags else None
    if tool is None and required is None and some is None:
        return None

    def test(name: str, flags: frozenset[str]) -> bool:
        return (
            (tool is None or bool(tool(name)))
            and (required is None or required <= flags)
            and (some is None or not some.isdisjoint(flags))
        )

    return test


class _Builder:
    """Generates one function for a rule's per-step conditions: a rule costs one call, and
    common conditions (a top-level argument compared with a number, matched by a glob, a
    session count) run inline instead of through a chain of closures."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.namespace: dict[str, Any] = {"_M": _MISSING, "_lookup": lookup}
        self.prefix = f"_r{next(_BUILDS)}"

    def const(self, value: Any) -> str:
        name = f"{self.prefix}_{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def expression(self) -> str | None:
        return " and ".join(self.terms) if self.terms else None

    def arg(self, path: str, condition: Any) -> None:
        parts = tuple(path.split("."))
        if len(parts) == 1:
            value = f"a.get({self.const(parts[0])}, _M)"
        else:
            value = f"_lookup(a, {self.const(parts)})"
        if isinstance(condition, GlobCondition | RegexCondition):
            pattern = (
                glob_regex([condition.glob])
                if isinstance(condition, GlobCondition)
                else re.compile(condition.regex)
            )
            method = "match" if isinstance(condition, GlobCondition) else "search"
            fn = self.const(getattr(pattern, method))
            self.terms.append(f"(type(_v := {value}) is str and {fn}(_v) is not None)")
        elif is_comparison(condition):
            op, bound = _parse(condition)
            slow = self.const(compile_value_test(condition))
            self.terms.append(
                f"(((type(_v := {value}) is int or type(_v) is float) and _v {op} "
                f"{self.const(bound)}) or (type(_v) is str and {slow}(_v)))"
            )
        else:
            test = self.const(compile_value_test(condition))
            self.terms.append(f"((_v := {value}) is not _M and {test}(_v))")

    def fact(self, name: str, condition: str | float, *, optional: bool) -> None:
        op, bound = _parse(condition)
        k = self.const(bound)
        if optional:
            self.terms.append(f"((_v := f.{name}) is not None and _v {op} {k})")
        else:
            self.terms.append(f"(f.{name} {op} {k})")

    def check(self, check: Check) -> None:
        self.terms.append(f"{self.const(check)}(p, f)")

    def build(self) -> Check | None:
        if not self.terms:
            return None
        source = f"def _match(p, f):\n    a = p.args\n    return {self.expression()}\n"
        namespace = dict(self.namespace)
        exec(compile(source, "<policy rule>", "exec"), namespace)  # noqa: S102
        return namespace["_match"]  # type: ignore[no-any-return]


_BUILDS = itertools.count()

GroupTest = Callable[[Proposal, SessionFacts], Any]


def compile_group(matches: Sequence[CompiledMatch], *, collect: bool) -> GroupTest:
    """One generated function for a group of rules: with `collect`, the positions of all rules
    whose per-step conditions hold (a list); otherwise the position of the first one, or -1.

    Fusing a group removes a Python call per rule, which dominates when dozens of rules of one
    kind must be checked.
    """
    namespace: dict[str, Any] = {}
    lines = ["def _group(p, f):", "    a = p.args"]
    if collect:
        lines.append("    m = []")
    for i, match in enumerate(matches):
        namespace.update(match.namespace)
        condition = match.expression or "True"
        action = f"m.append({i})" if collect else f"return {i}"
        lines.append(f"    if {condition}: {action}")
    lines.append("    return m" if collect else "    return -1")
    exec(compile("\n".join(lines) + "\n", "<policy group>", "exec"), namespace)  # noqa: S102
    return namespace["_group"]  # type: ignore[no-any-return]


def _parse(condition: str | float) -> tuple[str, float]:
    if isinstance(condition, str):
        found = COMPARISON.match(condition)
        if found is None:
            raise ValueError(f"bad comparison {condition!r}")
        return found.group(1), float(found.group(2))
    return "==", float(condition)


def _dynamic(match: Match) -> _Builder:
    builder = _Builder()
    for path, condition in (match.args or {}).items():
        builder.arg(path, condition)
    if match.session:
        for name in ("consequential_since_review", "consequential_last_hour"):
            value = getattr(match.session, name)
            if value is not None:
                builder.fact(name, value, optional=False)
        for name in ("autonomy_score", "scenario"):
            value = getattr(match.session, name)
            if value is not None:
                builder.fact(name, value, optional=True)
    for signal, condition in (match.autonomy or {}).items():
        builder.check(_signal_check(signal, condition))
    if match.compute:
        builder.check(_compute_check(match.compute))
    if match.after:
        builder.check(_after_check(match.after))
    return builder


_MISSING = object()


def lookup(args: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """The value at a dotted path; list items by index. `_MISSING` when any step is absent."""
    value: Any = args
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def compile_value_test(condition: Any) -> Callable[[Any], bool]:
    if isinstance(condition, GlobCondition):
        glob = compile_glob([condition.glob])
        return lambda v: isinstance(v, str) and bool(glob(v))
    if isinstance(condition, RegexCondition):
        search = re.compile(condition.regex).search
        return lambda v: isinstance(v, str) and search(v) is not None
    if isinstance(condition, EqualsCondition):
        return _equals(condition.equals)
    if is_comparison(condition):
        compare = compile_comparison(condition)
        return lambda v: compare(number(v))
    return _equals(condition)


def _equals(expected: Any) -> Callable[[Any], bool]:
    """Equality that keeps booleans apart from numbers (`true` never equals `1`)."""
    if isinstance(expected, bool):
        return lambda v: isinstance(v, bool) and v is expected
    if isinstance(expected, int | float):
        return lambda v: not isinstance(v, bool) and isinstance(v, int | float) and v == expected
    return lambda v: bool(v == expected)


def _compute_check(compute: ComputeMatch) -> Check:
    tests: list[tuple[str, NumberTest]] = [
        (name, compile_comparison(value))
        for name in ("gpus", "hours", "gpu_hours")
        if (value := getattr(compute, name)) is not None
    ]

    known = compute.known

    def check(p: Proposal, f: SessionFacts) -> bool:
        derived = derive(p.args)
        if known is not None and (derived.gpu_hours is not None) is not known:
            return False
        return all(test(getattr(derived, name)) for name, test in tests)

    return check


def _signal_check(signal: str, condition: str | float) -> Check:
    symbol, bound = _parse(condition)
    compare = _OPS[symbol]

    def check(p: Proposal, f: SessionFacts) -> bool:
        signals = f.autonomy_signals
        value = signals.get(signal) if signals is not None else None
        return value is not None and compare(value, bound)

    return check


def _after_check(after: AfterMatch) -> Check:
    kinds = frozenset(Kind(k) for k in after.kind) if after.kind else None
    tool = compile_glob(after.tool) if after.tool else None
    required = frozenset(after.flags) if after.flags else None
    some = frozenset(after.any_flags) if after.any_flags else None
    reviewed = None if after.unreviewed is None else not after.unreviewed

    def fits(step: PastStep) -> bool:
        return (
            (kinds is None or step.kind in kinds)
            and (reviewed is None or step.reviewed is reviewed)
            and (required is None or required <= step.flags)
            and (some is None or not some.isdisjoint(step.flags))
            and (tool is None or bool(tool(step.name)))
        )

    return lambda p, f: any(fits(step) for step in f.history)
