"""Loading packs by name or path, and every problem `check` reports, with its line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oversight.policy import PolicyError, Problem, load_policy, parse_policy, policy_json_schema
from oversight.policy.loader import packs_dir

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ["lab-compute", "observe-only", "research-default", "strict"]


def test_a_bare_name_loads_the_shipped_pack() -> None:
    policy = load_policy("research-default")
    assert policy.name == "research-default"
    assert Path(policy.source or "") == packs_dir() / "research-default.yaml"


def test_the_packs_package_is_the_repository_policies_folder() -> None:
    import oversight.packs

    assert packs_dir() == Path(oversight.packs.__file__).parent == REPO / "policies"


def test_without_the_packs_package_an_unknown_name_says_so_and_lists_no_empty_set() -> None:
    """A source tree run without installing it (no `oversight.packs`): the error says the packs
    are missing and how to get them, instead of `accepted: one of: , or a path`."""
    site_packages = next(p for p in sys.path if p.endswith("site-packages"))
    code = "from oversight.policy import load_policy; load_policy('research-default')"
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{site_packages}"},
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert "unknown policy 'research-default': this install lacks the shipped packs" in last
    assert "the package oversight.packs is missing" in last and "reinstall" in last
    assert "one of:" not in last and "accepted: a path to a .yaml file" in last


def test_a_path_loads_that_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nrules: []\n")
    assert load_policy(path).name == "mine"
    assert load_policy(str(path)).name == "mine"


def test_a_missing_yaml_path_is_an_error_not_a_name_lookup(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(str(tmp_path / "absent.yaml"))


def test_oversight_policy_path_is_searched_before_the_shipped_packs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "research-default.yaml").write_text("name: shadowed\nrules: []\n")
    (second / "team.yml").write_text("name: team\nrules: []\n")
    monkeypatch.setenv("OVERSIGHT_POLICY_PATH", f"{first}:{second}")
    assert load_policy("research-default").name == "shadowed"
    assert load_policy("team").name == "team"


def test_an_unknown_name_lists_the_available_packs() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("no-such-pack")
    (problem,) = info.value.problems
    assert "no-such-pack" in problem.message
    for name in SHIPPED:
        assert name in (problem.accepted or "")
    assert "tests" not in (problem.accepted or "")


def problems(text: str) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.yaml")
    return info.value.problems


def only(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


HEAD = "name: t\nrules:\n  - id: r\n    effect: deny\n    match:\n"


def test_unknown_kind_names_the_line_and_the_accepted_kinds() -> None:
    problem = only(HEAD + "      kind: [train.lunch]\n")
    assert (problem.line, problem.field) == (6, "rules.0.match.kind.0")
    assert "train.lunch" in problem.message
    assert "train.launch" in (problem.accepted or "") and "deploy" in (problem.accepted or "")


def test_unknown_flag_names_the_line_and_the_accepted_flags() -> None:
    problem = only(HEAD + "      kind: deploy\n      flags: [protectd]\n")
    assert (problem.line, problem.field) == (7, "rules.0.match.flags.0")
    assert "protected_target" in (problem.accepted or "")


def test_bad_comparison_names_the_line_and_the_accepted_form() -> None:
    problem = only(HEAD + "      args:\n        gpus: '> eight'\n")
    assert (problem.line, problem.field) == (7, "rules.0.match.args.gpus")
    assert "> eight" in problem.message
    assert "operator" in (problem.accepted or "")


def test_bad_session_comparison_is_reported() -> None:
    problem = only(HEAD + "      session: {scenario: 'at least 3'}\n")
    assert problem.line == 6 and problem.field == "rules.0.match.session.scenario"


def test_bad_regex_names_the_line() -> None:
    problem = only(HEAD + "      args:\n        command: {regex: '(unclosed'}\n")
    assert (problem.line, problem.field) == (7, "rules.0.match.args.command.regex")
    assert "(unclosed" in problem.message


def test_unknown_field_names_the_line_and_the_accepted_fields() -> None:
    problem = only(HEAD + "      kind: deploy\n      tools: Bash\n")
    assert (problem.line, problem.field) == (7, "rules.0.match.tools")
    assert "tool" in (problem.accepted or "") and "any_flags" in (problem.accepted or "")


def test_unknown_effect_lists_the_effects() -> None:
    problem = only("name: t\nrules:\n  - id: r\n    effect: block\n")
    assert (problem.line, problem.field) == (4, "rules.0.effect")
    assert "require_approval" in (problem.accepted or "")


def test_missing_field_is_reported_at_its_parent() -> None:
    problem = only("name: t\nrules:\n  - id: r\n    match: {}\n")
    assert (problem.line, problem.field) == (3, "rules.0.effect")


def test_duplicate_rule_ids_point_at_the_second_one() -> None:
    problem = only("name: t\nrules:\n  - id: r\n    effect: deny\n  - id: r\n    effect: allow\n")
    assert (problem.line, problem.field) == (5, "rules.1.id")
    assert "duplicate" in problem.message


def test_an_approval_on_a_rule_that_never_asks_for_one_is_reported() -> None:
    problem = only("name: t\nrules:\n  - id: r\n    effect: deny\n    approval: {quorum: 2}\n")
    assert (problem.line, problem.field) == (5, "rules.0.approval")


def test_a_bad_quorum_says_what_is_accepted() -> None:
    problem = only(
        "name: t\nrules:\n  - id: r\n    effect: require_approval\n    approval: {quorum: 0}\n"
    )
    assert (problem.line, problem.field) == (5, "rules.0.approval.quorum")
    assert problem.accepted == "a number >= 1"


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    found = problems(
        HEAD + "      kind: [deploi]\n      flags: [nope]\n      args: {gpus: '> x'}\n"
    )
    assert [p.line for p in found] == [6, 7, 8]
    assert all(p.file == "p.yaml" for p in found)


def test_invalid_yaml_names_the_line() -> None:
    problem = only("name: t\nrules:\n  - id: [unclosed\n")
    assert problem.line is not None and problem.line >= 3
    assert "YAML" in problem.message


def test_a_file_that_is_not_a_mapping_is_reported() -> None:
    assert "mapping" in only("- just\n- a list\n").message
    assert "empty" in only("").message


def test_the_error_message_carries_the_problems() -> None:
    with pytest.raises(PolicyError, match=r"p\.yaml:4: rules\.0\.effect: unknown effect"):
        parse_policy("name: t\nrules:\n  - id: r\n    effect: block\n", source="p.yaml")


def test_the_committed_schema_matches_the_code() -> None:
    committed = json.loads((REPO / "docs" / "policy.schema.json").read_text())
    assert committed == policy_json_schema(), (
        "regenerate with: python -m oversight policy schema > docs/policy.schema.json"
    )


def test_the_schema_lists_kinds_and_forbids_unknown_fields() -> None:
    schema = policy_json_schema()
    text = json.dumps(schema)
    assert '"oversight.tamper"' in text
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Rule"]["additionalProperties"] is False


def test_duplicate_ids_are_reported_alongside_schema_errors() -> None:
    found = problems("name: t\nrules:\n  - id: r\n    effect: deny\n  - id: r\n    effect: nope\n")
    assert [(p.line, p.field) for p in found] == [(5, "rules.1.id"), (6, "rules.1.effect")]


def test_a_malformed_argument_path_is_reported() -> None:
    problem = only(HEAD + "      args: {'config..lr': '> 1'}\n")
    assert (problem.line, problem.field) == (6, "rules.0.match.args.config..lr")
    assert "dot-separated" in (problem.accepted or "")
