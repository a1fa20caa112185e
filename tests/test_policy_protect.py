"""A policy pack's `protect:` globs make writes to those paths protected, wherever it is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oversight import CheckpointDenied, Monitor
from oversight.policy import PolicyError, parse_policy
from oversight.policy.cases import run_policy_tests

PACK = """
name: held-out
protect: ["data/test/**", "answers.json"]
rules:
  - id: gate-protected-write
    match: {flags: [protected_target]}
    effect: require_approval
  - id: allow-the-rest
    match: {}
    effect: allow
"""

CASES = """
- name: writing the held-out split needs approval
  tool: Bash
  args: {command: "cp new.csv data/test/labels.csv"}
  expect: {decision: require_approval, rule: gate-protected-write}
- name: writing the training split is allowed
  tool: Write
  args: {file_path: data/train/labels.csv, content: x}
  expect: {decision: allow}
- name: reading the held-out split is allowed
  tool: Read
  args: {file_path: data/test/labels.csv}
  expect: {decision: allow}
"""


def test_a_pack_keeps_its_protected_globs() -> None:
    assert parse_policy(PACK).protected_paths == ("data/test/**", "answers.json")


def test_policy_tests_classify_with_the_packs_protected_globs(tmp_path: Path) -> None:
    cases = tmp_path / "held-out.tests.yaml"
    cases.write_text(CASES, encoding="utf-8")
    report = run_policy_tests(parse_policy(PACK), cases)
    assert [r.passed for r in report.results] == [True, True, True], report.results


def test_a_monitor_enforcing_the_pack_gates_writes_to_its_protected_paths(tmp_path: Path) -> None:
    pack = tmp_path / "held-out.yaml"
    pack.write_text(PACK, encoding="utf-8")
    with Monitor(db=str(tmp_path / "o.db"), log="none", policy=str(pack)) as mon, mon.session("s"):
        mon.check("Write", {"file_path": "data/train/x.csv", "content": "x"}).succeed("ok")
        with pytest.raises(CheckpointDenied):
            mon.check("Write", {"file_path": "answers.json", "content": "{}"})


def test_an_empty_protected_glob_is_refused_naming_the_field() -> None:
    with pytest.raises(PolicyError, match="protect"):
        parse_policy('name: x\nprotect: ["  "]\n')


def test_a_malformed_protected_glob_is_refused_naming_it() -> None:
    with pytest.raises(PolicyError, match=r"z-a"):
        parse_policy('name: x\nprotect: ["data/[z-a]/**"]\n')


def test_replay_with_a_pack_classifies_with_its_protected_globs(tmp_path: Path) -> None:
    pack = tmp_path / "held-out.yaml"
    pack.write_text(PACK, encoding="utf-8")
    trace = tmp_path / "trace.jsonl"
    line = {"session": "s", "tool": "Bash", "args": {"command": "cp x.csv data/test/y.csv"}}
    trace.write_text(json.dumps(line) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "oversight", "replay", "--json", "--policy", str(pack), str(trace)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (step,) = json.loads(done.stdout)["steps"]
    assert "protected_target" in step["flags"]
