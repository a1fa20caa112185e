"""Tool calls as real agent hosts send them, copied from their tool definitions.

Sources of the shapes:
- SWE-agent's editor commands (the "ACI"), typed into its bash tool as one string:
  `tools/windowed/config.yaml` (open, goto, scroll_up, scroll_down, create),
  `tools/windowed_edit_linting/config.yaml` (`edit <start_line>:<end_line>` ... `end_of_edit`),
  `tools/search/config.yaml` (find_file, search_dir, search_file), `tools/submit/config.yaml`
  (`submit`); MLGym's copy of these tools adds `insert <line>` ... `end_of_insert` and `validate`.
- OpenHands CodeAct tools: `openhands/agenthub/codeact_agent/tools/bash.py` (execute_bash:
  command), `str_replace_editor.py` (command: view|create|str_replace|insert|undo_edit, path,
  file_text, old_str, new_str, insert_line), `ipython.py` (execute_ipython_cell: code), and the
  agent skills called from a cell (`runtime/plugins/agent_skills/file_ops`: edit_file_by_replace).
- Claude Code: `sdk-tools.d.ts` of @anthropic-ai/claude-agent-sdk (FileReadInput file_path,
  FileEditInput file_path/old_string/new_string/replace_all, FileMultiEditInput edits[],
  FileWriteInput content, NotebookEditInput notebook_path/new_source/cell_id/edit_mode,
  GlobInput/GrepInput pattern/path, AgentInput description/prompt/subagent_type, WebFetchInput
  url/prompt, TodoWriteInput todos, AskUserQuestionInput questions), MCP tools `mcp__server__tool`.
- Codex CLI: `shell` with `command` as an argv list, `apply_patch` with the `*** Begin Patch`
  envelope, also run as `["apply_patch", "<patch>"]` through `shell`.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oversight.classify import Classifier
from oversight.kinds import Kind

CLASSIFIER = Classifier()

# An edit whose body is Python with an f-string: read as bash it became a "training script".
EDIT_WITH_FSTRING = (
    "edit 96:98\n"
    '    print(f"epoch {epoch}: train loss {loss:.4f}")\n'
    '    torch.save(model.state_dict(), f"ckpt_{epoch}.pt")\n'
    "end_of_edit"
)
EDIT_DEFINING_METRIC = "edit 40:44\ndef compute_metrics(predictions, labels):\n    return {'accuracy': 1.0}\nend_of_edit"
CODEX_PATCH = (
    "*** Begin Patch\n*** Update File: src/model.py\n@@\n-lr = 1e-3\n+lr = 3e-4\n*** End Patch"
)

# SWE-agent quotes each argument value (`argument_format: "--file_text {{value}}"`)
SWE_CREATE = "str_replace_editor create /testbed/reproduce.py --file_text " + shlex.quote(
    'import torch\nprint(f"loss {loss}")\ntrainer.train()\n'
)

# name → (tool, arguments, kind); also run by the before/after count in the report
REAL_CALLS: dict[str, tuple[str, dict[str, Any], Kind]] = {
    # SWE-agent / MLGym editor commands through the shell tool
    "aci-edit-fstring": ("bash", {"command": EDIT_WITH_FSTRING}, Kind.FILE_WRITE),
    "aci-edit-metric": ("bash", {"command": EDIT_DEFINING_METRIC}, Kind.FILE_WRITE),
    "aci-insert": (
        "bash",
        {"command": "insert 12\nimport numpy as np\nend_of_insert"},
        Kind.FILE_WRITE,
    ),
    "aci-create": ("bash", {"command": "create train_baseline.py"}, Kind.FILE_WRITE),
    "aci-open": ("bash", {"command": "open evaluate.py"}, Kind.FILE_READ),
    "aci-open-line": ("bash", {"command": "open src/model.py 120"}, Kind.FILE_READ),
    "aci-goto": ("bash", {"command": "goto 100"}, Kind.FILE_READ),
    "aci-scroll-down": ("bash", {"command": "scroll_down"}, Kind.FILE_READ),
    "aci-scroll-up": ("bash", {"command": "scroll_up"}, Kind.FILE_READ),
    "aci-search-file": ("bash", {"command": 'search_file "def train"'}, Kind.FILE_READ),
    "aci-search-dir": ("bash", {"command": 'search_dir "learning_rate" src'}, Kind.FILE_READ),
    "aci-find-file": ("bash", {"command": "find_file evaluate.py"}, Kind.FILE_READ),
    "aci-submit": ("bash", {"command": "submit"}, Kind.CODE_APPLY),
    "aci-validate": ("bash", {"command": "validate"}, Kind.EVAL_RUN),
    # SWE-agent 1.x runs its str_replace_editor as a program (tools/edit_anthropic/config.yaml)
    "swe-editor-view": (
        "bash",
        {"command": "str_replace_editor view /testbed/evaluate.py"},
        Kind.FILE_READ,
    ),
    "swe-editor-create": ("bash", {"command": SWE_CREATE}, Kind.FILE_WRITE),
    # OpenHands
    "oh-bash": ("execute_bash", {"command": "python train.py --epochs 3"}, Kind.TRAIN_LAUNCH),
    "oh-view": (
        "str_replace_editor",
        {"command": "view", "path": "/workspace/a.py"},
        Kind.FILE_READ,
    ),
    "oh-create": (
        "str_replace_editor",
        {"command": "create", "path": "/workspace/notes.md", "file_text": "print(f'{x}')"},
        Kind.FILE_WRITE,
    ),
    "oh-str-replace": (
        "str_replace_editor",
        {"command": "str_replace", "path": "/workspace/a.py", "old_str": "a", "new_str": "b"},
        Kind.FILE_WRITE,
    ),
    "oh-insert": (
        "str_replace_editor",
        {"command": "insert", "path": "/workspace/a.py", "insert_line": 3, "new_str": "b"},
        Kind.FILE_WRITE,
    ),
    "oh-undo": (
        "str_replace_editor",
        {"command": "undo_edit", "path": "/workspace/a.py"},
        Kind.FILE_WRITE,
    ),
    "oh-ipython-skill": (
        "execute_ipython_cell",
        {"code": "edit_file_by_replace('evaluate.py', to_replace='k=5', new_content='k=1')"},
        Kind.FILE_WRITE,
    ),
    "oh-edit-tool": (
        "edit_file_by_replace",
        {"file_name": "src/a.py", "to_replace": "a", "new_content": "b"},
        Kind.FILE_WRITE,
    ),
    "oh-finish": ("finish", {"message": "done"}, Kind.TOOL_CALL),
    # Claude Code
    "cc-read": (
        "Read",
        {"file_path": "/repo/evaluate.py", "offset": 1, "limit": 50},
        Kind.FILE_READ,
    ),
    "cc-glob": ("Glob", {"pattern": "**/*.py", "path": "/repo"}, Kind.FILE_READ),
    "cc-grep": (
        "Grep",
        {"pattern": "def train", "path": "/repo", "output_mode": "content"},
        Kind.FILE_READ,
    ),
    "cc-edit": (
        "Edit",
        {"file_path": "/repo/src/a.py", "old_string": "a", "new_string": "b", "replace_all": False},
        Kind.FILE_WRITE,
    ),
    "cc-multiedit": (
        "MultiEdit",
        {"file_path": "/repo/src/a.py", "edits": [{"old_string": "a", "new_string": "b"}]},
        Kind.FILE_WRITE,
    ),
    "cc-write": (
        "Write",
        {"file_path": "/repo/run.py", "content": "trainer.train()"},
        Kind.FILE_WRITE,
    ),
    "cc-notebookedit": (
        "NotebookEdit",
        {
            "notebook_path": "/repo/a.ipynb",
            "new_source": "x = 1",
            "cell_id": "c1",
            "edit_mode": "replace",
        },
        Kind.FILE_WRITE,
    ),
    "cc-task": (
        "Task",
        {
            "description": "find",
            "prompt": "find the training loop",
            "subagent_type": "general-purpose",
        },
        Kind.TOOL_CALL,
    ),
    "cc-webfetch": (
        "WebFetch",
        {"url": "https://arxiv.org/abs/1", "prompt": "summarise"},
        Kind.TOOL_CALL,
    ),
    "cc-todowrite": (
        "TodoWrite",
        {"todos": [{"content": "tune lr", "status": "pending", "activeForm": "Tuning lr"}]},
        Kind.TOOL_CALL,
    ),
    "cc-askuserquestion": (
        "AskUserQuestion",
        {
            "questions": [
                {
                    "question": "Which dataset?",
                    "header": "Dataset",
                    "options": [{"label": "a", "description": "A"}],
                    "multiSelect": False,
                }
            ]
        },
        Kind.TOOL_CALL,
    ),
    "cc-mcp-search": ("mcp__docs__search_docs", {"query": "attention"}, Kind.TOOL_CALL),
    "cc-mcp-create": (
        "mcp__github__create_issue",
        {"owner": "o", "repo": "r", "title": "bug"},
        Kind.DEPLOY,
    ),
    "cc-mcp-remove": ("mcp__docs__remove_doc_by_id", {"doc_id": "42"}, Kind.FILE_WRITE),
    # Codex CLI
    "codex-shell-argv": ("shell", {"command": ["bash", "-lc", "ls -la"]}, Kind.FILE_READ),
    "codex-apply-patch": ("apply_patch", {"input": CODEX_PATCH}, Kind.FILE_WRITE),
    "codex-apply-patch-via-shell": (
        "shell",
        {"command": ["apply_patch", CODEX_PATCH]},
        Kind.FILE_WRITE,
    ),
}


@pytest.mark.parametrize(("tool", "args", "kind"), REAL_CALLS.values(), ids=REAL_CALLS.keys())
def test_real_tool_calls_get_their_kind(tool: str, args: dict[str, Any], kind: Kind) -> None:
    assert CLASSIFIER.classify(tool, args).kind is kind


def test_an_editor_edit_body_is_file_content_not_shell() -> None:
    found = CLASSIFIER.classify("bash", {"command": EDIT_WITH_FSTRING})
    assert found.kind is Kind.FILE_WRITE
    assert "unresolved" not in found.flags
    assert not {"print", "torch.save"} & set(found.targets)


def test_an_editor_edit_names_the_open_file_as_its_unknown_target() -> None:
    found = CLASSIFIER.classify("bash", {"command": EDIT_WITH_FSTRING})
    assert "editor_open_file" in found.flags
    assert found.targets == ("<file open in the editor>",)


def test_an_editor_edit_that_defines_a_metric_is_protected() -> None:
    found = CLASSIFIER.classify("bash", {"command": EDIT_DEFINING_METRIC})
    assert "protected_target" in found.flags
    assert "compute_metrics" in found.reason


def test_an_editor_edit_that_only_calls_metrics_is_not_protected() -> None:
    command = "edit 5:5\n    acc = compute_metrics(preds, labels)\nend_of_edit"
    assert "protected_target" not in CLASSIFIER.classify("bash", {"command": command}).flags


def test_an_editor_edit_whose_lines_would_tamper_as_shell_still_tampers() -> None:
    command = "edit 1:2\nrm -rf .oversight\nend_of_edit"
    assert CLASSIFIER.classify("bash", {"command": command}).kind is Kind.OVERSIGHT_TAMPER


def test_commands_after_the_end_of_an_editor_edit_are_shell() -> None:
    command = "edit 1:1\nx = 1\nend_of_edit\nrm -rf src"
    found = CLASSIFIER.classify("bash", {"command": command})
    assert found.kind is Kind.FILE_WRITE and "src" in found.targets
    assert "<file open in the editor>" in found.targets


def test_creating_an_evaluation_file_in_the_editor_is_protected() -> None:
    found = CLASSIFIER.classify("bash", {"command": "create evaluate.py"})
    assert found.kind is Kind.FILE_WRITE and "protected_target" in found.flags


@pytest.mark.parametrize(
    "command",
    [
        "open -a Preview plot.png",  # macOS open(1) with a flag
        "open MyTool.app",  # macOS launching an application
        "open https://example.org",  # a URL handed to a browser
        "goto line_ten",  # not a line number
        "scroll_down; rm -rf src",  # a shell list
        "create a.py b.py",  # more arguments than the editor command takes
        "edit 1:2 src/a.py",  # no body and no end_of_edit
    ],
)
def test_look_alikes_of_editor_commands_are_read_as_shell(command: str) -> None:
    found = CLASSIFIER.classify("bash", {"command": command})
    assert not found.reason.startswith("editor command"), found.reason


def test_a_shell_list_after_an_editor_command_is_still_classified() -> None:
    found = CLASSIFIER.classify("bash", {"command": "scroll_down; rm -rf src"})
    assert found.kind is Kind.FILE_WRITE and "src" in found.targets


def test_a_file_created_through_swe_agents_editor_program_is_not_run() -> None:
    found = CLASSIFIER.classify("bash", {"command": SWE_CREATE})
    assert found.kind is Kind.FILE_WRITE and found.targets == ("/testbed/reproduce.py",)


def test_swe_agents_editor_program_editing_metrics_is_protected() -> None:
    command = (
        "str_replace_editor str_replace /testbed/metrics.py --old_str 'k = 5' --new_str 'k = 1'"
    )
    assert "protected_target" in CLASSIFIER.classify("bash", {"command": command}).flags


def test_submit_hands_in_the_work() -> None:
    found = CLASSIFIER.classify("bash", {"command": "submit"})
    assert found.kind is Kind.CODE_APPLY and "hands in" in found.reason


def test_an_openhands_skill_edit_of_evaluation_code_is_protected() -> None:
    found = CLASSIFIER.classify(
        "execute_ipython_cell",
        {"code": "edit_file_by_replace('evaluate.py', to_replace='k=5', new_content='k=1')"},
    )
    assert "protected_target" in found.flags and found.targets == ("evaluate.py",)


def test_a_claude_code_question_to_the_user_is_not_a_model_call() -> None:
    found = CLASSIFIER.classify(*REAL_CALLS["cc-askuserquestion"][:2])
    assert found.kind is Kind.TOOL_CALL and "asks the user" in found.reason


def test_an_mcp_tool_is_read_by_its_tool_part_not_its_server() -> None:
    found = CLASSIFIER.classify("mcp__docs__search_docs", {"query": "attention"})
    assert "only queries" in found.reason


def test_an_mcp_tool_that_creates_says_which_server_it_changes() -> None:
    found = CLASSIFIER.classify(*REAL_CALLS["cc-mcp-create"][:2])
    assert "`github`" in found.reason


def test_replay_of_real_tool_calls_gives_their_kinds(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    lines = [{"session": "s", "tool": tool, "args": args} for tool, args, _ in REAL_CALLS.values()]
    trace.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = subprocess.run(
        [sys.executable, "-m", "oversight", "replay", "--json", str(trace)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    kinds = [step["kind"] for step in json.loads(done.stdout)["steps"]]
    assert kinds == [kind.value for _, _, kind in REAL_CALLS.values()]
