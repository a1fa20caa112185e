"""One reviewer of a fleet: approves pending approvals with signed votes, as `oversight approve`.

Run by `fleet/run.py` as `python reviewer.py CONFIG_JSON`. It polls the store for pending
approvals and approves each one no reviewer has voted on yet (its own share first: the other
reviewer's only once they have waited `BACKUP_AFTER_S`), through the `oversight` command
line itself (in this process: the same parsing, key loading, authentication and signing as
`oversight approve ID --as NAME --key KEY --db URL`). It stops once the `stop` file exists (every agent
has finished) and it has nothing left to vote on, and writes what it did as JSON to `out`. A store that cannot be reached for a
moment (a restarting server) is counted and polled again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from oversight.approvals.votes import ApprovalClosed
from oversight.cli import app
from oversight.errors import StoreError
from oversight.store import open_store

POLL_S = 0.05
BACKUP_AFTER_S = 2.0


def main(config: dict[str, Any]) -> None:
    url, name, key = config["url"], config["name"], config["key"]
    share, of = int(config["share"]), int(config["of"])
    stop = Path(config["stop"])
    done: set[str] = set()
    cast, closed, unavailable = 0, 0, 0
    latency: list[float] = []
    call_s: list[float] = []
    store = open_store(url, create=False)
    while True:
        stopping = stop.exists()
        try:
            pending = store.approvals(status="pending")
            fresh = [
                r
                for r in pending
                if r["id"] not in done
                and (_mine(str(r["id"]), share, of) or _waited(r) > BACKUP_AFTER_S)
                and not store.votes(r["id"])
            ]
        except StoreError:
            unavailable += 1
            time.sleep(POLL_S)
            continue
        for row in fresh:
            approval_id = str(row["id"])
            t0 = time.perf_counter()
            try:
                app(
                    ["approve", approval_id, "--as", name, "--key", key, "--db", url],
                    standalone_mode=False,
                )
            except ApprovalClosed:
                closed += 1  # decided (or withdrawn) meanwhile: nothing left to approve
            except StoreError:
                unavailable += 1
                continue
            else:
                cast += 1
                latency.append(_waited(row))
                call_s.append(time.perf_counter() - t0)
            done.add(approval_id)
        if stopping and not fresh:
            break
        if not fresh:
            time.sleep(POLL_S)
    store.close()
    report = {
        "name": name,
        "votes": cast,
        "closed_before_vote": closed,
        "store_unavailable": unavailable,
        "vote_latency_s": latency,
        "vote_call_s": call_s,
    }
    Path(config["out"]).write_text(json.dumps(report), encoding="utf-8")


def _mine(approval_id: str, share: int, of: int) -> bool:
    """Whether this reviewer is the one on call for the approval (a stable split by id)."""
    return int(hashlib.sha256(approval_id.encode()).hexdigest(), 16) % of == share


def _waited(row: dict[str, Any]) -> float:
    """Seconds since the approval was asked for (its stored ISO time)."""
    return time.time() - dt.datetime.fromisoformat(str(row["created_at"])).timestamp()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
