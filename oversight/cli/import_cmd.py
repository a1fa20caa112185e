"""`oversight import`: load records the recorder spilled when the store was unwritable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from oversight.cli import app
from oversight.cli.common import DbOption, console, open_cli_store
from oversight.errors import TraceFormatError
from oversight.records import Record, parse_record


@app.command(name="import")
def import_records(
    path: Annotated[Path, typer.Argument(help="A spilled unwritten-*.jsonl file.")],
    db: DbOption = None,
) -> None:
    """Append spilled records to the store (all or nothing), chained like any other."""
    records: list[Record] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TraceFormatError(0, f"cannot read {str(path)!r}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(parse_record(line))
        except ValidationError as exc:
            raise TraceFormatError(
                number, f"not an oversight record: {exc.errors()[0]['msg']}"
            ) from None
    # Spilled records belong in the store their monitor could not write, which may not exist.
    with open_cli_store(db, create=True) as store:
        store.append(records)
        url = store.url_for_display
    console.print(f"imported {len(records)} records into {url}")
