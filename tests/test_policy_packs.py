"""The shipped packs pass their own tests, and `run_policy_tests` reports failures usefully."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.policy import PolicyError, load_policy, run_policy_tests
from oversight.policy.loader import packs_dir

PACKS = sorted(p.stem for p in packs_dir().glob("*.yaml") if not p.name.endswith(".tests.yaml"))


def test_the_four_packs_ship() -> None:
    assert {"research-default", "strict", "observe-only", "lab-compute"} <= set(PACKS)


@pytest.mark.parametrize("name", PACKS)
def test_each_shipped_pack_passes_its_own_tests(name: str) -> None:
    cases = packs_dir() / f"{name}.tests.yaml"
    report = run_policy_tests(load_policy(name), cases)
    assert report.results, f"{cases} has no cases"
    failures = [(r.name, r.problems) for r in report.results if not r.passed]
    assert report.ok, failures


@pytest.mark.parametrize("name", ["research-default", "strict", "lab-compute"])
def test_enforcing_packs_fail_closed_and_halt_on_tamper(name: str) -> None:
    model = load_policy(name).model
    assert model.unmatched.consequential == "require_approval"
    halts = [r for r in model.rules if r.effect == "halt"]
    assert any(r.match.kind == ["oversight.tamper"] for r in halts)


def test_observe_only_says_loudly_that_it_never_blocks() -> None:
    policy = load_policy("observe-only")
    assert "NEVER BLOCKS" in (policy.model.description or "")
    assert {r.effect for r in policy.model.rules} == {"allow"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text)
    return path


def test_a_failing_case_reports_expected_and_actual(tmp_path: Path) -> None:
    cases = write(
        tmp_path,
        "- name: wrong on purpose\n  tool: Bash\n  args: {command: pytest -q}\n"
        "  expect: {decision: deny, rule: nope}\n",
    )
    report = run_policy_tests(load_policy("research-default"), cases)
    (result,) = report.results
    assert not result.passed and not report.ok and report.failed == 1
    assert result.problems == (
        "decision: expected deny, got allow",
        "rule: expected nope, got allow-local-work",
    )


def test_cases_are_classified_like_real_tool_calls(tmp_path: Path) -> None:
    cases = write(
        tmp_path,
        "- name: push\n  tool: Bash\n  args: {command: git push origin main}\n"
        "  expect: {decision: require_approval}\n",
    )
    (result,) = run_policy_tests(load_policy("research-default"), cases).results
    assert result.kind.value == "code.apply" and "shared_history" in result.flags


def test_explicit_kind_and_flags_replace_the_classifiers(tmp_path: Path) -> None:
    cases = write(
        tmp_path,
        "- name: pinned\n  tool: anything\n  kind: file.write\n  flags: [protected_target]\n"
        "  expect: {decision: require_approval, rule: gate-protected-write}\n",
    )
    report = run_policy_tests(load_policy("research-default"), cases)
    assert report.ok, report.results


def test_an_approval_expectation_is_checked(tmp_path: Path) -> None:
    cases = write(
        tmp_path,
        "- name: quorum\n  tool: deploy_model\n  args: {name: m}\n"
        "  expect: {decision: require_approval, approval: {quorum: 3}}\n",
    )
    (result,) = run_policy_tests(load_policy("lab-compute"), cases).results
    assert result.problems == ("approval.quorum: expected 3, got 2",)


def test_a_malformed_cases_file_is_reported_with_its_line(tmp_path: Path) -> None:
    cases = write(tmp_path, "- name: x\n  tool: Bash\n  expect: {decision: maybe}\n")
    with pytest.raises(PolicyError) as info:
        run_policy_tests(load_policy("strict"), cases)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (3, "0.expect.decision")
