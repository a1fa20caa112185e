"""Policy problems with their location, so an author can fix every one in a single pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oversight.errors import ConfigError
from oversight.redact import printable


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file: where it is, what is wrong, what would be accepted."""

    file: str | None
    line: int | None
    """1-based line of the offending value (or of its closest enclosing node)."""
    field: str
    """Dotted field path, e.g. `rules.2.match.args.gpus`; empty for the whole file."""
    message: str
    accepted: str | None = None

    def __post_init__(self) -> None:
        # A key or value quoted from the file may hold a lone surrogate (`"\\ud800"`), which
        # no terminal can print: it is shown escaped.
        for name in ("field", "message", "accepted"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, printable(text))

    def __str__(self) -> str:
        where = self.file or "<policy>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        text = f"{where}: {self.field or '(file)'}: {self.message}"
        if self.accepted and "accepted" not in self.message:
            text += f" (accepted: {self.accepted})"
        return text


class PolicyError(ConfigError):
    """A policy pack cannot be loaded; `problems` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(
            problems, key=lambda p: p.line if p.line is not None else 1 << 30
        )
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = len(self.problems) - 5
        suffix = f"; and {more} more" if more > 0 else ""
        count = len(self.problems)
        super().__init__(f"invalid policy ({count} problem{'s' * (count != 1)}): {shown}{suffix}")
