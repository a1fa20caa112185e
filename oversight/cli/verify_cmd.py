"""`oversight verify`: recompute the hash chain and name the first bad record; with
`--anchors`, check the store against heads an admin signed and kept elsewhere; with `--bundle`,
check an audit bundle (`oversight export --bundle`) without any store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oversight.cli import app
from oversight.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_cli_store,
    root_key,
)
from oversight.errors import ConfigError

if TYPE_CHECKING:
    from oversight.anchors import Anchor
    from oversight.bundle import BundleReport

AnchorsOption = Annotated[
    Path | None,
    typer.Option(
        "--anchors",
        help="A file of signed chain heads (`oversight anchor --to FILE`): the store (or the "
        "bundle) must still hold every anchored record.",
    ),
]
BundleOption = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        metavar="FILE",
        help="Check an audit bundle (`oversight export --bundle`) instead of a store: no "
        "database is opened. Combine with --anchors for heads kept apart from the bundle.",
    ),
]
RootKeyOption = Annotated[
    str | None,
    typer.Option(
        "--root-key",
        metavar="HEX",
        help="The root admin's public key: anchors count only when signed by an admin it "
        "endorsed. Default: $OVERSIGHT_ROOT_KEY; with neither, the first registered admin is "
        "the root (trust on first use).",
        show_default=False,
    ),
]


@app.command()
def verify(
    db: DbOption = None,
    as_json: JsonOption = False,
    anchors: AnchorsOption = None,
    bundle: BundleOption = None,
    root_key_hex: RootKeyOption = None,
) -> None:
    """Check that no record was edited, deleted, inserted or reordered. Exit 1 if any was."""
    pinned = _pinned(root_key_hex)
    if bundle is not None:
        if db is not None:
            raise ConfigError("--bundle is checked without a store: leave out --db")
        _verify_bundle(bundle, anchors, pinned, as_json)
        return
    from oversight.anchors import check_anchors
    from oversight.approvals.registry import trusted_reviewers

    with open_cli_store(db) as store:
        url = store.url_for_display
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("verify", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = store.verify(progress=advance)
        anchor_problems: list[str] = []
        if anchors is not None:
            found, unreadable = _read_anchors(anchors)
            trusted, _ = trusted_reviewers(store.reviewers(), root_key=pinned)
            admins = {r.name: r.public_key for r in trusted.values() if r.role == "admin"}
            anchor_problems = unreadable + check_anchors(store, found, admins)
            if not found and not unreadable:
                anchor_problems.append(f"{anchors} holds no anchors")
    ok = report.ok and not anchor_problems
    if as_json:
        problem = report.first_problem
        print(
            json.dumps(
                {
                    "ok": ok,
                    "checked": report.checked,
                    "first_problem": None
                    if problem is None
                    else {
                        "seq": problem.seq,
                        "record_id": problem.record_id,
                        "reason": problem.reason,
                    },
                    "anchor_problems": anchor_problems,
                }
            )
        )
    else:
        if report.ok:
            console.print(
                f"[green]intact[/]: {report.checked} records in {url}, hash chain verified"
                + (" against every anchor" if anchors is not None and not anchor_problems else "")
            )
        else:
            problem = report.first_problem
            assert problem is not None
            console.print(
                f"[bold red]TAMPERED[/]: first bad record seq={problem.seq} "
                f"id={escape(problem.record_id or '-')}: {escape(problem.reason)} "
                f"({report.checked} records checked in {escape(url)})"
            )
        for line in anchor_problems:
            console.print(f"[bold red]TAMPERED[/]: {escape(line)}")
    if not ok:
        raise typer.Exit(1)


def _pinned(value: str | None) -> str | None:
    if value is None:
        return root_key()
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        raise ConfigError(
            f"--root-key {value!r} is not a public key: give the 64 hex digits "
            "`oversight reviewer add` printed for the root admin"
        )
    return value.strip()


def _read_anchors(path: Path) -> tuple[list[Anchor], list[str]]:
    from oversight.anchors import read_anchors

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read anchors {str(path)!r}: {exc}") from None
    return read_anchors(text.splitlines())


def _verify_bundle(path: Path, anchors: Path | None, pinned: str | None, as_json: bool) -> None:
    from oversight.bundle import verify_bundle

    outside: list[Anchor] = []
    unreadable: list[str] = []
    if anchors is not None:
        outside, unreadable = _read_anchors(anchors)
        if not outside and not unreadable:
            unreadable.append("it holds no anchors")
    try:
        with path.open("rb") as fh:
            report = verify_bundle(fh, anchors=outside, root_key=pinned)
    except OSError as exc:
        raise ConfigError(f"cannot read bundle {str(path)!r}: {exc.strerror or exc}") from None
    report.problems[:0] = [f"anchors file {anchors}: {line}" for line in unreadable]
    if as_json:
        print(json.dumps(report.as_json()))
    else:
        _print_bundle_report(path, report)
    if not report.ok:
        raise typer.Exit(1)


def _print_bundle_report(path: Path, report: BundleReport) -> None:
    header = report.header
    if header:
        what = (
            f"session {header.get('session_id')!r}"
            if header.get("scope") == "session"
            else "the whole store"
        )
        console.print(
            f"bundle {escape(str(path))}: {escape(what)} from {escape(str(header.get('store')))}"
            f", exported {escape(str(header.get('exported_at')))}"
        )
    for line in report.checked:
        console.print(f"  [green]checked[/]: {escape(line)}")
    for line in report.warnings:
        console.print(f"  [yellow]warning[/]: {escape(line)}")
    for line in report.problems:
        console.print(f"[bold red]FAILED[/]: {escape(line)}")
    if report.more_problems:
        console.print(f"[bold red]FAILED[/]: and {report.more_problems} more problems")
    if report.ok:
        covered = (
            f"; signed anchors cover it through seq {report.anchored_through}"
            if report.anchored_through is not None
            else "; no signed anchor covers it"
        )
        console.print(
            f"[green]intact[/]: {report.records} records, hash chain verified without the "
            f"store{covered}"
        )
