"""A step's classification, completed by what the session did before it.

Two things the arguments alone cannot say: which file an editor's `edit 96:98` writes (the one
the agent opened), and what `python baseline.py` does (what `baseline.py` contains). Both only
ever add to a classification: a known open file can make an edit protected or tampering, and a
script's content can raise `experiment.run` to `train.launch`, never lower a kind.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from oversight.classify.aci import EDITOR_OPEN_FILE, OPEN_FILE, UNNAMED_OPEN_FILE, edit_block
from oversight.classify.eval_code import PROTECTED_TARGET, defines_eval_code
from oversight.classify.paths import PathRules
from oversight.classify.result import Classification, merge_targets
from oversight.classify.scripts import ScriptReader
from oversight.classify.tools import CODE_KEYS, COMMAND_KEYS, Shape
from oversight.classify.workspace import SessionView
from oversight.kinds import Kind

MAX_TARGETS_READ = 4
"""A write names few files; reading more of them would let one step cost many file reads."""


def in_session(
    found: Classification,
    shape: Shape,
    args: Mapping[str, Any],
    view: SessionView,
    paths: PathRules,
    scripts: ScriptReader,
) -> Classification:
    if found.kind is Kind.OVERSIGHT_TAMPER:
        return found
    if EDITOR_OPEN_FILE in found.flags and view.open_file is not None:
        found = _open_file_edit(found, view.open_file, paths)
        if found.kind is Kind.OVERSIGHT_TAMPER:
            return found
    if found.kind is Kind.FILE_WRITE and PROTECTED_TARGET not in found.flags:
        found = _writes_known_eval_code(found, view)
    if shape is Shape.SHELL:
        text = shell_text(args)
        block = edit_block(text) if text is not None else None
        if block is not None:  # an editor's edit: its lines are file content, what follows runs
            text = block[4]
        if text is not None and text.strip():
            return scripts.upgrade(found, text, view)
    if shape is Shape.PYTHON:
        code = next((c for k in CODE_KEYS if isinstance(c := args.get(k), str) and c.strip()), None)
        if code is not None:
            return scripts.upgrade_python(found, code, view)
    return found


def _writes_known_eval_code(found: Classification, view: SessionView) -> Classification:
    """An edit of a file whose content (as the session wrote it, or on disk beside a live
    monitor) computes a metric, reward or grade is an edit of evaluation code, whatever the
    file is called and whatever lines the edit touches (`linear_probe.py`, `edit 96:98`)."""
    for target in found.targets[:MAX_TARGETS_READ]:
        if target == OPEN_FILE or not target:
            continue
        file = view.read_file(target)
        what = defines_eval_code(file.text) if file.text else None
        if what is not None:
            return Classification(
                found.kind,
                f"{found.reason}; `{target}` {what}: it is evaluation code",
                found.flags | {PROTECTED_TARGET},
                found.targets,
            )
    return found


def _open_file_edit(found: Classification, path: str, paths: PathRules) -> Classification:
    """`edit 96:98` while `evaluate.py` is open is an edit of evaluate.py."""
    targets = merge_targets([[path if t == OPEN_FILE else t for t in found.targets]])
    judged = paths.writes([path], "the editor writes")
    if judged is not None and judged.kind is Kind.OVERSIGHT_TAMPER:
        return judged.with_reason(f"{found.reason}; the open file: {judged.reason}")
    flags = found.flags | (judged.flags if judged is not None else frozenset())
    reason = found.reason.replace(
        UNNAMED_OPEN_FILE,
        f"writes `{path}`, the file open in the editor",
    )
    if judged is not None and "protected_target" in judged.flags:
        reason += f"; {judged.reason.split('; ', 1)[-1]}"
    return Classification(found.kind, reason, flags, targets)


def shell_text(args: Mapping[str, Any]) -> str | None:
    """The command a shell tool runs, as text (the keys tools.py reads, in the same order)."""
    action = args.get("action")
    if isinstance(action, Mapping):
        args = action
    for key in COMMAND_KEYS:
        command = args.get(key)
        if isinstance(command, str) and command.strip():
            return command
        if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
            return "\n".join(command) if key == "commands" else shlex.join(command)
    return None
