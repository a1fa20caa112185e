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
) -> None:
    """Serve the review web app: sessions, timelines, autonomy, approvals, integrity."""
    try:
        import uvicorn

        from oversight.web.app import create_app
        from oversight.web.config import WebConfig
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in WEB_PACKAGES:
            raise
        raise MissingExtraError("`oversight serve` (the review web app)", "web", missing) from None
    with open_cli_store(db) as store:  # a missing store is named here, with how to create one
        url = store.url_for_display
    web = create_app(store_url(db), config=WebConfig(anchors_file=anchors, root_key=root_key()))
    err_console.print(f"serving {url} at http://{host}:{port}/ (Ctrl+C stops)")
    uvicorn.run(web, host=host, port=port, log_level="warning")
