"""The one way the monitor speaks on the agent's stderr: a failure that must not stop the agent
(telemetry, a spill, a store lost) is said there, in one recognisable form."""

from __future__ import annotations

import sys


def warn(message: str) -> None:
    print(f"oversight: warning: {message}", file=sys.stderr, flush=True)
