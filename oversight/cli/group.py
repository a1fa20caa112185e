"""The `oversight` command group: plain help that reads well at 80 columns, and a quiet stop
when the reader of our output goes away.

Help is click's plain layout (rich markup off): flags are shown as flags, not `--all <bool>`,
and text wraps to the terminal (at most 80 columns). The command list shows each command's
whole first paragraph, wrapped, instead of click's one truncated line.
"""

from __future__ import annotations

import inspect
from typing import Any

from typer.core import TyperGroup

from oversight.cli.common import exit_on_closed_pipe


# Typed loosely: typer vendors its own click (typer._click) in newer releases, plain click in
# older ones; both have these methods.
def summary(command: Any) -> str:
    """A command's first help paragraph on one line (its `short_help` if it sets one)."""
    if command.short_help:
        return str(command.short_help)
    text = inspect.cleandoc(command.help or "").split("\f")[0]
    return " ".join(text.split("\n\n")[0].split())


class OversightGroup(TyperGroup):
    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            exit_on_closed_pipe()
