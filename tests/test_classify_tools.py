"""Tool shapes of the agent hosts, and custom tools recognised by the words of their names."""

from __future__ import annotations

from typing import Any

import pytest

from oversight.classify import Classifier
from oversight.kinds import Kind

CLASSIFIER = Classifier()

PATCH = (
    "*** Begin Patch\n*** Update File: src/model.py\n@@\n-a = 1\n+a = 2\n"
    "*** Add File: notes/plan.md\n+plan\n*** End Patch"
)

HOST_SHAPES: dict[str, tuple[str, dict[str, Any], Kind]] = {
    # Claude Code
    "claude-bash": (
        "Bash",
        {"command": "torchrun train.py", "description": "train"},
        Kind.TRAIN_LAUNCH,
    ),
    "claude-write": ("Write", {"file_path": "/repo/notes.md", "content": "x"}, Kind.FILE_WRITE),
    "claude-edit": (
        "Edit",
        {"file_path": "src/a.py", "old_string": "a", "new_string": "b"},
        Kind.FILE_WRITE,
    ),
    "claude-multiedit": (
        "MultiEdit",
        {"file_path": "src/a.py", "edits": [{"old_string": "a", "new_string": "b"}]},
        Kind.FILE_WRITE,
    ),
    "claude-notebookedit": (
        "NotebookEdit",
        {"notebook_path": "analysis.ipynb", "new_source": "x"},
        Kind.FILE_WRITE,
    ),
    "claude-read": ("Read", {"file_path": "train.py"}, Kind.FILE_READ),
    "claude-glob": ("Glob", {"pattern": "**/*.py"}, Kind.FILE_READ),
    "claude-grep": ("Grep", {"pattern": "torchrun", "path": "."}, Kind.FILE_READ),
    "claude-ls": ("LS", {"path": "/repo"}, Kind.FILE_READ),
    "claude-webfetch": (
        "WebFetch",
        {"url": "https://arxiv.org/abs/1", "prompt": "summarise"},
        Kind.TOOL_CALL,
    ),
    "claude-websearch": ("WebSearch", {"query": "grpo paper"}, Kind.TOOL_CALL),
    "claude-task": ("Task", {"prompt": "look around", "description": "explore"}, Kind.TOOL_CALL),
    # OpenHands / SWE-agent
    "openhands-execute-bash": ("execute_bash", {"command": "python eval.py"}, Kind.EVAL_RUN),
    "swe-editor-view": (
        "str_replace_editor",
        {"command": "view", "path": "/repo/train.py"},
        Kind.FILE_READ,
    ),
    "swe-editor-create": (
        "str_replace_editor",
        {"command": "create", "path": "/repo/x.py", "file_text": "x"},
        Kind.FILE_WRITE,
    ),
    "swe-editor-str-replace": (
        "str_replace_editor",
        {"command": "str_replace", "path": "a.py", "old_str": "a", "new_str": "b"},
        Kind.FILE_WRITE,
    ),
    "swe-editor-insert": (
        "str_replace_editor",
        {"command": "insert", "path": "a.py", "insert_line": 3, "new_str": "x"},
        Kind.FILE_WRITE,
    ),
    "swe-editor-undo": (
        "str_replace_editor",
        {"command": "undo_edit", "path": "a.py"},
        Kind.FILE_WRITE,
    ),
    # Inspect
    "inspect-bash": ("bash", {"cmd": "git push origin main"}, Kind.CODE_APPLY),
    "inspect-python": (
        "python",
        {"code": "import subprocess\nsubprocess.run(['python', 'train.py'])"},
        Kind.TRAIN_LAUNCH,
    ),
    "inspect-text-editor-view": (
        "text_editor",
        {"command": "view", "path": "a.py"},
        Kind.FILE_READ,
    ),
    "inspect-text-editor-create": (
        "text_editor",
        {"command": "create", "path": "a.py", "file_text": ""},
        Kind.FILE_WRITE,
    ),
    # Codex CLI
    "codex-shell-argv": (
        "shell",
        {"command": ["python", "train.py"], "workdir": "/repo"},
        Kind.TRAIN_LAUNCH,
    ),
    "codex-shell-bash-lc": (
        "shell",
        {"command": ["bash", "-lc", "lm_eval --tasks mmlu"]},
        Kind.EVAL_RUN,
    ),
    "codex-apply-patch": ("apply_patch", {"input": PATCH}, Kind.FILE_WRITE),
    "codex-apply-patch-in-shell": ("shell", {"command": ["apply_patch", PATCH]}, Kind.FILE_WRITE),
    # LangChain
    "langchain-terminal-str": (
        "terminal",
        {"commands": "cd repo && python train.py"},
        Kind.TRAIN_LAUNCH,
    ),
    "langchain-terminal-list": (
        "terminal",
        {"commands": ["cd repo", "huggingface-cli upload me/m out"]},
        Kind.DEPLOY,
    ),
    # Python-code tools
    "python-repl": ("python_repl", {"command": "print(1 + 1)"}, Kind.SHELL_EXEC),
    "run-python": ("run_python", {"code": "model.push_to_hub('me/m')"}, Kind.DEPLOY),
    "execute-python": ("execute_python", {"code": "trainer.train()"}, Kind.TRAIN_LAUNCH),
    "ipython": ("ipython", {"code": "!git push"}, Kind.CODE_APPLY),
    "python-query": ("python", {"query": "open('out.txt', 'w').write('x')"}, Kind.FILE_WRITE),
}


