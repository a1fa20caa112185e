"""Declared kinds, project configuration from YAML, determinism and the result's invariants."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.classify import (
    FLAGS,
    Classification,
    Classifier,
    ClassifierConfig,
    load_classifier_config,
)
from oversight.errors import ConfigError, UnknownKindError
from oversight.kinds import Kind

CLASSIFIER = Classifier()
REPO = Path(__file__).resolve().parents[1]


# declared kinds


def test_declared_kind_is_kept() -> None:
    result = CLASSIFIER.classify("do_work", {"x": 1}, kind="train.launch")
    assert result.kind is Kind.TRAIN_LAUNCH
    assert "declared train.launch" in result.reason


def test_declared_kind_is_kept_even_when_the_arguments_say_something_else() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "torchrun train.py"}, kind=Kind.SHELL_EXEC)
    assert result.kind is Kind.SHELL_EXEC


def test_declared_kind_still_gets_flags_and_targets_from_the_arguments() -> None:
    result = CLASSIFIER.classify(
        "Write", {"file_path": "evals/grader.py", "content": ""}, kind="tool.call"
    )
    assert result.kind is Kind.TOOL_CALL
    assert "protected_target" in result.flags
    assert result.targets == ("evals/grader.py",)


def test_tampering_overrides_a_declared_kind() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "rm -rf .oversight"}, kind="file.write")
    assert result.kind is Kind.OVERSIGHT_TAMPER
    assert "overrides declared kind file.write" in result.reason


def test_tampering_in_a_custom_tools_arguments_overrides_its_declared_kind() -> None:
    args = {"env": {"OVERSIGHT_POLICY": "none"}}
    result = CLASSIFIER.classify("launch", args, kind="train.launch")
    assert result.kind is Kind.OVERSIGHT_TAMPER


@pytest.mark.parametrize("bad", ["training", "", "TRAIN.LAUNCH", "shell"])
def test_invalid_declared_kind_raises_unknown_kind_error(bad: str) -> None:
    with pytest.raises(UnknownKindError, match="accepted kinds"):
        CLASSIFIER.classify("x", {}, kind=bad)


# configuration

CONFIG = """\
tools:
  queue_gpu_run: train.launch
  "myorg_*": eval.run
commands:
  gpurun: train.launch
  "mlx submit": train.launch
  rm: shell.exec
script_patterns:
  "grpo_*.py": train.launch
wrappers:
  - with-gpu
protected_paths:
  - "secret_tests/**"
tamper_paths:
  - "audit/**"
tamper_env_prefixes:
  - "AUDIT_"
