"""One agent of a fleet: a Monitor session of N steps, some of them gated behind approval.

Run by `fleet/run.py` as `python agent.py CONFIG_JSON`. It says "ready" once its monitor is open,
waits for "go" on stdin (so every agent starts together), then runs step 1..N: every
`approve_every`-th launches training (the policy gates it: a reviewer must approve), every
`act_every`-th runs a shell command (consequential: written ahead), the rest are cheap lookups.
A step the store refuses (StoreUnavailableError: it did not run) is tried again, as an agent
would (for up to `give_up_s`); anything else a step raises is counted by type, and the step tried again too, so one
failure shows in the figures instead of ending the run. What actually ran is the agent's own
ground truth, written as JSON to `out` with its timings.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Any

from oversight import Monitor
from oversight._context import current_handle
from oversight.errors import StoreUnavailableError


def main(config: dict[str, Any]) -> None:
    give_up_s = float(config["give_up_s"])
    steps, approve_every, act_every = (
        int(config["steps"]),
        int(config["approve_every"]),
        int(config["act_every"]),
    )
    ran: Counter[int] = Counter()
    approvals: list[dict[str, Any]] = []
    refused, raised = 0, Counter[str]()
    slowest_s, waited = 0.0, 0

    monitor = Monitor(db=config["url"], policy=config["pack"], log="none")

    @monitor.step(name="lookup")
    def lookup(i: int) -> int:
        ran[i] += 1
        return i

    @monitor.step(name="Bash")
    def bash(i: int, command: str) -> str:
        ran[i] += 1
        return "ok"

    @monitor.step(name="launch_training", kind="train.launch")
    def launch(i: int, config: str) -> str:
        ran[i] += 1
        handle = current_handle.get()
        assert handle is not None
        approvals.append(
            {"i": i, "approval_id": handle.approval_id, "approved_by": handle.approved_by}
        )
        return "launched"

    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    with monitor.session(config["name"], agent=config["name"]):
        for i in range(1, steps + 1):
            t0 = time.monotonic()
            while True:
                try:
                    if approve_every and i % approve_every == 0:
                        launch(i, f"configs/run-{i}.yaml")
                    elif act_every and i % act_every == 0:
                        bash(i, f"python experiments/run.py --seed {i}")
                    else:
                        lookup(i)
                    break
                except StoreUnavailableError:
                    refused += 1
                except Exception as exc:  # noqa: BLE001 - counted and reported, then retried
                    raised[f"{type(exc).__module__}.{type(exc).__name__}: {exc}"[:300]] += 1
                if time.monotonic() - t0 > give_up_s:
                    raise SystemExit(f"{config['name']}: step {i} refused for {give_up_s:.0f} s")
                time.sleep(0.1)
            took = time.monotonic() - t0
            slowest_s = max(slowest_s, took)
            waited += took > 1.0
    monitor.close()
    ended = time.time()
    report = {
        "name": config["name"],
        "steps": steps,
        "ran_once": sum(1 for n in ran.values() if n == 1),
        "ran_twice_or_more": sorted(i for i, n in ran.items() if n > 1),
        "never_ran": sorted(set(range(1, steps + 1)) - set(ran)),
        "approvals": approvals,
        "refused": refused,
        "raised": dict(raised),
        "slowest_step_s": slowest_s,
        "steps_over_1s": waited,
        "started": started,
        "ended": ended,
    }
    with open(config["out"], "w", encoding="utf-8") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