@pytest.mark.parametrize(("name", "args", "kind"), HOST_SHAPES.values(), ids=HOST_SHAPES.keys())
def test_agent_host_tool_shapes(name: str, args: dict[str, Any], kind: Kind) -> None:
    assert CLASSIFIER.classify(name, args).kind is kind


def test_web_tools_carry_the_network_flag() -> None:
    assert "network" in CLASSIFIER.classify("WebFetch", {"url": "https://x"}).flags
    assert "network" in CLASSIFIER.classify("WebSearch", {"query": "x"}).flags


def test_apply_patch_targets_are_the_patched_paths() -> None:
    result = CLASSIFIER.classify("apply_patch", {"input": PATCH})
    assert result.targets == ("src/model.py", "notes/plan.md")


def test_unified_diff_patch_paths_are_read() -> None:
    diff = "--- a/evals/score.py\n+++ b/evals/score.py\n@@ -1 +1 @@\n-x\n+y\n"
    result = CLASSIFIER.classify("apply_patch", {"patch": diff})
    assert result.targets == ("evals/score.py",)
    assert "protected_target" in result.flags


def test_write_tool_targets_are_the_paths_written() -> None:
    assert CLASSIFIER.classify("Write", {"file_path": "a/b.txt"}).targets == ("a/b.txt",)


def test_shell_tool_without_a_command_is_unresolved() -> None:
    result = CLASSIFIER.classify("Bash", {"description": "nothing"})
    assert result.kind is Kind.SHELL_EXEC
    assert "unresolved" in result.flags


