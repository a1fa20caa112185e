"""Evaluation code is found by its name and by what a write adds, not only by path globs.

A write to code whose file or folder name says metric, reward, grader, score, judge, verifier or
evaluation, or whose text defines such a function or calls a metric library, is a protected
write. Benign look-alikes (`upgrade.py`, `scoreboard.py`, `verify_email`, a training loop) stay
plain writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from oversight.classify import Classifier
from oversight.kinds import Kind

CLASSIFIER = Classifier()

BY_NAME = [
    "verl/utils/reward_score/gsm8k.py",
    "src/metric.py",
    "grade.py",
    "tasks/grade_answer.py",
    "verifiers/math_verifier.py",
    "llm_judge.py",
    "compute_score.py",
    "rewardFn.ts",
    "graders/config.yaml",
]

NOT_BY_NAME = [
    "scripts/upgrade.py",
    "ui/scoreboard.py",
    "auth/verify_email.py",
    "src/retrieval.py",
    "results/scores.csv",
    "/home/me/reward-study/train.py",
    "benchmarks/bench_parse.py",
]


@pytest.mark.parametrize("path", BY_NAME)
def test_a_write_to_code_named_for_evaluation_is_protected(path: str) -> None:
    found = CLASSIFIER.classify("Write", {"file_path": path, "content": "x = 1"})
    assert found.kind is Kind.FILE_WRITE
    assert "protected_target" in found.flags, found.reason


@pytest.mark.parametrize("path", NOT_BY_NAME)
def test_a_write_whose_name_only_looks_like_evaluation_is_not_protected(path: str) -> None:
    found = CLASSIFIER.classify("Write", {"file_path": path, "content": "x = 1"})
    assert "protected_target" not in found.flags, found.reason


def test_the_reason_names_the_word_that_made_a_file_evaluation_code() -> None:
    found = CLASSIFIER.classify("Write", {"file_path": "verifiers/check.py", "content": "x"})
    assert "`verifiers`" in found.reason


def test_write_defining_a_reward_function_is_protected_whatever_the_file() -> None:
    content = "def compute_reward(answer, gold):\n    return float(answer == gold)\n"
    found = CLASSIFIER.classify("Write", {"file_path": "rl/utils.py", "content": content})
    assert "protected_target" in found.flags
    assert "compute_reward" in found.reason


def test_edit_adding_compute_metrics_to_a_training_script_is_protected() -> None:
    new = "def compute_metrics(p):\n    return {'acc': (p.predictions == p.label_ids).mean()}\n"
    found = CLASSIFIER.classify(
        "Edit", {"file_path": "train.py", "old_string": "# metrics", "new_string": new}
    )
    assert "protected_target" in found.flags


def test_edit_replacing_a_metric_definition_is_protected() -> None:
    old = "def accuracy(preds, gold):\n    return correct / total\n"
    found = CLASSIFIER.classify(
        "Edit", {"file_path": "src/utils.py", "old_string": old, "new_string": "accuracy = 1.0"}
    )
    assert "protected_target" in found.flags


def test_multiedit_is_judged_by_the_text_of_every_edit() -> None:
    edits = [
        {"old_string": "a", "new_string": "b"},
        {"old_string": "pass", "new_string": "class Evaluator:\n    pass"},
    ]
    found = CLASSIFIER.classify("MultiEdit", {"file_path": "src/run.py", "edits": edits})
    assert "protected_target" in found.flags


def test_openhands_editor_creating_a_grader_is_protected() -> None:
    args = {
        "command": "create",
        "path": "/workspace/src/check.py",
        "file_text": "def grade(sample):\n    return 1.0\n",
    }
    assert "protected_target" in CLASSIFIER.classify("str_replace_editor", args).flags


def test_codex_patch_adding_a_scoring_function_is_protected() -> None:
    patch = (
        "*** Begin Patch\n*** Update File: src/utils.py\n@@\n"
        "+def score(pred, gold):\n+    return 1.0\n*** End Patch"
    )
    assert "protected_target" in CLASSIFIER.classify("apply_patch", {"input": patch}).flags


def test_codex_shell_apply_patch_adding_a_judge_is_protected() -> None:
    patch = "*** Begin Patch\n*** Add File: src/x.py\n+class LLMJudge:\n+    pass\n*** End Patch"
    found = CLASSIFIER.classify("shell", {"command": ["apply_patch", patch]})
    assert "protected_target" in found.flags


def test_swe_agent_str_replace_editor_program_creating_a_reward_is_protected() -> None:
    command = (
        "str_replace_editor create /repo/utils.py --file_text 'def reward(a):\n    return 1\n'"
    )
    assert "protected_target" in CLASSIFIER.classify("bash", {"command": command}).flags


def test_calling_a_metric_library_is_protected() -> None:
    content = "from sklearn.metrics import f1_score\nprint(f1_score(y, p))\n"
    found = CLASSIFIER.classify("Write", {"file_path": "report.py", "content": content})
    assert "protected_target" in found.flags
    assert "f1_score" in found.reason


@pytest.mark.parametrize(
    "content",
    [
        "for x, y in loader:\n    loss = model(x, y)\n    loss.backward()\n",
        "def verify_email(address):\n    return '@' in address\n",
        "def get_scoreboard():\n    return []\n",
        "model.eval()\nwith torch.no_grad():\n    out = model(x)\n",
        "acc = compute_metrics(preds, labels)\n",
        "def benchmark_parse():\n    parse('x' * 1000)\n",
    ],
)
def test_ordinary_code_is_not_protected(content: str) -> None:
    found = CLASSIFIER.classify("Write", {"file_path": "src/run.py", "content": content})
    assert "protected_target" not in found.flags, found.reason


def test_the_whole_of_a_long_text_is_read() -> None:
    content = "x = 1\n" * 12_000 + "def compute_reward():\n    pass\n"
    found = CLASSIFIER.classify("Write", {"file_path": "src/run.py", "content": content})
    assert "protected_target" in found.flags


def test_reading_evaluation_code_is_not_protected() -> None:
    found = CLASSIFIER.classify("Read", {"file_path": "verl/utils/reward_score/gsm8k.py"})
    assert found.kind is Kind.FILE_READ
    assert "protected_target" not in found.flags


def test_tampering_outranks_evaluation_content() -> None:
    content = "def compute_reward():\n    return 1\n"
    found = CLASSIFIER.classify("Write", {"file_path": ".claude/hooks/r.py", "content": content})
    assert found.kind is Kind.OVERSIGHT_TAMPER


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("Write", {"file_path": "src/model.py", "content": "import torch\n"}),
        ("Edit", {"file_path": "src/model.py", "old_string": "lr=1e-3", "new_string": "lr=3e-4"}),
    ],
)
def test_ordinary_edits_stay_plain_writes(tool: str, args: dict[str, Any]) -> None:
    found = CLASSIFIER.classify(tool, args)
    assert found.kind is Kind.FILE_WRITE and not found.flags
