"""`oversight run -- COMMAND...`: one shell step, decided by the policy and run in the sandbox
with only what its decision grants. Its exit code is the command's."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from oversight.cli import app
from oversight.cli.common import DbOption, err_console


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    no_args_is_help=True,
)
def run(
    ctx: typer.Context,
    session: Annotated[
        str | None, typer.Option(help="Session to record the step in (default: a new one).")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            help="Policy pack name or file. Default: $OVERSIGHT_POLICY, else research-default."
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds before the step is killed.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Decide COMMAND like any agent step (waiting for approval when the policy says so), then
    run it sandboxed: workspace writable except protected files, no network, GPUs or
    credentials unless its decision grants them. Put COMMAND after `--`."""
    from oversight import Monitor
    from oversight.errors import OversightError
    from oversight.executor import run_command
    from oversight.sandbox import SandboxError

    args = list(ctx.args)
    # one argument is shell text (`oversight run -- 'make && make test'`); several are argv
    command: str | list[str] = args[0] if len(args) == 1 else args
    if not args:
        raise typer.BadParameter("give the command after `--`: oversight run -- make test")
    monitor = Monitor(db=db, policy=policy or None, log="none")
    try:
        with monitor.session(session, agent="oversight run"):
            done = run_command(monitor, command, timeout=timeout)
    except (OversightError, SandboxError) as exc:
        err_console.print(f"[bold red]not run:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(126) from None
    finally:
        monitor.close()
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    where = "sandboxed: " + done.capabilities.describe() if done.sandboxed else "not sandboxed"
    err_console.print(f"[dim]oversight: step {done.step_id} ran {where}[/]", highlight=False)
    raise typer.Exit(124 if done.timed_out else done.exit_code)
