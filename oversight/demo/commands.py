"""How to call this installation's `oversight` from the shell the demo was started in.

`make demo` runs `.venv/bin/oversight` without activating the environment, so a bare
`oversight` is often not on PATH (or is another installation). The demo prints commands the
viewer can paste, so it names the one that works here.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def oversight_command() -> tuple[str, str | None]:
    """(the command to type for `oversight` here, a hint when it is not plain `oversight`)."""
    ours = Path(sys.executable).parent / "oversight"
    found = shutil.which("oversight")
    if found is not None and (not ours.is_file() or _same_file(found, ours)):
        return "oversight", None
    where = "is not on your PATH" if found is None else f"on your PATH ({found}) is another installation"  # fmt: skip
    if ours.is_file():
        command = shlex.quote(_shown(ours))
        activate = ours.parent / "activate"
        hint = f"`oversight` {where}: run it as {command}"
        if activate.is_file():
            hint += f", or first `source {shlex.quote(_shown(activate))}`"
        return command, hint
    command = f"{shlex.quote(sys.executable)} -m oversight"
    return command, f"`oversight` {where}: run it as `{command}`"


def _same_file(a: str, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _shown(path: Path) -> str:
    """Relative to the working directory when inside it (`.venv/bin/oversight`), else absolute."""
    absolute = path.absolute()
    try:
        relative = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
    return relative if os.sep in relative else f".{os.sep}{relative}"
