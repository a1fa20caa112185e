"""A session's steps as aligned rows, printed as they arrive.

A rich Table measures every row before printing any, and costs milliseconds per row; a session
can hold a hundred thousand steps. Here every column has a fixed width, so each row is laid out
alone and printed at once: styled on a terminal, plain text (much faster) when piped. Wide
output (a pipe, or a terminal of 120 columns or more) has one column per field; a narrower
terminal puts the why/outcome text under each row, so nothing runs past 80 columns.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from oversight.timeline import StepView

STATUS_STYLE = {
    "ok": "green",
    "completed": "green",
    "error": "red",
    "failed": "red",
    "denied": "bold red",
    "halted": "bold red",
    "timed_out": "red",
    "interrupted": "bold yellow",
    "running": "cyan",
    "cancelled": "yellow",
    "modified": "bold magenta",
    "deferred": "cyan",
}
KIND_STYLE = {
    "train.launch": "bold magenta",
    "deploy": "bold magenta",
    "code.apply": "bold blue",
    "oversight.tamper": "bold red",
    "eval.run": "blue",
    "experiment.run": "blue",
}
WIDE = 120
"""Terminals at least this wide get the why/outcome text as a column of its own."""
GAP = "  "


@dataclass(frozen=True)
class _Column:
    title: str
    width: int
    right: bool = False


@dataclass(frozen=True)
class _Cell:
    lines: list[str]
    style: str = ""


class TimelineRows:
    """Prints steps under one header line; call `print` with each chunk of steps."""

    def __init__(self, console: Console, *, number_width: int, show_args: bool = False) -> None:
        self.console = console
        self.styled = console.is_terminal
        self.show_args = show_args
        self.wide = not self.styled or console.width >= WIDE
        columns = [_Column("#", max(number_width, 1), right=True)]
        if self.wide:
            columns.append(_Column("time", 12))
        columns += [_Column("kind", 16), _Column("step", 24), _Column("decision", 16)]
        columns.append(_Column("status", 11))
        if self.wide:
            columns.append(_Column("ms", 8, right=True))
        used = sum(c.width for c in columns) + len(GAP) * len(columns)
        self.detail_width = min(max(console.width - used, 30), 70) if self.wide else 0
        if self.wide:
            columns.append(_Column("why / outcome", self.detail_width))
        self.columns = columns
        self.indent = columns[0].width + len(GAP)
        self.header_done = False

    def print(self, steps: Iterable[StepView]) -> None:
        if not self.header_done:
            self.header_done = True
            titles = [_Cell([c.title], "bold dim") for c in self.columns]
            if not self.wide:
                titles.append(_Cell([" " * self.indent + "why / outcome"], "bold dim"))
            self._emit(titles)
        for step in steps:
            self._emit(self._cells(step))

    def _cells(self, step: StepView) -> list[_Cell]:
        p = step.proposed
        cells = [_Cell([str(p.seq)], "dim")]
        if self.wide:
            cells.append(_Cell([p.ts.astimezone().strftime("%H:%M:%S.%f")[:-3]], "dim"))
        cells += [
            _Cell([p.kind], KIND_STYLE.get(p.kind, "")),
            _Cell(_wrap("  " * step.depth + p.name, 24)),
            _Cell([p.decision], "green" if p.decision == "allow" else "bold red"),
            _Cell([step.status], STATUS_STYLE.get(step.status, "")),
        ]
        if self.wide:
            ms = f"{step.duration_ms:.1f}" if step.duration_ms is not None else "-"
            cells.append(_Cell([ms], "dim"))
        width = self.detail_width or max(self.console.width - self.indent, 30)
        detail = [line for part in self._detail(step) for line in _wrap(part, width)]
        if self.wide:
            cells.append(_Cell(detail))
        else:
            cells.append(_Cell([" " * self.indent + line for line in detail]))
        return cells

    def _detail(self, step: StepView) -> list[str]:
        p, finished = step.proposed, step.finished
        first = p.reason + (f"  [{', '.join(p.flags)}]" if p.flags else "")
        parts = [first]
        if finished is not None and finished.approved_by:
            parts.append(f"✓ approved by {', '.join(finished.approved_by)}")
        elif finished is not None and (finished.approval_id or "").startswith("grant:"):
            parts.append(f"✓ covered by {finished.approval_id}")
        if finished is not None and finished.error:
            label = "halted: " if finished.status == "halted" else ""
            parts.append(f"→ {label}{finished.error}")
        elif finished is not None and finished.result_summary:
            first_line = finished.result_summary.strip().splitlines()[:1] or [""]
            parts.append(f"→ {first_line[0][:100]}")
        if self.show_args:
            parts.append(json.dumps(p.args, ensure_ascii=False)[:400])
        return parts

    def _emit(self, cells: list[_Cell]) -> None:
        """One row: the cells side by side, padded to their columns; in the narrow layout the
        last cell (why / outcome) goes on the lines below."""
        side = cells if self.wide else cells[:-1]
        below = [] if self.wide else cells[-1].lines
        height = max(len(c.lines) for c in side)
        lines: list[list[tuple[str, str]]] = []
        for row in range(height):
            parts: list[tuple[str, str]] = []
            for column, cell in zip(self.columns, side, strict=False):
                text = cell.lines[row] if row < len(cell.lines) else ""
                text = text.rjust(column.width) if column.right else text.ljust(column.width)
                parts.append((text, cell.style))
            lines.append(parts)
        lines += [[(line, "")] for line in below]
        if self.styled:
            for parts in lines:
                out = Text()
                for i, (text, style) in enumerate(parts):
                    out.append(GAP if i else "")
                    out.append(text, style=style)  # agent-supplied text: never rich markup
                out.rstrip()
                self.console.print(out, no_wrap=True, crop=False, soft_wrap=True)
        else:
            file = self.console.file
            file.write("".join(GAP.join(t for t, _ in parts).rstrip() + "\n" for parts in lines))


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters (long words are broken)."""
    return textwrap.wrap(text, width, drop_whitespace=True, replace_whitespace=True) or [""]
