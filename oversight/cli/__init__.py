"""The `oversight` command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from oversight._version import __version__
from oversight.cli.common import err_console
from oversight.cli.group import OversightGroup
from oversight.errors import OversightError

app = typer.Typer(
    name="oversight",
    help="Review, verify and replay what your AI agents did under oversight.",
    cls=OversightGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"agent-oversight {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Review, verify and replay what your AI agents did under oversight."""


def _register() -> None:
    from oversight.cli import (  # noqa: F401 - each module adds its commands to `app`
        anchor_cmd,
        approvals_cmd,
        classify_cmd,
        demo_cmd,
        doctor_cmd,
        export_cmd,
        halt_cmd,
        import_cmd,
        pg_cmd,
        policy_cmd,
        replay_cmd,
        report_cmd,
        review_cmd,
        run_cmd,
        serve_cmd,
        trends_cmd,
        verify_cmd,
    )


_register()


def main() -> None:
    """Entry point: typed oversight errors become one clear line and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except OversightError as exc:
        # One line however long (a path can be): a log or `grep` keeps the error whole.
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        # Usage errors (click's, or typer's own since it vendors click) know how to show
        # themselves; anything else is a bug and keeps its traceback.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    # Without standalone mode click returns a command's exit code instead of exiting.
    sys.exit(code if isinstance(code, int) else 0)
