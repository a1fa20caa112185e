"""`oversight import`: agent hosts' transcripts (and records a monitor spilled) into the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from oversight.cli import app
from oversight.cli.common import DbOption, JsonOption, console, err_console, open_cli_store
from oversight.errors import TraceFormatError
from oversight.importing.detect import FORMAT_NAMES
from oversight.records import Record, parse_record
from oversight.settings import Settings

if TYPE_CHECKING:
    from oversight.importing.run import ImportedFile, ImportReport

MAX_PROBLEMS_SHOWN = 20
MAX_SKIPPED_SHOWN = 5


@app.command(name="import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH",
            help="Transcript files or folders (searched recursively), or a spilled "
            "unwritten-*.jsonl of oversight records.",
        ),
    ],
    db: DbOption = None,
    format_name: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="NAME",
            help="Read every file as this format instead of detecting it: " + FORMAT_NAMES,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and classify everything; store nothing.")
    ] = False,
    as_trace: Annotated[
        Path | None,
        typer.Option(
            "--as-trace",
            metavar="FILE",
            help="Write the sessions as a trace (JSONL) for `oversight replay` instead of "
            "storing them.",
        ),
    ] = None,
    as_json: JsonOption = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            metavar="N",
            help="Processes to import on (folders are split between them). Default: every "
            "core when there are several files and 4 MB or more to read.",
        ),
    ] = None,
) -> None:
    """Import what agent hosts recorded (Claude Code, Codex CLI, SWE-agent/MLGym, mini-swe-agent,
    OpenHands, Inspect): every call, its result, who acted and when, classified as a monitor
    would. Importing the same files again adds only what is new."""
    if len(paths) == 1 and _is_spill(paths[0]):
        _import_spill(paths[0], db)
        return
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {missing[0]}", param_hint="PATH")
    # The readers and the classifier are loaded for this command, not for every `oversight` one.
    from oversight._sharded import import_sharded
    from oversight.classify import Classifier, load_classifier_config
    from oversight.importing.run import ImportReport, import_files, recognised_files

    settings = Settings.from_env(db=db)
    report = ImportReport()
    files = recognised_files(paths, format_name, report)
    if as_trace is not None:
        _write_trace(files, as_trace, report)
    else:
        config = (
            load_classifier_config(settings.classify_config) if settings.classify_config else None
        )
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[calls]} calls"),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("import", total=len(files), calls=0)

            def advanced(_: Path) -> None:
                progress.update(task, advance=1, calls=report.calls)

            store = None if dry_run or not files else open_cli_store(db, create=True)
            workers = jobs if jobs is not None else _default_jobs(files)
            try:
                if store is not None and workers > 1 and len(files) > 1:
                    store.close()  # each worker opens its own connection
                    import_sharded(
                        files,
                        settings.store_url(),
                        report,
                        classifier=Classifier(config),
                        max_arg_chars=settings.max_arg_chars,
                        jobs=workers,
                        on_share=lambda share: progress.update(
                            task, advance=share.files, calls=report.calls
                        ),
                    )
                else:
                    import_files(
                        files,
                        store,
                        report,
                        classifier=Classifier(config),
                        max_arg_chars=settings.max_arg_chars,
                        on_file=advanced,
                    )
            finally:
                if store is not None:
                    store.close()
    _print_report(report, dry_run=dry_run, as_trace=as_trace, as_json=as_json)
    if report.problems or (report.unrecognised and not report.files):
        raise typer.Exit(1)


PARALLEL_MIN_BYTES = 4 * 1024 * 1024


def _default_jobs(files: list[ImportedFile]) -> int:
    from oversight._sharded import default_jobs
    from oversight.importing.run import size_of

    size = size_of(files)
    return default_jobs(size // 1000) if size >= PARALLEL_MIN_BYTES else 1


def _write_trace(files: list[ImportedFile], target: Path, report: ImportReport) -> None:
    from oversight.importing.run import read_sessions
    from oversight.importing.to_trace import trace_lines

    with target.open("w", encoding="utf-8") as out:
        for session in read_sessions(files, report):
            report.saw(session)
            report.sessions_new += 1
            for line in trace_lines(session):
                out.write(line.model_dump_json(exclude_none=True) + "\n")


def _print_report(
    report: ImportReport, *, dry_run: bool, as_trace: Path | None, as_json: bool
) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "dry_run": dry_run,
                    "files": report.files,
                    "unrecognised": [str(p) for p in report.unrecognised],
                    "sessions": {
                        "new": report.sessions_new,
                        "grown": report.sessions_grown,
                        "unchanged": report.sessions_unchanged,
                    },
                    "calls": report.calls,
                    "calls_added": report.calls_added,
                    "by_format": report.by_format,
                    "problems": [str(p) for p in report.problems],
                }
            )
        )
        return
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        err_console.print(f"[red]error[/red] {problem}", markup=True, highlight=False)
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        err_console.print(f"… and {len(report.problems) - MAX_PROBLEMS_SHOWN} more problems")
    for path in report.unrecognised[:MAX_SKIPPED_SHOWN]:
        err_console.print(f"skipped {path}: not a transcript format oversight reads")
    if len(report.unrecognised) > MAX_SKIPPED_SHOWN:
        more = len(report.unrecognised) - MAX_SKIPPED_SHOWN
        err_console.print(f"… and {more} more files that are not transcripts (--json lists all)")
    formats_seen = ", ".join(f"{n} {name}" for name, n in sorted(report.by_format.items()))
    if as_trace is not None:
        verb = f"wrote {report.calls} calls in {report.sessions_new} sessions to {as_trace}"
    elif dry_run:
        verb = (
            f"dry run: would add {report.calls_added} calls "
            f"({report.sessions_new} new sessions, {report.sessions_grown} grown)"
        )
    else:
        verb = (
            f"imported {report.calls_added} calls: {report.sessions_new} new sessions, "
            f"{report.sessions_grown} grown, {report.sessions_unchanged} already imported"
        )
    console.print(
        f"{verb}; read {report.files} files ({formats_seen or 'no sessions'}), "
        f"{len(report.problems)} problems"
    )


def _is_spill(path: Path) -> bool:
    """A spilled records file: its first line is an oversight record."""
    if not path.is_file():
        return False
    try:
        with path.open("r", encoding="utf-8") as fh:
            first = fh.readline()
        parse_record(first)
    except (OSError, UnicodeDecodeError, ValidationError, ValueError):
        return False
    return True


def _import_spill(path: Path, db: str | None) -> None:
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
