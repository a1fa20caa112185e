"""`oversight classify`: see how one call would be classified, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from oversight.classify import Classifier, load_classifier_config
from oversight.cli import app
from oversight.cli.common import JsonOption, console
from oversight.errors import ConfigError
from oversight.normalise import normalise_args


@app.command()
def classify(
    tool: Annotated[str, typer.Argument(help="Tool or function name, e.g. Bash, launch_training.")],
    args: Annotated[
        str,
        typer.Argument(help='Arguments as a JSON object, e.g. \'{"command": "torchrun t.py"}\''),
    ] = "{}",
    kind: Annotated[
        str | None, typer.Option(help="Declared kind, as @monitor.step(kind=...).")
    ] = None,
    classify_config: Annotated[
        Path | None, typer.Option("--classify-config", help="YAML extending the patterns.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Classify one tool call (nothing is run or recorded)."""
    try:
        raw = json.loads(args)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"ARGS is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"ARGS must be a JSON object, got {type(raw).__name__}")
    classifier = Classifier(load_classifier_config(classify_config) if classify_config else None)
    normalised, _ = normalise_args(raw, max_chars=65_536)
    result = classifier.classify(tool, normalised, kind)
    if as_json:
        print(
            json.dumps(
                {
                    "kind": result.kind.value,
                    "reason": result.reason,
                    "flags": sorted(result.flags),
                    "targets": list(result.targets),
                }
            )
        )
        return
    console.print(Text.assemble((result.kind.value, "bold"), "  ", result.reason))
    if result.flags:
        console.print(Text(f"flags: {', '.join(sorted(result.flags))}"))
    if result.targets:
        console.print(Text(f"targets: {', '.join(result.targets)}"))
