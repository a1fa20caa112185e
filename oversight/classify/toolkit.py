"""What a program rule sees (the `Run`) and may ask of the command analyser (the `Toolkit`).

Program rules live in `wrappers.py` and `programs.py` as plain functions; this protocol is the
only thing they depend on, so each can be read and tested without the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from oversight.classify.argv import Argv
from oversight.classify.paths import PathRules
from oversight.classify.result import Classification
from oversight.classify.shell import SimpleCommand
from oversight.kinds import Kind


@dataclass(slots=True)
class Chain:
    """State carried along one script: branch checked out, directory, generated scripts."""

    branch: str | None = None
    cwd: str | None = None
    generated: set[str] = field(default_factory=set)
    sockets: dict[str, str] = field(default_factory=dict)  # fd → host, from `exec 3<>/dev/tcp/..`


@dataclass(slots=True)
class Run:
    """One command being classified, with what it was wrapped in so far."""

    command: SimpleCommand
    upstream: tuple[SimpleCommand, ...] = ()
    chain: Chain = field(default_factory=Chain)
    depth: int = 0
    via: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    side: list[Classification] = field(default_factory=list)


class Toolkit(Protocol):
    paths: PathRules

    def argv(self, argv: Argv, run: Run) -> Classification:
        """Classify a (possibly unwrapped) argv: config, built-in rules, help demotion."""
        ...

    def script(self, text: str, run: Run) -> Classification:
        """Classify shell text run by this command (`bash -c`, `ssh host cmd`, heredocs)."""
        ...

    def python(self, code: str) -> Classification:
        """Classify Python source run by this command (`python -c`, heredoc into python)."""
        ...

    def writes(self, paths: Iterable[str], verb: str, run: Run) -> Classification | None:
        """A file.write (or tamper) for the paths written, or None when there are none.

        Relative paths are read from the directory the script has `cd`-ed into, if known.
        """
        ...

    def script_kind(self, path: str) -> tuple[Kind, str]:
        """What running the script at `path` is, and why (config patterns, then name words)."""
        ...

    def env_tampers(self, name: str) -> bool:
        """True when the environment variable belongs to oversight."""
        ...


Rule = Callable[[Toolkit, Argv, Run], Classification]
