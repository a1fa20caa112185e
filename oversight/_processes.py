"""Whether a process on this machine still runs: asked of a session's or a note's pid."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True unless no process has this pid (one we may not signal is someone else's: alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