"""


@pytest.fixture
def configured(tmp_path: Path) -> Classifier:
    path = tmp_path / "classify.yaml"
    path.write_text(CONFIG)
    return Classifier(load_classifier_config(path))


def test_config_custom_tool_name_becomes_its_kind(configured: Classifier) -> None:
    assert configured.classify("queue_gpu_run", {"n": 8}).kind is Kind.TRAIN_LAUNCH
    assert "config" in configured.classify("queue_gpu_run", {}).reason


def test_config_tool_globs_match(configured: Classifier) -> None:
    assert configured.classify("myorg_scoring", {}).kind is Kind.EVAL_RUN


def test_config_custom_launcher_command_becomes_train_launch(configured: Classifier) -> None:
    result = configured.classify("Bash", {"command": "gpurun --gpus 8 job.py"})
    assert result.kind is Kind.TRAIN_LAUNCH
    assert "config: command `gpurun`" in result.reason


def test_config_subcommand_key_matches_program_and_subcommand(configured: Classifier) -> None:
    assert configured.classify("Bash", {"command": "mlx submit cfg.yaml"}).kind is Kind.TRAIN_LAUNCH
    assert configured.classify("Bash", {"command": "mlx status"}).kind is Kind.SHELL_EXEC


def test_config_commands_apply_inside_wrappers(configured: Classifier) -> None:
    assert (
        configured.classify("Bash", {"command": "nohup gpurun job.py &"}).kind is Kind.TRAIN_LAUNCH
    )


def test_config_script_patterns_classify_scripts(configured: Classifier) -> None:
    assert configured.classify("Bash", {"command": "python grpo_math.py"}).kind is Kind.TRAIN_LAUNCH


def test_config_wrappers_are_unwrapped(configured: Classifier) -> None:
    assert configured.classify("Bash", {"command": "with-gpu python eval.py"}).kind is Kind.EVAL_RUN


def test_config_protected_paths_add_to_the_defaults(configured: Classifier) -> None:
    assert (
        "protected_target" in configured.classify("Write", {"file_path": "secret_tests/a.py"}).flags
    )
    assert "protected_target" in configured.classify("Write", {"file_path": "evals/a.py"}).flags


def test_config_tamper_paths_and_env_prefixes(configured: Classifier) -> None:
    assert configured.classify("Bash", {"command": "rm -rf audit/"}).kind is Kind.OVERSIGHT_TAMPER
    assert (
        configured.classify("Bash", {"command": "export AUDIT_OFF=1"}).kind is Kind.OVERSIGHT_TAMPER
    )


def test_config_cannot_downgrade_tampering(configured: Classifier) -> None:
    assert (
        configured.classify("Bash", {"command": "rm -rf .oversight"}).kind is Kind.OVERSIGHT_TAMPER
    )
    assert configured.classify("Bash", {"command": "rm -rf build/"}).kind is Kind.SHELL_EXEC


def test_config_is_applied_only_to_its_own_classifier(configured: Classifier) -> None:
    assert CLASSIFIER.classify("queue_gpu_run", {}).kind is Kind.TOOL_CALL


def test_example_config_in_docs_loads() -> None:
    config = load_classifier_config(REPO / "docs" / "classify-example.yaml")
    assert config.tools or config.commands


MALFORMED = {
    "unknown-kind": (
        "tools:\n  my_tool: training\n",
        ["tools.my_tool", "'training'", "train.launch"],
    ),
    "unknown-field": ("tool:\n  my_tool: train.launch\n", ["tool", "accepted fields", "tools"]),
    "wrong-type": ("protected_paths: evals/**\n", ["protected_paths", "list"]),
    "not-a-mapping": ("- tools\n", ["expected a mapping", "list"]),
    "bad-yaml": ("tools: [unclosed\n", ["not valid YAML"]),
    "empty-pattern": ("commands:\n  '': train.launch\n", ["commands", "empty"]),
}


@pytest.mark.parametrize(("text", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_config_raises_config_error_naming_file_and_field(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_classifier_config(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_missing_config_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_classifier_config(tmp_path / "nope.yaml")


def test_empty_config_file_is_the_default_config(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_classifier_config(path) == ClassifierConfig()


# determinism and invariants


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("Bash", {"command": "cd x && torchrun train.py > log &"}),
    ("python", {"code": "import os\nos.environ['OVERSIGHT_X'] = '1'"}),
    ("launch_training", {"config": "c.yaml"}),
    ("apply_patch", {"input": "*** Begin Patch\n*** Update File: evals/a.py\n*** End Patch"}),
    ("frobnicate", {}),
]


@pytest.mark.parametrize(("name", "args"), CALLS)
def test_same_input_gives_the_same_output(name: str, args: dict[str, Any]) -> None:
    first = CLASSIFIER.classify(name, args)
    assert CLASSIFIER.classify(name, args) == first
    assert Classifier().classify(name, args) == first


def test_classification_is_immutable() -> None:
    result = CLASSIFIER.classify("Bash", {"command": "ls"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.kind = Kind.DEPLOY  # type: ignore[misc]


def check_invariants(result: Classification) -> None:
    assert isinstance(result.kind, Kind)
    assert result.flags <= FLAGS
    assert result.reason
    assert all(isinstance(t, str) and t for t in result.targets)
    if "oversight_target" in result.flags:
        assert result.kind is Kind.OVERSIGHT_TAMPER
    if result.kind is Kind.OVERSIGHT_TAMPER:
        assert "oversight_target" in result.flags


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("abcdeorsmvxty .-_/$()'\"|&;<>{}`=\\\n#*~!")), max_size=80
    )
)
def test_any_shell_text_classifies_without_error(command: str) -> None:
    result = CLASSIFIER.classify("Bash", {"command": command})
    check_invariants(result)
    assert CLASSIFIER.classify("Bash", {"command": command}) == result


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_python_text_classifies_without_error(code: str) -> None:
    check_invariants(CLASSIFIER.classify("python", {"code": code}))


@settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=1, max_size=30),
    st.dictionaries(
        st.sampled_from(["command", "cmd", "path", "file_path", "env", "code", "output_dir", "x"]),
        st.one_of(
            st.text(max_size=30),
            st.lists(st.text(max_size=10), max_size=3),
            st.integers(),
            st.none(),
            st.dictionaries(st.text(max_size=12), st.text(max_size=5), max_size=2),
        ),
        max_size=4,
    ),
)
def test_any_tool_call_classifies_without_error(name: str, args: dict[str, Any]) -> None:
    check_invariants(CLASSIFIER.classify(name, args))
