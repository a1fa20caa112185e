"""Which transcript format a file is in, from its name and first bytes."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

from oversight.errors import ConfigError
from oversight.importing.formats import Format

# Sniffing order: the most specific shapes first (a Codex rollout and a Claude Code session are
# both JSONL; an OpenHands output.jsonl and a mini-swe-agent file both carry messages).
_MODULES = ("claude_code", "codex", "openhands", "swe_agent", "mini_swe_agent", "inspect_log")
FORMAT_NAMES = "claude-code, codex, openhands, swe-agent, mini-swe-agent, inspect"
"""For help text, without importing every reader."""
HEAD_BYTES = 64 * 1024


def formats() -> tuple[Format, ...]:
    return tuple(
        importlib.import_module(f"oversight.importing.formats.{m}").FORMAT for m in _MODULES
    )


def format_named(name: str) -> Format:
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise ConfigError(
        f"unknown transcript format {name!r}; known: {', '.join(f.name for f in formats())}"
    )


def detect(path: Path) -> Format | None:
    """The format `path` is in, or None when no reader recognises it."""
    if path.is_dir():
        return next((f for f in formats() if f.claims_dir and f.claims_dir(path)), None)
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    for fmt in formats():
        if fmt.sniff(path, head):
            return fmt
    return None


def candidate_files(paths: list[Path]) -> Iterator[Path]:
    """Every file under the given files and folders, in a stable order (per-project folders
    of Claude Code, a folder of .traj files); a folder a format claims whole (an OpenHands
    event stream) is yielded as one item and not entered."""
    claimers = [f.claims_dir for f in formats() if f.claims_dir is not None]
    for path in paths:
        yield from _walk(path, claimers)


def _walk(path: Path, claimers: list[Callable[[Path], bool]]) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    if any(claims(path) for claims in claimers):
        yield path
        return
    for child in sorted(path.iterdir()):
        yield from _walk(child, claimers)
