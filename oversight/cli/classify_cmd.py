"""`oversight classify`: see how one call would be classified, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from oversight.cli import app
from oversight.cli.common import JsonOption, console
from oversight.errors import ConfigError
from oversight.normalise import normalise_call, shown_targets
from oversight.redact import redact_text


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
    except RecursionError:
        raise ConfigError("ARGS is not readable: JSON nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise ConfigError(f"ARGS is not readable: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"ARGS must be a JSON object, got {type(raw).__name__}")
    from oversight.classify import Classifier, load_classifier_config  # loaded for this command

    classifier = Classifier(load_classifier_config(classify_config) if classify_config else None)
    found = classifier.classify(tool, normalise_call(raw, max_chars=65_536).args, kind)
    # classified whole; what is printed of the call is redacted like everything shown
    reason, targets = redact_text(found.reason), shown_targets(found.targets)
    if as_json:
        print(
            json.dumps(
                {
                    "kind": found.kind.value,
                    "reason": reason,
                    "flags": sorted(found.flags),
                    "targets": targets,
                }
            )
        )
        return
    console.print(Text.assemble((found.kind.value, "bold"), "  ", reason))
    if found.flags:
        console.print(Text(f"flags: {', '.join(sorted(found.flags))}"))
    if targets:
        console.print(Text(f"targets: {', '.join(targets)}"))
