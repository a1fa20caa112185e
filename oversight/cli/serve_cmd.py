"""`oversight serve`: the review web app on a store (the `web` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oversight.cli import app
from oversight.cli.common import DbOption, err_console, open_cli_store, root_key, store_url
from oversight.errors import MissingExtraError

WEB_PACKAGES = frozenset({"fastapi", "starlette", "uvicorn", "jinja2", "markupsafe", "multipart"})


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[
        str,
        typer.Option(
            metavar="ADDRESS", help="Address to listen on; 127.0.0.1 keeps the app on this machine."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Port to listen on.", min=1, max=65535)
    ] = 8765,
    anchors: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Signed chain heads (`oversight anchor --to FILE`) to verify the store against.",
        ),
    ] = None,
    webhook: Annotated[
        list[str] | None,
        typer.Option(
            metavar="URL[=json|slack]",
            help="POST each approval request here (repeat for more); a trailing =json or "
            "=slack sets this URL's payload.",
        ),
    ] = None,
    webhook_format: Annotated[
        str,
        typer.Option(metavar="json|slack", help="Payload of webhooks given without =FORMAT."),
    ] = "json",
    public_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The app's address as reviewers reach it: passkeys are made for it and links "
            "in webhooks point to it (default http://localhost:PORT; https:// behind a proxy).",
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="No sign-in: read-only, on 127.0.0.1 only; nothing can be approved. For reading "
            "a store on your own computer.",
        ),
    ] = False,
) -> None:
    """Serve the review web app: sessions, timelines, autonomy, approvals, integrity."""
    try:
        import uvicorn

        from oversight.web.config import WebConfig
        from oversight.web.review_app import NO_AUTH_WARNING, create_review_app, serve_access
        from oversight.web.webhooks import WebhookTarget, format_named
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in WEB_PACKAGES:
            raise
        raise MissingExtraError("`oversight serve` (the review web app)", "web", missing) from None
    with open_cli_store(db) as store:  # a missing store is named here, with how to create one
        url = store.url_for_display
    try:
        default_format = format_named(webhook_format)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--webhook-format") from None
    try:
        targets = tuple(WebhookTarget.parse(text, default_format) for text in webhook or ())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--webhook") from None
    access = serve_access(host, port, public_url, no_auth=no_auth)
    address = access.origin or f"http://{host}:{port}"
    config = WebConfig(
        anchors_file=anchors,
        root_key=root_key(),
        webhooks=targets,
        public_url=(public_url or address).rstrip("/"),
    )
    web = create_review_app(store_url(db), config=config, access=access)
    err_console.print(f"serving {url} at {address}/ (Ctrl+C stops)")
    if access.origin is None:
        err_console.print(NO_AUTH_WARNING.format(address=f"{host}:{port}"), style="bold red")
    else:
        pending = web.state.access.pending.folder
        err_console.print(
            f"reviewers sign in with passkeys at {address}/signin; new ones register at "
            f"{address}/register and wait in {pending} for an admin (`oversight reviewer add "
            "NAME --passkey FILE`, or the Reviewers page)"
        )
    for target in targets:
        err_console.print(f"approval requests are announced to {target.shown}")
    uvicorn.run(web, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
