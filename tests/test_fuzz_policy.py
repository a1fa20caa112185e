"""Property-based fuzzing of the policy loader (issue 12, item 8).

Whatever a policy file holds (random text, valid YAML of the wrong shape, bytes that are not
UTF-8, deep nesting, alias bombs, lone surrogates), loading it returns a Policy or raises one
PolicyError whose problems name the file, quickly and in bounded memory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reviewing import cli as oversight

from oversight.policy import Policy, PolicyError, load_policy, parse_policy
from oversight.policy.loader import MAX_YAML_DEPTH, MAX_YAML_NODES

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VALID = """\
name: fuzz
description: a pack for fuzzing
unmatched: {consequential: require_approval, other: allow}
rules:
  - id: gate-training
    match: {kind: [train.launch]}
    effect: require_approval
    reason: training needs a person
  - id: deny-tampering
    match: {flags: [oversight_target]}
    effect: deny
"""

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.text(st.one_of(st.characters(), SURROGATES), max_size=12)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), TEXT, st.sampled_from(["allow", "deny"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["name", "description", "unmatched", "rules", "approval", "max_scenario", "protect", "bogus"]
)


def check(source: str, load: Any) -> Policy | None:
    """Load; a PolicyError must name the source and say what is wrong, in printable text."""
    try:
        return load()  # type: ignore[no-any-return]
    except PolicyError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == source
            assert problem.message
            str(problem).encode("utf-8")
        assert str(exc).startswith("invalid policy (")
        return None


@FUZZ
@given(text=st.text(st.one_of(st.characters(), SURROGATES), max_size=200))
def test_any_text_loads_or_names_the_file(text: str) -> None:
    check("p.yaml", lambda: parse_policy(text, source="p.yaml"))


@FUZZ
@given(data=st.binary(max_size=200), valid_prefix=st.booleans())
def test_any_bytes_load_or_name_the_file(tmp_path: Path, data: bytes, valid_prefix: bool) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes((VALID.encode() if valid_prefix else b"") + data)
    check(str(path), lambda: load_policy(path))


@st.composite
def mutated_packs(draw: st.DrawFn) -> dict[str, Any]:
    """The valid pack with keys dropped, retyped or added, at the top and inside rules."""
    pack: dict[str, Any] = yaml.safe_load(VALID)
    for key in draw(st.lists(KEYS, max_size=3)):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            pack.pop(key, None)
        else:
            pack[key] = draw(VALUES)
    rules = pack.get("rules")
    if isinstance(rules, list) and rules and isinstance(rules[0], dict):
        field = draw(st.sampled_from(["id", "match", "effect", "reason", "kind", "extra"]))
        rules[0][field] = draw(VALUES)
        if draw(st.booleans()):
            rules.append(dict(rules[0]))  # a duplicate id too
    return pack


@FUZZ
@given(pack=mutated_packs())
def test_valid_yaml_of_the_wrong_shape_names_the_field(
    tmp_path: Path, pack: dict[str, Any]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=False), encoding="utf-8")
    loaded = check(str(path), lambda: load_policy(path))
    if loaded is not None:
        loaded.summary()
        assert loaded.hash


def billion_laughs(levels: int, width: int = 9, key: str = "rules") -> str:
    lines = ["name: bomb", f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    lines.append(f"{key}: *a{levels - 1}")
    return "\n".join(lines) + "\n"


NASTY = {
    "not-utf8.yaml": VALID.encode() + b"  - id: caf\xe9\n",
    "bom-latin1.yaml": b"\xff\xfename: x\n",
    "bomb.yaml": billion_laughs(9).encode(),
    "bomb-in-args.yaml": (
        "name: b\nx: &x [" + ", ".join(["lol"] * 50) + "]\ny: &y [" + ", ".join(["*x"] * 50) + "]\n"
        "z: &z [" + ", ".join(["*y"] * 50) + "]\nrules:\n  - id: r\n    match: {args: {a: *z}}\n"
        "    effect: allow\n"
    ).encode(),
    "recursive-alias.yaml": b"name: r\nrules: &r [*r]\n",
    "deep-flow.yaml": b"name: d\nrules: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep-block.yaml": (
        "name: d\nrules:\n"
        + "".join("  " * i + "- \n" for i in range(1, 200))
        + "  " * 200
        + "- x\n"
    ).encode(),
    "surrogate.yaml": b'name: "\\ud800"\nrules:\n  - id: "\\udfff"\n    match: {}\n    effect: allow\n',
    "surrogate-key.yaml": b'name: x\n"\\ud800": 1\nrules: []\n',
    "huge-number.yaml": b"name: x\nmax_scenario: " + b"9" * 5000 + b"\nrules: []\n",
    "empty.yaml": b"",
    "list.yaml": b"- 1\n- 2\n",
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_nasty_files_fail_fast_with_the_file_named(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(NASTY[name])
    started = time.monotonic()
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert time.monotonic() - started < 5, "bounded: no alias bomb or deep file may stall"
    assert all(p.file == str(path) for p in caught.value.problems)
    str(caught.value).encode("utf-8")


def test_the_bounds_are_named() -> None:
    with pytest.raises(PolicyError, match=f"more than {MAX_YAML_NODES:,} values"):
        parse_policy(billion_laughs(9), source="bomb.yaml")
    deep = "name: d\nrules: " + "[" * (MAX_YAML_DEPTH + 5) + "]" * (MAX_YAML_DEPTH + 5)
    with pytest.raises(PolicyError, match="nested too deeply"):
        parse_policy(deep, source="deep.yaml")
    with pytest.raises(PolicyError, match="recursive alias"):
        parse_policy("name: r\nrules: &r [*r]\n", source="r.yaml")
    with pytest.raises(PolicyError, match=r"p.yaml:3: \(file\): not UTF-8 text: byte 0xe9"):
        raise_for_bytes(b"name: x\nrules: []\n# caf\xe9\n")
    # Aliases used a sane number of times still load.
    shared = VALID.replace("{kind: [train.launch]}", "&m {kind: [train.launch]}")
    shared += "  - id: again\n    match: *m\n    effect: deny\n"
    assert parse_policy(shared, source="s.yaml").summary()["rules"] == 3


def raise_for_bytes(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_bytes(data)
        load_policy(path)


@pytest.mark.parametrize(
    "name", ["not-utf8.yaml", "bomb.yaml", "deep-flow.yaml", "surrogate-key.yaml"]
)
def test_policy_check_reports_nasty_files_without_a_traceback(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(NASTY[name])
    out = oversight("policy", "check", str(path), timeout=60)
    assert out.returncode in (1, 2), out
    assert "Traceback" not in out.stderr + out.stdout
    assert str(path) in out.stdout + out.stderr