NAMED_TOOLS: dict[str, tuple[str, Kind]] = {
    "launch_training": ("launch_training", Kind.TRAIN_LAUNCH),
    "train_model": ("train_model", Kind.TRAIN_LAUNCH),
    "submit_job": ("submit_job", Kind.TRAIN_LAUNCH),
    "start_finetune": ("start_finetune", Kind.TRAIN_LAUNCH),
    "camel-case": ("LaunchTrainingRun", Kind.TRAIN_LAUNCH),
    "kebab-case": ("start-fine-tune", Kind.TRAIN_LAUNCH),
    "deploy_model": ("deploy_model", Kind.DEPLOY),
    "push_to_hub": ("push_to_hub", Kind.DEPLOY),
    "upload_model": ("upload_model", Kind.DEPLOY),
    "run_experiment": ("run_experiment", Kind.EXPERIMENT_RUN),
    "run_sweep": ("run_sweep", Kind.EXPERIMENT_RUN),
    "run_eval": ("run_eval", Kind.EVAL_RUN),
    "evaluate": ("evaluate", Kind.EVAL_RUN),
    "run_benchmark": ("runBenchmark", Kind.EVAL_RUN),
    "read_file": ("read_file", Kind.FILE_READ),
    "list_directory": ("list_directory", Kind.FILE_READ),
    "load_file": ("load_file", Kind.FILE_READ),
    "write_file": ("write_file", Kind.FILE_WRITE),
    "save_notebook": ("save_notebook", Kind.FILE_WRITE),
    "git_push": ("git_push", Kind.CODE_APPLY),
    "merge_pull_request": ("merge_pull_request", Kind.CODE_APPLY),
    "mcp-github-push-files": ("mcp__github__push_files", Kind.CODE_APPLY),
    "call_llm": ("call_llm", Kind.MODEL_CALL),
    "chat": ("chat", Kind.MODEL_CALL),
    "complete": ("complete", Kind.MODEL_CALL),
    "chat_completion": ("chat_completion", Kind.MODEL_CALL),
    "invoke_model": ("invoke_model", Kind.MODEL_CALL),
    "generate": ("generate", Kind.MODEL_CALL),
    "ChatOpenAI": ("ChatOpenAI", Kind.MODEL_CALL),
    "messages.create": ("messages.create", Kind.MODEL_CALL),
    "llm": ("llm", Kind.MODEL_CALL),
    "fetch_url": ("fetch_url", Kind.TOOL_CALL),
    "unknown": ("frobnicate", Kind.TOOL_CALL),
}


@pytest.mark.parametrize(("name", "kind"), NAMED_TOOLS.values(), ids=NAMED_TOOLS.keys())
def test_plainly_named_tools_are_matched_by_name_words(name: str, kind: Kind) -> None:
    assert CLASSIFIER.classify(name, {}).kind is kind


@pytest.mark.parametrize(
    "name",
    [
        "get_training_status",
        "list_jobs",
        "cancel_training",
        "check_eval_results",
        "submit_answer",
        "retrieval_search",
        "show_deployments",
    ],
)
def test_tools_that_only_query_or_stop_are_not_consequential(name: str) -> None:
    assert CLASSIFIER.classify(name, {}).kind is Kind.TOOL_CALL


def test_unknown_tool_reason_says_no_rule_matched() -> None:
    reason = CLASSIFIER.classify("frobnicate", {"x": 1}).reason
    assert "frobnicate" in reason and "no rule matched" in reason


def test_named_tool_reason_cites_the_word_that_matched() -> None:
    assert "`training`" in CLASSIFIER.classify("launch_training", {}).reason


def test_job_tool_running_an_evaluation_is_eval_run() -> None:
    result = CLASSIFIER.classify("submit_job", {"command": "python eval.py --ckpt x"})
    assert result.kind is Kind.EVAL_RUN


def test_a_command_argument_of_a_custom_tool_is_analysed() -> None:
    result = CLASSIFIER.classify("run_on_cluster", {"command": "torchrun train.py"})
    assert result.kind is Kind.TRAIN_LAUNCH


def test_an_output_path_argument_to_a_protected_location_is_flagged() -> None:
    result = CLASSIFIER.classify("train_model", {"output_dir": "evals/results"})
    assert result.kind is Kind.TRAIN_LAUNCH
    assert "protected_target" in result.flags


def test_named_tool_targets_come_from_identifying_arguments() -> None:
    result = CLASSIFIER.classify("push_to_hub", {"repo_id": "me/model", "private": True})
    assert result.targets == ("me/model",)


def test_mcp_prefixed_host_tools_are_recognised_by_their_last_segment() -> None:
    assert CLASSIFIER.classify("mcp__shell__bash", {"command": "git push"}).kind is Kind.CODE_APPLY
