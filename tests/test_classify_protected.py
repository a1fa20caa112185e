"""Writing evaluation code, metrics, rewards or benchmark configs is flagged; reading is not."""

from __future__ import annotations

from typing import Any

import pytest

from oversight.classify import Classifier
from oversight.kinds import Kind

CLASSIFIER = Classifier()

PROTECTED_PATHS = [
    "evals/mmlu.py",
    "eval/run.py",
    "evaluation/harness/task.py",
    "/home/me/proj/evals/data/answers.json",
    "src/eval_utils.py",
    "scripts/run_eval.py",
    "lib/metrics.py",
    "src/compute_metrics.py",
    "rl/reward.py",
    "rl/rewards_v2.py",
    "models/reward_model/head.py",
    "benchmarks/mmlu/config.yaml",
    "benchmarks/gsm8k/v2/settings.json",
    "configs/benchmark_config.toml",
    "grading/grader.py",
    "scoring.py",
    "judges/judge_prompt.py",
    "rubric.md",
]


@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_write_tool_to_protected_path_is_flagged(path: str) -> None:
    result = CLASSIFIER.classify("Write", {"file_path": path, "content": "x"})
    assert result.kind is Kind.FILE_WRITE
    assert "protected_target" in result.flags


@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_reading_a_protected_path_is_not_flagged(path: str) -> None:
    result = CLASSIFIER.classify("Read", {"file_path": path})
    assert result.kind is Kind.FILE_READ
    assert "protected_target" not in result.flags


UNPROTECTED_PATHS = [
    "src/model.py",
    "retrieval.py",
    "geometric.py",
    "notes/eval-ideas.md",
    "benchmarks/README.md",
    "train.py",
    "data/rewards.csv",
]


@pytest.mark.parametrize("path", UNPROTECTED_PATHS)
def test_ordinary_paths_are_not_protected(path: str) -> None:
    result = CLASSIFIER.classify("Write", {"file_path": path, "content": "x"})
    assert "protected_target" not in result.flags


WRITE_VECTORS: dict[str, tuple[str, dict[str, Any]]] = {
    "redirect": ("Bash", {"command": "echo 'return 1.0' > evals/grader.py"}),
    "append": ("Bash", {"command": "echo x >> src/metrics.py"}),
    "sed-i": ("Bash", {"command": "sed -i 's/==/!=/' evals/check.py"}),
    "tee": ("Bash", {"command": "echo x | tee rl/reward.py"}),
    "cp-destination": ("Bash", {"command": "cp /tmp/easy.py evals/task.py"}),
    "mv": ("Bash", {"command": "mv evals/hard.py /tmp/"}),
    "rm": ("Bash", {"command": "rm benchmarks/mmlu/config.yaml"}),
    "truncate": ("Bash", {"command": "truncate -s 0 scoring.py"}),
    "patch": ("Bash", {"command": "patch evals/grader.py < fix.diff"}),
    "git-checkout": ("Bash", {"command": "git checkout HEAD~5 -- evals/"}),
    "perl-i": ("Bash", {"command": "perl -pi -e 's/a/b/' src/metrics.py"}),
    "heredoc": ("Bash", {"command": "cat > judges/judge.py <<'EOF'\nprint(1)\nEOF"}),
    "python-open": ("python", {"code": "open('evals/answers.json', 'w').write('{}')"}),
    "python-path": (
        "python",
        {"code": "from pathlib import Path\nPath('lib/metrics.py').write_text('')"},
    ),
    "python-shutil": ("python", {"code": "import shutil\nshutil.copy('a.py', 'rl/reward_fn.py')"}),
    "python-fstring": ("python", {"code": "open(f'evals/{name}.py', 'a')"}),
    "apply-patch": (
        "apply_patch",
        {"input": "*** Begin Patch\n*** Update File: evals/x.py\n*** End Patch"},
    ),
    "editor": ("str_replace_editor", {"command": "str_replace", "path": "/repo/evals/t.py"}),
    "edit-tool": (
        "Edit",
        {"file_path": "reward_model/loss.py", "old_string": "a", "new_string": "b"},
    ),
}


@pytest.mark.parametrize(("name", "args"), WRITE_VECTORS.values(), ids=WRITE_VECTORS.keys())
def test_every_write_vector_flags_protected_targets(name: str, args: dict[str, Any]) -> None:
    result = CLASSIFIER.classify(name, args)
    assert "protected_target" in result.flags
    assert result.kind is Kind.FILE_WRITE


READ_VECTORS: dict[str, tuple[str, dict[str, Any]]] = {
    "cat": ("Bash", {"command": "cat evals/grader.py"}),
    "grep": ("Bash", {"command": "grep -n score evals/*.py"}),
    "redirect-in": ("Bash", {"command": "wc -l < evals/answers.json"}),
    "cp-source": ("Bash", {"command": "cp evals/grader.py /tmp/backup.py"}),
    "sed-print": ("Bash", {"command": "sed -n '1,20p' evals/grader.py"}),
    "python-open-read": ("python", {"code": "print(open('evals/grader.py').read())"}),
    "editor-view": ("str_replace_editor", {"command": "view", "path": "evals/grader.py"}),
}


@pytest.mark.parametrize(("name", "args"), READ_VECTORS.values(), ids=READ_VECTORS.keys())
def test_reading_or_copying_from_protected_paths_is_not_flagged(
    name: str, args: dict[str, Any]
) -> None:
    assert "protected_target" not in CLASSIFIER.classify(name, args).flags


def test_protected_write_reason_names_the_pattern() -> None:
    reason = CLASSIFIER.classify("Write", {"file_path": "evals/a.py"}).reason
    assert "protected" in reason and "evals/**" in reason


def test_protected_flag_survives_a_more_consequential_kind() -> None:
    command = "echo 'return 1' > evals/grader.py && python train.py"
    result = CLASSIFIER.classify("Bash", {"command": command})
    assert result.kind is Kind.TRAIN_LAUNCH
    assert "protected_target" in result.flags


def test_relative_writes_after_cd_are_read_from_that_directory() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "cd evals && echo 'return 1' > task.py"})
    assert "protected_target" in result.flags
    assert "evals/task.py" in result.targets


def test_cd_into_the_store_then_deleting_everything_is_tampering() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "cd .oversight && rm -rf *"})
    assert result.kind is Kind.OVERSIGHT_TAMPER


def test_leaving_the_directory_again_is_followed() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "cd evals; cd ..; echo x > task.py"})
    assert "protected_target" not in result.flags


def test_a_trailing_redirect_binds_to_the_last_command_of_a_chain_only() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "python train.py && echo done > status.txt"})
    assert result.kind is Kind.TRAIN_LAUNCH
    assert result.targets.index("status.txt") > result.targets.index("train.py")
    assert "redirects" not in result.reason
