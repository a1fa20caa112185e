"""The files a patch touches: Codex `apply_patch` envelopes and unified diffs."""

from __future__ import annotations

import re

_ENVELOPE = re.compile(
    r"^\*\*\* (?:Add|Update|Delete) File: (.+?)\s*$|^\*\*\* Move to: (.+?)\s*$", re.MULTILINE
)
_UNIFIED = re.compile(r"^(?:\+\+\+|---) (?:[ab]/)?([^\t\n]+?)\s*(?:\t.*)?$", re.MULTILINE)
_GIT_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)


def patch_paths(text: str) -> list[str]:
    """Every path added, updated, deleted or moved by the patch, in order, without repeats."""
    found: dict[str, None] = {}
    for match in _ENVELOPE.finditer(text):
        found[match.group(1) or match.group(2)] = None
    for match in _GIT_HEADER.finditer(text):
        found[match.group(1)] = None
        found[match.group(2)] = None
    for match in _UNIFIED.finditer(text):
        path = match.group(1).strip()
        if path and path != "/dev/null":
            found[path] = None
    return list(found)


_DELETED = re.compile(r"^\*\*\* Delete File: (.+?)\s*$", re.MULTILINE)
_DELETED_UNIFIED = re.compile(
    r"^--- (?:a/)?([^\t\n]+?)\s*(?:\t.*)?\n\+\+\+ /dev/null", re.MULTILINE
)


def deleted_paths(text: str) -> list[str]:
    """The paths the patch deletes (`*** Delete File:`, or a unified diff to /dev/null)."""
    found = [m.group(1) for m in _DELETED.finditer(text)]
    found += [m.group(1).strip() for m in _DELETED_UNIFIED.finditer(text)]
    return [p for p in found if p != "/dev/null"]
