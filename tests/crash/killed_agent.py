"""An agent that acts, killed with SIGKILL at a random moment by `tests/test_crash_kill9.py`.

Each consequential step appends its number to an effects file *while it runs* (after the
monitor let it run): that file is the ground truth of what happened in the world. Usage:
`python killed_agent.py DB EFFECTS SESSION`.
"""

from __future__ import annotations

import os
import sys

from oversight import Monitor


def main(db: str, effects: str, session: str) -> None:
    monitor = Monitor(db=db, policy="observe-only", log="none")
    fd = os.open(effects, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with monitor.session(session):
        for i in range(1_000_000):
            handle = monitor.check("Bash", {"command": f"echo {i} >> out.txt"})
            os.write(fd, f"{handle.step_id}\n".encode())  # the effect, as it happens
            handle.succeed("ok")
            if i % 7 == 0:
                monitor.check("Read", {"file_path": "notes.md"}).succeed("text")


if __name__ == "__main__":
    main(*sys.argv[1:4])
