"""`oversight policy check|schema|test`, run as a user runs them: real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from oversight.policy import policy_json_schema
from oversight.policy.loader import packs_dir


def oversight(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oversight", "policy", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_a_valid_pack_prints_a_summary_and_exits_0() -> None:
    out = oversight("check", str(packs_dir() / "lab-compute.yaml"))
    assert out.returncode == 0, out.stderr + out.stdout
    assert "valid: lab-compute" in out.stdout
    assert "2 deny" in out.stdout and "train.launch" in out.stdout and "hash:" in out.stdout


def test_check_accepts_a_pack_name_and_json() -> None:
    out = oversight("check", "research-default", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["ok"] is True and summary["name"] == "research-default"
    assert len(summary["hash"]) == 64 and summary["rules_per_effect"]["halt"] >= 1


def test_check_prints_every_problem_with_its_line_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nrules:\n  - id: r\n    effect: deny\n    match:\n"
        "      kind: [train.lunch]\n      args: {gpus: '> eight'}\n"
    )
    out = oversight("check", str(bad))
    assert out.returncode == 1
    assert f"{bad}:6" in out.stdout and "train.lunch" in out.stdout
    assert f"{bad}:7" in out.stdout and "> eight" in out.stdout
    assert "accepted:" in out.stdout and "2 problems found" in out.stdout


def test_check_json_lists_the_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - id: r\n    effect: block\n")
    out = oversight("check", str(bad), "--json")
    assert out.returncode == 1
    (problem,) = json.loads(out.stdout)["problems"]
    assert (problem["line"], problem["field"]) == (4, "rules.0.effect")


def test_agent_text_in_a_problem_is_not_read_as_markup(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - id: r\n    effect: '[bold]x[/bold]'\n")
    out = oversight("check", str(bad))
    assert out.returncode == 1 and "[bold]x[/bold]" in out.stdout


def test_check_an_unknown_name_lists_the_packs() -> None:
    out = oversight("check", "no-such-pack")
    assert out.returncode == 1
    assert "no-such-pack" in out.stdout and "research-default" in out.stdout


def test_schema_prints_the_json_schema() -> None:
    out = oversight("schema")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == policy_json_schema()


def test_test_runs_a_packs_cases_and_exits_0_when_all_pass() -> None:
    pack = packs_dir() / "research-default.yaml"
    out = oversight("test", str(pack), str(packs_dir() / "research-default.tests.yaml"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS pushing to shared history needs approval" in out.stdout
    assert "0 failed" in out.stdout


def test_test_shows_expected_and_actual_and_exits_1_on_a_failure(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: pytest is fine\n  tool: Bash\n  args: {command: pytest -q}\n"
        "  expect: {decision: allow}\n"
        "- name: wrong\n  tool: Bash\n  args: {command: pytest -q}\n  expect: {decision: halt}\n"
    )
    out = oversight("test", "strict", str(cases))
    assert out.returncode == 1
    assert "FAIL pytest is fine" in out.stdout and "FAIL wrong" in out.stdout
    assert "expected allow, got require_approval" in out.stdout
    assert "approve-every-consequential-step" in out.stdout


def test_test_json_reports_each_case(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: read\n  tool: Read\n  args: {file_path: a}\n  expect: {decision: allow}\n"
    )
    out = oversight("test", "strict", str(cases), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True and report["results"][0]["rule"] == "allow-observation"
