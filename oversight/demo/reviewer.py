"""The demo's scripted reviewer: a separate process with its own reviewer key.

It stands in for a person when the demo runs without a terminal (CI, `make demo`): it approves
applying code to main, denies the edit to the evaluation metric, and leaves the training launch
unanswered so its deadline denies it. In a terminal, the person at the keyboard answers the
training launch instead (`--leave-training`).

    python -m oversight.demo.reviewer DB KEYFILE NAME [--leave-training]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.store import open_store

RUN_FOR_S = 300.0


def decide(approval: dict[str, object]) -> tuple[str, str] | None:
    """(decision, reason) for a pending approval, or None to let its deadline pass."""
    kind, args = str(approval["kind"]), str(approval["args"])
    if kind == "file.write" and "metric" in args:
        return "deny", "changing the evaluation metric needs a methods review, not an agent edit"
    if kind == "code.apply":
        return "approve", "diff read: a one-line config change"
    return None


def main(argv: list[str]) -> int:
    db, key_file, name = argv[0], Path(argv[1]), argv[2]
    leave_training = "--leave-training" in argv
    key = load_private_key(key_file)
    parent = os.getppid()
    handled: set[str] = set()
    end = time.monotonic() + RUN_FOR_S
    with open_store(f"sqlite:///{db}") as store:
        while time.monotonic() < end and os.getppid() == parent:
            for approval in store.approvals(status="pending"):
                approval_id = str(approval["id"])
                if approval_id in handled:
                    continue
                handled.add(approval_id)
                if leave_training and approval["kind"] == "train.launch":
                    continue
                answer = decide(approval)
                if answer is None:
                    continue
                decision, reason = answer
                time.sleep(0.3)  # a reviewer reads before answering
                cast_vote(store, approval, name, key, decision, reason)
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
