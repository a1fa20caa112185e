"""What an edit step changes, as diff lines a reviewer reads at a glance.

Agents edit through a few shapes of call: a replacement (`old_string`/`new_string`, the
`str_replace` family's `old_str`/`new_str`, a list of `edits`), a whole file written
(`content`, `file_text`), or a patch (Codex `apply_patch` envelopes and unified diffs, as an
argument or inside a shell command). Each is turned into diff lines; anything else shows as
plain arguments. Arguments are already redacted in the store.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MAX_LINES = 400
Op = Literal["add", "del", "ctx", "hunk", "file"]

_PATH_KEYS = ("file_path", "path", "filename", "file", "target_file")
_PAIRS = (("old_string", "new_string"), ("old_str", "new_str"))
_WHOLE_FILE_KEYS = ("content", "file_text", "contents", "new_source")
_PATCH_KEYS = ("patch", "input", "diff", "command", "cmd")
_BEGIN, _END = "*** Begin Patch", "*** End Patch"


@dataclass(frozen=True, slots=True)
class DiffLine:
    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class FileDiff:
    """The changes to one file (path None when the call does not name it)."""

    path: str | None
    lines: tuple[DiffLine, ...]
    cut: int = 0
    """Lines left out beyond `MAX_LINES`."""


def edit_diffs(kind: str, args: Mapping[str, Any]) -> list[FileDiff]:
    """The diffs an edit call describes; [] when the call is not an edit this reads."""
    path = _first_text(args, _PATH_KEYS)
    for old_key, new_key in _PAIRS:
        old, new = args.get(old_key), args.get(new_key)
        if isinstance(old, str) and isinstance(new, str):
            return [_replacement(path, old, new)]
    edits = args.get("edits")
    if isinstance(edits, list) and edits:
        found = []
        for edit in edits:
            if isinstance(edit, Mapping):
                found += edit_diffs(kind, {"file_path": path, **edit})
        if found:
            return found
    patch = _patch_text(args)
    if patch is not None:
        return _patch(patch)
    if kind == "file.write":
        content = _first_text(args, _WHOLE_FILE_KEYS)
        if content is not None:
            return [_capped(path, [DiffLine("add", line) for line in content.splitlines()])]
    return []


def _replacement(path: str | None, old: str, new: str) -> FileDiff:
    lines: list[DiffLine] = []
    for line in list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3))[
        2:
    ]:
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("del", line[1:]))
        else:
            lines.append(DiffLine("ctx", line[1:]))
    if not lines:  # old and new are the same text
        lines = [DiffLine("hunk", "no change")]
    return _capped(path, lines)


def _patch_text(args: Mapping[str, Any]) -> str | None:
    for key in _PATCH_KEYS:
        value = args.get(key)
        if isinstance(value, list):
            value = "\n".join(v for v in value if isinstance(v, str))
        if not isinstance(value, str):
            continue
        start = value.find(_BEGIN)
        if start >= 0:
            end = value.find(_END, start)
            return value[start : end + len(_END) if end >= 0 else len(value)]
        if key != "command" and _looks_unified(value):
            return value
    return None


def _looks_unified(text: str) -> bool:
    return ("\n+++ " in text or text.startswith("+++ ")) and (
        text.startswith(("--- ", "diff --git")) or "\n--- " in text
    )


def _patch(text: str) -> list[FileDiff]:
    """Split a patch into files; each line classified by its prefix."""
    files: list[FileDiff] = []
    path: str | None = None
    lines: list[DiffLine] = []
    for raw in text.splitlines():
        header = _file_header(raw)
        if header is not None:
            if lines or path is not None:
                files.append(_capped(path, lines))
            path, lines = header, []
            continue
        if raw in (_BEGIN, _END) or raw.startswith(
            ("--- ", "diff --git ", "index ", "new file mode")
        ):
            continue
        if raw.startswith(("@@", "*** Move to:")):
            lines.append(DiffLine("hunk", raw))
        elif raw.startswith("+"):
            lines.append(DiffLine("add", raw[1:]))
        elif raw.startswith("-"):
            lines.append(DiffLine("del", raw[1:]))
        else:
            lines.append(DiffLine("ctx", raw.removeprefix(" ")))
    if lines or path is not None:
        files.append(_capped(path, lines))
    return files


def _file_header(line: str) -> str | None:
    for prefix in ("*** Add File: ", "*** Update File: ", "*** Delete File: "):
        if line.startswith(prefix):
            action = prefix[4:].split()[0].lower()
            return f"{line[len(prefix) :].strip()} ({action})"
    if line.startswith("+++ "):
        name = line[4:].split("\t")[0].strip()
        return name.removeprefix("b/")
    return None


def _capped(path: str | None, lines: list[DiffLine]) -> FileDiff:
    return FileDiff(path, tuple(lines[:MAX_LINES]), max(0, len(lines) - MAX_LINES))


def _first_text(args: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return None
