"""The demo's scripted reviewer: a separate process with its own reviewer key.

It stands in for a person when the demo runs without a terminal (CI, `make demo`): it approves
applying code to main, denies the edit to the evaluation metric, and leaves the training launch
unanswered so its deadline denies it. In a terminal, the person at the keyboard answers the
training launch instead (`--leave-training`).

It answers only the demo run's own session (`--session`), so an earlier run's leftovers are
never decided, and reads each call for `--read-s` seconds first, as a person would: an approval
given faster than the autonomy metric's `FAST_APPROVAL_S` is a rubber stamp, not a review.

    python -m oversight.demo.reviewer DB KEYFILE NAME --session ID [--read-s S] [--leave-training]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import ApprovalClosed, cast_vote
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
    parser = argparse.ArgumentParser(prog="python -m oversight.demo.reviewer")
    parser.add_argument("db")
    parser.add_argument("key_file", type=Path)
    parser.add_argument("name")
    parser.add_argument("--session", required=True, help="Answer only this session's approvals.")
    parser.add_argument("--read-s", type=float, default=0.0, help="Reading time per call.")
    parser.add_argument("--leave-training", action="store_true")
    args = parser.parse_args(argv)
    key = load_private_key(args.key_file)
    parent = os.getppid()
    handled: set[str] = set()
    end = time.monotonic() + RUN_FOR_S
    with open_store(f"sqlite:///{args.db}") as store:
        while time.monotonic() < end and os.getppid() == parent:
            for approval in store.approvals(status="pending"):
                approval_id = str(approval["id"])
                if approval_id in handled or approval["session_id"] != args.session:
                    continue
                handled.add(approval_id)
                if args.leave_training and approval["kind"] == "train.launch":
                    continue
                answer = decide(approval)
                if answer is None:
                    continue
                decision, reason = answer
                time.sleep(args.read_s)  # a reviewer reads before answering
                try:
                    cast_vote(store, approval, args.name, key, decision, reason)
                except ApprovalClosed as exc:
                    print(f"demo reviewer: {exc}", file=sys.stderr)
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
