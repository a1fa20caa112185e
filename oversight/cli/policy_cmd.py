"""`oversight policy check|schema|test`: validate packs, publish their schema, run their tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from oversight.cli import app
from oversight.cli.common import JsonOption, console
from oversight.cli.group import OversightGroup
from oversight.errors import ConfigError
from oversight.policy import (
    Policy,
    PolicyError,
    Problem,
    load_policy,
    policy_json_schema,
)

policy_app = typer.Typer(
    name="policy",
    help="Check, test and describe policy packs (see docs/policies.md).",
    cls=OversightGroup,
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")

PolicyArg = Annotated[
    str,
    typer.Argument(metavar="POLICY", help="A policy file, or a pack name (e.g. research-default)."),
]


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "field": problem.field,
        "message": problem.message,
        "accepted": problem.accepted,
    }


def _print_problems(error: PolicyError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"ok": False, "problems": [_problem_json(p) for p in error.problems]}))
        return
    for problem in error.problems:
        where = problem.file or "<policy>"
        if problem.line is not None:
            where = f"{where}:{problem.line}"
        line = Text()
        line.append(where, style="bold")
        line.append(": ")
        line.append(problem.field or "(file)", style="cyan")
        line.append(": ")
        line.append(problem.message, style="red")
        console.print(line)
        if problem.accepted:
            console.print(Text(f"    accepted: {problem.accepted}", style="dim"))
    count = len(error.problems)
    console.print(Text(f"{count} problem{'s' * (count != 1)} found", style="bold red"))


def _load(policy: str, as_json: bool) -> Policy:
    try:
        return load_policy(policy)
    except PolicyError as exc:
        _print_problems(exc, as_json)
        raise typer.Exit(1) from None


@policy_app.command()
def check(policy: PolicyArg, as_json: JsonOption = False) -> None:
    """Validate a policy; print every problem with its line and what is accepted (exit 1)."""
    loaded = _load(policy, as_json)
    summary = loaded.summary()
    if as_json:
        print(json.dumps({"ok": True, "source": loaded.source, **summary}))
        return
    per_effect = ", ".join(f"{n} {effect}" for effect, n in summary["rules_per_effect"].items())
    lines = [
        f"valid: {loaded.name} ({loaded.source})",
        f"  rules: {summary['rules']} ({per_effect})",
        (
            f"  kinds covered: {', '.join(summary['kinds_covered']) or '-'}"
            f" (+{summary['rules_for_any_kind']} rules for any kind)"
        ),
        (
            f"  unmatched: consequential → {summary['unmatched']['consequential']}, "
            f"other → {summary['unmatched']['other']}"
        ),
        f"  hash: {loaded.hash}",
    ]
    for text in lines:
        console.print(Text(text))


@policy_app.command()
def schema() -> None:
    """Print the JSON Schema of policy files."""
    print(json.dumps(policy_json_schema(), indent=2))


@policy_app.command()
def test(
    policy: PolicyArg,
    cases: Annotated[
        Path, typer.Argument(metavar="CASES", help="YAML list of cases (see docs/policies.md).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Run a policy's unit tests; exit 1 if any case fails."""
    from oversight.policy import run_policy_tests  # classifies: loaded for `test` only

    loaded = _load(policy, as_json)
    try:
        report = run_policy_tests(loaded, cases)
    except PolicyError as exc:
        _print_problems(exc, as_json)
        raise typer.Exit(1) from None
    except UnicodeDecodeError as exc:  # the cases file is read as UTF-8
        raise ConfigError(f"{cases}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x}") from None
    if as_json:
        results = [
            {
                "name": r.name,
                "passed": r.passed,
                "decision": r.verdict.decision,
                "rule": r.verdict.rule,
                "kind": r.kind.value,
                "flags": sorted(r.flags),
                "problems": list(r.problems),
            }
            for r in report.results
        ]
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "policy": report.policy,
                    "policy_hash": report.policy_hash,
                    "passed": report.passed,
                    "failed": report.failed,
                    "results": results,
                }
            )
        )
    else:
        for result in report.results:
            line = Text()
            line.append(
                "PASS " if result.passed else "FAIL ",
                style="green" if result.passed else "bold red",
            )
            line.append(result.name)
            console.print(line)
            if not result.passed:
                detail = (
                    f"    got {result.verdict.decision} by rule {result.verdict.rule} "
                    f"(kind {result.kind.value}, flags {', '.join(sorted(result.flags)) or '-'})"
                )
                for problem in result.problems:
                    console.print(Text(f"    {problem}", style="red"))
                console.print(Text(detail, style="dim"))
        summary = f"{report.passed} passed, {report.failed} failed ({report.policy} {report.policy_hash[:12]})"
        console.print(Text(summary, style="bold green" if report.ok else "bold red"))
    if not report.ok:
        raise typer.Exit(1)
