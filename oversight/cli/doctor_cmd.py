"""`oversight doctor`: what this machine and configuration can enforce, and what is missing.

Each line is a check with its result and, where something is missing, the exact fix. The exit
code is 1 when a check that enforcement depends on fails (no sandbox, a policy that does not
load, a store that cannot be opened), so deployment scripts can refuse to start an agent.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from oversight.cli import app
from oversight.cli.common import DbOption, console, open_cli_store


@app.command()
def doctor(
    db: DbOption = None,
    policy: Annotated[
        str | None, typer.Option(help="Policy pack to check. Default: $OVERSIGHT_POLICY.")
    ] = None,
) -> None:
    """Check the sandbox, the store, the policy, reviewers and keys; say how to fix each gap."""
    from oversight.approvals.registry import trusted_reviewers
    from oversight.errors import OversightError, StoreNotFoundError
    from oversight.policy import load_policy
    from oversight.sandbox import available
    from oversight.settings import Settings

    settings = Settings.from_env(db=db, policy=policy)
    failed = False

    def line(ok: bool, what: str, detail: str, *, required: bool = True) -> None:
        nonlocal failed
        failed = failed or (required and not ok)
        mark = "[green]ok[/]  " if ok else ("[bold red]FAIL[/]" if required else "[yellow]warn[/]")
        console.print(f"{mark} {what}: {escape(detail)}", highlight=False)

    sandbox = available()
    line(
        sandbox.available,
        "sandbox",
        f"{sandbox.version} (shell steps run with only what their decision grants)"
        if sandbox.available
        else f"{sandbox.reason}; shell steps that act are refused. {sandbox.hint}",
    )
    try:
        pack = load_policy(settings.policy)
        line(True, "policy", f"{pack.name} ({len(pack.rules)} rules, hash {pack.hash[:12]})")
    except OversightError as exc:
        line(False, "policy", str(exc))
    url = settings.store_url()
    try:
        with open_cli_store(db) as store:
            store.head()
            rows = store.reviewers()
            powers = store.erasing_powers()
        line(True, "store", url)
        line(
            not powers,
            "store access",
            "append-only role: this connection cannot rewrite or delete records"
            if not powers
            else "a file any process of this user can rewrite; sandboxed steps do not see it, "
            "an unsandboxed agent could (PostgreSQL with `oversight pg setup` roles prevents it)"
            if powers == ["file"]
            else f"this role may {', '.join(powers)} the records; give monitors the agent role "
            "of `oversight pg setup` when the agent can reach the database",
            required=False,
        )
        trusted, _ = trusted_reviewers(rows, root_key=settings.root_key)
        approvers = [r for r in trusted.values() if r.may_act_as("approver")]
        line(
            bool(approvers),
            "reviewers",
            f"{len(approvers)} trusted approver(s)"
            if approvers
            else "none: every gated step is denied; add one: oversight reviewer add NAME "
            "--role admin --key-out NAME.pem",
            required=False,
        )
    except StoreNotFoundError:
        line(False, "store", f"none yet at {url}: a monitor creates it at its first step",
             required=False)  # fmt: skip
    except OversightError as exc:
        line(False, "store", f"{url}: {exc}")
    line(
        settings.root_key is not None,
        "root key",
        "pinned (OVERSIGHT_ROOT_KEY)"
        if settings.root_key
        else "not pinned: the first admin registered is trusted (set OVERSIGHT_ROOT_KEY)",
        required=False,
    )
    line(
        settings.digest_key is not None,
        "digest key",
        "set (OVERSIGHT_DIGEST_KEY)"
        if settings.digest_key
        else "unset: approvals still bind, but readers of the store can test guesses of a "
        "redacted secret against a digest (set OVERSIGHT_DIGEST_KEY)",
        required=False,
    )
    raise typer.Exit(1 if failed else 0)
